// Package ner finds clinical entities (diseases, drugs, and procedures, anatomy and lab tests
// from small hand-written lists) in free text, offline and deterministically: longest match
// over openly licensed vocabularies and a lexicon counted on training corpora, abbreviations
// defined in the text, and NegEx-style rules for negation, uncertainty, history and family.
// docs/medical-ai.md ("Entity extraction") describes the rules, sources and limits.
package ner

import (
	"fmt"
	"os"
	"sort"
	"sync"
)

// Type is the kind of an entity.
type Type string

const (
	Disease   Type = "disease"
	Drug      Type = "drug"
	Procedure Type = "procedure"
	Anatomy   Type = "anatomy"
	Lab       Type = "lab"
)

// Types lists every type in a stable order.
var Types = []Type{Disease, Drug, Procedure, Anatomy, Lab}

// Valid reports whether t is one of Types.
func (t Type) Valid() bool { return typeIndex(t) != 0 }

// Normalized names the vocabulary concept of an entity: drugs {"fda", generic name in lower
// case, generic name}, diseases {"doid", "DOID:1234", ontology name}.
type Normalized struct{ Vocabulary, ID, Name string }

// Entity is one mention. Start and End are offsets in Unicode code points, End exclusive.
type Entity struct {
	Text                                   string
	Type                                   Type
	Start, End                             int
	Normalized                             *Normalized
	Negated, Uncertain, Historical, Family bool
	Confidence                             float64
}

// Options select what Extract returns. Empty Types means every type. MinConfidence <= 0
// means DefaultMinConfidence (chosen on the training corpora, see docs/benchmarks.md).
type Options struct {
	Types          []Type
	DetectNegation bool
	MinConfidence  float64
}

// DefaultMinConfidence is the confidence cut-off used when Options.MinConfidence is zero.
const DefaultMinConfidence = 0.45

// Extractor holds the compiled vocabularies; it is safe for concurrent use.
type Extractor struct {
	m        *matcher
	triggers *matcher // context triggers share m's word ids
	toks     sync.Pool

	// deferred builds m and triggers on first use (Deferred); nil when built at once.
	deferred func() (*Extractor, error)
	once     sync.Once
	err      error
}

// Deferred is the extractor of the embedded data (Default), built on its first use instead
// of now: the server starts without waiting for the dictionaries (0.2–0.6 s, ~12 MB) and
// without holding them until entities are asked for. A build error (impossible for the
// embedded data, which the tests load) makes Extract find nothing and Err report it.
func Deferred() *Extractor { return &Extractor{deferred: Default} }

// ready builds a deferred extractor once.
func (x *Extractor) ready() bool {
	if x.deferred == nil {
		return true
	}
	x.once.Do(func() {
		var y *Extractor
		if y, x.err = x.deferred(); x.err == nil {
			x.m, x.triggers = y.m, y.triggers
			x.toks.New = y.toks.New
		}
	})
	return x.err == nil
}

// Err reports why a deferred extractor could not be built (after its first use).
func (x *Extractor) Err() error {
	x.ready()
	return x.err
}

var defaultExtractor = sync.OnceValues(func() (*Extractor, error) { return Load("") })

// Default returns the extractor built from the embedded data, built once on first use.
func Default() (*Extractor, error) { return defaultExtractor() }

// Load builds an extractor from dir: each data file present there replaces the embedded one
// of the same name (see data/README.md for the names). dir "" uses the embedded data only;
// a dir that is not a directory is an error (a misconfiguration, not a fallback).
func Load(dir string) (*Extractor, error) {
	if dir != "" {
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return nil, fmt.Errorf("ner: data directory %q: not a directory (%v)", dir, err)
		}
	}
	m, trig, err := build(dataFS(dir))
	if err != nil {
		return nil, err
	}
	x := &Extractor{m: m, triggers: trig}
	x.toks.New = func() any { s := make([]token, 0, 256); return &s }
	return x, nil
}

// cand is an entity with its token span.
type cand struct {
	s, e int // token indices, e exclusive
	Entity
}

// Extract returns the entities of text, sorted by Start, never overlapping.
func (x *Extractor) Extract(text string, o Options) []Entity {
	if text == "" || !x.ready() {
		return nil
	}
	min := o.MinConfidence
	if min <= 0 {
		min = DefaultMinConfidence
	}
	var want [8]bool
	for _, t := range o.Types {
		want[typeIndex(t)] = true
	}
	allTypes := len(o.Types) == 0
	keep := func(t Type) bool { return allTypes || want[typeIndex(t)] }

	tp := x.toks.Get().(*[]token)
	toks := tokenize(text, x.m.dict, (*tp)[:0])
	defer func() { *tp = toks[:0]; x.toks.Put(tp) }()

	cands := x.match(text, toks, min, keep)
	for i := range cands {
		prevEnd, nextStart := 0, len(toks)
		if i > 0 {
			prevEnd = cands[i-1].e
		}
		if i+1 < len(cands) {
			nextStart = cands[i+1].s
		}
		c := &cands[i]
		s, e := c.s, c.e
		x.m.grow(text, toks, c, prevEnd, nextStart, x.triggers)
		if c.s != s || c.e != e {
			c.Text = text[toks[c.s].bstart:toks[c.e-1].bend]
			c.Start, c.End = toks[c.s].start, toks[c.e-1].end
		}
	}
	x.coordinate(text, toks, cands, min)
	cands = x.abbreviations(text, toks, cands, keep)
	if o.DetectNegation && len(cands) > 0 {
		x.context(toks, cands)
	}
	out := make([]Entity, len(cands))
	var norms []Normalized // copies: callers may change them without touching the vocabulary
	for i := range cands {
		out[i] = cands[i].Entity
		if n := out[i].Normalized; n != nil {
			if norms == nil {
				norms = make([]Normalized, 0, len(cands))
			}
			norms = append(norms, *n)
			out[i].Normalized = &norms[len(norms)-1]
		}
	}
	return out
}

func typeIndex(t Type) int {
	for i, u := range Types {
		if u == t {
			return i + 1
		}
	}
	return 0
}

// match takes, left to right, the longest vocabulary match at each token whose entry
// passes the confidence cut-off and the type filter.
func (x *Extractor) match(text string, toks []token, min float64, keep func(Type) bool) []cand {
	var cands []cand
	var stack [16]walk
	for i := 0; i < len(toks); {
		bestEnd, bestEntry := -1, int32(-1)
		x.m.walk(toks, i, stack[:0], func(end int, node int32) {
			if end <= bestEnd {
				return
			}
			if e := x.m.best(node, min, keep); e >= 0 {
				bestEnd, bestEntry = end, e
			}
		})
		if bestEntry < 0 {
			// a word no vocabulary knows, taken by its ending
			if en := x.m.guess(text, toks[i], min, keep); en != nil && !x.m.known(toks[i]) {
				cands = append(cands, cand{s: i, e: i + 1, Entity: Entity{
					Text: text[toks[i].bstart:toks[i].bend], Type: en.typ,
					Start: toks[i].start, End: toks[i].end, Confidence: en.conf,
				}})
			}
			i++
			continue
		}
		en := &x.m.entries[bestEntry]
		cands = append(cands, cand{s: i, e: bestEnd, Entity: Entity{
			Text: text[toks[i].bstart:toks[bestEnd-1].bend], Type: en.typ,
			Start: toks[i].start, End: toks[bestEnd-1].end, Normalized: en.norm, Confidence: en.conf,
		}})
		i = bestEnd
	}
	return cands
}

func sortCands(c []cand) {
	sort.Slice(c, func(i, j int) bool { return c[i].s < c[j].s })
}

// Annotate sets Negated, Uncertain, Historical and Family on entities found by other means
// (a model pass, a gold standard) with the same rules Extract uses; their offsets must be
// code point offsets into text. Entities that cover no whole word are left as they are.
func (x *Extractor) Annotate(text string, ents []Entity) {
	if len(ents) == 0 || !x.ready() {
		return
	}
	tp := x.toks.Get().(*[]token)
	toks := tokenize(text, x.m.dict, (*tp)[:0])
	defer func() { *tp = toks[:0]; x.toks.Put(tp) }()
	cands := make([]cand, 0, len(ents))
	idx := make([]int, 0, len(ents))
	for i, e := range ents {
		s := sort.Search(len(toks), func(k int) bool { return toks[k].start >= e.Start })
		t := s
		for t < len(toks) && toks[t].end <= e.End {
			t++
		}
		if t == s {
			continue
		}
		cands = append(cands, cand{s: s, e: t})
		idx = append(idx, i)
	}
	// context wants sorted, non-overlapping spans; gold and model spans usually are
	order := make([]int, len(cands))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return cands[order[a]].s < cands[order[b]].s })
	sorted := make([]cand, len(cands))
	for i, o := range order {
		sorted[i] = cands[o]
	}
	x.context(toks, sorted)
	for i, o := range order {
		e := &ents[idx[o]]
		c := sorted[i]
		e.Negated, e.Uncertain, e.Historical, e.Family = c.Negated, c.Uncertain, c.Historical, c.Family
	}
}

// coordinate joins "breast and ovarian cancer" into one mention, as the corpora annotate it:
// an entity "ovarian cancer" preceded by "W and" or "W or", where W is no entity and "W cancer"
// is a phrase of the same type ("Duchenne and Becker muscular dystrophy" likewise).
func (x *Extractor) coordinate(text string, toks []token, cands []cand, min float64) {
	for i := range cands {
		c := &cands[i]
		w := c.s - 2
		if w < 0 || c.e-c.s < 2 || i > 0 && cands[i-1].e > w || toks[w].punct || toks[c.s-1].punct {
			continue
		}
		if conj := text[toks[c.s-1].bstart:toks[c.s-1].bend]; conj != "and" && conj != "or" {
			continue
		}
		if !x.m.phraseOf(toks, w, c.s+1, c.e, c.Type, min) {
			continue
		}
		c.s = w
		c.Text = text[toks[c.s].bstart:toks[c.e-1].bend]
		c.Start = toks[c.s].start
		c.Normalized = nil // two concepts: one id would name only the second
	}
}
