package vector

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sort"
	"testing"

	"github.com/stretchr/testify/require"
)

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

// naive ranks all items by cosine with a full sort.
func naive(items map[string]Item, q []float32, k int, filter map[string]string) []string {
	type sc struct {
		id string
		s  float64
	}
	var all []sc
	for id, it := range items {
		if !matches(it.Payload, filter) {
			continue
		}
		all = append(all, sc{id, cosine(q, it.Vector)})
	}
	sort.Slice(all, func(i, j int) bool {
		if all[i].s != all[j].s {
			return all[i].s > all[j].s
		}
		return all[i].id < all[j].id
	})
	var ids []string
	for _, x := range all[:min(k, len(all))] {
		ids = append(ids, x.id)
	}
	return ids
}

func hitIDs(hs []Hit) []string {
	var ids []string
	for _, h := range hs {
		ids = append(ids, h.ID)
	}
	return ids
}

func TestExactMatchesNaiveSort(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	r := rand.New(rand.NewPCG(1, 2))
	const dim = 48
	s := NewExact(dim)
	items := map[string]Item{}
	var batch []Item
	for i := range 600 {
		it := Item{ID: fmt.Sprintf("i%03d", i), Vector: randVec(r, dim), Payload: map[string]string{"doc": fmt.Sprint(i % 7), "lang": []string{"en", "de"}[i%2]}}
		items[it.ID] = it
		batch = append(batch, it)
	}
	require.NoError(t, s.Upsert(ctx, batch))
	require.Equal(t, 600, s.Len())

	check := func() {
		t.Helper()
		for range 20 {
			q := randVec(r, dim)
			for _, k := range []int{1, 10, 100, 1000} {
				for _, f := range []map[string]string{nil, {"doc": "3"}, {"doc": "3", "lang": "en"}, {"doc": "99"}} {
					hs, err := s.Search(ctx, q, k, f)
					require.NoError(t, err)
					require.Equal(t, naive(items, q, k, f), hitIDs(hs), "k=%d filter=%v", k, f)
					for i, h := range hs {
						require.InDelta(t, cosine(q, items[h.ID].Vector), float64(h.Score), 1e-5)
						if i > 0 {
							require.GreaterOrEqual(t, hs[i-1].Score, h.Score)
						}
						for fk, fv := range f {
							require.Equal(t, fv, h.Payload[fk])
						}
					}
				}
			}
		}
	}
	check()

	// Replace some, delete some (including the last and a missing ID), check again.
	var upd []Item
	for i := 0; i < 600; i += 3 {
		id := fmt.Sprintf("i%03d", i)
		it := Item{ID: id, Vector: randVec(r, dim), Payload: map[string]string{"doc": "3"}}
		items[id] = it
		upd = append(upd, it)
	}
	require.NoError(t, s.Upsert(ctx, upd))
	var del []string
	for i := 1; i < 600; i += 5 {
		id := fmt.Sprintf("i%03d", i)
		delete(items, id)
		del = append(del, id)
	}
	del = append(del, "i599", "nope")
	delete(items, "i599")
	require.NoError(t, s.Delete(ctx, del...))
	require.Equal(t, len(items), s.Len())
	check()
}

func TestExactBasics(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := NewExact(3)
	require.NoError(t, s.Upsert(ctx, []Item{
		{ID: "x", Vector: []float32{10, 0, 0}, Payload: map[string]string{"t": "a"}},
		{ID: "y", Vector: []float32{1, 1, 0}},
		{ID: "z", Vector: []float32{0, 0, 0}}, // zero vector: score 0
	}))
	hs, err := s.Search(ctx, []float32{2, 0, 0}, 0, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"x", "y", "z"}, hitIDs(hs))
	require.InDelta(t, 1, hs[0].Score, 1e-6)
	require.InDelta(t, 1/math.Sqrt2, hs[1].Score, 1e-6)
	require.Zero(t, hs[2].Score)
	require.Equal(t, map[string]string{"t": "a"}, hs[0].Payload)

	// Returned payloads are copies.
	hs[0].Payload["t"] = "changed"
	hs, err = s.Search(ctx, []float32{1, 0, 0}, 1, map[string]string{"t": "a"})
	require.NoError(t, err)
	require.Equal(t, "a", hs[0].Payload["t"])

	// The stored vector is a normalised copy.
	in := []float32{0, 5, 0}
	require.NoError(t, s.Upsert(ctx, []Item{{ID: "w", Vector: in}}))
	require.Equal(t, []float32{0, 5, 0}, in)

	// Zero query: nothing to rank.
	hs, err = s.Search(ctx, []float32{0, 0, 0}, 5, nil)
	require.NoError(t, err)
	require.Empty(t, hs)

	_, err = s.Search(ctx, []float32{1, 0}, 5, nil)
	require.ErrorIs(t, err, ErrDim)
	require.ErrorIs(t, s.Upsert(ctx, []Item{{ID: "bad", Vector: []float32{1}}}), ErrDim)
	require.Error(t, s.Upsert(ctx, []Item{{Vector: []float32{1, 2, 3}}}))

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = s.Search(cctx, []float32{1, 0, 0}, 5, nil)
	require.ErrorIs(t, err, context.Canceled)
}

func TestExactConcurrent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s := NewExact(8)
	r := rand.New(rand.NewPCG(3, 4))
	done := make(chan struct{})
	go func() {
		defer close(done)
		rr := rand.New(rand.NewPCG(5, 6))
		for i := range 200 {
			_ = s.Upsert(ctx, []Item{{ID: fmt.Sprint(i % 50), Vector: randVec(rr, 8)}})
			if i%7 == 0 {
				_ = s.Delete(ctx, fmt.Sprint(i%50))
			}
		}
	}()
	for range 200 {
		_, err := s.Search(ctx, randVec(r, 8), 5, nil)
		require.NoError(t, err)
	}
	<-done
}

// BenchmarkExactSearch measures one query against 5,000 x 384 vectors
// (k = 10, no filter).
func BenchmarkExactSearch(b *testing.B) {
	for _, n := range []int{5000, 10000} {
		b.Run(fmt.Sprintf("%dx384", n), func(b *testing.B) {
			ctx := context.Background()
			r := rand.New(rand.NewPCG(7, 8))
			s := NewExact(384)
			items := make([]Item, n)
			for i := range items {
				items[i] = Item{ID: fmt.Sprint(i), Vector: randVec(r, 384)}
			}
			if err := s.Upsert(ctx, items); err != nil {
				b.Fatal(err)
			}
			q := randVec(r, 384)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Search(ctx, q, 10, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkDot compares vek's SIMD dot product with a plain loop at 384.
func BenchmarkDot(b *testing.B) {
	r := rand.New(rand.NewPCG(9, 10))
	x, y := randVec(r, 384), randVec(r, 384)
	var sink float32
	b.Run("vek", func(b *testing.B) {
		for b.Loop() {
			sink += dot(x, y)
		}
	})
	b.Run("loop", func(b *testing.B) {
		for b.Loop() {
			var s float32
			for i := range x {
				s += x[i] * y[i]
			}
			sink += s
		}
	})
	_ = sink
}
