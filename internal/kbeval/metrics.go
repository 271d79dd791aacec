package kbeval

import (
	"math"
	"sort"
	"time"
)

// NDCGAt is nDCG@k with binary gains and a log2(rank+1) discount; the ideal
// DCG puts all judged relevant documents first. It is 0 when nothing is
// judged relevant.
func NDCGAt(k int, ranked []string, relevant map[string]bool) float64 {
	if len(relevant) == 0 {
		return 0
	}
	var dcg float64
	for i, id := range ranked[:min(k, len(ranked))] {
		if relevant[id] {
			dcg += 1 / math.Log2(float64(i+2))
		}
	}
	var idcg float64
	for i := range min(k, len(relevant)) {
		idcg += 1 / math.Log2(float64(i+2))
	}
	return dcg / idcg
}

// RecallAt is the share of judged relevant documents found in the top k.
func RecallAt(k int, ranked []string, relevant map[string]bool) float64 {
	if len(relevant) == 0 {
		return 0
	}
	found := 0
	for _, id := range ranked[:min(k, len(ranked))] {
		if relevant[id] {
			found++
		}
	}
	return float64(found) / float64(len(relevant))
}

// MRRAt is the reciprocal rank of the first relevant document in the top k,
// 0 if there is none.
func MRRAt(k int, ranked []string, relevant map[string]bool) float64 {
	for i, id := range ranked[:min(k, len(ranked))] {
		if relevant[id] {
			return 1 / float64(i+1)
		}
	}
	return 0
}

// Scores is the mean of the three metrics over a set of queries.
type Scores struct {
	NDCG10, Recall100, MRR10 float64
}

// Evaluate averages the metrics over the judged queries; a judged query without a run
// scores 0, a run without judgments is ignored.
func Evaluate(runs map[string][]string, qrels map[string]map[string]bool) Scores {
	var s Scores
	n := 0
	for q, rel := range qrels {
		ranked := runs[q]
		s.NDCG10 += NDCGAt(10, ranked, rel)
		s.Recall100 += RecallAt(100, ranked, rel)
		s.MRR10 += MRRAt(10, ranked, rel)
		n++
	}
	if n > 0 {
		s.NDCG10 /= float64(n)
		s.Recall100 /= float64(n)
		s.MRR10 /= float64(n)
	}
	return s
}

// Percentile is the nearest-rank p-th percentile (0 for no samples).
func Percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	r := int(float64(len(s))*p/100+0.999999) - 1
	return s[max(0, min(r, len(s)-1))]
}
