package ner

import "sort"

// trigKind is what a context trigger does to the entities in its scope.
type trigKind uint8

const (
	trigPseudo  trigKind = iota // looks like a trigger, is not ("no change", "not only")
	trigTerm                    // ends a scope ("but", "however", "which")
	trigNegPre                  // negates what follows ("no", "denies")
	trigNegPost                 // negates what precedes ("was ruled out", "unlikely")
	trigUncPre                  // makes what follows uncertain ("possible", "rule out")
	trigUncPost                 // makes what precedes uncertain ("is suspected")
	trigHistPre                 // "history of", "status post"
	trigFamPre                  // "mother", "family history of"
)

// trigKinds maps the NegEx tags (negex-triggers.tsv) and ours (context-triggers.tsv).
var trigKinds = map[string]trigKind{
	"[PSEU]": trigPseudo, "[CONJ]": trigTerm,
	"[PREN]": trigNegPre, "[POST]": trigNegPost,
	"[PREP]": trigUncPre, "[POSP]": trigUncPost,
	"[HIST]": trigHistPre, "[FAM]": trigFamPre,
}

// Scope windows in words (punctuation does not count), as in NegEx's fixed window.
var (
	windowPre  = 8
	windowPost = 5
)

type trigger struct {
	kind trigKind
	s, e int // tokens
}

// context sets Negated, Uncertain, Historical and Family on cands (sorted, token spans).
// A trigger's scope runs forward (pre) or backward (post) within its sentence, stops at a
// scope terminator, and spans at most the window's words.
func (x *Extractor) context(toks []token, cands []cand) {
	trigs := x.findTriggers(toks, cands)
	if len(trigs) == 0 {
		return
	}
	// sentence index and word count before each token
	sent := make([]int32, len(toks)+1)
	words := make([]int32, len(toks)+1)
	for i := range toks {
		sent[i+1] = sent[i]
		if toks[i].sentEnd {
			sent[i+1]++
		}
		words[i+1] = words[i]
		if !toks[i].punct {
			words[i+1]++
		}
	}
	// terminators, by start token, to test "a terminator lies between a and b"
	var terms []int
	for _, t := range trigs {
		if t.kind == trigTerm {
			terms = append(terms, t.s)
		}
	}
	between := func(a, b int) bool { // any terminator starting in [a, b)
		i := sort.SearchInts(terms, a)
		return i < len(terms) && terms[i] < b
	}
	for ci := range cands {
		c := &cands[ci]
		// only the triggers within the windows: from the first ending at most windowPre words
		// before the entity to the last starting at most windowPost words after it
		lo := sort.Search(len(trigs), func(k int) bool { return int(words[trigs[k].e]) >= int(words[c.s])-windowPre })
		for _, t := range trigs[lo:] {
			if t.s >= c.e && int(words[t.s]-words[c.e]) > windowPost {
				break
			}
			switch t.kind {
			case trigNegPre, trigUncPre, trigHistPre, trigFamPre:
				if t.e > c.s || !sameSentence(sent, t.s, c.s) {
					continue
				}
				if int(words[c.s]-words[t.e]) > windowPre || between(t.e, c.s) {
					continue
				}
			case trigNegPost, trigUncPost:
				if t.s < c.e || !sameSentence(sent, c.s, t.s) {
					continue
				}
				if int(words[t.s]-words[c.e]) > windowPost || between(c.e, t.s) {
					continue
				}
			default:
				continue
			}
			switch t.kind {
			case trigNegPre, trigNegPost:
				c.Negated = true
			case trigUncPre, trigUncPost:
				c.Uncertain = true
			case trigHistPre:
				c.Historical = true
			case trigFamPre:
				c.Family = true
			}
		}
	}
}

// sameSentence: tokens a <= b lie in one sentence.
func sameSentence(sent []int32, a, b int) bool {
	if a > b {
		a, b = b, a
	}
	// sent[i] counts the sentence ends before token i
	return sent[a] == sent[b]
}

// findTriggers scans for the longest trigger at each token outside entities; a pseudo
// trigger is consumed so its words cannot start a real one.
func (x *Extractor) findTriggers(toks []token, cands []cand) []trigger {
	var out []trigger
	var stack [16]walk
	ci := 0
	for i := 0; i < len(toks); {
		for ci < len(cands) && cands[ci].e <= i {
			ci++
		}
		if ci < len(cands) && cands[ci].s <= i {
			i = cands[ci].e
			continue
		}
		end, node := -1, int32(-1)
		x.triggers.walk(toks, i, stack[:0], func(e int, n int32) {
			if e > end {
				end, node = e, n
			}
		})
		if end < 0 {
			i++
			continue
		}
		k := x.triggers.entries[x.triggers.terminal[node][0]].kind
		out = append(out, trigger{kind: k, s: i, e: end})
		i = end
	}
	return out
}
