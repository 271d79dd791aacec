package telemetry

import (
	"context"
	"encoding/json"

	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"
)

// JobMiddleware traces River jobs: a job inserted inside a traced request carries its
// traceparent in the job's metadata, and the job's run is a consumer span of that trace
// (or a new trace when there was none), with the job's queries and provider calls below it.
type JobMiddleware struct {
	river.MiddlewareDefaults
	tracing *Tracing
}

// NewJobMiddleware returns the middleware for River's Config.Middleware.
func NewJobMiddleware(t *Tracing) *JobMiddleware { return &JobMiddleware{tracing: t} }

var (
	_ rivertype.WorkerMiddleware    = (*JobMiddleware)(nil)
	_ rivertype.JobInsertMiddleware = (*JobMiddleware)(nil)
)

const metaKey = "traceparent"

func (m *JobMiddleware) InsertMany(ctx context.Context, params []*rivertype.JobInsertParams, doInner func(context.Context) ([]*rivertype.JobInsertResult, error)) ([]*rivertype.JobInsertResult, error) {
	carrier := propagation.MapCarrier{}
	if trace.SpanContextFromContext(ctx).IsSampled() {
		Propagator.Inject(ctx, carrier)
	}
	if tp := carrier[metaKey]; tp != "" {
		for _, p := range params {
			meta := map[string]any{}
			if len(p.Metadata) > 0 && json.Unmarshal(p.Metadata, &meta) != nil {
				continue // not an object: leave it as it is
			}
			meta[metaKey] = tp
			if b, err := json.Marshal(meta); err == nil {
				p.Metadata = b
			}
		}
	}
	return doInner(ctx)
}

func (m *JobMiddleware) Work(ctx context.Context, job *rivertype.JobRow, doInner func(context.Context) error) error {
	var meta struct {
		Traceparent string `json:"traceparent"`
	}
	if len(job.Metadata) > 0 {
		_ = json.Unmarshal(job.Metadata, &meta)
	}
	if meta.Traceparent != "" {
		ctx = Propagator.Extract(ctx, propagation.MapCarrier{metaKey: meta.Traceparent})
	}
	if !m.tracing.Enabled() { // ids for the job's log lines only
		return doInner(trace.ContextWithSpanContext(ctx, LocalSpan(trace.SpanContextFromContext(ctx))))
	}
	ctx, span := m.tracing.Tracer().Start(ctx, "job "+job.Kind, trace.WithSpanKind(trace.SpanKindConsumer),
		trace.WithAttributes(
			attribute.String("messaging.system", "river"),
			attribute.String("messaging.destination.name", job.Queue),
			attribute.Int64("messaging.message.id", job.ID),
			attribute.Int("river.attempt", job.Attempt),
		))
	defer span.End()
	err := doInner(ctx)
	if err != nil {
		span.SetStatus(codes.Error, "job failed")
	}
	return err
}
