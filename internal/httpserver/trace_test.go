package httpserver

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/codes"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/voiceassist/gateway/internal/telemetry"
)

func traced(t *telemetry.Tracing) *echo.Echo {
	e := echo.New()
	e.Use(tracing(t, routeSet{"GET": {"/items/:id": true, "/boom": true}}))
	e.GET("/items/:id", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	e.GET("/boom", func(c echo.Context) error { return errors.New("boom") })
	return e
}

func TestTracingMiddleware(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	e := traced(telemetry.FromSDK(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))))

	req := httptest.NewRequest(http.MethodGet, "/items/42", nil)
	req.Header.Set("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01")
	res := httptest.NewRecorder()
	e.ServeHTTP(res, req)
	req = httptest.NewRequest(http.MethodGet, "/boom", nil)
	e.ServeHTTP(httptest.NewRecorder(), req)

	spans := rec.Ended()
	require.Len(t, spans, 2)
	require.Equal(t, "GET /items/:id", spans[0].Name())
	require.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", spans[0].SpanContext().TraceID().String())
	require.Equal(t, "00f067aa0ba902b7", spans[0].Parent().SpanID().String())
	require.Equal(t, "00-4bf92f3577b34da6a3ce929d0e0e4736-"+spans[0].SpanContext().SpanID().String()+"-01", res.Header().Get("traceparent"))
	require.Equal(t, "GET /boom", spans[1].Name())
	require.Equal(t, codes.Error, spans[1].Status().Code, "a 5xx marks the span")
}

func TestTracingMiddlewareOff(t *testing.T) {
	e := traced(telemetry.Off())
	res := httptest.NewRecorder()
	e.ServeHTTP(res, httptest.NewRequest(http.MethodGet, "/items/1", nil))
	tp := res.Header().Get("traceparent")
	require.Regexp(t, `^00-[0-9a-f]{32}-[0-9a-f]{16}-01$`, tp)
	res2 := httptest.NewRecorder()
	e.ServeHTTP(res2, httptest.NewRequest(http.MethodGet, "/items/1", nil))
	require.NotEqual(t, strings.Split(tp, "-")[1], strings.Split(res2.Header().Get("traceparent"), "-")[1], "a new trace per request")
}

// The cost of the middleware per request: off (ids only) and on (a recorded, sampled span
// handed to a batcher with no exporter).
func BenchmarkTracing(b *testing.B) {
	for name, tr := range map[string]*telemetry.Tracing{
		"off": telemetry.Off(),
		"on":  telemetry.FromSDK(sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(sdktrace.NewBatchSpanProcessor(tracetest.NewNoopExporter())))),
	} {
		b.Run(name, func(b *testing.B) {
			e := traced(tr)
			req := httptest.NewRequest(http.MethodGet, "/items/42", nil)
			b.ReportAllocs()
			for b.Loop() {
				e.ServeHTTP(httptest.NewRecorder(), req)
			}
		})
	}
}
