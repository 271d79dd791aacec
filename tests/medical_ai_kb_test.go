package tests

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/llm/llmtest"
)

// A small knowledge base written for these tests.
var medDocs = []struct{ title, text string }{
	{"Hypertension care", "# Hypertension\n\nHypertension is treated first with lifestyle changes. Lisinopril, an ACE inhibitor, lowers blood pressure. Lisinopril can cause angioedema and a dry cough."},
	{"Diabetes care", "# Type 2 diabetes\n\nType 2 diabetes is treated first with metformin. Metformin lowers blood glucose and rarely causes lactic acidosis. Patients with kidney disease need a lower dose."},
	{"Anticoagulation", "# Warfarin\n\nWarfarin prevents stroke in atrial fibrillation. Warfarin increases the risk of bleeding; monitor the INR every week at first."},
}

func medKB(t *testing.T, s *testServer) (admin string, docs map[string]uuid.UUID) {
	t.Helper()
	admin = s.token(t, s.account(t, auth.RoleAdmin))
	docs = map[string]uuid.UUID{}
	for _, d := range medDocs {
		doc := s.addText(t, admin, d.title, d.text)
		docs[d.title] = doc.Id
	}
	for _, id := range docs {
		require.Equal(t, client.KbDocumentStatusIndexed, s.waitIndexed(t, admin, id).Status)
	}
	return admin, docs
}

func hasEntity(es *[]client.CitationEntity, id string) bool {
	return es != nil && slices.ContainsFunc(*es, func(e client.CitationEntity) bool { return e.Id == id })
}

func TestMedicalAIKBEntitiesSearchAndReason(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	admin, docs := medKB(t, s)
	tok := s.token(t, s.account(t, auth.RoleUser))
	ctx := context.Background()

	// /api/kb/search filtered by an entity id: only chunks mentioning it, and the hits show it.
	for _, c := range []struct{ entity, doc string }{{"DOID:10763", "Hypertension care"}, {"metformin", "Diabetes care"}, {"warfarin", "Anticoagulation"}} {
		res := s.kbSearch(t, tok, client.KbSearchRequest{Query: "treated risk lowers", EntityId: &c.entity})
		require.NotEmpty(t, res.Hits, c.entity)
		for _, h := range res.Hits {
			require.Equal(t, docs[c.doc], h.Citation.DocumentId, c.entity)
			require.True(t, hasEntity(h.Entities, c.entity), "%s: %+v", c.entity, h.Entities)
		}
	}
	none := "DOID:0000000"
	require.Empty(t, s.kbSearch(t, tok, client.KbSearchRequest{Query: "treated", EntityId: &none}).Hits)

	// /api/medical-ai/search: the same result shape, weighted fusion, alpha at both ends.
	for _, a := range []float32{0, 1} {
		alpha, ent := a, "warfarin"
		res, err := s.Client.SearchMedicalKnowledgeWithResponse(ctx, client.MedicalSearchInput{Query: "bleeding risk", Alpha: &alpha,
			Filters: &client.MedicalSearchFilters{EntityId: &ent}}, bearerAuth(tok))
		require.NoError(t, err)
		require.Equal(t, 200, res.StatusCode(), "%s", res.Body)
		d := res.JSON200.Data
		require.Equal(t, client.Hybrid, d.Mode)
		require.Equal(t, client.Weighted, *d.Fusion)
		require.NotEmpty(t, d.Hits)
		require.Equal(t, docs["Anticoagulation"], d.Hits[0].Citation.DocumentId)
	}
	doc := docs["Diabetes care"]
	res, err := s.Client.SearchMedicalKnowledgeWithResponse(ctx, client.MedicalSearchInput{Query: "treated", TopK: ptr(1),
		Filters: &client.MedicalSearchFilters{DocumentId: &doc}}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, 200, res.StatusCode(), "%s", res.Body)
	require.Len(t, res.JSON200.Data.Hits, 1)
	require.Equal(t, doc, res.JSON200.Data.Hits[0].Citation.DocumentId)

	// Reasoning offline: every strategy gives a chain whose evidence is chunks that exist.
	for _, c := range []struct {
		strategy client.ReasoningStrategy
		query    string
		minSteps int
	}{
		{"direct", "How is hypertension treated?", 1},
		{"multi_hop", "How is hypertension treated?", 2},
		{"comparative", "Lisinopril versus metformin: which lowers blood pressure?", 2},
		{"causal", "Why does warfarin cause bleeding?", 3},
		{"temporal", "What is monitored after starting warfarin?", 2},
	} {
		strategy := c.strategy
		r, err := s.Client.ReasonOverKnowledgeWithResponse(ctx, client.ReasonInput{Query: c.query, Strategy: &strategy, MaxHops: ptr(3)}, bearerAuth(tok))
		require.NoError(t, err)
		require.Equal(t, 200, r.StatusCode(), "%s", r.Body)
		d := r.JSON200.Data
		require.Equal(t, strategy, d.Strategy)
		require.Equal(t, "extractive", d.Model)
		require.GreaterOrEqual(t, len(d.Steps), c.minSteps, "%s: %s", strategy, r.Body)
		require.LessOrEqual(t, len(d.Steps), 3)
		chunks := map[uuid.UUID]bool{}
		for i, st := range d.Steps {
			require.Equal(t, i+1, st.Step)
			require.NotEmpty(t, st.SubQuestion)
			require.NotEmpty(t, st.Evidence, "%s step %d", strategy, i+1)
			for n, e := range st.Evidence {
				require.Equal(t, n+1, e.N)
				chunks[e.ChunkId] = true
				g, err := s.Client.GetKbDocumentWithResponse(ctx, e.DocumentId, bearerAuth(admin))
				require.NoError(t, err)
				require.Equal(t, 200, g.StatusCode(), "cited document exists")
			}
			require.NotEmpty(t, st.IntermediateAnswer)
		}
		require.Contains(t, d.Steps[0].IntermediateAnswer, "[1]", "%s: the query itself is answered from its evidence", strategy)
		require.NotEmpty(t, d.Citations)
		for n, c := range d.Citations {
			require.Equal(t, n+1, c.N)
			require.True(t, chunks[c.ChunkId], "final citations come from the steps' evidence")
			require.Contains(t, d.FinalAnswer, "["+itoa(n+1))
		}
	}
	// comparative splits at the compared drugs; multi_hop follows an entity of the evidence.
	strategy := client.ReasoningStrategy("comparative")
	r, err := s.Client.ReasonOverKnowledgeWithResponse(ctx, client.ReasonInput{Query: "Lisinopril versus metformin: which lowers blood pressure?", Strategy: &strategy}, bearerAuth(tok))
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(r.JSON200.Data.Steps[0].SubQuestion, "Lisinopril"), r.JSON200.Data.Steps[0].SubQuestion)
	require.NotContains(t, r.JSON200.Data.Steps[0].SubQuestion, "metformin")
	require.True(t, strings.HasPrefix(r.JSON200.Data.Steps[1].SubQuestion, "metformin"), r.JSON200.Data.Steps[1].SubQuestion)

	// Chat citations carry the chunk's entities (the shared citation wire form).
	c := s.newConversation(t, tok, nil)
	ex := s.ask(t, tok, c.Id, "How is hypertension treated?")
	require.NotEmpty(t, ex.AssistantMessage.Citations)
	require.True(t, hasEntity(ex.AssistantMessage.Citations[0].Entities, "DOID:10763"), "%+v", ex.AssistantMessage.Citations[0])
}

func itoa(n int) string { return strconv.Itoa(n) }

// Chunks indexed before entity extraction (entities NULL, as after migration 00016) get their
// entities from the kb_entities job a starting replica queues, and become filterable.
func TestMedicalAIEntitiesJobFillsOldChunks(t *testing.T) {
	t.Parallel()
	a := startServer(t, nil)
	_, docs := medKB(t, a)
	_, err := a.App.Pool.Exec(context.Background(), "UPDATE kb_chunks SET entities = NULL, entity_ids = '{}'")
	require.NoError(t, err)
	ent := "metformin"

	// A new replica rebuilds its index from Postgres, where the chunks have no entities yet.
	b := startServer(t, map[string]string{"DATABASE_URL": a.Env["DATABASE_URL"]})
	tok := b.token(t, b.account(t, auth.RoleUser))
	// The jobs write each document's entities and its index event in one transaction, and a
	// search first applies the events it has not seen: once no chunk lacks entities, the filter
	// must find the document.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var missing int
		require.NoError(t, b.App.Pool.QueryRow(context.Background(), "SELECT count(*) FROM kb_chunks WHERE entities IS NULL").Scan(&missing))
		if missing == 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "the kb_entities jobs did not fill the chunks")
		time.Sleep(50 * time.Millisecond)
	}
	hits := b.kbSearch(t, tok, client.KbSearchRequest{Query: "treated", EntityId: &ent}).Hits
	require.NotEmpty(t, hits)
	require.Equal(t, docs["Diabetes care"], hits[0].Citation.DocumentId)
	require.True(t, hasEntity(hits[0].Entities, ent))
}

// With a chat provider the steps are answered by it, the sub-question under PHI_POLICY; the
// knowledge-base evidence is sent as it is.
func TestMedicalAIReasonWithProvider(t *testing.T) {
	t.Parallel()
	fake := llmtest.New(t)
	fake.SetChat(func(llmtest.Request) []string { return []string{"Per the evidence ", "[1]."} })
	s := startServer(t, map[string]string{"OPENAI_BASE_URL": fake.BaseURL(), "OPENAI_API_KEY": llmtest.APIKey,
		"OPENAI_CHAT_MODEL": "fake-model", "EMBEDDING_PROVIDER": "offline"})
	medKB(t, s)
	tok := s.token(t, s.account(t, auth.RoleUser))
	strategy := client.ReasoningStrategy("causal")
	r, err := s.Client.ReasonOverKnowledgeWithResponse(context.Background(), client.ReasonInput{
		Query: "Mr. Zebulon Quarrington takes warfarin: why does warfarin cause bleeding?", Strategy: &strategy, MaxHops: ptr(2)}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, 200, r.StatusCode(), "%s", r.Body)
	d := r.JSON200.Data
	require.Equal(t, "fake-model", d.Model)
	require.Len(t, d.Steps, 2)
	require.Equal(t, "causes and mechanism of warfarin", d.Steps[1].SubQuestion)
	for _, st := range d.Steps {
		require.Equal(t, "Per the evidence [1].", st.IntermediateAnswer)
	}
	require.Equal(t, "Per the evidence [1].\n\nPer the evidence ["+strconv.Itoa(len(d.Citations))+"].", d.FinalAnswer)
	reqs := fake.Requests(llmtest.Chat)
	require.Len(t, reqs, 2)
	first := reqs[0].Messages[len(reqs[0].Messages)-1].Content
	require.NotContains(t, first, "Quarrington")
	require.Contains(t, first, "Warfarin increases the risk of bleeding", "evidence is sent unchanged")
}
