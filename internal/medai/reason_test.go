package medai

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/chat"
	"github.com/voiceassist/gateway/internal/embed"
	"github.com/voiceassist/gateway/internal/ner"
)

// passages is a retriever over fixed passages: those sharing a word of 5+ letters with the query.
type passages []chat.Passage

func (ps passages) Retrieve(_ context.Context, q string, k int) ([]chat.Passage, error) {
	var out []chat.Passage
	for _, p := range ps {
		for _, w := range strings.Fields(strings.ToLower(strings.Trim(q, "?"))) {
			if len(w) >= 5 && strings.Contains(strings.ToLower(p.Text), w) {
				out = append(out, p)
				break
			}
		}
	}
	return out[:min(k, len(out))], nil
}

func testService(t *testing.T) *Service {
	t.Helper()
	x, err := ner.Default()
	require.NoError(t, err)
	kb := passages{
		{ChunkID: "c1", DocumentID: "d1", Title: "Hypertension", Text: "Hypertension is treated with lisinopril. Lisinopril can cause angioedema in some patients."},
		{ChunkID: "c2", DocumentID: "d2", Title: "Angioedema", Text: "Angioedema is swelling of the deeper layers of the skin, treated by stopping the drug."},
		{ChunkID: "c3", DocumentID: "d3", Title: "Diabetes", Text: "Type 2 diabetes is treated first with metformin, which lowers glucose."},
	}
	return New(Config{NER: x, Embedder: embed.NewHashing(64), EmbedderProvider: ProviderOffline, Retriever: kb, Model: chat.Extractive{}})
}

func TestComparativeSubQuestions(t *testing.T) {
	s := testService(t)
	require.Equal(t, []string{"Is lisinopril better for type 2 diabetes?", "Is metformin better for type 2 diabetes?"},
		s.comparative("Is lisinopril or metformin better for type 2 diabetes?"))
	// Compared items apart from each other: each with the rest of the query.
	require.Equal(t, []string{"Lisinopril for hypertension", "metformin for hypertension"},
		s.comparative("Lisinopril for hypertension compared with metformin"))
	// Without two entities of one type: split at the separators.
	require.Equal(t, []string{"diet", "exercise"}, s.comparative("Compare diet versus exercise?"))
	require.Equal(t, []string{"What helps most?"}, s.comparative("What helps most?"))
}

func TestCausalAndTemporalSubQuestions(t *testing.T) {
	s := testService(t)
	q := "Why does hypertension cause strokes?"
	require.Equal(t, []string{q, "causes and mechanism of hypertension", "effects and complications of hypertension"}, causal(q, s.focus(q)))
	q = "What is monitored after starting warfarin?"
	require.Equal(t, []string{q, "What is monitored", "starting warfarin"}, temporal(q, s.focus(q)))
	q = "How does type 2 diabetes progress?"
	require.Equal(t, []string{q, "onset and early signs of type 2 diabetes", "course and long-term outcome of type 2 diabetes"}, temporal(q, s.focus(q)))
}

func TestMultiHopFollowsEvidenceEntities(t *testing.T) {
	s := testService(t)
	r, err := s.Reason(context.Background(), "How is hypertension treated?", 3, MultiHop)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(r.Steps), 2)
	require.Equal(t, "How is hypertension treated?", r.Steps[0].SubQuestion)
	// angioedema is in two passages of the evidence, lisinopril in one.
	require.Equal(t, "angioedema in hypertension", r.Steps[1].SubQuestion, "the entity of the evidence the query did not name")
	// Final citations are renumbered from the steps' evidence, first citation first.
	for i, c := range r.Citations {
		require.Equal(t, i+1, c.N)
		require.Contains(t, r.Final, "["+string(rune('1'+i))+"]")
	}
	again, err := s.Reason(context.Background(), "How is hypertension treated?", 3, MultiHop)
	require.NoError(t, err)
	require.Equal(t, r, again, "deterministic")
}

func TestReasonLimits(t *testing.T) {
	s := testService(t)
	for _, c := range []struct {
		q        string
		hops     int
		strategy string
	}{{"why", 3, Direct}, {"why is that so", 6, Direct}, {"why is that so", 3, "deductive"}} {
		_, err := s.Reason(context.Background(), c.q, c.hops, c.strategy)
		require.Error(t, err, "%+v", c)
	}
	r, err := s.Reason(context.Background(), "nothing matches here", 1, Direct)
	require.NoError(t, err)
	require.Equal(t, chat.NotFoundAnswer, r.Final)
	require.Empty(t, r.Citations)
}

func TestMergeKeepsDictionaryHits(t *testing.T) {
	dict := []Entity{{Entity: ner.Entity{Text: "a", Start: 0, End: 1}, Source: SourceDictionary}, {Entity: ner.Entity{Text: "c", Start: 10, End: 11}, Source: SourceDictionary}}
	added := []Entity{{Entity: ner.Entity{Text: "b", Start: 5, End: 6}, Source: SourceModel}}
	got := mergeEntities(dict, added)
	require.Equal(t, []string{"a", "b", "c"}, []string{got[0].Text, got[1].Text, got[2].Text})
	require.Equal(t, dict[1], got[2])
	require.True(t, wordBounded([]rune("a bc d"), 2, 4))
	require.False(t, wordBounded([]rune("a bcd"), 2, 4))
}

func TestCosine(t *testing.T) {
	require.InDelta(t, 1, cosine([]float32{1, 2}, []float32{2, 4}), 1e-9)
	require.InDelta(t, -1, cosine([]float32{1, 0}, []float32{-3, 0}), 1e-9)
	require.Zero(t, cosine([]float32{0, 0}, []float32{1, 0}))
}
