package app

import (
	"fmt"

	"github.com/voiceassist/gateway/internal/chat"
	"github.com/voiceassist/gateway/internal/config"
	"github.com/voiceassist/gateway/internal/kb"
	"github.com/voiceassist/gateway/internal/llm"
	"github.com/voiceassist/gateway/internal/medai"
	"github.com/voiceassist/gateway/internal/ner"
	"github.com/voiceassist/gateway/internal/phi"
	"github.com/voiceassist/gateway/internal/ratelimit"
)

// newExtractor is the entity extractor: the embedded vocabularies (built on first use), or
// NER_VOCAB_DIR's files in their place (built now, so a misconfigured directory stops the start).
func newExtractor(cfg *config.Config) (*ner.Extractor, error) {
	if cfg.NERVocabDir == "" {
		return ner.Deferred(), nil // built on first use: start-up does not wait for it
	}
	x, err := ner.Load(cfg.NERVocabDir)
	if err != nil {
		return nil, fmt.Errorf("app: entity extractor (NER_VOCAB_DIR=%s): %w", cfg.NERVocabDir, err)
	}
	return x, nil
}

// kbEntities adapts the extractor to knowledge-base chunks: normalized mentions only, negation
// on, the extractor's default cut-off.
func kbEntities(x *ner.Extractor) func(string) []kb.Entity {
	return func(text string) []kb.Entity {
		var out []kb.Entity
		for _, e := range x.Extract(text, ner.Options{DetectNegation: true}) {
			if n := e.Normalized; n != nil {
				out = append(out, kb.Entity{Vocabulary: n.Vocabulary, ID: n.ID, Name: n.Name, Type: string(e.Type), Negated: e.Negated})
			}
		}
		return out
	}
}

// newMedAI builds the /api/medical-ai service on the chat pipeline's retrieval and model.
func newMedAI(cfg *config.Config, limiter *ratelimit.Limiter, x *ner.Extractor, k *kb.Service, r chat.Retriever, model chat.ChatModel) *medai.Service {
	c := medai.Config{
		Limiter: limiter, PerMinute: cfg.MedicalAIPerMinute,
		NER: x, VocabSource: vocabSource(cfg),
		Embedder: k.QueryEmbedder(), EmbedderProvider: medai.ProviderOffline,
		Retriever: r, Model: model,
		ModelAssist: cfg.MedicalAIModelAssist,
	}
	if cfg.UseOpenAI(cfg.EmbeddingProvider) {
		c.EmbedderProvider = medai.ProviderOpenAI
	}
	if cfg.UseOpenAI(cfg.ChatProvider) {
		c.LLM = llm.New(llm.Config{APIKey: cfg.OpenAIAPIKey, BaseURL: cfg.OpenAIBaseURL})
		c.ChatModel = cfg.OpenAIChatModel
		if !cfg.ProvidersTrusted { // an external endpoint: PHI_POLICY applies
			c.Outbound = phi.NewGuard(cfg.PHIPolicy).Outbound
			c.PHIPolicy = cfg.PHIPolicy
		}
	}
	return medai.New(c)
}

// vocabSource names where the extractor's data came from without revealing a server path.
func vocabSource(cfg *config.Config) string {
	if cfg.NERVocabDir != "" {
		return "NER_VOCAB_DIR"
	}
	return "embedded"
}
