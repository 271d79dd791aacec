package handlers

import (
	"context"
	"strings"

	"github.com/google/uuid"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/chat"
	"github.com/voiceassist/gateway/internal/kb"
	"github.com/voiceassist/gateway/internal/medai"
)

func (s *Server) ExtractMedicalEntities(ctx context.Context, r api.ExtractMedicalEntitiesRequestObject) (api.ExtractMedicalEntitiesResponseObject, error) {
	if err := s.MedAI.Admit(ctx, owner(ctx)); err != nil {
		return nil, err
	}
	b := r.Body
	o := medai.ExtractOptions{DetectNegation: b.DetectNegation == nil || *b.DetectNegation,
		Types: mapAll(valueOf(b.Types), func(t api.MedicalEntityType) string { return string(t) })}
	if b.MinConfidence != nil {
		o.MinConfidence = float64(*b.MinConfidence)
	}
	x, err := s.MedAI.Extract(ctx, b.Text, o)
	if err != nil {
		return nil, err
	}
	out := api.EntityExtraction{Entities: make([]api.MedicalEntity, len(x.Entities)), TookMs: float32(x.Took.Microseconds()) / 1000,
		Extractor: api.ExtractorInfo{Name: "dictionary", Vocabularies: x.Vocabulary, ModelAssist: x.ModelAssist, Model: nonEmpty(x.Model)}}
	for i, e := range x.Entities {
		m := api.MedicalEntity{Text: e.Text, Type: api.MedicalEntityType(e.Type), Start: e.Start, End: e.End,
			Negated: e.Negated, Uncertain: e.Uncertain, Historical: e.Historical, Family: e.Family,
			Confidence: float32(e.Confidence), Source: api.MedicalEntitySource(e.Source)}
		if n := e.Normalized; n != nil {
			m.Normalized = &api.NormalizedConcept{Vocabulary: n.Vocabulary, Id: n.ID, Name: n.Name}
		}
		out.Entities[i] = m
	}
	return api.ExtractMedicalEntities200JSONResponse{Success: true, Data: out, Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) EmbedMedicalText(ctx context.Context, r api.EmbedMedicalTextRequestObject) (api.EmbedMedicalTextResponseObject, error) {
	if err := s.MedAI.Admit(ctx, owner(ctx)); err != nil {
		return nil, err
	}
	e, err := s.MedAI.Embed(ctx, "text", []string{r.Body.Text})
	if err != nil {
		return nil, err
	}
	out := api.Embedding{Embedding: e.Vectors[0], Model: e.Model, Dimensions: e.Dim, TextLength: len([]rune(r.Body.Text))}
	return api.EmbedMedicalText200JSONResponse{Success: true, Data: out, Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) EmbedMedicalTexts(ctx context.Context, r api.EmbedMedicalTextsRequestObject) (api.EmbedMedicalTextsResponseObject, error) {
	if err := s.MedAI.Admit(ctx, owner(ctx)); err != nil {
		return nil, err
	}
	e, err := s.MedAI.Embed(ctx, "texts", r.Body.Texts)
	if err != nil {
		return nil, err
	}
	out := api.EmbeddingBatch{Embeddings: e.Vectors, Model: e.Model, Dimensions: e.Dim}
	return api.EmbedMedicalTexts200JSONResponse{Success: true, Data: out, Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) MedicalTextSimilarity(ctx context.Context, r api.MedicalTextSimilarityRequestObject) (api.MedicalTextSimilarityResponseObject, error) {
	if err := s.MedAI.Admit(ctx, owner(ctx)); err != nil {
		return nil, err
	}
	sim, e, err := s.MedAI.Similarity(ctx, r.Body.Text1, r.Body.Text2)
	if err != nil {
		return nil, err
	}
	out := api.Similarity{Similarity: float32(sim), Model: e.Model, Dimensions: e.Dim}
	return api.MedicalTextSimilarity200JSONResponse{Success: true, Data: out, Metadata: meta(ctx), Timestamp: now()}, nil
}

// SearchMedicalKnowledge is /api/kb/search in hybrid mode with weighted fusion, alpha the
// vector weight.
func (s *Server) SearchMedicalKnowledge(ctx context.Context, r api.SearchMedicalKnowledgeRequestObject) (api.SearchMedicalKnowledgeResponseObject, error) {
	b := r.Body
	if strings.TrimSpace(b.Query) == "" {
		return nil, apierr.Invalid("query", "must contain a word")
	}
	if err := s.MedAI.Admit(ctx, owner(ctx)); err != nil {
		return nil, err
	}
	alpha := 0.5
	if b.Alpha != nil {
		alpha = float64(*b.Alpha)
	}
	q := kb.Query{Text: b.Query, Mode: kb.ModeHybrid, Fusion: kb.FusionWeighted, Weights: &[2]float64{1 - alpha, alpha}}
	if b.TopK != nil {
		q.TopK = *b.TopK
	}
	if f := b.Filters; f != nil {
		q.DocumentID = f.DocumentId
		q.Tags = tagsOf(valueOf(f.Tags))
		q.EntityID = valueOf(f.EntityId)
	}
	out, err := s.kbSearch(ctx, q)
	if err != nil {
		return nil, err
	}
	return api.SearchMedicalKnowledge200JSONResponse{Success: true, Data: out, Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) ReasonOverKnowledge(ctx context.Context, r api.ReasonOverKnowledgeRequestObject) (api.ReasonOverKnowledgeResponseObject, error) {
	if err := s.MedAI.Admit(ctx, owner(ctx)); err != nil {
		return nil, err
	}
	b := r.Body
	res, err := s.MedAI.Reason(ctx, b.Query, valueOf(b.MaxHops), string(valueOf(b.Strategy)))
	if err != nil {
		return nil, err
	}
	out := api.Reasoning{Query: res.Query, Strategy: api.ReasoningStrategy(res.Strategy), FinalAnswer: res.Final,
		Citations: chatCitations(res.Citations), Confidence: float32(res.Confidence), Model: res.Model,
		Steps: make([]api.ReasoningStep, len(res.Steps))}
	for i, st := range res.Steps {
		out.Steps[i] = api.ReasoningStep{Step: i + 1, SubQuestion: st.SubQuestion, Evidence: chatCitations(st.Evidence),
			IntermediateAnswer: st.Answer, Confidence: float32(st.Confidence)}
	}
	return api.ReasonOverKnowledge200JSONResponse{Success: true, Data: out, Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) GenerateMedicalText(ctx context.Context, r api.GenerateMedicalTextRequestObject) (api.GenerateMedicalTextResponseObject, error) {
	if err := s.MedAI.Admit(ctx, owner(ctx)); err != nil {
		return nil, err
	}
	b := r.Body
	o := medai.GenerateOptions{MaxTokens: valueOf(b.MaxTokens)}
	if b.Temperature != nil {
		t := float64(*b.Temperature)
		o.Temperature = &t
	}
	g, err := s.MedAI.Generate(ctx, b.Prompt, o)
	if err != nil {
		return nil, err
	}
	out := api.Generation{Text: g.Text, Model: g.Model, PhiPolicy: api.GenerationPhiPolicy(g.PHIPolicy), Redacted: g.Redacted}
	return api.GenerateMedicalText200JSONResponse{Success: true, Data: out, Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) ListMedicalModels(ctx context.Context, _ api.ListMedicalModelsRequestObject) (api.ListMedicalModelsResponseObject, error) {
	if err := s.MedAI.Admit(ctx, owner(ctx)); err != nil {
		return nil, err
	}
	out := api.MedicalModels{Models: mapAll(s.MedAI.Models(), func(m medai.Model) api.MedicalModel {
		mm := api.MedicalModel{Kind: api.MedicalModelKind(m.Kind), Provider: m.Provider, Name: m.Name, Available: m.Available}
		if m.Dim > 0 {
			d := m.Dim
			mm.Dimensions = &d
		}
		return mm
	})}
	return api.ListMedicalModels200JSONResponse{Success: true, Data: out, Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) GetMedicalAIHealth(ctx context.Context, _ api.GetMedicalAIHealthRequestObject) (api.GetMedicalAIHealthResponseObject, error) {
	h := s.MedAI.Health()
	out := api.MedicalAIHealth{Status: api.MedicalAIOk, Extractor: h.Extractor, Embedder: h.Embedder, Chat: h.Chat}
	if !h.OK {
		out.Status = api.MedicalAIDegraded
	}
	return api.GetMedicalAIHealth200JSONResponse{Success: true, Data: out, Metadata: meta(ctx), Timestamp: now()}, nil
}

// chatCitation is the shared citation wire form (chat, relay, voice, reasoning).
func chatCitation(c chat.CitationJSON) api.ChatCitation {
	doc, _ := uuid.Parse(c.DocumentID)
	chunk, _ := uuid.Parse(c.ChunkID)
	out := api.ChatCitation{N: c.N, DocumentId: doc, ChunkId: chunk, Title: c.Title, Heading: c.Heading, Page: c.Page, Snippet: c.Snippet}
	if len(c.Entities) > 0 {
		es := mapAll(c.Entities, func(e chat.Entity) api.CitationEntity {
			return citationEntity(e.Vocabulary, e.ID, e.Name, e.Type, e.Negated)
		})
		out.Entities = &es
	}
	return out
}

func chatCitations(cs []chat.Citation) []api.ChatCitation {
	out := make([]api.ChatCitation, len(cs))
	for i, c := range cs {
		out[i] = chatCitation(c.JSON())
	}
	return out
}

func kbEntities(es []kb.Entity) *[]api.CitationEntity {
	if len(es) == 0 {
		return nil
	}
	out := mapAll(es, func(e kb.Entity) api.CitationEntity {
		return citationEntity(e.Vocabulary, e.ID, e.Name, e.Type, e.Negated)
	})
	return &out
}

func citationEntity(vocab, id, name, typ string, negated bool) api.CitationEntity {
	out := api.CitationEntity{Vocabulary: vocab, Id: id, Name: name, Type: api.MedicalEntityType(typ)}
	if negated {
		out.Negated = &negated
	}
	return out
}
