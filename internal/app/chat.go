package app

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/voiceassist/gateway/internal/cache"
	"github.com/voiceassist/gateway/internal/chat"
	"github.com/voiceassist/gateway/internal/config"
	"github.com/voiceassist/gateway/internal/embed"
	"github.com/voiceassist/gateway/internal/kb"
)

// Cache namespaces.
const (
	nsSearch = "kb.search" // retrieval results of the chat pipeline; bumped on every KB change
	nsEmbed  = "embed"     // query embeddings, per model
)

// searchTTL bounds how long a retrieval result is reused (a KB change invalidates it sooner).
const searchTTL = 10 * time.Minute

// newChatModel is the OpenAI-compatible model or the offline extractive one.
func newChatModel(cfg *config.Config) (chat.ChatModel, error) {
	if !cfg.UseOpenAI(cfg.ChatProvider) {
		return chat.Extractive{}, nil
	}
	m, err := chat.NewOpenAI(chat.OpenAIConfig{APIKey: cfg.OpenAIAPIKey, BaseURL: cfg.OpenAIBaseURL, Model: cfg.OpenAIChatModel})
	if err != nil {
		return nil, fmt.Errorf("app: chat model: %w", err)
	}
	return m, nil
}

// kbRetriever serves the chat pipeline from the knowledge base's hybrid search, through the
// cache.
type kbRetriever struct {
	kb    *kb.Service
	cache *cache.Cache
}

func (r kbRetriever) Retrieve(ctx context.Context, query string, k int) ([]chat.Passage, error) {
	key := strconv.Itoa(k) + ":" + query
	if ps, ok := cache.GetJSON[[]chat.Passage](ctx, r.cache, nsSearch, key); ok {
		return ps, nil
	}
	res, err := r.kb.Search(ctx, kb.Query{Text: query, TopK: k, Mode: kb.ModeHybrid})
	if err != nil && ctx.Err() == nil {
		// Without the vector store (Qdrant down, embedding provider failing) answer from
		// keyword search rather than not at all; not cached, so recovery is seen at once.
		if res, err = r.kb.Search(ctx, kb.Query{Text: query, TopK: k, Mode: kb.ModeKeyword}); err == nil {
			return passages(res), nil
		}
	}
	if err != nil {
		return nil, err
	}
	ps := passages(res)
	_ = cache.SetJSON(ctx, r.cache, nsSearch, key, ps, searchTTL)
	return ps, nil
}

func passages(res kb.Result) []chat.Passage {
	ps := make([]chat.Passage, len(res.Hits))
	for i, h := range res.Hits {
		ps[i] = chat.Passage{ChunkID: h.ChunkID.String(), DocumentID: h.Citation.DocumentID.String(), Title: h.Citation.Title,
			Heading: h.Citation.Heading, Page: h.Citation.Page, Text: h.Text, Score: h.Score}
	}
	return ps
}

// embedTTL bounds how long a query embedding is reused (it only changes with the model, which
// is part of the key).
const embedTTL = 24 * time.Hour

// cachedEmbedder caches single-text embeddings (search queries) in the cache; batches (document
// indexing) go straight to the model.
type cachedEmbedder struct {
	embed.Embedder
	cache *cache.Cache
}

func (e cachedEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if len(texts) != 1 {
		return e.Embedder.Embed(ctx, texts)
	}
	key := e.Model() + ":" + texts[0]
	if v, ok := cache.GetJSON[[]float32](ctx, e.cache, nsEmbed, key); ok && len(v) > 0 {
		return [][]float32{v}, nil
	}
	vs, err := e.Embedder.Embed(ctx, texts)
	if err == nil && len(vs) == 1 {
		_ = cache.SetJSON(ctx, e.cache, nsEmbed, key, vs[0], embedTTL)
	}
	return vs, err
}
