package search

import (
	"math"
	"sort"
)

// DefaultRRFK is the usual Reciprocal Rank Fusion constant (Cormack et al. 2009).
const DefaultRRFK = 60

// Fused is one document of a fused result list.
type Fused struct {
	ID    string
	Score float64
	// Ranks[i] is the 1-based rank of the document in input list i, 0 if absent.
	Ranks []int
	// Scores[i] is the document's original score in input list i, 0 if absent.
	Scores []float64
}

// FuseRRF combines ranked lists with Reciprocal Rank Fusion:
// score(d) = sum over lists containing d of 1 / (k + rank(d)), rank 1-based.
// k <= 0 means DefaultRRFK. Within a list only the first occurrence of an ID
// counts. The result is sorted by score, then by best rank, then by ID.
func FuseRRF(k int, lists ...[]Hit) []Fused {
	return FuseRRFWeighted(k, nil, lists...)
}

// FuseRRFWeighted is FuseRRF with a weight per list (weighted RRF):
// score(d) = sum_i weights[i] / (k + rank_i(d)). Missing weights count as 1.
// It lets a weaker retriever break ties without overriding a stronger one.
func FuseRRFWeighted(k int, weights []float64, lists ...[]Hit) []Fused {
	if k <= 0 {
		k = DefaultRRFK
	}
	return fuse(lists, func(i, rank int, _ float64) float64 {
		w := 1.0
		if i < len(weights) {
			w = weights[i]
		}
		return w / float64(k+rank)
	})
}

// FuseWeighted combines lists by a weighted sum of min-max normalised scores:
// score(d) = sum_i weights[i] * (s_i(d) - min_i) / (max_i - min_i), with a
// document absent from list i contributing 0 for it. A list whose scores are
// all equal normalises to 1 for each of its documents. Missing weights count
// as 1. Ties are broken as in FuseRRF.
func FuseWeighted(weights []float64, lists ...[]Hit) []Fused {
	lo := make([]float64, len(lists))
	span := make([]float64, len(lists))
	for i, l := range lists {
		mn, mx := math.Inf(1), math.Inf(-1)
		for _, h := range l {
			mn = min(mn, h.Score)
			mx = max(mx, h.Score)
		}
		lo[i], span[i] = mn, mx-mn
	}
	return fuse(lists, func(i, _ int, score float64) float64 {
		w := 1.0
		if i < len(weights) {
			w = weights[i]
		}
		if span[i] == 0 {
			return w
		}
		return w * (score - lo[i]) / span[i]
	})
}

func fuse(lists [][]Hit, contrib func(list, rank int, score float64) float64) []Fused {
	pos := make(map[string]int)
	var out []Fused
	for i, l := range lists {
		for r, h := range l {
			j, ok := pos[h.ID]
			if !ok {
				j = len(out)
				pos[h.ID] = j
				out = append(out, Fused{ID: h.ID, Ranks: make([]int, len(lists)), Scores: make([]float64, len(lists))})
			}
			f := &out[j]
			if f.Ranks[i] != 0 { // duplicate within one list
				continue
			}
			f.Ranks[i] = r + 1
			f.Scores[i] = h.Score
			f.Score += contrib(i, r+1, h.Score)
		}
	}
	sort.SliceStable(out, func(a, b int) bool {
		if out[a].Score != out[b].Score {
			return out[a].Score > out[b].Score
		}
		ra, rb := bestRank(out[a].Ranks), bestRank(out[b].Ranks)
		if ra != rb {
			return ra < rb
		}
		return out[a].ID < out[b].ID
	})
	return out
}

func bestRank(ranks []int) int {
	best := math.MaxInt
	for _, r := range ranks {
		if r > 0 && r < best {
			best = r
		}
	}
	return best
}

// IDs returns the IDs of fused results in order, for callers that only need
// the ranking.
func IDs(fs []Fused) []string {
	ids := make([]string, len(fs))
	for i, f := range fs {
		ids[i] = f.ID
	}
	return ids
}
