// Package telemetry is the gateway's OpenTelemetry tracing: the tracer provider built from
// the OTEL_* settings (a no-op one when no endpoint is set) and the span hooks of the
// libraries we call through: PostgreSQL (pgx), Redis (go-redis), outgoing HTTP to model,
// embedding and voice providers, and River jobs.
//
// No global provider is installed: each App owns its provider (tests run several gateways
// in one process). Hooks below a request or a job take the provider from the span in their
// context, so they make spans only inside a traced request or job, at no cost otherwise.
package telemetry

import (
	"context"
	"encoding/binary"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/url"
	"strings"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracegrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"
)

// ScopeName is the instrumentation scope of every span the gateway makes.
const ScopeName = "github.com/voiceassist/gateway"

// Protocols of OTEL_EXPORTER_OTLP_PROTOCOL.
const (
	ProtocolGRPC         = "grpc"
	ProtocolHTTPProtobuf = "http/protobuf"
)

// Samplers of OTEL_TRACES_SAMPLER (the OpenTelemetry names).
var Samplers = []string{"always_on", "always_off", "traceidratio",
	"parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio"}

// Settings configure tracing; an empty Endpoint turns it off.
type Settings struct {
	Endpoint       string // OTLP endpoint URL, e.g. http://collector:4317
	Protocol       string // grpc (default) or http/protobuf
	ServiceName    string
	ServiceVersion string
	Sampler        string  // one of Samplers; parentbased_always_on when empty
	SamplerArg     float64 // ratio of the traceidratio samplers
	// BatchTimeout is how long spans wait before export (5 s when 0).
	BatchTimeout time.Duration
}

// Tracing is one gateway's tracer provider.
type Tracing struct {
	provider trace.TracerProvider
	sdk      *sdktrace.TracerProvider // nil when off
	once     sync.Once
}

// Off is tracing turned off: a no-op provider.
func Off() *Tracing { return &Tracing{provider: noop.NewTracerProvider()} }

// New builds the provider of s. The exporter connects lazily: an unreachable collector
// costs dropped spans and a logged export error, never a failed start.
func New(ctx context.Context, s Settings) (*Tracing, error) {
	if s.Endpoint == "" {
		return Off(), nil
	}
	exp, err := newExporter(ctx, s)
	if err != nil {
		return nil, err
	}
	sampler, err := NewSampler(s.Sampler, s.SamplerArg)
	if err != nil {
		return nil, err
	}
	name := s.ServiceName
	if name == "" {
		name = "voiceassist-gateway"
	}
	res := resource.NewSchemaless(
		attribute.String("service.name", name),
		attribute.String("service.version", s.ServiceVersion),
	)
	timeout := s.BatchTimeout
	if timeout <= 0 {
		timeout = 5 * time.Second
	}
	tp := sdktrace.NewTracerProvider(
		sdktrace.WithBatcher(exp, sdktrace.WithBatchTimeout(timeout)),
		sdktrace.WithSampler(sampler),
		sdktrace.WithResource(res),
	)
	return &Tracing{provider: tp, sdk: tp}, nil
}

func newExporter(ctx context.Context, s Settings) (*otlptrace.Exporter, error) {
	u, err := url.Parse(s.Endpoint)
	if err != nil {
		return nil, fmt.Errorf("telemetry: OTEL_EXPORTER_OTLP_ENDPOINT: %w", err)
	}
	switch s.Protocol {
	case "", ProtocolGRPC:
		return otlptracegrpc.New(ctx, otlptracegrpc.WithEndpointURL(s.Endpoint))
	case ProtocolHTTPProtobuf:
		// The generic endpoint is a base URL: the traces path is appended (OTLP spec).
		u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/traces"
		return otlptracehttp.New(ctx, otlptracehttp.WithEndpointURL(u.String()))
	default:
		return nil, fmt.Errorf("telemetry: unknown OTEL_EXPORTER_OTLP_PROTOCOL %q (want grpc or http/protobuf)", s.Protocol)
	}
}

// NewSampler is the sampler named as OTEL_TRACES_SAMPLER names it.
func NewSampler(name string, arg float64) (sdktrace.Sampler, error) {
	switch name {
	case "", "parentbased_always_on":
		return sdktrace.ParentBased(sdktrace.AlwaysSample()), nil
	case "parentbased_always_off":
		return sdktrace.ParentBased(sdktrace.NeverSample()), nil
	case "parentbased_traceidratio":
		return sdktrace.ParentBased(sdktrace.TraceIDRatioBased(arg)), nil
	case "always_on":
		return sdktrace.AlwaysSample(), nil
	case "always_off":
		return sdktrace.NeverSample(), nil
	case "traceidratio":
		return sdktrace.TraceIDRatioBased(arg), nil
	}
	return nil, fmt.Errorf("telemetry: unknown OTEL_TRACES_SAMPLER %q", name)
}

// Enabled reports whether spans are exported.
func (t *Tracing) Enabled() bool { return t.sdk != nil }

// Provider is the tracer provider (a no-op one when off).
func (t *Tracing) Provider() trace.TracerProvider { return t.provider }

// Tracer is the gateway's tracer of this provider.
func (t *Tracing) Tracer() trace.Tracer { return t.provider.Tracer(ScopeName) }

// ForceFlush exports the spans that have ended so far.
func (t *Tracing) ForceFlush(ctx context.Context) error {
	if t.sdk == nil {
		return nil
	}
	return t.sdk.ForceFlush(ctx)
}

// Shutdown flushes the spans left and stops the exporter.
func (t *Tracing) Shutdown(ctx context.Context) error {
	if t.sdk == nil {
		return nil
	}
	var err error
	t.once.Do(func() { err = t.sdk.Shutdown(ctx) })
	return err
}

// LocalSpan is a span context for work done while tracing is off: the parent's trace id (or
// a new one) and a new span id, so that responses and log lines still name the trace. The
// generator is not cryptographic; the ids need only be unique.
func LocalSpan(parent trace.SpanContext) trace.SpanContext {
	cfg := trace.SpanContextConfig{TraceID: parent.TraceID(), TraceFlags: parent.TraceFlags()}
	if !parent.IsValid() {
		binary.BigEndian.PutUint64(cfg.TraceID[:8], rand.Uint64())
		binary.BigEndian.PutUint64(cfg.TraceID[8:], rand.Uint64()|1)
		cfg.TraceFlags = trace.FlagsSampled
	}
	binary.BigEndian.PutUint64(cfg.SpanID[:], rand.Uint64()|1)
	return trace.NewSpanContext(cfg)
}

// tracerFrom is the gateway's tracer of the provider that made ctx's span, or nil when ctx
// holds no recording span: hooks then add nothing.
func tracerFrom(ctx context.Context) trace.Tracer {
	span := trace.SpanFromContext(ctx)
	if !span.IsRecording() {
		return nil
	}
	return span.TracerProvider().Tracer(ScopeName)
}

// FromSDK wraps an SDK provider built elsewhere (tests record spans in memory with it).
func FromSDK(tp *sdktrace.TracerProvider) *Tracing { return &Tracing{provider: tp, sdk: tp} }

// LogErrors sends the OpenTelemetry SDK's errors (a failed export: collector unreachable) to
// log instead of the standard logger. It is process-wide: the binary calls it once.
func LogErrors(log *slog.Logger) {
	otel.SetErrorHandler(otel.ErrorHandlerFunc(func(err error) {
		log.Warn("telemetry: export traces", "error", err)
	}))
}
