package app

import (
	"context"
	"fmt"
	"time"

	"github.com/voiceassist/gateway/internal/cache"
	"github.com/voiceassist/gateway/internal/chat"
	"github.com/voiceassist/gateway/internal/config"
	"github.com/voiceassist/gateway/internal/kb"
	"github.com/voiceassist/gateway/internal/llm"
	"github.com/voiceassist/gateway/internal/phi"
)

// Cache namespaces.
const (
	nsSearch = "kb.search" // retrieval results of the chat pipeline; bumped on every KB change
	nsEmbed  = "embed"     // query embeddings, per model (embed.Cached)
)

// searchTTL bounds how long a retrieval result is reused (a KB change invalidates it sooner).
const searchTTL = 10 * time.Minute

// newChatModel is the OpenAI-compatible model or the offline extractive one.
func newChatModel(cfg *config.Config) (chat.ChatModel, error) {
	if !cfg.UseOpenAI(cfg.ChatProvider) {
		return chat.Extractive{}, nil
	}
	oc := chat.OpenAIConfig{Config: llm.Config{APIKey: cfg.OpenAIAPIKey, BaseURL: cfg.OpenAIBaseURL}, Model: cfg.OpenAIChatModel}
	if !cfg.ProvidersTrusted { // an external endpoint: PHI_POLICY applies
		oc.Outbound = phi.NewGuard(cfg.PHIPolicy).Outbound
	}
	m, err := chat.NewOpenAI(oc)
	if err != nil {
		return nil, fmt.Errorf("app: chat model: %w", err)
	}
	return m, nil
}

// newRetriever is the chat pipeline's retrieval: hybrid search through the cache, keyword
// search when the vector side fails.
func newRetriever(k *kb.Service, c *cache.Cache) chat.Retriever {
	return chat.FallbackRetriever{
		Primary:  kbSearch{kb: k, mode: kb.ModeHybrid},
		Fallback: kbSearch{kb: k, mode: kb.ModeKeyword},
		Cache:    c, Namespace: nsSearch, TTL: searchTTL,
	}
}

// kbSearch adapts one knowledge-base search mode to the chat pipeline.
type kbSearch struct {
	kb   *kb.Service
	mode string // kb.ModeHybrid, kb.ModeKeyword
}

func (s kbSearch) Retrieve(ctx context.Context, query string, k int) ([]chat.Passage, error) {
	res, err := s.kb.Search(ctx, kb.Query{Text: query, TopK: k, Mode: s.mode})
	if err != nil {
		return nil, err
	}
	return passages(res), nil
}

func passages(res kb.Result) []chat.Passage {
	ps := make([]chat.Passage, len(res.Hits))
	for i, h := range res.Hits {
		ps[i] = chat.Passage{ChunkID: h.ChunkID.String(), DocumentID: h.Citation.DocumentID.String(), Title: h.Citation.Title,
			Heading: h.Citation.Heading, Page: h.Citation.Page, Text: h.Text, Score: h.Score, Entities: chatEntities(h.Entities)}
	}
	return ps
}

// embedTTL bounds how long a query embedding is reused (it only changes with the model, which
// is in the key).
const embedTTL = 24 * time.Hour

// chatEntities carries a chunk's entities into the citation wire form.
func chatEntities(es []kb.Entity) []chat.Entity {
	if len(es) == 0 {
		return nil
	}
	out := make([]chat.Entity, len(es))
	for i, e := range es {
		out[i] = chat.Entity{Vocabulary: e.Vocabulary, ID: e.ID, Name: e.Name, Type: e.Type, Negated: e.Negated}
	}
	return out
}
