package main

import "math"

// ndcgAt is nDCG@k with binary gains and a log2(rank+1) discount; the ideal
// DCG puts all judged relevant documents first. It is 0 when nothing is
// judged relevant.
func ndcgAt(k int, ranked []string, relevant map[string]bool) float64 {
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

// recallAt is the share of judged relevant documents found in the top k.
func recallAt(k int, ranked []string, relevant map[string]bool) float64 {
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

// mrrAt is the reciprocal rank of the first relevant document in the top k,
// 0 if there is none.
func mrrAt(k int, ranked []string, relevant map[string]bool) float64 {
	for i, id := range ranked[:min(k, len(ranked))] {
		if relevant[id] {
			return 1 / float64(i+1)
		}
	}
	return 0
}

// scores is the mean of the three metrics over a set of queries.
type scores struct {
	NDCG10, Recall100, MRR10 float64
}

func evaluate(runs map[string][]string, qrels map[string]map[string]bool) scores {
	var s scores
	n := 0
	for q, rel := range qrels {
		ranked := runs[q]
		s.NDCG10 += ndcgAt(10, ranked, rel)
		s.Recall100 += recallAt(100, ranked, rel)
		s.MRR10 += mrrAt(10, ranked, rel)
		n++
	}
	if n > 0 {
		s.NDCG10 /= float64(n)
		s.Recall100 /= float64(n)
		s.MRR10 /= float64(n)
	}
	return s
}
