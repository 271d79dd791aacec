package flagstore

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/voiceassist/gateway/internal/flag"
)

// Metrics of flag evaluation; labels are bounded (reason only: never per user or flag).
type Metrics struct {
	evaluations *prometheus.CounterVec
	duration    prometheus.Histogram
}

// NewMetrics registers the evaluation metrics.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		evaluations: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "voiceassist_flag_evaluations_total",
			Help: "Flag evaluations by reason (STATIC, DEFAULT, TARGETING_MATCH, SPLIT, DISABLED, ERROR).",
		}, []string{"reason"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "voiceassist_flag_evaluation_duration_seconds",
			Help:    "Time to evaluate one request's flags (single or bulk) from the in-process snapshot.",
			Buckets: []float64{1e-6, 5e-6, 1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3},
		}),
	}
	reg.MustRegister(m.evaluations, m.duration)
	for _, r := range []flag.Reason{flag.ReasonStatic, flag.ReasonDefault, flag.ReasonTargetingMatch, flag.ReasonSplit, flag.ReasonDisabled, flag.ReasonError} {
		m.evaluations.WithLabelValues(string(r))
	}
	return m
}

// Evaluator evaluates flags for one caller: flags above the caller's visibility level do not
// exist for it (FLAG_NOT_FOUND), on every read path.
type Evaluator struct {
	Snapshot *flag.Snapshot
	Level    flag.Visibility
	metrics  *Metrics
	start    time.Time
}

// Evaluator pins the current snapshot, so a bulk evaluation sees one revision.
func (s *Store) Evaluator(level flag.Visibility, m *Metrics) *Evaluator {
	return &Evaluator{Snapshot: s.Snapshot(), Level: level, metrics: m, start: time.Now()}
}

// Visible reports whether the caller may see the flag (archived flags are seen by nobody).
func (e *Evaluator) Visible(key string) bool {
	vis, archived, ok := e.Snapshot.Meta(key)
	return ok && !archived && vis.Level() <= e.Level.Level()
}

// Evaluate one flag.
func (e *Evaluator) Evaluate(key string, ctx flag.EvalContext) flag.Result {
	var r flag.Result
	if !e.Visible(key) {
		r = flag.Result{Key: key, Reason: flag.ReasonError, ErrorCode: flag.CodeFlagNotFound, ErrorMessage: "flag not found"}
	} else {
		r = e.Snapshot.Evaluate(key, ctx)
	}
	if e.metrics != nil {
		e.metrics.evaluations.WithLabelValues(string(r.Reason)).Inc()
	}
	return r
}

// All evaluates every flag visible to the caller, ordered by key.
func (e *Evaluator) All(ctx flag.EvalContext) []flag.Result {
	keys := e.Snapshot.Keys()
	out := make([]flag.Result, 0, len(keys))
	for _, k := range keys {
		if !e.Visible(k) {
			continue
		}
		out = append(out, e.Evaluate(k, ctx))
	}
	return out
}

// Done records how long this caller's evaluations took.
func (e *Evaluator) Done() {
	if e.metrics != nil {
		e.metrics.duration.Observe(time.Since(e.start).Seconds())
	}
}
