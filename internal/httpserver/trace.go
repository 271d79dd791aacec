package httpserver

import (
	"context"
	"encoding/hex"
	"strconv"

	"github.com/labstack/echo/v4"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/voiceassist/gateway/internal/logging"
	"github.com/voiceassist/gateway/internal/telemetry"
)

// tracing is begin without the client details (tests).
func tracing(t *telemetry.Tracing, routes routeSet) echo.MiddlewareFunc { return begin(t, nil, routes) }

// begin opens every request. It answers with the request ids (setRequestIDs) and makes the
// server span, named "METHOD route-template", as a child of an incoming W3C traceparent,
// answering with the traceparent of that span. With tracing off (t nil or not Enabled)
// nothing is recorded, but the request still gets a span context of its own (the caller's
// trace id, or a new one): its ids go into the response header and into every log line
// written for the request. The request id, the span and the client's address and user
// agent (withClient, for audit rows) go into the request context together: one copy of
// the request instead of one per concern.
func begin(t *telemetry.Tracing, withClient func(ctx context.Context, requestID, ip, userAgent string) context.Context, routes routeSet) echo.MiddlewareFunc {
	var tracer trace.Tracer
	if t != nil && t.Enabled() {
		tracer = t.Tracer()
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			h := c.Response().Header()
			id := setRequestIDs(req, h)
			ctx := logging.WithRequestID(req.Context(), id)
			if len(req.Header["Traceparent"]) > 0 {
				ctx = telemetry.Propagator.Extract(ctx, propagation.HeaderCarrier(req.Header))
			}
			var span trace.Span
			if tracer != nil {
				ctx, span = tracer.Start(ctx, req.Method, trace.WithSpanKind(trace.SpanKindServer),
					trace.WithAttributes(attribute.String("http.request.method", req.Method),
						attribute.String("url.path", req.URL.Path)))
				defer span.End()
			} else {
				ctx = trace.ContextWithSpanContext(ctx, telemetry.LocalSpan(trace.SpanContextFromContext(ctx)))
			}
			if sc := trace.SpanContextFromContext(ctx); sc.TraceState().Len() == 0 {
				h["Traceparent"] = []string{traceparent(sc)}
			} else {
				telemetry.Propagator.Inject(ctx, propagation.HeaderCarrier(h))
			}
			if withClient != nil {
				ctx = withClient(ctx, id, c.RealIP(), req.UserAgent())
			}
			c.SetRequest(req.WithContext(ctx))
			err := next(c)
			if span != nil {
				if err != nil {
					c.Error(err) // commit it, so the status recorded is the one sent
					err = nil
				}
				route := routes.of(c)
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

// traceparent renders a span context as a W3C traceparent value ("00-trace-span-flags"),
// keeping only the sampled and random flags, as the propagator does.
func traceparent(sc trace.SpanContext) string {
	var b [55]byte
	tid, sid := sc.TraceID(), sc.SpanID()
	b[0], b[1], b[2] = '0', '0', '-'
	hex.Encode(b[3:35], tid[:])
	b[35] = '-'
	hex.Encode(b[36:52], sid[:])
	b[52] = '-'
	hex.Encode(b[53:55], []byte{byte(sc.TraceFlags() & (trace.FlagsSampled | trace.FlagsRandom))})
	return string(b[:])
}
