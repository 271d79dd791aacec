package telemetry

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/counter"
)

// Business holds the business metrics of one gateway (the seed's core/business_metrics.py):
// logins and registrations by outcome, RAG answers with and without citations, citations per
// answer, retrieval and model latency by stage, tokens by model, knowledge-base documents
// and chunks by status, indexing throughput. Every method is safe on a nil *Business (a
// service built without metrics), and costs an in-memory increment: nothing is written
// per event.
type Business struct {
	logins        *prometheus.CounterVec
	registrations *prometheus.CounterVec
	ragQueries    *prometheus.CounterVec
	citations     prometheus.Histogram
	stages        *prometheus.HistogramVec
	tokens        *prometheus.CounterVec
	indexedDocs   prometheus.Counter
	indexedChunks prometheus.Counter
	// Daily counts answers per day for the admin panel (nil: not).
	Daily *counter.Set
}

// Stages of Business.Stage.
const (
	StageRetrieval = "retrieval" // the chat pipeline's whole retrieval (all hops)
	StageModel     = "model"     // the model call, to its last token
	StageKeyword   = "keyword"   // BM25 search
	StageEmbedding = "embedding" // embedding the query
	StageVector    = "vector"    // nearest-neighbour search
	StageHydrate   = "hydrate"   // loading the fused chunks from PostgreSQL
)

// NewBusiness registers the business metrics with reg.
func NewBusiness(reg prometheus.Registerer) *Business {
	b := &Business{
		logins: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "voiceassist_auth_logins_total",
			Help: "Password logins by outcome (success, invalid_credentials, rate_limited, rejected, unavailable, error)."}, []string{"outcome"}),
		registrations: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "voiceassist_auth_registrations_total",
			Help: "Self-service registrations by outcome (success, existing_email, rejected, rate_limited, unavailable, error)."}, []string{"outcome"}),
		ragQueries: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "voiceassist_rag_queries_total",
			Help: "Answered chat questions, by whether the answer cites a knowledge-base source (with, without)."}, []string{"citations"}),
		citations: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "voiceassist_rag_citations_per_answer",
			Help: "Sources cited per answer.", Buckets: []float64{0, 1, 2, 3, 4, 5, 6, 8, 10}}),
		stages: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "voiceassist_rag_stage_duration_seconds",
			Help:    "Latency of retrieval and generation by stage (retrieval, model, keyword, embedding, vector, hydrate).",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}}, []string{"stage"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "voiceassist_llm_tokens_total",
			Help: "Model tokens used by chat answers, by model and kind (prompt, completion); estimated as the daily quota counts them."}, []string{"model", "kind"}),
		indexedDocs: prometheus.NewCounter(prometheus.CounterOpts{Name: "voiceassist_kb_documents_indexed_total",
			Help: "Knowledge-base documents indexed (each successful indexing job)."}),
		indexedChunks: prometheus.NewCounter(prometheus.CounterOpts{Name: "voiceassist_kb_chunks_indexed_total",
			Help: "Knowledge-base chunks written by indexing jobs."}),
	}
	reg.MustRegister(b.logins, b.registrations, b.ragQueries, b.citations, b.stages, b.tokens, b.indexedDocs, b.indexedChunks)
	for _, o := range []string{"success", "invalid_credentials", "rate_limited"} {
		b.logins.WithLabelValues(o)
	}
	for _, o := range []string{"success", "existing_email", "rejected", "rate_limited"} {
		b.registrations.WithLabelValues(o)
	}
	b.ragQueries.WithLabelValues("with")
	b.ragQueries.WithLabelValues("without")
	return b
}

// outcome is the bounded label of a request's error.
func outcome(err error) string {
	if err == nil {
		return "success"
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return "error"
	}
	e := apierr.From(err)
	switch {
	case e.Status == http.StatusUnauthorized:
		return "invalid_credentials"
	case e.Status == http.StatusTooManyRequests:
		return "rate_limited"
	case e.Status == http.StatusConflict:
		return "existing_email"
	case e.Status == http.StatusServiceUnavailable:
		return "unavailable"
	case e.Status < 500:
		return "rejected"
	}
	return "error"
}

// Login counts a password login that ended with err (nil: success).
func (b *Business) Login(err error) {
	if b != nil {
		b.logins.WithLabelValues(outcome(err)).Inc()
	}
}

// Registration counts a registration that ended with err (nil: success; the conflict of an
// existing email: existing_email, although the client is answered as for a new account).
func (b *Business) Registration(err error) {
	if b != nil {
		b.registrations.WithLabelValues(outcome(err)).Inc()
	}
}

// Answer counts an answered question: its citations, and its tokens for model.
func (b *Business) Answer(model string, citations, promptTokens, completionTokens int) {
	if b == nil {
		return
	}
	with := "without"
	daily := counter.RAGWithout
	if citations > 0 {
		with, daily = "with", counter.RAGWithCitations
	}
	b.Daily.Add(daily, 1)
	b.ragQueries.WithLabelValues(with).Inc()
	b.citations.Observe(float64(citations))
	b.tokens.WithLabelValues(model, "prompt").Add(float64(promptTokens))
	b.tokens.WithLabelValues(model, "completion").Add(float64(completionTokens))
}

// Message counts a stored chat message (question or answer) for the admin panel's daily
// figures (no Prometheus series: the answers above already count the traffic).
func (b *Business) Message() {
	if b != nil {
		b.Daily.Add(counter.Messages, 1)
	}
}

// Stage records the latency of a retrieval or generation stage begun at start.
func (b *Business) Stage(stage string, start time.Time) {
	if b != nil {
		b.stages.WithLabelValues(stage).Observe(time.Since(start).Seconds())
	}
}

// Indexed counts a document indexed into chunks.
func (b *Business) Indexed(chunks int) {
	if b != nil {
		b.indexedDocs.Inc()
		b.indexedChunks.Add(float64(chunks))
	}
}

// KBCount is the number of documents of one status and their chunks.
type KBCount struct {
	Status            string
	Documents, Chunks int64
}

// KBGauges registers voiceassist_kb_documents and voiceassist_kb_chunks by status, read with
// count (one grouped query) at most once per maxAge however often /metrics is scraped.
func KBGauges(reg prometheus.Registerer, count func(context.Context) ([]KBCount, error), maxAge time.Duration, log *slog.Logger) {
	reg.MustRegister(&kbCollector{count: count, maxAge: maxAge, log: log,
		docs:   prometheus.NewDesc("voiceassist_kb_documents", "Knowledge-base documents by indexing status (pending, processing, indexed, failed).", []string{"status"}, nil),
		chunks: prometheus.NewDesc("voiceassist_kb_chunks", "Knowledge-base chunks by the indexing status of their document.", []string{"status"}, nil),
	})
}

type kbCollector struct {
	count        func(context.Context) ([]KBCount, error)
	maxAge       time.Duration
	log          *slog.Logger
	docs, chunks *prometheus.Desc

	mu   sync.Mutex
	at   time.Time
	last map[string]KBCount
}

var kbStatuses = []string{"pending", "processing", "indexed", "failed"}

func (c *kbCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.docs; ch <- c.chunks }

func (c *kbCollector) Collect(ch chan<- prometheus.Metric) {
	c.mu.Lock()
	if c.last == nil || time.Since(c.at) >= c.maxAge {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		rows, err := c.count(ctx)
		cancel()
		if err != nil {
			c.log.Warn("metrics: count knowledge-base documents", "error", err) // the last values stay
		} else {
			c.last, c.at = map[string]KBCount{}, time.Now()
			for _, r := range rows {
				c.last[r.Status] = r
			}
		}
	}
	last := c.last
	c.mu.Unlock()
	if last == nil {
		return
	}
	for _, s := range kbStatuses {
		ch <- prometheus.MustNewConstMetric(c.docs, prometheus.GaugeValue, float64(last[s].Documents), s)
		ch <- prometheus.MustNewConstMetric(c.chunks, prometheus.GaugeValue, float64(last[s].Chunks), s)
	}
}
