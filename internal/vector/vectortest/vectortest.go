// Package vectortest is a conformance suite for vector.Store
// implementations, so that the in-process Exact store and the Qdrant store
// are held to the same behaviour.
//
// What the suite deliberately leaves open, because Qdrant cannot match Exact
// there: the order of tied scores at the k-th place (which tied item makes the
// cut), exact float equality of scores (they are compared within 1e-4), and
// results for large collections (Qdrant's HNSW index is approximate; the
// suite stays far below Qdrant's indexing threshold, where it scans exactly).
package vectortest

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/vector"
)

// NewStore returns an empty store for vectors of dimension dim. It must
// register any cleanup with t.
type NewStore func(t *testing.T, dim int) vector.Store

// scoreDelta is the tolerance on scores: Qdrant computes them in float32
// with its own SIMD code.
const scoreDelta = 1e-4

// Run runs the suite; each subtest gets a fresh store from newStore.
func Run(t *testing.T, newStore NewStore) {
	tests := []struct {
		name string
		fn   func(*testing.T, NewStore)
	}{
		{"OrderByCosine", orderByCosine},
		{"MatchesNaiveRanking", matchesNaiveRanking},
		{"KLargerThanCount", kLargerThanCount},
		{"DefaultK", defaultK},
		{"ReplaceBySameID", replaceBySameID},
		{"DeleteRemoves", deleteRemoves},
		{"DeleteUnknownIgnored", deleteUnknownIgnored},
		{"Filters", filters},
		{"DimensionMismatch", dimensionMismatch},
		{"ItemWithoutID", itemWithoutID},
		{"PayloadRoundTrip", payloadRoundTrip},
		{"EmptyStore", emptyStore},
		{"ZeroVector", zeroVector},
		{"CanceledContext", canceledContext},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.fn(t, newStore)
		})
	}
}

func orderByCosine(t *testing.T, newStore NewStore) {
	ctx := t.Context()
	const tiny = 1.0 / 8192 // squared norms below float32 epsilon: Qdrant leaves those unnormalised
	s := newStore(t, 3)
	require.NoError(t, s.Upsert(ctx, []vector.Item{
		{ID: "x", Vector: []float32{10, 0, 0}},      // scale must not matter
		{ID: "y", Vector: []float32{1, 1, 0}},       // 1/√2
		{ID: "z", Vector: []float32{0, 1e-3, 0}},    // orthogonal
		{ID: "w", Vector: []float32{-2, 0.5, 0}},    // negative
		{ID: "v", Vector: []float32{tiny, tiny, 0}}, // same direction as y
	}))
	hs, err := s.Search(ctx, []float32{tiny, 0, 0}, 5, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"x", "v", "y", "z", "w"}, ids(hs), "v and y tie: by ID")
	want := []float64{1, 1 / math.Sqrt2, 1 / math.Sqrt2, 0, -2 / math.Sqrt(4.25)}
	for i, h := range hs {
		require.InDelta(t, want[i], float64(h.Score), scoreDelta, h.ID)
	}
}

func matchesNaiveRanking(t *testing.T, newStore NewStore) {
	ctx := t.Context()
	const dim, n = 16, 600 // n above the Qdrant store's batch size
	r := rand.New(rand.NewPCG(1, 2))
	s := newStore(t, dim)
	items := map[string]vector.Item{}
	var batch []vector.Item
	for i := range n {
		it := vector.Item{ID: fmt.Sprintf("i%03d", i), Vector: randVec(r, dim), Payload: map[string]string{"doc": fmt.Sprint(i % 7)}}
		items[it.ID] = it
		batch = append(batch, it)
	}
	require.NoError(t, s.Upsert(ctx, batch))

	var del []string
	for i := 0; i < n; i += 3 {
		id := fmt.Sprintf("i%03d", i)
		del = append(del, id)
		delete(items, id)
	}
	require.NoError(t, s.Delete(ctx, del...))

	for range 10 {
		q := randVec(r, dim)
		for _, k := range []int{1, 10, n} {
			for _, f := range []map[string]string{nil, {"doc": "3"}} {
				hs, err := s.Search(ctx, q, k, f)
				require.NoError(t, err)
				checkRanking(t, items, q, hs, naive(items, q, k, f), f)
			}
		}
	}
}

func kLargerThanCount(t *testing.T, newStore NewStore) {
	ctx := t.Context()
	s := newStore(t, 2)
	require.NoError(t, s.Upsert(ctx, []vector.Item{
		{ID: "a", Vector: []float32{1, 0}},
		{ID: "b", Vector: []float32{0, 1}},
		{ID: "c", Vector: []float32{1, 1}},
	}))
	hs, err := s.Search(ctx, []float32{1, 0}, 100, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"a", "c", "b"}, ids(hs))
}

func defaultK(t *testing.T, newStore NewStore) {
	ctx := t.Context()
	s := newStore(t, 2)
	var items []vector.Item
	for i := range 15 {
		items = append(items, vector.Item{ID: fmt.Sprint(i), Vector: []float32{1, float32(i)}})
	}
	require.NoError(t, s.Upsert(ctx, items))
	for _, k := range []int{0, -1} {
		hs, err := s.Search(ctx, []float32{1, 0}, k, nil)
		require.NoError(t, err)
		require.Len(t, hs, 10, "k=%d means 10", k)
	}
}

func replaceBySameID(t *testing.T, newStore NewStore) {
	ctx := t.Context()
	s := newStore(t, 2)
	require.NoError(t, s.Upsert(ctx, []vector.Item{
		{ID: "a", Vector: []float32{1, 0}, Payload: map[string]string{"v": "1", "old": "x"}},
		{ID: "b", Vector: []float32{1, 1}},
	}))
	require.NoError(t, s.Upsert(ctx, []vector.Item{
		{ID: "a", Vector: []float32{0, 1}, Payload: map[string]string{"v": "2"}},
	}))

	hs, err := s.Search(ctx, []float32{0, 1}, 10, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b"}, ids(hs), "one hit per ID")
	require.InDelta(t, 1, hs[0].Score, scoreDelta, "new vector")
	require.Equal(t, map[string]string{"v": "2"}, hs[0].Payload, "payload replaced, not merged")

	hs, err = s.Search(ctx, []float32{0, 1}, 10, map[string]string{"old": "x"})
	require.NoError(t, err)
	require.Empty(t, hs, "old payload no longer filterable")
}

func deleteRemoves(t *testing.T, newStore NewStore) {
	ctx := t.Context()
	s := newStore(t, 2)
	require.NoError(t, s.Upsert(ctx, []vector.Item{
		{ID: "a", Vector: []float32{1, 0}},
		{ID: "b", Vector: []float32{1, 1}},
		{ID: "c", Vector: []float32{0, 1}},
	}))
	require.NoError(t, s.Delete(ctx, "a", "c"))
	hs, err := s.Search(ctx, []float32{1, 0}, 10, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"b"}, ids(hs))

	// A deleted ID can be inserted again.
	require.NoError(t, s.Upsert(ctx, []vector.Item{{ID: "a", Vector: []float32{1, 0}}}))
	hs, err = s.Search(ctx, []float32{1, 0}, 10, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b"}, ids(hs))
}

func deleteUnknownIgnored(t *testing.T, newStore NewStore) {
	ctx := t.Context()
	s := newStore(t, 2)
	require.NoError(t, s.Delete(ctx, "nope"), "empty store")
	require.NoError(t, s.Delete(ctx), "no IDs")
	require.NoError(t, s.Upsert(ctx, []vector.Item{{ID: "a", Vector: []float32{1, 0}}}))
	require.NoError(t, s.Delete(ctx, "nope", "a", "a"))
	hs, err := s.Search(ctx, []float32{1, 0}, 10, nil)
	require.NoError(t, err)
	require.Empty(t, hs)
}

func filters(t *testing.T, newStore NewStore) {
	ctx := t.Context()
	s := newStore(t, 2)
	require.NoError(t, s.Upsert(ctx, []vector.Item{
		{ID: "a", Vector: []float32{1, 0}, Payload: map[string]string{"doc": "1", "lang": "en"}},
		{ID: "b", Vector: []float32{1, 1}, Payload: map[string]string{"doc": "1", "lang": "de"}},
		{ID: "c", Vector: []float32{0, 1}, Payload: map[string]string{"doc": "2", "lang": "en"}},
		{ID: "d", Vector: []float32{1, 2}, Payload: map[string]string{"lang": "en"}},
		{ID: "e", Vector: []float32{2, 1}},
		// Keys Qdrant would otherwise read as nested paths or arrays.
		{ID: "f", Vector: []float32{1, 3}, Payload: map[string]string{"a.b": "x", "tag[]": "y", "with space": "z"}},
	}))
	for _, tc := range []struct {
		filter map[string]string
		want   []string
	}{
		{map[string]string{"doc": "1"}, []string{"a", "b"}},
		{map[string]string{"lang": "en"}, []string{"a", "d", "c"}},
		{map[string]string{"doc": "1", "lang": "en"}, []string{"a"}},
		{map[string]string{"doc": "2", "lang": "de"}, nil},
		{map[string]string{"doc": "9"}, nil},
		{map[string]string{"missing": "1"}, nil},
		{map[string]string{"doc": "1 "}, nil}, // exact match, no trimming or tokenising
		{map[string]string{"a.b": "x"}, []string{"f"}},
		{map[string]string{"a.b": "x", "tag[]": "y", "with space": "z"}, []string{"f"}},
		{map[string]string{}, []string{"a", "e", "b", "d", "f", "c"}},
	} {
		hs, err := s.Search(ctx, []float32{1, 0}, 10, tc.filter)
		require.NoError(t, err, "filter %v", tc.filter)
		require.Equal(t, tc.want, ids(hs), "filter %v", tc.filter)
	}
}

func dimensionMismatch(t *testing.T, newStore NewStore) {
	ctx := t.Context()
	s := newStore(t, 3)
	require.ErrorIs(t, s.Upsert(ctx, []vector.Item{{ID: "a", Vector: []float32{1, 0}}}), vector.ErrDim)
	require.ErrorIs(t, s.Upsert(ctx, []vector.Item{{ID: "a", Vector: []float32{1, 0, 0, 0}}}), vector.ErrDim)

	// A bad item rejects the whole call: the good one is not stored either.
	err := s.Upsert(ctx, []vector.Item{
		{ID: "good", Vector: []float32{1, 0, 0}},
		{ID: "bad", Vector: []float32{1}},
	})
	require.ErrorIs(t, err, vector.ErrDim)

	_, err = s.Search(ctx, []float32{1, 0}, 5, nil)
	require.ErrorIs(t, err, vector.ErrDim)
	_, err = s.Search(ctx, nil, 5, nil)
	require.ErrorIs(t, err, vector.ErrDim)

	hs, err := s.Search(ctx, []float32{1, 0, 0}, 5, nil)
	require.NoError(t, err)
	require.Empty(t, hs)
}

func itemWithoutID(t *testing.T, newStore NewStore) {
	ctx := t.Context()
	s := newStore(t, 2)
	require.Error(t, s.Upsert(ctx, []vector.Item{{Vector: []float32{1, 0}}}))
}

func payloadRoundTrip(t *testing.T, newStore NewStore) {
	ctx := t.Context()
	s := newStore(t, 2)
	rich := map[string]string{
		"doc":        "42",
		"empty":      "",
		"unicode":    "Grüße, 世界 🎙",
		"a.b":        "dotted key",
		"with space": "x",
		"json":       `{"not":"parsed"}`,
		"number":     "007", // stays a string
	}
	in := vector.Item{ID: "rich/ID with spaces & ünïcode", Vector: []float32{1, 0}, Payload: rich}
	require.NoError(t, s.Upsert(ctx, []vector.Item{in, {ID: "bare", Vector: []float32{0, 1}}}))
	require.Len(t, in.Payload, len(rich), "caller's payload not modified")
	require.Equal(t, []float32{1, 0}, in.Vector, "caller's vector not modified")

	hs, err := s.Search(ctx, []float32{1, 0}, 10, nil)
	require.NoError(t, err)
	require.Equal(t, []string{in.ID, "bare"}, ids(hs))
	require.Equal(t, rich, hs[0].Payload)
	require.Empty(t, hs[1].Payload)

	// Returned payloads are the caller's to change.
	hs[0].Payload["doc"] = "changed"
	hs, err = s.Search(ctx, []float32{1, 0}, 1, map[string]string{"doc": "42"})
	require.NoError(t, err)
	require.Equal(t, []string{in.ID}, ids(hs))
	require.Equal(t, "42", hs[0].Payload["doc"])
}

func emptyStore(t *testing.T, newStore NewStore) {
	ctx := t.Context()
	s := newStore(t, 4)
	hs, err := s.Search(ctx, []float32{1, 2, 3, 4}, 10, nil)
	require.NoError(t, err)
	require.Empty(t, hs)
	hs, err = s.Search(ctx, []float32{1, 2, 3, 4}, 10, map[string]string{"doc": "1"})
	require.NoError(t, err)
	require.Empty(t, hs)
}

// zeroVector pins Exact's behaviour: a stored zero vector scores 0 against
// any query (so it ranks between positive and negative matches), and a zero
// query has nothing to rank and returns no hits.
func zeroVector(t *testing.T, newStore NewStore) {
	ctx := t.Context()
	s := newStore(t, 3)
	require.NoError(t, s.Upsert(ctx, []vector.Item{
		{ID: "pos", Vector: []float32{1, 0, 0}},
		{ID: "zero", Vector: []float32{0, 0, 0}},
		{ID: "neg", Vector: []float32{-1, 0, 0}},
	}))
	hs, err := s.Search(ctx, []float32{2, 1, 0}, 10, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"pos", "zero", "neg"}, ids(hs))
	require.InDelta(t, 0, hs[1].Score, scoreDelta)

	hs, err = s.Search(ctx, []float32{0, 0, 0}, 10, nil)
	require.NoError(t, err)
	require.Empty(t, hs)
}

func canceledContext(t *testing.T, newStore NewStore) {
	s := newStore(t, 2)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := s.Search(ctx, []float32{1, 0}, 5, nil)
	require.ErrorIs(t, err, context.Canceled)
	require.ErrorIs(t, s.Upsert(ctx, []vector.Item{{ID: "a", Vector: []float32{1, 0}}}), context.Canceled)
	require.ErrorIs(t, s.Delete(ctx, "a"), context.Canceled)
}

func ids(hs []vector.Hit) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.ID)
	}
	return out
}

func randVec(r *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(r.NormFloat64())
	}
	return v
}

func cosine(a, b []float32) float64 {
	var d, na, nb float64
	for i := range a {
		d += float64(a[i]) * float64(b[i])
		na += float64(a[i]) * float64(a[i])
		nb += float64(b[i]) * float64(b[i])
	}
	return d / math.Sqrt(na*nb)
}

type scored struct {
	id    string
	score float64
}

// naive ranks the matching items by cosine with a full sort, ties by ID.
func naive(items map[string]vector.Item, q []float32, k int, filter map[string]string) []scored {
	var all []scored
	for id, it := range items {
		if matches(it.Payload, filter) {
			all = append(all, scored{id, cosine(q, it.Vector)})
		}
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].score != all[j].score {
			return all[i].score > all[j].score
		}
		return all[i].id < all[j].id
	})
	return all[:min(k, len(all))]
}

// checkRanking compares hits with the naive ranking up to float32 noise:
// near-tied items may swap (each store rounds differently), so rank i must
// hold an item whose true cosine is that of naive rank i.
func checkRanking(t *testing.T, items map[string]vector.Item, q []float32, hs []vector.Hit, want []scored, filter map[string]string) {
	t.Helper()
	require.Len(t, hs, len(want), "filter %v", filter)
	seen := map[string]bool{}
	for i, h := range hs {
		it, ok := items[h.ID]
		require.True(t, ok, "hit %s is not stored", h.ID)
		require.False(t, seen[h.ID], "hit %s twice", h.ID)
		seen[h.ID] = true
		require.True(t, matches(it.Payload, filter), "hit %s does not match %v", h.ID, filter)
		c := cosine(q, it.Vector)
		require.InDelta(t, c, float64(h.Score), scoreDelta, "score of %s", h.ID)
		require.InDelta(t, want[i].score, c, scoreDelta, "rank %d: got %s, want %s", i, h.ID, want[i].id)
	}
}

func matches(p, filter map[string]string) bool {
	for k, v := range filter {
		if pv, ok := p[k]; !ok || pv != v {
			return false
		}
	}
	return true
}
