package httpserver

import (
	"strconv"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/voiceassist/gateway/internal/telemetry"
)

// tracing makes the server span of every request, named "METHOD route-template", as a child
// of an incoming W3C traceparent, and answers with the traceparent of that span. With
// tracing off (t nil or not Enabled) nothing is recorded, but the request still gets a span
// context of its own (the caller's trace id, or a new one): its ids go into the response
// header and into every log line written for the request.
func tracing(t *telemetry.Tracing) echo.MiddlewareFunc {
	var tracer trace.Tracer
	if t != nil && t.Enabled() {
		tracer = t.Tracer()
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			ctx := telemetry.Propagator.Extract(req.Context(), propagation.HeaderCarrier(req.Header))
			var span trace.Span
			if tracer != nil {
				ctx, span = tracer.Start(ctx, req.Method, trace.WithSpanKind(trace.SpanKindServer),
					trace.WithAttributes(attribute.String("http.request.method", req.Method),
						attribute.String("url.path", req.URL.Path)))
				defer span.End()
			} else {
				ctx = trace.ContextWithSpanContext(ctx, telemetry.LocalSpan(trace.SpanContextFromContext(ctx)))
			}
			telemetry.Propagator.Inject(ctx, propagation.HeaderCarrier(c.Response().Header()))
			c.SetRequest(req.WithContext(ctx))
			err := next(c)
			if span != nil {
				if err != nil {
					c.Error(err) // commit it, so the status recorded is the one sent
					err = nil
				}
				route := routeOf(c)
				status := c.Response().Status
				span.SetName(req.Method + " " + route)
				span.SetAttributes(attribute.String("http.route", route),
					attribute.Int("http.response.status_code", status))
				if status >= 500 {
					span.SetStatus(codes.Error, strconv.Itoa(status))
				}
			}
			return err
		}
	}
}
