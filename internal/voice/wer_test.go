package voice

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNormalizeWords(t *testing.T) {
	t.Parallel()
	cases := map[string][]string{
		"Start metformin, 500 mg twice daily.": {"start", "metformin", "500", "mg", "twice", "daily"},
		"Don't stop—it's a follow-up!":         {"don't", "stop", "it's", "a", "follow", "up"},
		"Temp 38.5; dose 2.5mg":                {"temp", "38.5", "dose", "2.5mg"},
		"1,000 units. End.":                    {"1000", "units", "end"},
		"Smart ’quotes’ and it’s":              {"smart", "quotes", "and", "it's"},
		"BP 140/90":                            {"bp", "140", "90"},
		"  ... ":                               nil,
	}
	for in, want := range cases {
		require.Equal(t, want, NormalizeWords(in), in)
	}
}

func TestWER(t *testing.T) {
	t.Parallel()
	require.Zero(t, WER("Blood pressure is one forty over ninety.", "blood pressure is one forty over ninety"))
	// One substitution in seven words.
	require.InDelta(t, 1.0/7, WER("blood pressure is one forty over ninety", "blood pressure is one fifty over ninety"), 1e-9)
	// A deletion and an insertion.
	edits, n := WERCounts("start metformin twice daily", "start the metformin daily")
	require.Equal(t, 2, edits)
	require.Equal(t, 4, n)
	// Two insertions on one reference word.
	require.InDelta(t, 2.0, WER("stop", "please do stop"), 1e-9)
	require.InDelta(t, 1.0, WER("stop now", ""), 1e-9)
	require.Zero(t, WER("", ""))
	require.InDelta(t, 1.0, WER("", "noise"), 1e-9)
}
