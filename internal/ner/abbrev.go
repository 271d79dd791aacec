package ner

import (
	"strings"
	"unicode"
)

// abbr is a short form defined in the text: "Huntington disease (HD)".
type abbr struct {
	parts []string // the short form's word tokens, as written
	def   *cand    // the long form's entity; nil: the short form means something else here
}

// abbreviations applies the short forms a text defines: "long form (SF)" where the long form
// is an entity makes every later SF an entity of the same concept; where the words before
// "(SF)" spell SF but are no entity ("mass spectrometry (MS)"), vocabulary matches of SF in
// this text are dropped, which is how ambiguous acronyms are kept out.
func (x *Extractor) abbreviations(text string, toks []token, cands []cand, keep func(Type) bool) []cand {
	var defs []abbr
	ci := 0
	for i := 0; i+2 < len(toks); i++ {
		if !toks[i].punct || text[toks[i].bstart:toks[i].bend] != "(" {
			continue
		}
		// up to three word tokens, then ")"
		j := i + 1
		for j < len(toks) && j <= i+3 && !toks[j].punct {
			j++
		}
		if j == i+1 || j >= len(toks) || !toks[j].punct || text[toks[j].bstart:toks[j].bend] != ")" {
			continue
		}
		sf := text[toks[i+1].bstart:toks[j-1].bend]
		if !shortForm(sf) {
			continue
		}
		parts := make([]string, 0, j-i-1)
		for k := i + 1; k < j; k++ {
			parts = append(parts, text[toks[k].bstart:toks[k].bend])
		}
		for ci < len(cands) && cands[ci].e < i {
			ci++
		}
		var def *cand
		if ci < len(cands) && cands[ci].e == i {
			def = &cands[ci]
			// Any short form right after an entity names it: authors' short forms often
			// do not spell it ("choroideremia (TCD)"), and requiring that (Schwartz and
			// Hearst, or only the first letter) lost recall on the training folds.
		} else if !wordsSpell(text, toks, i, sf) {
			continue
		}
		defs = append(defs, abbr{parts: parts, def: def})
	}
	if len(defs) == 0 {
		return cands
	}
	// Drop vocabulary matches of short forms defined as something else; add the short forms
	// of entities wherever they occur outside other entities. Definitions are indexed by their
	// first word so a long text with many short forms stays linear.
	byFirst := map[string][]int{}
	for di, d := range defs {
		byFirst[d.parts[0]] = append(byFirst[d.parts[0]], di)
	}
	out := cands[:0:0]
	for _, c := range cands {
		drop := false
		for _, di := range byFirst[text[toks[c.s].bstart:toks[c.s].bend]] {
			if d := defs[di]; d.def == nil && c.e-c.s == len(d.parts) && sameParts(text, toks, c.s, d.parts) {
				drop = true
				break
			}
		}
		if !drop {
			out = append(out, c)
		}
	}
	cands = out
	taken := make([]bool, len(toks))
	for _, c := range cands {
		for k := c.s; k < c.e; k++ {
			taken[k] = true
		}
	}
	var added []cand
	for i := range toks {
		if toks[i].punct || taken[i] {
			continue
		}
		for _, di := range byFirst[text[toks[i].bstart:toks[i].bend]] {
			d := defs[di]
			n := len(d.parts)
			if d.def == nil || !keep(d.def.Type) || !sameParts(text, toks, i, d.parts) ||
				(i+n < len(toks) && !toks[i+n].punct && toks[i+n].bstart == toks[i+n-1].bend) ||
				anyTaken(taken[i:i+n]) {
				continue
			}
			for k := i; k < i+n; k++ {
				taken[k] = true
			}
			e := d.def.Entity
			e.Text = text[toks[i].bstart:toks[i+n-1].bend]
			e.Start, e.End = toks[i].start, toks[i+n-1].end
			e.Negated, e.Uncertain, e.Historical, e.Family = false, false, false, false
			added = append(added, cand{s: i, e: i + n, Entity: e})
			break
		}
	}
	if len(added) > 0 {
		cands = append(cands, added...)
		sortCands(cands)
	}
	return cands
}

func anyTaken(t []bool) bool {
	for _, b := range t {
		if b {
			return true
		}
	}
	return false
}

func sameParts(text string, toks []token, i int, parts []string) bool {
	if i+len(parts) > len(toks) {
		return false
	}
	for k, p := range parts {
		t := toks[i+k]
		if t.punct || text[t.bstart:t.bend] != p {
			return false
		}
	}
	return true
}

// shortForm: 2 to 10 characters, starting with a letter or digit, with a capital letter.
func shortForm(s string) bool {
	n, upper := 0, false
	for _, r := range s {
		n++
		if unicode.IsUpper(r) {
			upper = true
		}
	}
	return n >= 2 && n <= 10 && upper
}

// letters of a short form, lower case (digits and hyphens dropped).
func sfLetters(sf string) []rune {
	var out []rune
	for _, r := range strings.ToLower(sf) {
		if unicode.IsLetter(r) {
			out = append(out, r)
		}
	}
	return out
}

// wordsSpell: the words just before token i start with the short form's letters, in order.
func wordsSpell(text string, toks []token, i int, sf string) bool {
	ls := sfLetters(sf)
	if len(ls) < 2 {
		return false
	}
	k := len(ls) - 1
	for j := i - 1; j >= 0 && k >= 0 && j >= i-2*len(ls)-2; j-- {
		if toks[j].punct {
			return false
		}
		w := strings.ToLower(text[toks[j].bstart:toks[j].bend])
		if w == "of" || w == "and" || w == "the" || w == "in" {
			continue
		}
		if !strings.HasPrefix(w, string(ls[k])) {
			return false
		}
		k--
	}
	return k < 0
}
