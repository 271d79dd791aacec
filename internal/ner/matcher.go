package ner

// matcher is a trie over word ids: edges maps (parent node, word id) to the child node, which
// keeps the whole vocabulary in two flat maps instead of one map per node.
type matcher struct {
	dict     map[string]int32 // lookup form -> word id (shared by the entity and trigger tries)
	edges    map[uint64]int32
	nodes    int32
	terminal map[int32][]int32 // node -> entries (at most one per type)
	entries  []entry
	phrases  map[int32]string   // node -> a spelling; only while counting a lexicon
	vocab    map[int32]bool     // nodes of the vocabularies; only while counting a lexicon
	suffix   map[string][]entry // word ending -> one entry per type (lexicon "*" rows)
	modifier map[modKey]float64 // "<word" / ">word" and type -> share inside mentions
}

type entry struct {
	typ      Type
	norm     *Normalized
	conf     float64
	prior    float64 // the source's confidence before the training counts
	ann, occ int     // training lexicon: times annotated, times seen
	kind     trigKind
	exact    bool // trigger: spelled like its key
}

func newMatcher(dict map[string]int32) *matcher {
	return &matcher{dict: dict, edges: map[uint64]int32{}, nodes: 1, terminal: map[int32][]int32{}}
}

func (m *matcher) intern(form string) int32 {
	if id, ok := m.dict[form]; ok {
		return id
	}
	id := int32(len(m.dict))
	m.dict[form] = id
	return id
}

// insert adds the path of forms and returns its node (0 for an empty phrase).
func (m *matcher) insert(forms []string) int32 {
	node := int32(0)
	for _, f := range forms {
		k := uint64(node)<<32 | uint64(uint32(m.intern(f)))
		child, ok := m.edges[k]
		if !ok {
			child = m.nodes
			m.nodes++
			m.edges[k] = child
		}
		node = child
	}
	return node
}

// lookup finds the node of a phrase without adding it, or -1.
func (m *matcher) lookup(forms []string) int32 {
	node := int32(0)
	for _, f := range forms {
		id, ok := m.dict[f]
		if !ok {
			return -1
		}
		child, ok := m.edges[uint64(node)<<32|uint64(uint32(id))]
		if !ok {
			return -1
		}
		node = child
	}
	if node == 0 {
		return -1
	}
	return node
}

// entryFor returns the entry of node and type, creating it with prior when missing.
func (m *matcher) entryFor(node int32, t Type, prior float64) *entry {
	for _, i := range m.terminal[node] {
		if m.entries[i].typ == t {
			return &m.entries[i]
		}
	}
	m.entries = append(m.entries, entry{typ: t, conf: prior, prior: prior})
	m.terminal[node] = append(m.terminal[node], int32(len(m.entries)-1))
	return &m.entries[len(m.entries)-1]
}

// best is the most confident entry of node passing the filters, or -1.
func (m *matcher) best(node int32, min float64, keep func(Type) bool) int32 {
	b := int32(-1)
	for _, i := range m.terminal[node] {
		e := &m.entries[i]
		if e.conf < min || !keep(e.typ) {
			continue
		}
		if b < 0 || e.conf > m.entries[b].conf {
			b = i
		}
	}
	return b
}

type walk struct {
	node int32
	next int // token index
}

// walk calls fn(end, node) for every phrase of the trie that starts at token i (end
// exclusive). An all-capitals word follows both its acronym and its lower-case form.
func (m *matcher) walk(toks []token, i int, stack []walk, fn func(end int, node int32)) {
	stack = append(stack, walk{0, i})
	for len(stack) > 0 {
		w := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if w.next >= len(toks) {
			continue
		}
		t := &toks[w.next]
		for _, id := range [2]int32{t.lower, t.upper} {
			if id < 0 {
				continue
			}
			child, ok := m.edges[uint64(w.node)<<32|uint64(uint32(id))]
			if !ok {
				continue
			}
			if _, ok := m.terminal[child]; ok {
				fn(w.next+1, child)
			}
			stack = append(stack, walk{child, w.next + 1})
		}
	}
}

// known: the word alone is a phrase of the trie (whatever its confidence), so the lexicon
// has a say on it and an ending must not overrule it.
func (m *matcher) known(t token) bool {
	for _, id := range [2]int32{t.lower, t.upper} {
		if id < 0 {
			continue
		}
		if child, ok := m.edges[uint64(uint32(id))]; ok {
			if _, ok := m.terminal[child]; ok {
				return true
			}
		}
	}
	return false
}

// phraseOf: token first followed by tokens [from, to) is a phrase with an entry of type t
// and at least confidence min.
func (m *matcher) phraseOf(toks []token, first, from, to int, t Type, min float64) bool {
	for _, id := range [2]int32{toks[first].lower, toks[first].upper} {
		if id < 0 {
			continue
		}
		node, ok := m.edges[uint64(uint32(id))]
		for k := from; ok && k < to; k++ {
			next := int32(-1)
			for _, id2 := range [2]int32{toks[k].lower, toks[k].upper} {
				if id2 < 0 {
					continue
				}
				if n, ok2 := m.edges[uint64(node)<<32|uint64(uint32(id2))]; ok2 {
					next = n
					break
				}
			}
			node, ok = next, next >= 0
		}
		if !ok {
			continue
		}
		for _, ei := range m.terminal[node] {
			if e := &m.entries[ei]; e.typ == t && e.conf >= min {
				return true
			}
		}
	}
	return false
}

// startsAt: a phrase of the trie starts at token i.
func (m *matcher) startsAt(toks []token, i int) bool {
	found := false
	var stack [16]walk
	m.walk(toks, i, stack[:0], func(int, int32) { found = true })
	return found
}
