package main

import (
	"os"
	"testing"

	"github.com/stretchr/testify/require"
)

// The committed split.tsv is exactly what the seeded split produces, half of each kind in
// each set.
func TestCommittedSplit(t *testing.T) {
	t.Parallel()
	data, err := os.ReadFile("../testdata/sentences.tsv")
	require.NoError(t, err)
	sentences, err := Parse(data)
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(sentences), 100)

	got := Split(sentences, Seed)
	committed, err := os.ReadFile("../testdata/split.tsv")
	require.NoError(t, err)
	require.Equal(t, string(Format(got)), string(committed), "run: go run ./bench/voice/split")

	count := map[string]int{}
	for i, a := range got {
		count[sentences[i].Kind+"/"+a.Set]++
	}
	require.Equal(t, count["general/tune"], count["general/heldout"])
	require.Equal(t, count["clinical/tune"], count["clinical/heldout"])
}
