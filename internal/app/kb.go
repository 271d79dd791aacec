package app

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river/rivertype"

	"github.com/voiceassist/gateway/internal/cache"
	"github.com/voiceassist/gateway/internal/chunk"
	"github.com/voiceassist/gateway/internal/config"
	"github.com/voiceassist/gateway/internal/embed"
	"github.com/voiceassist/gateway/internal/extract"
	"github.com/voiceassist/gateway/internal/kb"
	"github.com/voiceassist/gateway/internal/llm"
	"github.com/voiceassist/gateway/internal/ner"
	"github.com/voiceassist/gateway/internal/telemetry"
	"github.com/voiceassist/gateway/internal/vector"
)

// WithEmbedder replaces the configured embedder (tests inject failures with it).
func WithEmbedder(e embed.Embedder) Option { return func(a *App) { a.embedder = e } }

// WithKBRetryDelay shortens the first retry delay of indexing jobs (tests).
func WithKBRetryDelay(d time.Duration) Option { return func(a *App) { a.kbRetry = d } }

// KB is a knowledge base opened outside the server (CLI commands, benchmarks): the service
// plus the vector store connection it does not own. Close closes both.
type KB struct {
	*kb.Service
	closeVec func()
}

// Close stops the indexing workers (letting running jobs finish until ctx ends), closes the
// keyword index and then the vector store connection.
func (k *KB) Close(ctx context.Context) error {
	err := k.Service.Close(ctx)
	k.closeVec()
	return err
}

// OpenKB opens the knowledge base of cfg on pool without the HTTP server, exactly as the
// server does: the configured embedder (OpenAI-compatible when OPENAI_API_KEY or
// OPENAI_BASE_URL is set, else the offline hashing embedder), vector store (Qdrant when
// QDRANT_HOST is set, else the in-process exact store), chunking and fusion settings, and
// the keyword index in cfg.DataDir/kb. workers indexing jobs run at once after Start; 0
// opens an insert-only client whose jobs another process runs.
//
// The keyword index directory is locked by the process that has it open: a command that
// may run next to a server sharing DATA_DIR must pass a cfg copy with a private DataDir
// (the index is rebuilt there from PostgreSQL).
func OpenKB(ctx context.Context, cfg *config.Config, pool *pgxpool.Pool, log *slog.Logger, workers int) (*KB, error) {
	s, closeVec, err := openKB(ctx, cfg, pool, log, kbDeps{workers: workers})
	if err != nil {
		return nil, err
	}
	return &KB{Service: s, closeVec: closeVec}, nil
}

// OpenKBService is OpenKB with the service and its Close apart (kbeval.Options.Open).
func OpenKBService(ctx context.Context, cfg *config.Config, pool *pgxpool.Pool, log *slog.Logger, workers int) (*kb.Service, func(context.Context) error, error) {
	k, err := OpenKB(ctx, cfg, pool, log, workers)
	if err != nil {
		return nil, nil, err
	}
	return k.Service, k.Close, nil
}

// kbDeps are what the App may replace in the configured knowledge base (tests).
type kbDeps struct {
	workers  int
	embedder embed.Embedder // nil: the configured one
	retry    time.Duration  // 0: the kb default
	// queryCache, when set, caches query embeddings (the server's L1+L2 cache).
	queryCache *cache.Cache
	// extractor finds chunk entities; nil loads it from the configuration.
	extractor *ner.Extractor
	// jobMiddleware wraps indexing jobs (the server's tracing).
	jobMiddleware []rivertype.Middleware
	// fillInBackground: see kb.Config.FillInBackground.
	fillInBackground bool
}

// openKB builds the knowledge base: the one code path of the server and the CLI. The
// returned func closes the vector store; it is also called here when opening fails.
func openKB(ctx context.Context, cfg *config.Config, pool *pgxpool.Pool, log *slog.Logger, d kbDeps) (*kb.Service, func(), error) {
	emb := d.embedder
	if emb == nil {
		var err error
		if emb, err = newEmbedder(ctx, cfg); err != nil {
			return nil, nil, err
		}
	}
	x := d.extractor
	if x == nil {
		var err error
		if x, err = newExtractor(cfg); err != nil {
			return nil, nil, err
		}
	}
	vec, closeVec := newVectorStore(cfg, emb)
	var opts []kb.Option
	if d.queryCache != nil {
		opts = append(opts, kb.WithQueryEmbedder(embed.Cached{Embedder: emb, Cache: d.queryCache, Namespace: nsEmbed, TTL: embedTTL}))
	}
	s, err := kb.New(ctx, pool, emb, vec, kb.Config{
		Dir:            filepath.Join(cfg.DataDir, "kb"),
		Chunk:          chunk.Options{Size: cfg.KBChunkTokens, Overlap: cfg.KBChunkOverlap},
		Fusion:         cfg.KBFusion,
		RRFK:           cfg.KBRRFK,
		KeywordWeight:  cfg.KBKeywordWeight,
		VectorWeight:   cfg.KBVectorWeight,
		Workers:        d.workers,
		MaxAttempts:    cfg.KBJobMaxAttempts,
		JobTimeout:     cfg.KBJobTimeout,
		RetryDelay:     d.retry,
		MaxUploadBytes: cfg.MaxUploadBytes,
		// At most half the job's time: a slow document then fails as such (permanently)
		// instead of timing the whole attempt out (which is retried).
		Extract: extract.Limits{MaxBytes: cfg.KBExtractMaxBytes, MaxStreamBytes: cfg.KBExtractMaxStreamBytes,
			Timeout: min(cfg.KBExtractTimeout, cfg.KBJobTimeout/2)},
		JobMiddleware: d.jobMiddleware,
		// The server and the worker fill the index after start-up; commands before they run.
		FillInBackground: d.fillInBackground,
		Entities:         kbEntities(x),
	}, log, opts...)
	if err != nil {
		closeVec()
		return nil, nil, err
	}
	return s, closeVec, nil
}

// newEmbedder is the OpenAI-compatible embedder when EMBEDDING_PROVIDER selects it (by default
// when OPENAI_API_KEY or OPENAI_BASE_URL is set), else the offline hashing embedder. An OpenAI model of unknown size is asked once for a
// vector, since the vector store needs the dimension up front.
func newEmbedder(ctx context.Context, cfg *config.Config) (embed.Embedder, error) {
	if !cfg.UseOpenAI(cfg.EmbeddingProvider) {
		dim := cfg.EmbeddingDim
		if dim == 0 {
			dim = embed.DefaultDim
		}
		return embed.NewHashing(dim), nil
	}
	e, err := embed.NewOpenAI(embed.OpenAIConfig{Config: llm.Config{APIKey: cfg.OpenAIAPIKey, BaseURL: cfg.OpenAIBaseURL},
		Model: cfg.OpenAIEmbeddingModel, Dimensions: cfg.EmbeddingDim})
	if err != nil {
		return nil, fmt.Errorf("app: embedder: %w", err)
	}
	if e.Dim() == 0 {
		pctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if _, err := e.Embed(pctx, []string{"dimension probe"}); err != nil {
			return nil, fmt.Errorf("app: embedder %s: learn its dimension (or set EMBEDDING_DIM): %w", e.Model(), err)
		}
	}
	return e, nil
}

var nonIdent = regexp.MustCompile(`[^a-z0-9_]+`)

// newVectorStore is Qdrant when QDRANT_HOST is set (one collection per embedding model, so a
// model change re-embeds into a new collection; connected on first use, so the gateway starts
// while Qdrant is down and /ready says so), else the in-process exact store. The func closes
// the store.
func newVectorStore(cfg *config.Config, emb embed.Embedder) (vector.Store, func()) {
	if cfg.QdrantHost == "" {
		return vector.NewExact(emb.Dim()), func() {}
	}
	name := "voiceassist_kb_" + strings.Trim(nonIdent.ReplaceAllString(strings.ToLower(emb.Model()), "_"), "_")
	q := vector.NewLazy(func(ctx context.Context) (vector.Store, error) {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return vector.NewQdrant(ctx, vector.QdrantConfig{Host: cfg.QdrantHost, Port: cfg.QdrantPort, APIKey: cfg.QdrantAPIKey,
			Collection: name, Dim: emb.Dim()})
	})
	return q, func() { _ = q.Close() }
}

// newKB opens the knowledge base of this process.
func (a *App) newKB(ctx context.Context) (*kb.Service, error) {
	s, closeVec, err := openKB(ctx, a.Config, a.Pool, a.Log, kbDeps{
		workers: a.indexWorkers(), embedder: a.embedder, retry: a.kbRetry, queryCache: a.Cache, extractor: a.extractor,
		jobMiddleware:    []rivertype.Middleware{telemetry.NewJobMiddleware(a.Tracing)},
		fillInBackground: true, // never delays serving flags (issue 17)
	})
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, closeVec) // after kb.Close, which app.New registers next
	return s, nil
}
