package tests

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/llm/llmtest"
)

// Written for these tests: a unicode prefix checks that spans are code points.
const medNote = "Pätiënt — The patient has type 2 diabetes and takes Glucophage 500 mg. No evidence of pneumonia. " +
	"Her mother had breast cancer. Possible myocardial infarction."

func entityByText(es []client.MedicalEntity, text string) *client.MedicalEntity {
	for i := range es {
		if es[i].Text == text {
			return &es[i]
		}
	}
	return nil
}

func TestMedicalAIExtractEntities(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	tok := s.token(t, s.account(t, auth.RoleUser))
	ctx := context.Background()

	res, err := s.Client.ExtractMedicalEntitiesWithResponse(ctx, client.EntityExtractionInput{Text: medNote}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)
	d := res.JSON200.Data
	require.Equal(t, "dictionary", d.Extractor.Name)
	require.Equal(t, "embedded", d.Extractor.Vocabularies)
	require.False(t, d.Extractor.ModelAssist, "off by default")
	runes := []rune(medNote)
	for _, e := range d.Entities {
		require.Equal(t, e.Text, string(runes[e.Start:e.End]), "spans are code points")
		require.Equal(t, client.Dictionary, e.Source)
	}

	// Normalization: a brand name to its generic, a disease to its Disease Ontology id.
	drug := entityByText(d.Entities, "Glucophage")
	require.NotNil(t, drug, "%s", res.Body)
	require.Equal(t, client.MedicalEntityType("drug"), drug.Type)
	require.Equal(t, "fda", drug.Normalized.Vocabulary)
	require.True(t, strings.HasPrefix(drug.Normalized.Id, "metformin"), drug.Normalized.Id)
	dm := entityByText(d.Entities, "type 2 diabetes")
	require.NotNil(t, dm)
	require.Equal(t, "DOID:9352", dm.Normalized.Id)
	require.False(t, dm.Negated)

	// Context: negation, family history, uncertainty.
	require.True(t, entityByText(d.Entities, "pneumonia").Negated)
	require.True(t, entityByText(d.Entities, "breast cancer").Family)
	require.True(t, entityByText(d.Entities, "myocardial infarction").Uncertain)

	// detect_negation=false leaves every context flag false; types filters.
	off := false
	plain, err := s.Client.ExtractMedicalEntitiesWithResponse(ctx, client.EntityExtractionInput{Text: medNote, DetectNegation: &off,
		Types: &[]client.MedicalEntityType{"disease"}}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, plain.StatusCode(), "%s", plain.Body)
	require.NotEmpty(t, plain.JSON200.Data.Entities)
	for _, e := range plain.JSON200.Data.Entities {
		require.Equal(t, client.MedicalEntityType("disease"), e.Type)
		require.False(t, e.Negated || e.Uncertain || e.Family || e.Historical, "%+v", e)
	}

	// min_confidence drops what is below it.
	hi := float32(0.9)
	strict, err := s.Client.ExtractMedicalEntitiesWithResponse(ctx, client.EntityExtractionInput{Text: medNote, MinConfidence: &hi}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, strict.StatusCode(), "%s", strict.Body)
	require.Less(t, len(strict.JSON200.Data.Entities), len(d.Entities))
	for _, e := range strict.JSON200.Data.Entities {
		require.GreaterOrEqual(t, e.Confidence, hi)
	}
}

func TestMedicalAILimitsAndAuth(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	tok := s.token(t, s.account(t, auth.RoleUser))
	ctx := context.Background()
	status := func(res interface{ StatusCode() int }, err error) int {
		require.NoError(t, err)
		return res.StatusCode()
	}
	long := strings.Repeat("a", 50_001)
	require.Equal(t, 422, status(s.Client.ExtractMedicalEntitiesWithResponse(ctx, client.EntityExtractionInput{Text: long}, bearerAuth(tok))))
	require.Equal(t, 422, status(s.Client.ExtractMedicalEntitiesWithResponse(ctx, client.EntityExtractionInput{Text: ""}, bearerAuth(tok))))
	require.Equal(t, 422, status(s.Client.ExtractMedicalEntitiesWithResponse(ctx, client.EntityExtractionInput{Text: "x", Types: &[]client.MedicalEntityType{"gene"}}, bearerAuth(tok))))
	tooSure := float32(1.5)
	require.Equal(t, 422, status(s.Client.ExtractMedicalEntitiesWithResponse(ctx, client.EntityExtractionInput{Text: "x", MinConfidence: &tooSure}, bearerAuth(tok))))
	require.Equal(t, 422, status(s.Client.EmbedMedicalTextWithResponse(ctx, client.EmbedInput{Text: strings.Repeat("b", 8001)}, bearerAuth(tok))))
	require.Equal(t, 422, status(s.Client.EmbedMedicalTextsWithResponse(ctx, client.EmbedBatchInput{Texts: []string{}}, bearerAuth(tok))))
	require.Equal(t, 422, status(s.Client.EmbedMedicalTextsWithResponse(ctx, client.EmbedBatchInput{Texts: make([]string, 101)}, bearerAuth(tok))))
	require.Equal(t, 422, status(s.Client.MedicalTextSimilarityWithResponse(ctx, client.SimilarityInput{Text1: "a", Text2: ""}, bearerAuth(tok))))
	require.Equal(t, 422, status(s.Client.SearchMedicalKnowledgeWithResponse(ctx, client.MedicalSearchInput{Query: "x", TopK: ptr(101)}, bearerAuth(tok))))
	alpha := float32(1.1)
	require.Equal(t, 422, status(s.Client.SearchMedicalKnowledgeWithResponse(ctx, client.MedicalSearchInput{Query: "x", Alpha: &alpha}, bearerAuth(tok))))
	require.Equal(t, 422, status(s.Client.SearchMedicalKnowledgeWithResponse(ctx, client.MedicalSearchInput{Query: "   "}, bearerAuth(tok))))
	require.Equal(t, 422, status(s.Client.ReasonOverKnowledgeWithResponse(ctx, client.ReasonInput{Query: "why"}, bearerAuth(tok))))
	require.Equal(t, 422, status(s.Client.ReasonOverKnowledgeWithResponse(ctx, client.ReasonInput{Query: "why is that so", MaxHops: ptr(6)}, bearerAuth(tok))))
	bad := client.ReasoningStrategy("deductive")
	require.Equal(t, 422, status(s.Client.ReasonOverKnowledgeWithResponse(ctx, client.ReasonInput{Query: "why is that so", Strategy: &bad}, bearerAuth(tok))))
	require.Equal(t, 422, status(s.Client.GenerateMedicalTextWithResponse(ctx, client.GenerateInput{Prompt: strings.Repeat("c", 4001)}, bearerAuth(tok))))
	require.Equal(t, 422, status(s.Client.GenerateMedicalTextWithResponse(ctx, client.GenerateInput{Prompt: "x", MaxTokens: ptr(2001)}, bearerAuth(tok))))

	// Signed-in users only, except health.
	require.Equal(t, 401, status(s.Client.ExtractMedicalEntitiesWithResponse(ctx, client.EntityExtractionInput{Text: "x"})))
	require.Equal(t, 401, status(s.Client.EmbedMedicalTextWithResponse(ctx, client.EmbedInput{Text: "x"})))
	require.Equal(t, 401, status(s.Client.EmbedMedicalTextsWithResponse(ctx, client.EmbedBatchInput{Texts: []string{"x"}})))
	require.Equal(t, 401, status(s.Client.MedicalTextSimilarityWithResponse(ctx, client.SimilarityInput{Text1: "x", Text2: "y"})))
	require.Equal(t, 401, status(s.Client.SearchMedicalKnowledgeWithResponse(ctx, client.MedicalSearchInput{Query: "x"})))
	require.Equal(t, 401, status(s.Client.ReasonOverKnowledgeWithResponse(ctx, client.ReasonInput{Query: "why is that so"})))
	require.Equal(t, 401, status(s.Client.GenerateMedicalTextWithResponse(ctx, client.GenerateInput{Prompt: "x"})))
	require.Equal(t, 401, status(s.Client.ListMedicalModelsWithResponse(ctx)))
	require.Equal(t, 200, status(s.Client.GetMedicalAIHealthWithResponse(ctx)))
}

func TestMedicalAIRateLimit(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"RATE_LIMIT_MEDICAL_AI_PER_MINUTE": "3"})
	tok := s.token(t, s.account(t, auth.RoleUser))
	ctx := context.Background()
	// Every operation counts towards one limit; requests the contract refuses do not.
	bad, err := s.Client.EmbedMedicalTextWithResponse(ctx, client.EmbedInput{Text: ""}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, 422, bad.StatusCode())
	e, err := s.Client.EmbedMedicalTextWithResponse(ctx, client.EmbedInput{Text: "aspirin"}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, 200, e.StatusCode(), "%s", e.Body)
	x, err := s.Client.ExtractMedicalEntitiesWithResponse(ctx, client.EntityExtractionInput{Text: "aspirin"}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, 200, x.StatusCode(), "%s", x.Body)
	m, err := s.Client.ListMedicalModelsWithResponse(ctx, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, 200, m.StatusCode(), "%s", m.Body)
	lim, err := s.Client.MedicalTextSimilarityWithResponse(ctx, client.SimilarityInput{Text1: "a b", Text2: "a c"}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusTooManyRequests, lim.StatusCode(), "%s", lim.Body)
	require.Equal(t, "RATE_LIMIT_EXCEEDED", errorOf(t, lim.Body).Error.Code)
	require.NotEmpty(t, lim.HTTPResponse.Header.Get("Retry-After"))
	// Per user; health is not counted.
	other := s.token(t, s.account(t, auth.RoleUser))
	fresh, err := s.Client.MedicalTextSimilarityWithResponse(ctx, client.SimilarityInput{Text1: "a b", Text2: "a c"}, bearerAuth(other))
	require.NoError(t, err)
	require.Equal(t, 200, fresh.StatusCode(), "%s", fresh.Body)
	h, err := s.Client.GetMedicalAIHealthWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, 200, h.StatusCode())
}

// Offline default (no provider, no network): embeddings from the hashing embedder, models and
// health say so, and generation names the setting to change.
func TestMedicalAIOffline(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	tok := s.token(t, s.account(t, auth.RoleUser))
	ctx := context.Background()

	one, err := s.Client.EmbedMedicalTextWithResponse(ctx, client.EmbedInput{Text: "Metformin lowers glucose."}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, 200, one.StatusCode(), "%s", one.Body)
	require.Equal(t, one.JSON200.Data.Dimensions, len(one.JSON200.Data.Embedding))
	require.Equal(t, 25, one.JSON200.Data.TextLength)
	batch, err := s.Client.EmbedMedicalTextsWithResponse(ctx, client.EmbedBatchInput{Texts: []string{"Metformin lowers glucose.", "Warfarin thins blood."}}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, 200, batch.StatusCode(), "%s", batch.Body)
	require.Len(t, batch.JSON200.Data.Embeddings, 2)
	require.Equal(t, one.JSON200.Data.Embedding, batch.JSON200.Data.Embeddings[0], "deterministic")
	require.Equal(t, one.JSON200.Data.Model, batch.JSON200.Data.Model)

	same, err := s.Client.MedicalTextSimilarityWithResponse(ctx, client.SimilarityInput{Text1: "metformin for diabetes", Text2: "metformin for diabetes"}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, 200, same.StatusCode(), "%s", same.Body)
	require.InDelta(t, 1.0, same.JSON200.Data.Similarity, 1e-4)
	diff, err := s.Client.MedicalTextSimilarityWithResponse(ctx, client.SimilarityInput{Text1: "metformin for diabetes", Text2: "fracture of the femur"}, bearerAuth(tok))
	require.NoError(t, err)
	require.Less(t, diff.JSON200.Data.Similarity, same.JSON200.Data.Similarity)
	require.Equal(t, one.JSON200.Data.Model, diff.JSON200.Data.Model)

	models, err := s.Client.ListMedicalModelsWithResponse(ctx, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, 200, models.StatusCode(), "%s", models.Body)
	for _, m := range models.JSON200.Data.Models {
		require.Equal(t, "offline", m.Provider, "%+v", m)
		require.True(t, m.Available)
	}
	h, err := s.Client.GetMedicalAIHealthWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, client.MedicalAIOk, h.JSON200.Data.Status)
	require.Equal(t, "offline", h.JSON200.Data.Chat)

	g, err := s.Client.GenerateMedicalTextWithResponse(ctx, client.GenerateInput{Prompt: "Summarise metformin's side effects."}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusServiceUnavailable, g.StatusCode(), "%s", g.Body)
	e := errorOf(t, g.Body).Error
	require.Equal(t, "PROVIDER_UNAVAILABLE", e.Code)
	require.Contains(t, e.Message, "OPENAI_API_KEY")
}

// With an OpenAI-compatible provider: the prompt reaches it with PHI redacted.
func TestMedicalAIGenerateRedactsPHI(t *testing.T) {
	t.Parallel()
	fake := llmtest.New(t)
	fake.SetChat(func(llmtest.Request) []string { return []string{"Metformin may cause ", "lactic acidosis."} })
	s := startServer(t, map[string]string{"OPENAI_BASE_URL": fake.BaseURL(), "OPENAI_API_KEY": llmtest.APIKey,
		"OPENAI_CHAT_MODEL": "fake-model", "EMBEDDING_PROVIDER": "offline"})
	tok := s.token(t, s.account(t, auth.RoleUser))
	ctx := context.Background()
	prompt := "Mr. Zebulon Quarrington, MRN 12345678, takes metformin. List its serious side effects."
	res, err := s.Client.GenerateMedicalTextWithResponse(ctx, client.GenerateInput{Prompt: prompt, MaxTokens: ptr(100)}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, 200, res.StatusCode(), "%s", res.Body)
	d := res.JSON200.Data
	require.Equal(t, "Metformin may cause lactic acidosis.", d.Text)
	require.Equal(t, "fake-model", d.Model)
	require.Equal(t, client.GenerationPhiPolicy("redact"), d.PhiPolicy)
	require.True(t, d.Redacted)

	reqs := fake.Requests(llmtest.Chat)
	require.Len(t, reqs, 1)
	sent := reqs[0].Messages[len(reqs[0].Messages)-1].Content
	require.NotContains(t, sent, "Quarrington")
	require.NotContains(t, sent, "12345678")
	require.Contains(t, sent, "[MRN]")
	require.Contains(t, sent, "takes metformin")
	require.Equal(t, 100, *reqs[0].MaxTokens)

	models, err := s.Client.ListMedicalModelsWithResponse(ctx, bearerAuth(tok))
	require.NoError(t, err)
	i := slices.IndexFunc(models.JSON200.Data.Models, func(m client.MedicalModel) bool { return m.Kind == client.ModelChat })
	require.Equal(t, "openai", models.JSON200.Data.Models[i].Provider)
	require.Equal(t, "fake-model", models.JSON200.Data.Models[i].Name)
}

// The model-assisted pass adds entities the dictionary missed; the dictionary's hits stay as
// they were, even when the model names them differently.
func TestMedicalAIModelAssistOnlyAdds(t *testing.T) {
	t.Parallel()
	fake := llmtest.New(t)
	fake.SetChat(func(llmtest.Request) []string {
		return []string{`[{"text":"Glucophage 500","type":"drug"},{"text":"frobnication syndrome","type":"disease"},{"text":"nonexistent","type":"disease"},{"text":"pneumonia","type":"gene"}]`}
	})
	text := "Takes Glucophage 500 mg for type 2 diabetes; no frobnication syndrome. Denies pneumonia."
	offline := startServer(t, nil)
	otok := offline.token(t, offline.account(t, auth.RoleUser))
	base, err := offline.Client.ExtractMedicalEntitiesWithResponse(context.Background(), client.EntityExtractionInput{Text: text}, bearerAuth(otok))
	require.NoError(t, err)
	require.Equal(t, 200, base.StatusCode(), "%s", base.Body)

	s := startServer(t, map[string]string{"OPENAI_BASE_URL": fake.BaseURL(), "OPENAI_API_KEY": llmtest.APIKey,
		"OPENAI_CHAT_MODEL": "fake-model", "EMBEDDING_PROVIDER": "offline", "MEDICAL_AI_MODEL_ASSIST": "true"})
	tok := s.token(t, s.account(t, auth.RoleUser))
	res, err := s.Client.ExtractMedicalEntitiesWithResponse(context.Background(), client.EntityExtractionInput{Text: text}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, 200, res.StatusCode(), "%s", res.Body)
	d := res.JSON200.Data
	require.True(t, d.Extractor.ModelAssist)
	require.Equal(t, "fake-model", *d.Extractor.Model)
	var dict []client.MedicalEntity
	for _, e := range d.Entities {
		if e.Source == client.Dictionary {
			dict = append(dict, e)
		}
	}
	require.Equal(t, base.JSON200.Data.Entities, dict, "dictionary hits are neither removed nor moved")
	added := entityByText(d.Entities, "frobnication syndrome")
	require.NotNil(t, added, "%s", res.Body)
	require.Equal(t, client.Model, added.Source)
	require.True(t, added.Negated, "the same context rules apply to added entities")
	require.Nil(t, entityByText(d.Entities, "Glucophage 500"), "overlaps a dictionary hit")
	require.Nil(t, entityByText(d.Entities, "nonexistent"), "not in the text")
	require.Len(t, d.Entities, len(base.JSON200.Data.Entities)+1)
}

// NER_VOCAB_DIR replaces embedded data files by those present in it (none here: the embedded
// ones stay), and the answer names the setting, not the server's path.
func TestMedicalAIVocabDir(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"NER_VOCAB_DIR": t.TempDir()})
	tok := s.token(t, s.account(t, auth.RoleUser))
	res, err := s.Client.ExtractMedicalEntitiesWithResponse(context.Background(), client.EntityExtractionInput{Text: "Takes warfarin."}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, 200, res.StatusCode(), "%s", res.Body)
	require.Equal(t, "NER_VOCAB_DIR", res.JSON200.Data.Extractor.Vocabularies)
	require.Equal(t, "warfarin", res.JSON200.Data.Entities[0].Normalized.Id)
}

// PHI_POLICY=block refuses a prompt with identifiers before anything is sent; a provider that
// fails is a 503, never its error text.
func TestMedicalAIGenerateBlockedAndFailing(t *testing.T) {
	t.Parallel()
	fake := llmtest.New(t)
	s := startServer(t, map[string]string{"OPENAI_BASE_URL": fake.BaseURL(), "OPENAI_API_KEY": llmtest.APIKey,
		"OPENAI_CHAT_MODEL": "fake-model", "EMBEDDING_PROVIDER": "offline", "PHI_POLICY": "block"})
	tok := s.token(t, s.account(t, auth.RoleUser))
	ctx := context.Background()
	res, err := s.Client.GenerateMedicalTextWithResponse(ctx, client.GenerateInput{Prompt: "MRN 12345678: summarise the warfarin plan."}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode(), "%s", res.Body)
	require.Equal(t, "PHI_BLOCKED", errorOf(t, res.Body).Error.Code)
	require.Empty(t, fake.Requests(llmtest.Chat), "nothing was sent")

	fake.Fail(llmtest.Chat, llmtest.Fault{Status: http.StatusBadRequest, Message: "secret upstream detail"})
	res, err = s.Client.GenerateMedicalTextWithResponse(ctx, client.GenerateInput{Prompt: "Summarise the warfarin plan."}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusServiceUnavailable, res.StatusCode(), "%s", res.Body)
	require.NotContains(t, string(res.Body), "secret upstream detail")

	ok, err := s.Client.GenerateMedicalTextWithResponse(ctx, client.GenerateInput{Prompt: "Summarise the warfarin plan."}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, ok.StatusCode(), "%s", ok.Body)
	require.Equal(t, "Hello world", ok.JSON200.Data.Text)
	require.False(t, ok.JSON200.Data.Redacted)
	require.Equal(t, client.GenerationPhiPolicy("block"), ok.JSON200.Data.PhiPolicy)
}
