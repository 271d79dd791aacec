// Package medai answers the /api/medical-ai operations on the pieces the gateway already has:
// the entity extractor (internal/ner), the configured embedder, the chat pipeline's retrieval
// and chat model, and the OpenAI-compatible client behind the PHI policy. It holds the
// limits and the per-user rate limit; handlers only translate.
package medai

import (
	"context"
	"fmt"
	"math"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/chat"
	"github.com/voiceassist/gateway/internal/embed"
	"github.com/voiceassist/gateway/internal/llm"
	"github.com/voiceassist/gateway/internal/ner"
	"github.com/voiceassist/gateway/internal/ratelimit"
)

// Input limits, in code points (the contract states the same).
const (
	MaxExtractChars = 50_000
	MaxEmbedChars   = 8_000
	MaxBatch        = 100
	MaxPromptChars  = 4_000
	MaxHops         = 5
)

// Providers as /models and /health name them.
const (
	ProviderOffline = "offline"
	ProviderOpenAI  = "openai"
)

// Config wires a Service.
type Config struct {
	Limiter   *ratelimit.Limiter // nil: no per-user limit
	PerMinute int

	NER         *ner.Extractor
	VocabSource string // "embedded" or the NER_VOCAB_DIR directory

	Embedder         embed.Embedder
	EmbedderProvider string // ProviderOffline or ProviderOpenAI

	// Retriever and Model are the chat pipeline's: reasoning retrieves and answers with them.
	Retriever chat.Retriever
	Model     chat.ChatModel

	// LLM is the OpenAI-compatible client for generate and the model-assisted extraction pass;
	// nil when no chat provider is configured (offline).
	LLM       *llm.Client
	ChatModel string
	// Outbound applies PHI_POLICY to text leaving for the provider; nil when the provider is
	// trusted. PHIPolicy names what applies ("trusted" when Outbound is nil).
	Outbound  func(string) (string, error)
	PHIPolicy string
	// ModelAssist lets the chat provider add entities (MEDICAL_AI_MODEL_ASSIST).
	ModelAssist bool
}

// Service answers the medical AI operations.
type Service struct{ cfg Config }

// New returns a Service.
func New(cfg Config) *Service {
	if cfg.VocabSource == "" {
		cfg.VocabSource = "embedded"
	}
	return &Service{cfg: cfg}
}

// Admit counts one request of user against RATE_LIMIT_MEDICAL_AI_PER_MINUTE.
func (s *Service) Admit(ctx context.Context, user uuid.UUID) error {
	if s.cfg.Limiter == nil {
		return nil
	}
	rule := ratelimit.Rule{Name: "medical_ai_user", Limit: s.cfg.PerMinute, Window: time.Minute}
	return s.cfg.Limiter.Check(ctx, rule, user.String(), true, "Too many medical AI requests; retry later")
}

// Embedding is one or more vectors and what produced them.
type Embedding struct {
	Vectors [][]float32
	Model   string
	Dim     int
}

// Embed embeds 1 to MaxBatch texts of at most MaxEmbedChars each.
func (s *Service) Embed(ctx context.Context, field string, texts []string) (Embedding, error) {
	if len(texts) == 0 || len(texts) > MaxBatch {
		return Embedding{}, apierr.Invalid(field, fmt.Sprintf("must hold 1 to %d texts", MaxBatch))
	}
	for i, t := range texts {
		if n := utf8.RuneCountInString(t); n == 0 || n > MaxEmbedChars {
			f := field
			if len(texts) > 1 || field == "texts" {
				f = fmt.Sprintf("%s[%d]", field, i)
			}
			return Embedding{}, apierr.Invalid(f, fmt.Sprintf("must be 1 to %d characters", MaxEmbedChars))
		}
	}
	vs, err := s.cfg.Embedder.Embed(ctx, texts)
	if err != nil {
		return Embedding{}, apierr.Unavailable("The embedding service is unavailable; retry later", err)
	}
	if len(vs) != len(texts) {
		return Embedding{}, fmt.Errorf("medai: embedder returned %d vectors for %d texts", len(vs), len(texts))
	}
	dim := s.cfg.Embedder.Dim()
	if len(vs) > 0 {
		dim = len(vs[0])
	}
	return Embedding{Vectors: vs, Model: s.cfg.Embedder.Model(), Dim: dim}, nil
}

// Similarity is the cosine similarity of two texts' embeddings.
func (s *Service) Similarity(ctx context.Context, a, b string) (float64, Embedding, error) {
	for f, t := range map[string]string{"text1": a, "text2": b} {
		if n := utf8.RuneCountInString(t); n == 0 || n > MaxEmbedChars {
			return 0, Embedding{}, apierr.Invalid(f, fmt.Sprintf("must be 1 to %d characters", MaxEmbedChars))
		}
	}
	e, err := s.Embed(ctx, "text1", []string{a, b})
	if err != nil {
		return 0, e, err
	}
	return cosine(e.Vectors[0], e.Vectors[1]), e, nil
}

// cosine does not assume unit vectors (an OpenAI-compatible server might not normalise), and
// is clamped to [-1, 1] against rounding.
func cosine(a, b []float32) float64 {
	var dot, na, nb float64
	for i := range min(len(a), len(b)) {
		dot += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return math.Max(-1, math.Min(1, dot/math.Sqrt(na*nb)))
}

// Model is one configured model, as /models reports it.
type Model struct {
	Kind, Provider, Name string
	Dim                  int // 0: not applicable
	Available            bool
}

// Models lists the embedder, the chat model and the extractor.
func (s *Service) Models() []Model {
	chatProvider := ProviderOffline
	if s.cfg.LLM != nil {
		chatProvider = ProviderOpenAI
	}
	chatName := "extractive"
	if s.cfg.Model != nil {
		chatName = s.cfg.Model.Name()
	}
	return []Model{
		{Kind: "embedding", Provider: s.cfg.EmbedderProvider, Name: s.cfg.Embedder.Model(), Dim: s.cfg.Embedder.Dim(), Available: true},
		{Kind: "chat", Provider: chatProvider, Name: chatName, Available: true},
		{Kind: "extractor", Provider: ProviderOffline, Name: "dictionary (" + s.cfg.VocabSource + ")", Available: s.cfg.NER != nil},
	}
}

// Health is what GET /api/medical-ai/health reports.
type Health struct {
	OK        bool
	Extractor bool
	Embedder  string
	Chat      string
}

// Health reports the local components; it calls no remote service.
func (s *Service) Health() Health {
	h := Health{Extractor: s.cfg.NER != nil, Embedder: s.cfg.EmbedderProvider, Chat: ProviderOffline}
	if s.cfg.LLM != nil {
		h.Chat = ProviderOpenAI
	}
	h.OK = h.Extractor && s.cfg.Embedder != nil
	return h
}
