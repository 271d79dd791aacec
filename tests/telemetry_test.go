package tests

import (
	"compress/gzip"
	"context"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	collectortrace "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/app"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/llm/llmtest"
)

// otlpReceiver is an OTLP trace receiver over gRPC and HTTP (protobuf) that keeps every span
// it is sent, decoded with the OTLP protobuf types (no collector involved).
type otlpReceiver struct {
	collectortrace.UnimplementedTraceServiceServer
	mu    sync.Mutex
	spans []receivedSpan
}

type receivedSpan struct {
	*tracepb.Span
	service string
}

func (r *otlpReceiver) Export(_ context.Context, req *collectortrace.ExportTraceServiceRequest) (*collectortrace.ExportTraceServiceResponse, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, rs := range req.ResourceSpans {
		service := ""
		for _, a := range rs.GetResource().GetAttributes() {
			if a.Key == "service.name" {
				service = a.GetValue().GetStringValue()
			}
		}
		for _, ss := range rs.ScopeSpans {
			for _, sp := range ss.Spans {
				r.spans = append(r.spans, receivedSpan{sp, service})
			}
		}
	}
	return &collectortrace.ExportTraceServiceResponse{}, nil
}

// trace is every span received so far of one trace id, by span id.
func (r *otlpReceiver) trace(traceID string) map[string]receivedSpan {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := map[string]receivedSpan{}
	for _, s := range r.spans {
		if hex.EncodeToString(s.TraceId) == traceID {
			out[hex.EncodeToString(s.SpanId)] = s
		}
	}
	return out
}

func (r *otlpReceiver) all() []receivedSpan {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]receivedSpan(nil), r.spans...)
}

// startGRPC serves the receiver over gRPC and returns the endpoint URL.
func (r *otlpReceiver) startGRPC(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := grpc.NewServer()
	collectortrace.RegisterTraceServiceServer(srv, r)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	return "http://" + l.Addr().String()
}

// startHTTP serves the receiver as OTLP/HTTP with protobuf bodies at /v1/traces.
func (r *otlpReceiver) startHTTP(t *testing.T) string {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if req.Method != http.MethodPost || req.URL.Path != "/v1/traces" || req.Header.Get("Content-Type") != "application/x-protobuf" {
			http.Error(w, "want POST /v1/traces application/x-protobuf", http.StatusNotFound)
			return
		}
		var body io.Reader = req.Body
		if req.Header.Get("Content-Encoding") == "gzip" {
			zr, err := gzip.NewReader(req.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			body = zr
		}
		b, err := io.ReadAll(body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var in collectortrace.ExportTraceServiceRequest
		if err := proto.Unmarshal(b, &in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		out, _ := r.Export(req.Context(), &in)
		res, _ := proto.Marshal(out)
		w.Header().Set("Content-Type", "application/x-protobuf")
		_, _ = w.Write(res)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func attr(attrs []*commonpb.KeyValue, key string) *commonpb.AnyValue {
	for _, a := range attrs {
		if a.Key == key {
			return a.Value
		}
	}
	return nil
}

// descendsFrom reports whether span id descends from ancestor within spans.
func descendsFrom(spans map[string]receivedSpan, id, ancestor string) bool {
	for range len(spans) + 1 {
		s, ok := spans[id]
		if !ok {
			return false
		}
		id = hex.EncodeToString(s.ParentSpanId)
		if id == ancestor {
			return true
		}
	}
	return false
}

// One chat request traced over OTLP: the caller's trace id is kept; the server span (by
// route template), the database spans, the Redis spans and the model client span form one
// tree under it; the model receives traceparent; log lines carry the trace id. Both OTLP
// transports are served by the receiver in the test.
func TestTracingOfAChatRequest(t *testing.T) {
	t.Parallel()
	for _, protocol := range []string{"grpc", "http/protobuf"} {
		t.Run(strings.ReplaceAll(protocol, "/", "_"), func(t *testing.T) {
			t.Parallel()
			rcv := &otlpReceiver{}
			endpoint := rcv.startGRPC(t)
			service := "voiceassist-gateway"
			env := map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": protocol}
			if protocol == "http/protobuf" {
				endpoint = rcv.startHTTP(t)
				service = "gateway-under-test"
				env["OTEL_SERVICE_NAME"] = service
			}
			fake := newFakeChat(t)
			env["OTEL_EXPORTER_OTLP_ENDPOINT"] = endpoint
			env["OPENAI_BASE_URL"] = fake.BaseURL()
			env["OPENAI_API_KEY"] = llmtest.APIKey
			env["OPENAI_CHAT_MODEL"] = "fake-model"
			env["EMBEDDING_PROVIDER"] = "offline"
			s := startServer(t, env)
			seedKB(t, s)
			tok := s.token(t, s.account(t, auth.RoleUser))
			conv := s.newConversation(t, tok, nil)

			const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
			const parentID = "00f067aa0ba902b7"
			res, body := s.raw(t, http.MethodPost, "/conversations/"+conv.Id.String()+"/messages",
				`{"content":"What are the first-line drugs for hypertension?"}`, map[string]string{
					"Authorization": "Bearer " + tok,
					"Content-Type":  "application/json",
					"traceparent":   "00-" + traceID + "-" + parentID + "-01",
				})
			require.Equal(t, http.StatusCreated, res.StatusCode, string(body))
			tp := res.Header.Get("traceparent")
			require.Regexp(t, "^00-"+traceID+"-[0-9a-f]{16}-01$", tp, "the answer stays in the caller's trace")
			serverID := strings.Split(tp, "-")[2]

			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			var spans map[string]receivedSpan
			require.Eventually(t, func() bool {
				_ = s.App.Tracing.ForceFlush(ctx)
				spans = rcv.trace(traceID)
				_, ok := spans[serverID]
				return ok && len(spans) > 3
			}, 30*time.Second, 100*time.Millisecond, "the trace reaches the receiver")

			srv := spans[serverID]
			require.Equal(t, tracepb.Span_SPAN_KIND_SERVER, srv.Kind)
			require.Equal(t, "POST /conversations/:id/messages", srv.Name)
			require.Equal(t, "/conversations/:id/messages", attr(srv.Attributes, "http.route").GetStringValue())
			require.EqualValues(t, 201, attr(srv.Attributes, "http.response.status_code").GetIntValue())
			require.Equal(t, parentID, hex.EncodeToString(srv.ParentSpanId), "the incoming traceparent is the parent")
			require.Equal(t, service, srv.service)
			require.NotEqual(t, tracepb.Status_STATUS_CODE_ERROR, srv.GetStatus().GetCode())

			var db, redis, model int
			for id, sp := range spans {
				if id == serverID {
					continue
				}
				require.True(t, descendsFrom(spans, id, serverID), "span %q hangs under the server span", sp.Name)
				switch attr(sp.Attributes, "db.system.name").GetStringValue() {
				case "postgresql":
					db++
					require.NotContains(t, sp.Name, " ", "a statement name, never SQL text: %q", sp.Name)
				case "redis":
					redis++
				}
				if sp.Name == "POST /v1/chat/completions" {
					model++
					require.Equal(t, tracepb.Span_SPAN_KIND_CLIENT, sp.Kind)
					require.EqualValues(t, 200, attr(sp.Attributes, "http.response.status_code").GetIntValue())
				}
			}
			require.Positive(t, db, "database spans")
			require.Positive(t, redis, "Redis spans")
			require.Equal(t, 1, model, "one model call")
			var names []string
			for _, sp := range spans {
				names = append(names, sp.Name)
			}
			t.Logf("%d spans in the chat trace: %v", len(spans), names)

			// The model provider received the trace context.
			calls := fake.Requests(llmtest.Chat)
			require.NotEmpty(t, calls)
			require.Contains(t, calls[len(calls)-1].Header.Get("traceparent"), traceID)

			// The request's log lines name the trace and the server span.
			require.Contains(t, s.Logs(), fmt.Sprintf(`"trace_id":"%s","span_id":"%s"`, traceID, serverID))

			// Background jobs: the indexing of a document uploaded in a traced request is a
			// consumer span of the upload's trace, with its queries below it.
			var job *receivedSpan
			for _, sp := range rcv.all() {
				if sp.Name == "job kb_index" {
					job = &sp
					break
				}
			}
			require.NotNil(t, job, "indexing jobs are traced")
			require.Equal(t, tracepb.Span_SPAN_KIND_CONSUMER, job.Kind)
			jobTrace := rcv.trace(hex.EncodeToString(job.TraceId))
			parent, ok := jobTrace[hex.EncodeToString(job.ParentSpanId)]
			require.True(t, ok, "the job's parent is the upload request's span")
			require.Equal(t, tracepb.Span_SPAN_KIND_SERVER, parent.Kind)
			jobDB := 0
			for id, sp := range jobTrace {
				if attr(sp.Attributes, "db.system.name").GetStringValue() == "postgresql" && descendsFrom(jobTrace, id, hex.EncodeToString(job.SpanId)) {
					jobDB++
				}
			}
			require.Positive(t, jobDB, "the job's queries are its children")
		})
	}
}

// With parentbased_traceidratio at 0 a request without a sampled parent exports nothing,
// while a caller's sampled decision is followed; 5xx would mark the span as an error, 4xx
// does not.
func TestTracingSampler(t *testing.T) {
	t.Parallel()
	rcv := &otlpReceiver{}
	s := startServer(t, map[string]string{
		"OTEL_EXPORTER_OTLP_ENDPOINT": rcv.startGRPC(t),
		"OTEL_TRACES_SAMPLER":         "parentbased_traceidratio",
		"OTEL_TRACES_SAMPLER_ARG":     "0",
	})
	res, _ := s.raw(t, http.MethodGet, "/api/version", "", nil)
	unsampled := res.Header.Get("traceparent")
	require.Regexp(t, `^00-[0-9a-f]{32}-[0-9a-f]{16}-00$`, unsampled, "not sampled, still answered")

	const traceID = "0af7651916cd43dd8448eb211c80319c"
	res, _ = s.raw(t, http.MethodGet, "/api/no-such-route", "", map[string]string{"traceparent": "00-" + traceID + "-b7ad6b7169203331-01"})
	require.Equal(t, http.StatusNotFound, res.StatusCode)

	require.Eventually(t, func() bool {
		_ = s.App.Tracing.ForceFlush(context.Background())
		return len(rcv.trace(traceID)) > 0
	}, 30*time.Second, 100*time.Millisecond)
	var srv receivedSpan
	for _, sp := range rcv.trace(traceID) {
		srv = sp
	}
	require.Equal(t, "GET unmatched", srv.Name)
	require.EqualValues(t, 404, attr(srv.Attributes, "http.response.status_code").GetIntValue())
	require.NotEqual(t, tracepb.Status_STATUS_CODE_ERROR, srv.GetStatus().GetCode(), "a 4xx is not a server error")
	require.Empty(t, rcv.trace(strings.Split(unsampled, "-")[1]), "the unsampled request exported nothing")
}

// Tracing off: no exporter, yet every answer carries a traceparent of its own span, in the
// caller's trace when one was sent, and the log lines carry the same ids.
func TestTraceparentWithoutExporter(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	require.False(t, s.App.Tracing.Enabled())
	const traceID = "5bf92f3577b34da6a3ce929d0e0e4737"
	for _, path := range []string{"/api/version", "/health", "/api/no-such-route"} {
		res, _ := s.raw(t, http.MethodGet, path, "", map[string]string{"traceparent": "00-" + traceID + "-00f067aa0ba902b7-01"})
		tp := res.Header.Get("traceparent")
		require.Regexp(t, "^00-"+traceID+"-[0-9a-f]{16}-01$", tp, path)
		require.NotContains(t, tp, "00f067aa0ba902b7", "a span id of its own")
		require.Contains(t, s.Logs(), `"trace_id":"`+traceID+`","span_id":"`+strings.Split(tp, "-")[2]+`"`)
	}
	// A malformed traceparent starts a new trace.
	res, _ := s.raw(t, http.MethodGet, "/api/version", "", map[string]string{"traceparent": "00-zz-bad"})
	require.Regexp(t, `^00-[0-9a-f]{32}-[0-9a-f]{16}-01$`, res.Header.Get("traceparent"))
	require.NotContains(t, res.Header.Get("traceparent"), traceID)
}

// A scheduled change applied by the background scheduler is a trace of its own: the
// schedule.apply_change span, with the flag write's queries below it.
func TestTracingScheduledChange(t *testing.T) {
	t.Parallel()
	rcv := &otlpReceiver{}
	clock := newClock()
	s := startServer(t, map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": rcv.startGRPC(t), "FLAG_POLL_INTERVAL_MS": "50"}, app.WithClock(clock.Now))
	ctx := context.Background()
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	f := checkoutFlag(t, s, admin)
	sch, err := s.Client.CreateScheduledChangeWithResponse(ctx, f.Key, client.ScheduledChangeInput{
		ScheduledAt: clock.Now().Add(time.Hour).Format(time.RFC3339),
		Changes:     client.WeightChanges{"control": 20, "variant_a": 40, "variant_b": 40},
	}, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, sch.StatusCode(), "%s", sch.Body)
	clock.Advance(2 * time.Hour)
	require.Eventually(t, func() bool {
		g, err := s.Client.GetScheduledChangeWithResponse(ctx, f.Key, sch.JSON201.Data.Id, bearerAuth(admin))
		return err == nil && g.JSON200.Data.Status == "applied"
	}, 10*time.Second, 20*time.Millisecond)

	var job receivedSpan
	require.Eventually(t, func() bool {
		_ = s.App.Tracing.ForceFlush(ctx)
		for _, sp := range rcv.all() {
			if sp.Name == "schedule.apply_change" {
				job = sp
				return true
			}
		}
		return false
	}, 30*time.Second, 100*time.Millisecond)
	require.Empty(t, job.ParentSpanId, "a root span")
	require.Equal(t, f.Key, attr(job.Attributes, "flag.key").GetStringValue())
	spans := rcv.trace(hex.EncodeToString(job.TraceId))
	db := 0
	for id, sp := range spans {
		if attr(sp.Attributes, "db.system.name").GetStringValue() == "postgresql" && descendsFrom(spans, id, hex.EncodeToString(job.SpanId)) {
			db++
		}
	}
	require.Positive(t, db, "the flag write's queries are its children")
}
