package search

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFuseRRFHandComputed(t *testing.T) {
	t.Parallel()
	kw := []Hit{{"a", 9}, {"b", 7}, {"c", 1}}
	vec := []Hit{{"c", 0.9}, {"a", 0.8}, {"d", 0.1}}
	got := FuseRRF(60, kw, vec)

	// a: 1/61 + 1/62, c: 1/63 + 1/61, b: 1/62, d: 1/63.
	require.Equal(t, []string{"a", "c", "b", "d"}, IDs(got))
	require.InDelta(t, 1.0/61+1.0/62, got[0].Score, 1e-12)
	require.InDelta(t, 1.0/63+1.0/61, got[1].Score, 1e-12)
	require.InDelta(t, 1.0/62, got[2].Score, 1e-12)
	require.InDelta(t, 1.0/63, got[3].Score, 1e-12)
	require.Equal(t, []int{1, 2}, got[0].Ranks)
	require.Equal(t, []float64{9, 0.8}, got[0].Scores)
	require.Equal(t, []int{3, 1}, got[1].Ranks)
	require.Equal(t, []int{2, 0}, got[2].Ranks)
	require.Equal(t, []float64{7, 0}, got[2].Scores)
	require.Equal(t, []int{0, 3}, got[3].Ranks)

	// k <= 0 means 60.
	require.Equal(t, got, FuseRRF(0, kw, vec))
}

func TestFuseRRFSmallK(t *testing.T) {
	t.Parallel()
	// k = 1: x: 1/2 + 1/4 = 0.75, y: 1/3 + 1/2 = 0.8333, z: 1/4 + 1/3 = 0.5833.
	got := FuseRRF(1, []Hit{{"x", 3}, {"y", 2}, {"z", 1}}, []Hit{{"y", 3}, {"z", 2}, {"x", 1}})
	require.Equal(t, []string{"y", "x", "z"}, IDs(got))
	require.InDelta(t, 1.0/3+1.0/2, got[0].Score, 1e-12)
	require.InDelta(t, 0.75, got[1].Score, 1e-12)
}

func TestFuseRRFTiesAndDuplicates(t *testing.T) {
	t.Parallel()
	// b and a tie on score (both rank 1 in one list); best rank ties too, so ID decides.
	got := FuseRRF(60, []Hit{{"b", 1}}, []Hit{{"a", 1}})
	require.Equal(t, []string{"a", "b"}, IDs(got))

	// A duplicate ID within one list counts once, at its first rank.
	got = FuseRRF(60, []Hit{{"a", 3}, {"a", 2}, {"b", 1}})
	require.Len(t, got, 2)
	require.InDelta(t, 1.0/61, got[0].Score, 1e-12)
	require.InDelta(t, 1.0/63, got[1].Score, 1e-12)

	require.Empty(t, FuseRRF(60))
	require.Empty(t, FuseRRF(60, nil, nil))
}

func TestFuseWeightedHandComputed(t *testing.T) {
	t.Parallel()
	kw := []Hit{{"a", 10}, {"b", 6}, {"c", 2}}       // min-max: a 1, b 0.5, c 0
	vec := []Hit{{"c", 0.9}, {"d", 0.7}, {"a", 0.5}} // min-max: c 1, d 0.5, a 0
	got := FuseWeighted([]float64{0.7, 0.3}, kw, vec)
	// a 0.7, b 0.35, c 0.3, d 0.15.
	require.Equal(t, []string{"a", "b", "c", "d"}, IDs(got))
	require.InDelta(t, 0.7, got[0].Score, 1e-12)
	require.InDelta(t, 0.35, got[1].Score, 1e-12)
	require.InDelta(t, 0.3, got[2].Score, 1e-12)
	require.InDelta(t, 0.15, got[3].Score, 1e-12)
	require.Equal(t, []int{1, 3}, got[0].Ranks)
	require.Equal(t, []float64{10, 0.5}, got[0].Scores)

	// Weight 0.3/0.7 flips the order of a and c.
	got = FuseWeighted([]float64{0.3, 0.7}, kw, vec)
	require.Equal(t, "c", got[0].ID)
	require.InDelta(t, 0.7, got[0].Score, 1e-12)

	// Missing weights are 1; a single-score list normalises to 1.
	got = FuseWeighted(nil, []Hit{{"x", 5}}, []Hit{{"y", 3}, {"x", 1}})
	require.Equal(t, []string{"x", "y"}, IDs(got))
	require.InDelta(t, 1.0, got[0].Score, 1e-12)
	require.InDelta(t, 1.0, got[1].Score, 1e-12)
}

func TestFuseRRFWeighted(t *testing.T) {
	a := []Hit{{ID: "x"}, {ID: "y"}}
	b := []Hit{{ID: "y"}, {ID: "z"}}
	got := FuseRRFWeighted(10, []float64{1, 0.5}, a, b)
	want := map[string]float64{"x": 1.0 / 11, "y": 1.0/12 + 0.5/11, "z": 0.5 / 12}
	if len(got) != 3 {
		t.Fatalf("got %d results", len(got))
	}
	for _, f := range got {
		if math.Abs(f.Score-want[f.ID]) > 1e-12 {
			t.Errorf("%s: score %v, want %v", f.ID, f.Score, want[f.ID])
		}
	}
	if got[0].ID != "y" || got[1].ID != "x" || got[2].ID != "z" {
		t.Errorf("order %v", IDs(got))
	}
	// Equal weights are plain RRF.
	plain, weighted := FuseRRF(60, a, b), FuseRRFWeighted(60, []float64{1, 1}, a, b)
	for i := range plain {
		if plain[i].ID != weighted[i].ID || plain[i].Score != weighted[i].Score {
			t.Fatalf("weights 1 differ from RRF at %d", i)
		}
	}
}
