package flagstore

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/voiceassist/gateway/internal/counter"
	"github.com/voiceassist/gateway/internal/flageval"
)

// Metrics of flag evaluation; labels are bounded (reason only: never per user or flag).
type Metrics struct {
	evaluations *prometheus.CounterVec
	byReason    map[flageval.Reason]prometheus.Counter // the known reasons, resolved once
	duration    prometheus.Histogram
	// Daily counts evaluations per day for the admin panel (nil: not).
	Daily *counter.Set
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
	m.byReason = map[flageval.Reason]prometheus.Counter{}
	for _, r := range []flageval.Reason{flageval.ReasonStatic, flageval.ReasonDefault, flageval.ReasonTargetingMatch, flageval.ReasonSplit, flageval.ReasonDisabled, flageval.ReasonError} {
		m.byReason[r] = m.evaluations.WithLabelValues(string(r))
	}
	return m
}

// counted adds one evaluation with reason r (the label lookup is done once per known reason).
func (m *Metrics) counted(r flageval.Reason) {
	c, ok := m.byReason[r]
	if !ok {
		c = m.evaluations.WithLabelValues(string(r))
	}
	c.Inc()
}

// Evaluator evaluates flags for one caller: flags above the caller's visibility level do not
// exist for it (FLAG_NOT_FOUND), on every read path.
type Evaluator struct {
	Snapshot *flageval.Snapshot
	Level    flageval.Visibility
	metrics  *Metrics
	start    time.Time
}

// Evaluator pins the current snapshot, so a bulk evaluation sees one revision.
func (s *Store) Evaluator(level flageval.Visibility, m *Metrics) *Evaluator {
	return &Evaluator{Snapshot: s.Snapshot(), Level: level, metrics: m, start: time.Now()}
}

// Visible reports whether the caller may see the flag (archived flags are seen by nobody).
func (e *Evaluator) Visible(key string) bool {
	vis, archived, ok := e.Snapshot.Meta(key)
	return ok && !archived && vis.Level() <= e.Level.Level()
}

// Evaluate one flag.
func (e *Evaluator) Evaluate(key string, ctx flageval.EvalContext) flageval.Result {
	r := e.evaluate(key, ctx)
	if e.metrics != nil {
		e.metrics.counted(r.Reason)
		e.metrics.Daily.Add(counter.FlagEvaluations, 1)
	}
	return r
}

func (e *Evaluator) evaluate(key string, ctx flageval.EvalContext) flageval.Result {
	if !e.Visible(key) {
		return flageval.Result{Key: key, Reason: flageval.ReasonError, ErrorCode: flageval.CodeFlagNotFound, ErrorMessage: "flag not found"}
	}
	return e.Snapshot.Evaluate(key, ctx)
}

// All evaluates every flag visible to the caller, ordered by key. The daily counter is
// bumped once for all of them.
func (e *Evaluator) All(ctx flageval.EvalContext) []flageval.Result {
	keys := e.Snapshot.Keys()
	out := make([]flageval.Result, 0, len(keys))
	for _, k := range keys {
		if !e.Visible(k) {
			continue
		}
		r := e.Snapshot.Evaluate(k, ctx)
		if e.metrics != nil {
			e.metrics.counted(r.Reason)
		}
		out = append(out, r)
	}
	if e.metrics != nil {
		e.metrics.Daily.Add(counter.FlagEvaluations, int64(len(out)))
	}
	return out
}

// Done records how long this caller's evaluations took.
func (e *Evaluator) Done() {
	if e.metrics != nil {
		e.metrics.duration.Observe(time.Since(e.start).Seconds())
	}
}
