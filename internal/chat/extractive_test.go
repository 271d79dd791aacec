package chat

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func metforminSources() []Passage {
	return []Passage{
		{ChunkID: "c1", DocumentID: "d1", Title: "Hypertension guide",
			Text: "Blood pressure targets are below 130/80 in most adults. Lifestyle changes come first."},
		{ChunkID: "c2", DocumentID: "d2", Title: "Metformin label", Heading: []string{"Dosage"}, Page: 3,
			Text: "# Dosage\nThe usual starting dose of metformin is 500 mg once daily with the evening meal. " +
				"The dose is increased gradually, e.g. by 500 mg weekly. Tablets should be swallowed whole."},
		{ChunkID: "c3", DocumentID: "d3", Title: "Renal dosing",
			Text: "Metformin dose must be reduced when eGFR falls below 45. It is contraindicated below 30."},
	}
}

func streamExtractive(t *testing.T, req Request) (string, []string) {
	t.Helper()
	var deltas []string
	text, err := Extractive{}.Stream(context.Background(), req, func(d string) error { deltas = append(deltas, d); return nil })
	require.NoError(t, err)
	require.Equal(t, strings.Join(deltas, ""), text)
	return text, deltas
}

func TestExtractiveQuotesRelevantSentences(t *testing.T) {
	t.Parallel()
	req := Request{Question: "What is the starting dose of metformin?", Sources: metforminSources()}
	text, deltas := streamExtractive(t, req)
	require.Greater(t, len(deltas), 10, "streamed word by word")

	want := "From the knowledge base:\n" +
		"\n- The usual starting dose of metformin is 500 mg once daily with the evening meal. [2]" +
		"\n- The dose is increased gradually, e.g. by 500 mg weekly. [2]" +
		"\n- Metformin dose must be reduced when eGFR falls below 45. [3]" +
		"\n\n" + extractiveFooter
	require.Equal(t, want, text)

	cites := ParseCitations(text, req.Sources)
	require.Len(t, cites, 2)
	require.Equal(t, 2, cites[0].N)
	require.Equal(t, "d2", cites[0].DocumentID)
	require.Equal(t, 3, cites[1].N)

	// Deterministic: the same request gives the same text and deltas.
	text2, deltas2 := streamExtractive(t, req)
	require.Equal(t, text, text2)
	require.Equal(t, deltas, deltas2)
}

func TestExtractiveLimitsSourcesAndSentences(t *testing.T) {
	t.Parallel()
	var srcs []Passage
	for _, s := range []string{"a", "b", "c", "d", "e"} {
		srcs = append(srcs, Passage{ChunkID: s, Text: "Warfarin needs INR monitoring " + s + ". " +
			"Warfarin interacts with many drugs " + s + ". Warfarin is reversed by vitamin K " + s + "."})
	}
	text, _ := streamExtractive(t, Request{Question: "warfarin?", Sources: srcs})
	cites := ParseCitations(text, srcs)
	require.LessOrEqual(t, len(cites), extractiveSources)
	require.Equal(t, extractiveSentences, strings.Count(text, "\n- "))
	require.NotContains(t, text, "[4]")
	require.NotContains(t, text, "[5]")
}

func TestExtractiveUsesPreviousTurnForFollowUps(t *testing.T) {
	t.Parallel()
	srcs := []Passage{
		{Text: "Insulin dose depends on body weight and glucose readings."},
		{Text: "Metformin dose starts at 500 mg daily."},
	}
	req := Request{
		History:  []Message{{Role: RoleUser, Content: "Tell me about metformin"}},
		Question: "What is its dose?",
		Sources:  srcs,
	}
	text, _ := streamExtractive(t, req)
	// Both mention "dose"; only the metformin sentence also matches the
	// previous turn, but both are quoted, in source order.
	require.Contains(t, text, "Metformin dose starts at 500 mg daily. [2]")
	require.Contains(t, text, "[1]")
}

func TestExtractiveNotFound(t *testing.T) {
	t.Parallel()
	for name, srcs := range map[string][]Passage{
		"no sources":  nil,
		"no overlap":  {{ChunkID: "x", Text: "Influenza vaccines are given every autumn to adults."}},
		"only titles": {{ChunkID: "y", Title: "Metformin", Text: "See the label."}},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			text, _ := streamExtractive(t, Request{Question: "What is the dose of metformin?", Sources: srcs})
			require.Equal(t, NotFoundAnswer, text)
			require.Empty(t, ParseCitations(text, srcs))
		})
	}
}

func TestExtractiveStopsOnCancel(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	text, err := Extractive{}.Stream(ctx, Request{Question: "starting dose metformin", Sources: metforminSources()},
		func(string) error {
			n++
			cancel()
			return nil
		})
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, 1, n)
	require.Equal(t, "From ", text)
}
