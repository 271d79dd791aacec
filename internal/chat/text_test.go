package chat

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestEstimateTokens(t *testing.T) {
	t.Parallel()
	require.Equal(t, 0, EstimateTokens(""))
	require.Equal(t, 1, EstimateTokens("abc"))
	require.Equal(t, 1, EstimateTokens("abcd"))
	require.Equal(t, 2, EstimateTokens("abcde"))
	require.Equal(t, 1, EstimateTokens("µµµµ")) // runes, not bytes
}

func TestSplitParts(t *testing.T) {
	t.Parallel()
	for q, want := range map[string][]string{
		"What is metformin?":                            nil,
		"What is it??":                                  nil,
		"Is it safe? and":                               nil,
		"What is the dose? And the side effects?":       {"What is the dose", "And the side effects"},
		"dose of metformin; dose of insulin":            {"dose of metformin", "dose of insulin"},
		"aa bb cc? dd ee ff? gg hh ii? jj kk ll? mm nn": {"aa bb cc", "dd ee ff", "gg hh ii", "jj kk ll"},
		// " and " splits only before a question word, with ≥ 3 words each side.
		"What causes gout and how is it treated":                    {"What causes gout", "how is it treated"},
		"What is metformin and how is it dosed":                     {"What is metformin", "how is it dosed"},
		"What does it do and how do we use metformin":               nil, // a part without content words is dropped
		"gout and what is the dose of colchicine":                   nil,
		"What is the dose and how":                                  nil,
		"Compare ACE inhibitors and beta blockers":                  nil,
		"What are the risks and benefits of statins in the elderly": nil,
	} {
		require.Equal(t, want, splitParts(q), q)
	}
}

func TestIsFollowUp(t *testing.T) {
	t.Parallel()
	require.True(t, isFollowUp("And in children?"))
	require.True(t, isFollowUp("What is its maximum daily dose?"))
	require.True(t, isFollowUp("Are they safe in pregnancy and lactation?"))
	require.False(t, isFollowUp("What is the maximum daily dose of metformin?"))
}

func TestSentences(t *testing.T) {
	t.Parallel()
	text := "# Dosage\n- Start low, e.g. 500 mg.   Increase weekly!\nIs it safe? Yes. 30% respond (see Fig. 2).\n\n"
	require.Equal(t, []string{
		"Dosage", "Start low, e.g. 500 mg.", "Increase weekly!", "Is it safe?", "Yes.", "30% respond (see Fig. 2).",
	}, sentences(text))
}

func TestParseCitations(t *testing.T) {
	t.Parallel()
	srcs := []Passage{passage("a", "A."), passage("b", "B.")}
	cites := ParseCitations("x [2] y [2][1] z [2020] [3, 1] [ 1 ]", srcs)
	require.Len(t, cites, 2)
	require.Equal(t, 2, cites[0].N)
	require.Equal(t, "b", cites[0].ChunkID)
	require.Equal(t, 1, cites[1].N)
	require.Empty(t, ParseCitations("no markers", srcs))
	require.Empty(t, ParseCitations("[1]", nil))
}

func TestSnippet(t *testing.T) {
	t.Parallel()
	require.Equal(t, "short text", snippet("  short\n text ", 200))
	require.Equal(t, "alpha beta…", snippet("alpha beta gamma", 12))
}
