package kbeval

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func rel(ids ...string) map[string]bool {
	m := map[string]bool{}
	for _, id := range ids {
		m[id] = true
	}
	return m
}

func TestNDCG(t *testing.T) {
	t.Parallel()
	// Relevant at ranks 1 and 3 of two judged: DCG = 1 + 1/log2(4) = 1.5,
	// IDCG = 1 + 1/log2(3) = 1.6309.
	require.InDelta(t, 1.5/(1+1/math.Log2(3)), NDCGAt(10, []string{"a", "x", "b"}, rel("a", "b")), 1e-12)
	// Perfect ranking.
	require.InDelta(t, 1.0, NDCGAt(10, []string{"a", "b", "x"}, rel("a", "b")), 1e-12)
	// One relevant at rank 2: 1/log2(3) / 1.
	require.InDelta(t, 1/math.Log2(3), NDCGAt(10, []string{"x", "a"}, rel("a")), 1e-12)
	// Relevant beyond the cut-off counts for nothing.
	ranked := strings.Split("x1 x2 x3 x4 x5 x6 x7 x8 x9 x10 a", " ")
	require.Zero(t, NDCGAt(10, ranked, rel("a")))
	// Ideal DCG is capped at k: 12 relevant, top 10 all relevant = 1.
	var many []string
	for i := range 12 {
		many = append(many, string(rune('a'+i)))
	}
	require.InDelta(t, 1.0, NDCGAt(10, many, rel(many...)), 1e-12)
	// Three judged, one found at rank 1: 1 / (1 + 1/log2 3 + 1/2).
	require.InDelta(t, 1/(1+1/math.Log2(3)+0.5), NDCGAt(10, []string{"a"}, rel("a", "b", "c")), 1e-12)
	require.Zero(t, NDCGAt(10, nil, rel("a")))
	require.Zero(t, NDCGAt(10, []string{"a"}, rel()))
}

func TestRecall(t *testing.T) {
	t.Parallel()
	require.InDelta(t, 0.5, RecallAt(100, []string{"x", "a", "y"}, rel("a", "b")), 1e-12)
	require.InDelta(t, 1.0, RecallAt(100, []string{"b", "a"}, rel("a", "b")), 1e-12)
	require.Zero(t, RecallAt(1, []string{"x", "a"}, rel("a")))
	require.InDelta(t, 1.0/3, RecallAt(2, []string{"a", "x", "b"}, rel("a", "b", "c")), 1e-12)
}

func TestMRR(t *testing.T) {
	t.Parallel()
	require.InDelta(t, 1.0, MRRAt(10, []string{"a", "b"}, rel("a", "b")), 1e-12)
	require.InDelta(t, 1.0/3, MRRAt(10, []string{"x", "y", "b", "a"}, rel("a", "b")), 1e-12)
	require.Zero(t, MRRAt(2, []string{"x", "y", "a"}, rel("a")))
	require.Zero(t, MRRAt(10, nil, rel("a")))
}

func TestEvaluateAverages(t *testing.T) {
	t.Parallel()
	qrels := map[string]map[string]bool{"q1": rel("a"), "q2": rel("b")}
	runs := map[string][]string{"q1": {"a"}, "q2": {"x", "b"}} // q3 has no judgments and is ignored
	s := Evaluate(runs, qrels)
	require.InDelta(t, (1+1/math.Log2(3))/2, s.NDCG10, 1e-12)
	require.InDelta(t, 1.0, s.Recall100, 1e-12)
	require.InDelta(t, 0.75, s.MRR10, 1e-12)
	// A query without a run scores 0.
	s = Evaluate(map[string][]string{"q1": {"a"}}, qrels)
	require.InDelta(t, 0.5, s.NDCG10, 1e-12)
}

func TestParseQrels(t *testing.T) {
	t.Parallel()
	q, err := ParseQrels(strings.NewReader("query-id\tcorpus-id\tscore\n1\td1\t1\n1\td2\t1\n2\td3\t0\n3\td4\t2\n"))
	require.NoError(t, err)
	require.Equal(t, map[string]map[string]bool{"1": rel("d1", "d2"), "3": rel("d4")}, q)
	_, err = ParseQrels(strings.NewReader("1 d1\n"))
	require.Error(t, err)
}

func TestPercentile(t *testing.T) {
	t.Parallel()
	var ds []time.Duration
	for i := 100; i >= 1; i-- {
		ds = append(ds, time.Duration(i))
	}
	require.Equal(t, time.Duration(50), Percentile(ds, 50))
	require.Equal(t, time.Duration(99), Percentile(ds, 99))
	require.Equal(t, time.Duration(100), Percentile(ds, 100))
	require.Equal(t, time.Duration(7), Percentile([]time.Duration{7}, 99))
	require.Zero(t, Percentile(nil, 50))
}
