package telemetry

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"
)

func TestStatementName(t *testing.T) {
	for sql, want := range map[string][2]string{
		"-- name: GetUser :one\nSELECT * FROM users WHERE id = $1":                  {"GetUser", "SELECT"},
		"-- name: InsertKbChunks :copyfrom\nINSERT INTO kb_chunks (id) VALUES ($1)": {"InsertKbChunks", "INSERT"},
		"  update river_job set state = 'x'":                                        {"UPDATE", "UPDATE"},
		"-- a comment\nWITH x AS (SELECT 1) SELECT * FROM x":                        {"WITH", "WITH"},
		"select(1)": {"SELECT", "SELECT"},
		"":          {"", ""},
	} {
		name, op := StatementName(sql)
		require.Equal(t, want, [2]string{name, op}, sql)
	}
}

func TestSamplerNames(t *testing.T) {
	for _, n := range Samplers {
		_, err := NewSampler(n, 0.5)
		require.NoError(t, err, n)
	}
	_, err := NewSampler("jaeger_remote", 0)
	require.Error(t, err)
}

func TestNewOffAndUnknownProtocol(t *testing.T) {
	off, err := New(context.Background(), Settings{})
	require.NoError(t, err)
	require.False(t, off.Enabled())
	require.NoError(t, off.Shutdown(context.Background()))
	_, err = New(context.Background(), Settings{Endpoint: "http://127.0.0.1:1", Protocol: "http/json"})
	require.Error(t, err)
	on, err := New(context.Background(), Settings{Endpoint: "http://127.0.0.1:1", Protocol: ProtocolHTTPProtobuf})
	require.NoError(t, err, "the exporter connects lazily")
	require.True(t, on.Enabled())
}

// Outgoing requests inside a traced context get a client span that ends with the body, and
// carry traceparent; outside one they pass untouched.
func TestTransport(t *testing.T) {
	var got []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = append(got, r.Header.Get("traceparent"))
		_, _ = io.WriteString(w, "streamed answer")
	}))
	defer srv.Close()
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	c := &http.Client{Transport: Transport(nil)}

	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions", nil)
	res, err := c.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, []string{""}, got, "no span, no header outside a trace")

	ctx, parent := tp.Tracer("t").Start(context.Background(), "request")
	req, _ = http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions", nil)
	res, err = c.Do(req)
	require.NoError(t, err)
	require.Empty(t, rec.Ended(), "the span lasts while the body is read")
	_, _ = io.ReadAll(res.Body)
	res.Body.Close()
	parent.End()
	spans := rec.Ended()
	require.Len(t, spans, 2)
	require.Equal(t, "POST /v1/chat/completions", spans[0].Name())
	require.Equal(t, trace.SpanKindClient, spans[0].SpanKind())
	require.Equal(t, parent.SpanContext().SpanID(), spans[0].Parent().SpanID())
	require.Equal(t, "00-"+spans[0].SpanContext().TraceID().String()+"-"+spans[0].SpanContext().SpanID().String()+"-01", got[1])
}
