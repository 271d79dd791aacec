// Package vector stores embedding vectors and finds the nearest ones to a
// query by cosine similarity.
//
// Store is shaped after Qdrant (string point ids, a payload of string
// attributes, payload equality filters), so that a Qdrant-backed store can
// replace the in-process Exact store without changing callers.
package vector

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
	"sync"

	"github.com/viterin/vek/vek32"
)

// Item is one stored vector.
type Item struct {
	ID     string
	Vector []float32
	// Payload holds exact-match attributes (document id, tags) for filters.
	Payload map[string]string
}

// Hit is one search result: Score is the cosine similarity, higher is better.
type Hit struct {
	ID      string
	Score   float32
	Payload map[string]string
}

// Store is a vector index.
type Store interface {
	// Upsert inserts items or replaces those with the same ID.
	Upsert(ctx context.Context, items []Item) error
	// Delete removes items by ID; unknown IDs are ignored.
	Delete(ctx context.Context, ids ...string) error
	// Search returns the k items most similar to q, best first, among those
	// whose payload contains every key/value pair of filter.
	Search(ctx context.Context, q []float32, k int, filter map[string]string) ([]Hit, error)
}

// ErrDim reports a vector of the wrong dimension.
var ErrDim = errors.New("vector: dimension mismatch")

// Exact is an in-process Store that scans every vector (brute force), so its
// results are exact. Vectors are L2-normalised on the way in and kept in one
// contiguous float32 slice; the dot products use SIMD (viterin/vek, AVX2 where
// the CPU has it). It is safe for concurrent use.
type Exact struct {
	dim int

	mu      sync.RWMutex
	ids     []string
	vecs    []float32 // len(ids)*dim
	payload []map[string]string
	pos     map[string]int
}

var _ Store = (*Exact)(nil)

// NewExact returns an empty exact store for vectors of dimension dim.
func NewExact(dim int) *Exact {
	if dim <= 0 {
		panic("vector: dimension must be positive")
	}
	return &Exact{dim: dim, pos: make(map[string]int)}
}

// Dim is the vector dimension.
func (s *Exact) Dim() int { return s.dim }

// Len is the number of stored items.
func (s *Exact) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.ids)
}

// Upsert implements Store. A zero vector is stored as is and matches nothing
// better than score 0.
func (s *Exact) Upsert(ctx context.Context, items []Item) error {
	for _, it := range items {
		if err := checkItem(it, s.dim); err != nil {
			return err
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.vecs = slices.Grow(s.vecs, len(items)*s.dim)
	for _, it := range items {
		j, ok := s.pos[it.ID]
		if !ok {
			j = len(s.ids)
			s.pos[it.ID] = j
			s.ids = append(s.ids, it.ID)
			s.vecs = s.vecs[:len(s.vecs)+s.dim]
			s.payload = append(s.payload, nil)
		}
		v := s.vecs[j*s.dim : (j+1)*s.dim]
		copy(v, it.Vector)
		normalize(v)
		s.payload[j] = clonePayload(it.Payload)
	}
	return nil
}

// Delete implements Store.
func (s *Exact) Delete(ctx context.Context, ids ...string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, id := range ids {
		j, ok := s.pos[id]
		if !ok {
			continue
		}
		last := len(s.ids) - 1
		if j != last { // move the last item into the hole
			s.ids[j] = s.ids[last]
			s.payload[j] = s.payload[last]
			copy(s.vecs[j*s.dim:(j+1)*s.dim], s.vecs[last*s.dim:])
			s.pos[s.ids[j]] = j
		}
		s.ids = s.ids[:last]
		s.payload = s.payload[:last]
		s.vecs = s.vecs[:last*s.dim]
		delete(s.pos, id)
	}
	return nil
}

// Search implements Store. k <= 0 means 10. Ties are broken by ID.
func (s *Exact) Search(ctx context.Context, q []float32, k int, filter map[string]string) ([]Hit, error) {
	k, err := searchArgs(ctx, s.dim, q, k)
	if err != nil {
		return nil, err
	}
	qn := make([]float32, s.dim)
	copy(qn, q)
	if !normalize(qn) {
		return nil, nil
	}

	s.mu.RLock()
	defer s.mu.RUnlock()
	top := topK{k: k}
	for j := range s.ids {
		if len(filter) > 0 && !matches(s.payload[j], filter) {
			continue
		}
		top.push(cand{idx: j, score: dot(qn, s.vecs[j*s.dim:(j+1)*s.dim]), id: s.ids[j]})
	}
	hits := make([]Hit, len(top.h))
	sort.Slice(top.h, func(a, b int) bool { return top.h[b].less(top.h[a]) })
	for i, c := range top.h {
		hits[i] = Hit{ID: c.id, Score: c.score, Payload: clonePayload(s.payload[c.idx])}
	}
	return hits, nil
}

// dot is the SIMD dot product (AVX2 when available, else vek's Go fallback).
func dot(x, y []float32) float32 { return vek32.Dot(x, y) }

func matches(p, filter map[string]string) bool {
	for k, v := range filter {
		if pv, ok := p[k]; !ok || pv != v {
			return false
		}
	}
	return true
}

func clonePayload(p map[string]string) map[string]string {
	if len(p) == 0 {
		return nil
	}
	c := make(map[string]string, len(p))
	for k, v := range p {
		c[k] = v
	}
	return c
}

func normalize(v []float32) bool {
	n := vek32.Norm(v)
	if n == 0 || math.IsNaN(float64(n)) {
		return false
	}
	vek32.MulNumber_Inplace(v, 1/n)
	return true
}

type cand struct {
	idx   int
	score float32
	id    string
}

// less orders candidates worst first: lower score, then larger ID.
func (a cand) less(b cand) bool {
	if a.score != b.score {
		return a.score < b.score
	}
	return a.id > b.id
}

// topK is a bounded min-heap keeping the k best candidates.
type topK struct {
	k int
	h []cand
}

func (t *topK) push(c cand) {
	if len(t.h) < t.k {
		t.h = append(t.h, c)
		t.up(len(t.h) - 1)
		return
	}
	if !t.h[0].less(c) {
		return
	}
	t.h[0] = c
	t.down(0)
}

func (t *topK) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !t.h[i].less(t.h[p]) {
			return
		}
		t.h[i], t.h[p] = t.h[p], t.h[i]
		i = p
	}
}

func (t *topK) down(i int) {
	n := len(t.h)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && t.h[r].less(t.h[l]) {
			m = r
		}
		if !t.h[m].less(t.h[i]) {
			return
		}
		t.h[i], t.h[m] = t.h[m], t.h[i]
		i = m
	}
}

// searchArgs checks a Search call the same way for every store: the query must have the
// store's dimension and ctx must be live; k <= 0 means 10.
func searchArgs(ctx context.Context, dim int, q []float32, k int) (int, error) {
	if len(q) != dim {
		return 0, fmt.Errorf("%w: query has %d, store has %d", ErrDim, len(q), dim)
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if k <= 0 {
		k = 10
	}
	return k, nil
}

// checkItem is what every store requires of an item to upsert: an ID and the store's dimension.
func checkItem(it Item, dim int) error {
	if it.ID == "" {
		return errors.New("vector: item without ID")
	}
	if len(it.Vector) != dim {
		return fmt.Errorf("%w: item %s has %d, store has %d", ErrDim, it.ID, len(it.Vector), dim)
	}
	return nil
}
