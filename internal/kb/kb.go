// Package kb is the medical knowledge base: ingestion of uploaded documents, indexing as River
// jobs (extract → chunk → embed → store), and hybrid search with citations.
//
// Postgres is the source of truth: documents, their raw content, and chunks with embeddings.
// The search indexes are derived from it and can be rebuilt at any time:
//
//   - a Bleve BM25 index on disk in each process (rebuilt when missing or stale),
//   - a vector store: the in-process exact store (filled from Postgres at start) or Qdrant.
//
// A document's chunk set is replaced in one transaction that also appends a kb_events row;
// every process applies those events to its own indexes in order and a search first applies
// the ones it has not seen, so what is committed is searchable on every replica and a crash
// mid-indexing leaves nothing half-indexed. Search hits are hydrated from Postgres, so a
// chunk the indexes still hold after a deletion can never be returned.
package kb

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivertype"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/chunk"
	"github.com/voiceassist/gateway/internal/embed"
	"github.com/voiceassist/gateway/internal/extract"
	"github.com/voiceassist/gateway/internal/search"
	"github.com/voiceassist/gateway/internal/telemetry"
	"github.com/voiceassist/gateway/internal/vector"
)

// Config tunes the knowledge base. Zero values take the defaults noted.
type Config struct {
	// Dir holds the Bleve index (Dir/bleve). Required.
	Dir string
	// Chunk sizes chunks (chunk.Options defaults when zero).
	Chunk chunk.Options
	// Fusion is "rrf", "weighted" or "auto" (default): rrf for a semantic embedder, and for the
	// offline hashing embedder weighted fusion with vector weight OfflineVectorWeight, since
	// that lexical embedder's list only lowers RRF (docs/benchmarks.md).
	Fusion string
	// RRFK is the RRF constant (60).
	RRFK int
	// KeywordWeight and VectorWeight weight the two lists in fusion (1 and 1 when both 0).
	KeywordWeight, VectorWeight float64
	// Entities, if set, extracts the normalized entities of a chunk's text at indexing
	// (internal/ner through the app); nil leaves chunks without entities.
	Entities func(text string) []Entity
	// Workers is the number of indexing jobs this process runs at once; 0 runs none (an
	// insert-only client: another process indexes).
	Workers int
	// MaxAttempts of an indexing job (5).
	MaxAttempts int
	// JobTimeout bounds one indexing attempt (10 minutes); RescueAfter is how long a job may
	// stay running before another process takes it over, e.g. after a crash (JobTimeout plus
	// as much again, at most 5 minutes more). River's rescuer looks every 30 s.
	JobTimeout, RescueAfter time.Duration
	// RetryDelay is the first retry delay, doubled per attempt (2 s).
	RetryDelay time.Duration
	// MaxUploadBytes caps one document (25 MiB).
	MaxUploadBytes int64
	// Extract bounds reading a document, at upload and at indexing (extract's defaults).
	Extract extract.Limits
	// JobMiddleware wraps job inserts and runs (tracing).
	JobMiddleware []rivertype.Middleware
	// FillInBackground opens the index in New but fills it (the rebuild from PostgreSQL of a
	// fresh keyword index or of the in-process vector store, then the events it lacks) on a
	// goroutine; search, indexing and counts wait for it. A server sets it so that the
	// knowledge base never delays serving flags (issue 17); commands leave it off.
	FillInBackground bool
}

// OfflineVectorWeight is the vector weight of "auto" fusion with the offline embedder: the
// best held-out weight on the SciFact training split (nDCG@10 0.680 against 0.678 for BM25
// alone; RRF at any vector weight above 0 scored below BM25).
const OfflineVectorWeight = 0.1

func (c *Config) defaults(emb embed.Embedder) {
	if c.Fusion == "" || c.Fusion == FusionAuto {
		if _, offline := emb.(*embed.Hashing); offline {
			c.Fusion, c.KeywordWeight, c.VectorWeight = FusionWeighted, 1, OfflineVectorWeight
		} else {
			c.Fusion = FusionRRF
		}
	}
	if c.RRFK <= 0 {
		c.RRFK = search.DefaultRRFK
	}
	if c.KeywordWeight == 0 && c.VectorWeight == 0 {
		c.KeywordWeight, c.VectorWeight = 1, 1
	}
	if c.MaxAttempts <= 0 {
		c.MaxAttempts = 5
	}
	if c.JobTimeout <= 0 {
		c.JobTimeout = 10 * time.Minute
	}
	if c.RescueAfter <= c.JobTimeout {
		c.RescueAfter = c.JobTimeout + min(c.JobTimeout, 5*time.Minute)
	}
	if c.RetryDelay <= 0 {
		c.RetryDelay = 2 * time.Second
	}
	if c.MaxUploadBytes <= 0 {
		c.MaxUploadBytes = 25 << 20
	}
}

// Fusion methods.
const (
	FusionAuto     = "auto"
	FusionRRF      = "rrf"
	FusionWeighted = "weighted"
)

// Service is the knowledge base of one process.
type Service struct {
	cfg   Config
	pool  *pgxpool.Pool
	q     *db.Queries
	log   *slog.Logger
	emb   embed.Embedder
	qemb  embed.Embedder // queries; emb when not set
	vec   vector.Store
	index *search.Index
	river *river.Client[pgx.Tx]
	now   func() time.Time

	// applyMu serialises applying kb_events to the local indexes; applied is the last one.
	applyMu sync.Mutex
	applied int64
	// filled is closed once the index is filled (New, or its goroutine with
	// Config.FillInBackground); fillErr is why filling failed.
	filled  chan struct{}
	fillErr error

	onChange func(context.Context)
	quota    searchQuota         // per-user limit on POST /api/kb/search
	metrics  *telemetry.Business // nil: none
}

// SetMetrics counts indexing throughput and times search stages into b. Call before Start.
func (s *Service) SetMetrics(b *telemetry.Business) { s.metrics = b }

// CountByStatus is the number of documents and chunks by indexing status (metrics gauges).
func (s *Service) CountByStatus(ctx context.Context) ([]telemetry.KBCount, error) {
	rows, err := s.q.CountKbByStatus(ctx)
	out := make([]telemetry.KBCount, len(rows))
	for i, r := range rows {
		out[i] = telemetry.KBCount{Status: r.Status, Documents: r.Documents, Chunks: r.Chunks}
	}
	return out, err
}

// OnChange registers f to run after every committed change of searchable content (a document
// indexed or deleted), e.g. to invalidate cached search results. Call before Start.
func (s *Service) OnChange(f func(context.Context)) { s.onChange = f }

func (s *Service) changed(ctx context.Context) {
	if s.onChange != nil {
		s.onChange(context.WithoutCancel(ctx))
	}
}

// Option customises New.
type Option func(*Service)

// WithQueryEmbedder embeds search queries with e instead of the indexing embedder (a cached
// wrapper of the same model: documents are embedded once, queries repeat).
func WithQueryEmbedder(e embed.Embedder) Option { return func(s *Service) { s.qemb = e } }

// WithClock replaces time.Now.
func WithClock(now func() time.Time) Option { return func(s *Service) { s.now = now } }

// New opens the knowledge base: it opens (or rebuilds) the Bleve index, fills the vector
// store from Postgres when it is in process, and prepares the job client. Start runs the
// workers; Close stops them.
func New(ctx context.Context, pool *pgxpool.Pool, emb embed.Embedder, vec vector.Store, cfg Config, log *slog.Logger, opts ...Option) (*Service, error) {
	if cfg.Dir == "" {
		return nil, errors.New("kb: Dir is required")
	}
	cfg.defaults(emb)
	s := &Service{cfg: cfg, pool: pool, q: db.New(pool), log: log, emb: emb, vec: vec, now: time.Now}
	for _, o := range opts {
		o(s)
	}
	if s.qemb == nil {
		s.qemb = emb
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, &indexWorker{s: s})
	river.AddWorker(workers, &entitiesWorker{s: s})
	rc := &river.Config{
		Logger:               slog.New(quiet{log.Handler()}).With("component", "river"),
		MaxAttempts:          cfg.MaxAttempts,
		JobTimeout:           cfg.JobTimeout,
		RescueStuckJobsAfter: cfg.RescueAfter,
		Workers:              workers,
		Middleware:           cfg.JobMiddleware,
	}
	if cfg.Workers > 0 {
		rc.Queues = map[string]river.QueueConfig{queue: {MaxWorkers: cfg.Workers}}
		rc.FetchPollInterval = 500 * time.Millisecond
		// River's 100 ms default cooldown caps a producer at Workers jobs per 100 ms (about
		// 20 documents/s with 2 workers, CPU idle); 10 ms lifts that cap (docs/benchmarks.md).
		rc.FetchCooldown = 10 * time.Millisecond
	}
	rcl, err := river.NewClient(riverpgxv5.New(pool), rc)
	if err != nil {
		return nil, fmt.Errorf("kb: river client: %w", err)
	}
	s.river = rcl
	fill, err := s.openIndex(ctx)
	if err != nil {
		return nil, err
	}
	s.filled = make(chan struct{})
	if !cfg.FillInBackground {
		defer close(s.filled)
		if err := fill(ctx); err != nil {
			_ = s.index.Close()
			return nil, err
		}
		return s, nil
	}
	go func() {
		defer close(s.filled)
		start := time.Now()
		// Close waits for this, so it may outlive the caller's context but not the process.
		if s.fillErr = fill(context.WithoutCancel(ctx)); s.fillErr != nil {
			s.log.Error("kb: fill the search indexes (search and indexing fail until a restart)", "error", s.fillErr)
			return
		}
		s.log.Debug("kb: search indexes filled in the background", "took", time.Since(start))
	}()
	return s, nil
}

// IndexReady is the readiness probe of the search index: an error while it is being filled
// and, for good, when filling failed.
func (s *Service) IndexReady(context.Context) error {
	select {
	case <-s.filled:
		return s.fillErr
	default:
		return errors.New("kb: search index is being filled")
	}
}

// WaitFilled waits until the index is filled (at once unless Config.FillInBackground), and
// reports why filling failed.
func (s *Service) WaitFilled(ctx context.Context) error {
	select {
	case <-s.filled:
		return s.fillErr
	case <-ctx.Done():
		return fmt.Errorf("kb: search index still loading: %w", ctx.Err())
	}
}

// Start runs the indexing workers (when Config.Workers > 0) and queues a re-embedding of
// every document whose chunks another embedding model produced.
func (s *Service) Start(ctx context.Context) error {
	if s.cfg.Workers > 0 {
		if err := s.river.Start(ctx); err != nil {
			return fmt.Errorf("kb: start workers: %w", err)
		}
	}
	n, err := s.reembedStale(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		s.log.Info("kb: re-embedding documents of another embedding model", "documents", n, "model", s.emb.Model())
	}
	if n, err = s.queueEntities(ctx); err != nil {
		return err
	}
	if n > 0 {
		s.log.Info("kb: extracting the entities of documents indexed without them", "documents", n)
	}
	return nil
}

// Close stops the workers (letting running jobs finish until ctx ends) and closes the index.
func (s *Service) Close(ctx context.Context) error {
	var errs []error
	if s.cfg.Workers > 0 {
		if err := s.river.Stop(ctx); err != nil && !errors.Is(err, context.Canceled) {
			errs = append(errs, err)
		}
	}
	if s.index != nil {
		<-s.filled // a background fill writes to the index until it returns
		errs = append(errs, s.index.Close())
	}
	return errors.Join(errs...)
}

// QueryEmbedder is the embedder of queries (the indexing model, through the cache when set).
func (s *Service) QueryEmbedder() embed.Embedder { return s.qemb }

// EmbeddingModel names the model of the embeddings searched.
func (s *Service) EmbeddingModel() string { return s.emb.Model() }

// Ping checks the vector store when it is remote (Qdrant), for readiness.
func (s *Service) Ping(ctx context.Context) error {
	if p, ok := s.vec.(interface{ Ping(context.Context) error }); ok {
		return p.Ping(ctx)
	}
	return nil
}

func bleveDir(dir string) string { return filepath.Join(dir, "bleve") }

// removeIndexDir deletes an index directory that cannot be trusted (to rebuild it).
func removeIndexDir(dir string) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("kb: remove stale index: %w", err)
	}
	return nil
}

// quiet passes on River's warnings and errors only: its info and debug lines narrate every
// poll and batch.
type quiet struct{ slog.Handler }

func (q quiet) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && q.Handler.Enabled(ctx, l)
}

func (q quiet) WithAttrs(as []slog.Attr) slog.Handler { return quiet{q.Handler.WithAttrs(as)} }

func (q quiet) WithGroup(name string) slog.Handler { return quiet{q.Handler.WithGroup(name)} }
