package app

import (
	"context"
	"fmt"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/voiceassist/gateway/internal/chunk"
	"github.com/voiceassist/gateway/internal/config"
	"github.com/voiceassist/gateway/internal/embed"
	"github.com/voiceassist/gateway/internal/kb"
	"github.com/voiceassist/gateway/internal/vector"
)

// WithEmbedder replaces the configured embedder (tests inject failures with it).
func WithEmbedder(e embed.Embedder) Option { return func(a *App) { a.embedder = e } }

// WithKBRetryDelay shortens the first retry delay of indexing jobs (tests).
func WithKBRetryDelay(d time.Duration) Option { return func(a *App) { a.kbRetry = d } }

// newEmbedder is the OpenAI-compatible embedder when OPENAI_API_KEY or OPENAI_BASE_URL is set,
// else the offline hashing embedder. An OpenAI model of unknown size is asked once for a
// vector, since the vector store needs the dimension up front.
func newEmbedder(ctx context.Context, cfg *config.Config) (embed.Embedder, error) {
	if cfg.OpenAIAPIKey == "" && cfg.OpenAIBaseURL == "" {
		dim := cfg.EmbeddingDim
		if dim == 0 {
			dim = embed.DefaultDim
		}
		return embed.NewHashing(dim), nil
	}
	e, err := embed.NewOpenAI(embed.OpenAIConfig{APIKey: cfg.OpenAIAPIKey, BaseURL: cfg.OpenAIBaseURL,
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
// while Qdrant is down and /ready says so), else the in-process exact store.
func (a *App) newVectorStore(ctx context.Context, emb embed.Embedder) (vector.Store, error) {
	cfg := a.Config
	if cfg.QdrantHost == "" {
		return vector.NewExact(emb.Dim()), nil
	}
	name := "voiceassist_kb_" + strings.Trim(nonIdent.ReplaceAllString(strings.ToLower(emb.Model()), "_"), "_")
	q := vector.NewLazy(func(ctx context.Context) (vector.Store, error) {
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		return vector.NewQdrant(ctx, vector.QdrantConfig{Host: cfg.QdrantHost, Port: cfg.QdrantPort, APIKey: cfg.QdrantAPIKey,
			Collection: name, Dim: emb.Dim()})
	})
	a.closers = append(a.closers, func() { _ = q.Close() })
	return q, nil
}

// newKB opens the knowledge base of this process.
func (a *App) newKB(ctx context.Context) (*kb.Service, error) {
	cfg := a.Config
	emb := a.embedder
	if emb == nil {
		var err error
		if emb, err = newEmbedder(ctx, cfg); err != nil {
			return nil, err
		}
	}
	vec, err := a.newVectorStore(ctx, emb)
	if err != nil {
		return nil, err
	}
	return kb.New(ctx, a.Pool, emb, vec, kb.Config{
		Dir:            filepath.Join(cfg.DataDir, "kb"),
		Chunk:          chunk.Options{Size: cfg.KBChunkTokens, Overlap: cfg.KBChunkOverlap},
		Fusion:         cfg.KBFusion,
		RRFK:           cfg.KBRRFK,
		KeywordWeight:  cfg.KBKeywordWeight,
		VectorWeight:   cfg.KBVectorWeight,
		Workers:        cfg.KBIndexWorkers,
		MaxAttempts:    cfg.KBJobMaxAttempts,
		RetryDelay:     a.kbRetry,
		MaxUploadBytes: cfg.MaxUploadBytes,
	}, a.Log)
}
