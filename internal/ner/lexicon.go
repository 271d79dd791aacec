package ner

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"
)

// Mention is an annotated span of a training document (code point offsets, end exclusive).
type Mention struct {
	Start, End int
	Type       Type
}

// Doc is an annotated training document.
type Doc struct {
	Text     string
	Mentions []Mention
}

// Corpus is a set of documents and the types its annotators marked: a string of another
// type found there counts neither for nor against that type.
type Corpus struct {
	Docs  []Doc
	Types []Type
}

// WriteLexicon counts, over the corpora, how often each annotated string and each
// vocabulary phrase occurs as a whole mention ("annotated") and how often it occurs at all
// where it could have been one ("occurrences": as the exact mention, outside every mention,
// or across a mention's boundary, where taking it gives a wrong span), and writes the
// lexicon file (lexicon-train.tsv): strings, types and counts, never the documents' text.
// Load turns the counts into confidences.
//
// Rows whose text starts with "<" or ">" count modifiers: how often a word is the first
// (last) word of a longer mention, against how often it stands right before (after) a
// mention, outside it. Rows whose text starts with "*" count word endings ("*azole"): over the words no
// vocabulary knows and no other training document annotates (the words the extractor will
// meet unseen), how often a word with that ending was a whole mention of the type.
func WriteLexicon(corpora []Corpus, w io.Writer) error {
	m, _, err := buildWith(overlay{noLexicon: true}, true)
	if err != nil {
		return err
	}
	// every mention string becomes a phrase of the trie
	type key struct {
		node int32
		t    Type
	}
	surfaces := map[key]map[string]int{}
	for _, c := range corpora {
		for _, d := range c.Docs {
			cps := codePointIndex(d.Text)
			for _, mn := range d.Mentions {
				s := d.Text[cps[mn.Start]:cps[mn.End]]
				forms := keyTokens(s)
				if len(forms) == 0 || len(forms) > maxPhraseWords {
					continue
				}
				node := m.insert(forms)
				m.entryFor(node, mn.Type, priorLexicon)
				k := key{node, mn.Type}
				if surfaces[k] == nil {
					surfaces[k] = map[string]int{}
				}
				surfaces[k][s]++
			}
		}
	}
	ann := map[key]int{}
	occ := map[key]int{}
	// documents annotating each node, to tell the words only this document annotates
	docsOf := map[int32]int{}
	for _, c := range corpora {
		for _, d := range c.Docs {
			seen := map[int32]bool{}
			cps := codePointIndex(d.Text)
			for _, mn := range d.Mentions {
				if n := m.lookup(keyTokens(d.Text[cps[mn.Start]:cps[mn.End]])); n > 0 && !seen[n] {
					seen[n] = true
					docsOf[n]++
				}
			}
		}
	}
	type skey struct {
		suffix string
		t      Type
	}
	sAnn, sOcc := map[skey]int{}, map[skey]int{}
	type mkey struct {
		side byte
		word string
		t    Type
	}
	mAnn, mOcc := map[mkey]int{}, map[mkey]int{}
	var stack [16]walk
	for _, c := range corpora {
		for _, d := range c.Docs {
			toks := tokenize(d.Text, m.dict, nil)
			// gold mention covering each token, and the token span of each mention
			goldAt := make([]int, len(toks))
			for i := range goldAt {
				goldAt[i] = -1
			}
			type span struct{ s, e int }
			spans := make([]span, len(d.Mentions))
			for gi, mn := range d.Mentions {
				spans[gi] = span{-1, -1}
				for ti := range toks {
					if toks[ti].start >= mn.Start && toks[ti].end <= mn.End {
						goldAt[ti] = gi
						if spans[gi].s < 0 {
							spans[gi].s = ti
						}
						spans[gi].e = ti + 1
					}
				}
			}
			// modifiers: how often a word next to a mention is inside it ("familial",
			// "X-linked" before; "A" in "hemophilia A" after) and how often just outside
			for gi, sp := range spans {
				if sp.s < 0 {
					continue
				}
				t := d.Mentions[gi].Type
				if sp.e-sp.s >= 2 {
					if !toks[sp.s].punct {
						mAnn[mkey{'<', keyForm(d.Text, toks[sp.s]), t}]++
						mOcc[mkey{'<', keyForm(d.Text, toks[sp.s]), t}]++
					}
					if !toks[sp.e-1].punct {
						mAnn[mkey{'>', keyForm(d.Text, toks[sp.e-1]), t}]++
						mOcc[mkey{'>', keyForm(d.Text, toks[sp.e-1]), t}]++
					}
				}
				if sp.s > 0 && !toks[sp.s-1].punct && goldAt[sp.s-1] < 0 {
					mOcc[mkey{'<', keyForm(d.Text, toks[sp.s-1]), t}]++
				}
				if sp.e < len(toks) && !toks[sp.e].punct && goldAt[sp.e] < 0 {
					mOcc[mkey{'>', keyForm(d.Text, toks[sp.e]), t}]++
				}
			}
			annotatedHere := map[int32]bool{}
			for _, sp := range spans {
				if sp.s >= 0 && sp.e == sp.s+1 {
					if n := m.lookup([]string{wordForm(d.Text, toks[sp.s])}); n > 0 {
						annotatedHere[n] = true
					}
				}
			}
			for i := range toks {
				// endings: words unknown to the vocabularies and to every other document
				if w, ok := guessable(d.Text, toks[i]); ok {
					n := m.lookup([]string{wordForm(d.Text, toks[i])})
					known := n > 0 && (m.vocab[n] || docsOf[n] > 1 || docsOf[n] == 1 && !annotatedHere[n])
					g := goldAt[i]
					inside := g >= 0 && (spans[g].s != i || spans[g].e != i+1 || toks[i].start != d.Mentions[g].Start || toks[i].end != d.Mentions[g].End)
					if !known && !inside {
						for _, suf := range guessKeys(w) {
							for _, t := range c.Types {
								k := skey{suf, t}
								sOcc[k]++
								if g >= 0 && d.Mentions[g].Type == t {
									sAnn[k]++
								}
							}
						}
					}
				}
				m.walk(toks, i, stack[:0], func(end int, node int32) {
					exact := -1
					if g := goldAt[i]; g >= 0 && spans[g].s == i && spans[g].e == end &&
						toks[i].start == d.Mentions[g].Start && toks[end-1].end == d.Mentions[g].End {
						exact = g
					}
					// strictly inside one mention: neither for nor against (the longer match
					// wins there); across or around a mention it is a wrong span, so it counts
					if exact < 0 {
						if g := goldAt[i]; g >= 0 && goldAt[end-1] == g && (spans[g].s < i || spans[g].e > end) {
							return
						}
					}
					for _, ei := range m.terminal[node] {
						t := m.entries[ei].typ
						if !hasType(c.Types, t) {
							continue
						}
						k := key{node, t}
						occ[k]++
						if exact >= 0 && d.Mentions[exact].Type == t {
							ann[k]++
						}
					}
				})
			}
		}
	}
	type row struct {
		text     string
		t        Type
		ann, occ int
	}
	var rows []row
	for k, o := range occ {
		s := mostFrequent(surfaces[k])
		if s == "" {
			s = m.phrases[k.node]
		}
		if s == "" {
			continue
		}
		rows = append(rows, row{s, k.t, ann[k], o})
	}
	for k, o := range mOcc {
		if o >= minModifierSupport {
			rows = append(rows, row{string(k.side) + k.word, k.t, mAnn[k], o})
		}
	}
	for k, o := range sOcc {
		if o >= minSuffixSupport {
			rows = append(rows, row{"*" + k.suffix, k.t, sAnn[k], o})
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if rows[i].t != rows[j].t {
			return rows[i].t < rows[j].t
		}
		return rows[i].text < rows[j].text
	})
	bw := bufio.NewWriter(w)
	fmt.Fprintf(bw, "text\ttype\tannotated\toccurrences\n")
	for _, r := range rows {
		if strings.ContainsAny(r.text, "\t\n") {
			continue
		}
		fmt.Fprintf(bw, "%s\t%s\t%d\t%d\n", r.text, r.t, r.ann, r.occ)
	}
	return bw.Flush()
}

func hasType(ts []Type, t Type) bool {
	for _, u := range ts {
		if u == t {
			return true
		}
	}
	return false
}

func mostFrequent(m map[string]int) string {
	best, n := "", 0
	for s, c := range m {
		if c > n || c == n && s < best {
			best, n = s, c
		}
	}
	return best
}

// codePointIndex maps code point offsets to byte offsets (one entry past the end).
func codePointIndex(s string) []int {
	idx := make([]int, 0, len(s)+1)
	for i := range s {
		idx = append(idx, i)
	}
	return append(idx, len(s))
}
