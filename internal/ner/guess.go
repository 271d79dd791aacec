package ner

import (
	"unicode"
	"unicode/utf8"
)

// Word endings: a word no vocabulary knows can still look like a drug ("-azole", "-olol")
// or a disease ("-itis", "-emia"). The training lexicon counts, per ending, how often such
// words were mentions; Extract takes an unknown word by its longest counted ending.
const (
	minSuffixLen     = 3
	maxSuffixLen     = 5
	minGuessRunes    = 6 // shorter words are too often abbreviations or plain English
	minSuffixSupport = 8 // occurrences an ending needs before it is written to the lexicon

	minModifierSupport = 5 // occurrences a modifier needs before it is written to the lexicon
	maxModifiers       = 2 // words a mention may grow by on each side
)

var prioSuffix = 0.2 // pseudo-count prior of an ending's confidence

// guessable: a word of at least minGuessRunes letters (digits allowed, not first), not in
// capitals only; returns its lower-case form.
func guessable(text string, t token) (string, bool) {
	if t.punct || t.end-t.start < minGuessRunes {
		return "", false
	}
	w := text[t.bstart:t.bend]
	if isCode(w) {
		return codeKey, true
	}
	r, _ := utf8.DecodeRuneInString(w)
	if !unicode.IsLetter(r) {
		return "", false
	}
	lower := false
	for _, r := range w {
		if unicode.IsLower(r) {
			lower = true
			break
		}
	}
	if !lower {
		return "", false
	}
	var buf [64]byte
	lo, _ := normWord(buf[:0], nil, w)
	return string(lo), true
}

// wordForm is the lookup form of a single word token.
func wordForm(text string, t token) string {
	if t.punct {
		return text[t.bstart:t.bend]
	}
	var buf [64]byte
	lo, _ := normWord(buf[:0], nil, text[t.bstart:t.bend])
	return string(lo)
}

// codeKey is the ending row of compound codes ("LY274614", "NRA0160"): research drugs are
// named so, and the training lexicon counts how often such a word was one.
const codeKey = "#code"

// isCode: 1 to 4 capitals, then at least 3 digits, then letters or digits; 5 to 12 characters.
func isCode(w string) bool {
	if len(w) < 5 || len(w) > 12 {
		return false
	}
	i := 0
	for i < len(w) && w[i] >= 'A' && w[i] <= 'Z' {
		i++
	}
	if i == 0 || i > 4 {
		return false
	}
	d := 0
	for i < len(w) && w[i] >= '0' && w[i] <= '9' {
		i++
		d++
	}
	if d < 3 {
		return false
	}
	for ; i < len(w); i++ {
		c := w[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// guessKeys are the lexicon keys of a guessable word: its endings, or codeKey.
func guessKeys(w string) []string {
	if w == codeKey {
		return []string{codeKey}
	}
	return suffixes(w)
}

// suffixes of w, longest first (byte suffixes of an ASCII-ish word; a suffix that would cut a
// multi-byte letter is skipped).
func suffixes(w string) []string {
	var out []string
	for n := maxSuffixLen; n >= minSuffixLen; n-- {
		if len(w) > n+2 && utf8.RuneStart(w[len(w)-n]) {
			out = append(out, w[len(w)-n:])
		}
	}
	return out
}

// guess returns the entry of the longest counted ending of the word token t that passes the
// filters, or nil.
func (m *matcher) guess(text string, t token, min float64, keep func(Type) bool) *entry {
	if len(m.suffix) == 0 || t.punct || t.end-t.start < minGuessRunes {
		return nil
	}
	w := text[t.bstart:t.bend]
	if isCode(w) {
		return bestOf(m.suffix[codeKey], min, keep)
	}
	if r, _ := utf8.DecodeRuneInString(w); !unicode.IsLetter(r) {
		return nil
	}
	lower := false
	for _, r := range w {
		if unicode.IsLower(r) {
			lower = true
			break
		}
	}
	if !lower {
		return nil
	}
	var buf [64]byte
	lo, _ := normWord(buf[:0], nil, w)
	for n := maxSuffixLen; n >= minSuffixLen; n-- {
		if len(lo) <= n+2 || !utf8.RuneStart(lo[len(lo)-n]) {
			continue
		}
		es, ok := m.suffix[string(lo[len(lo)-n:])]
		if !ok {
			continue
		}
		return bestOf(es, min, keep) // the longest counted ending decides, even when it says no
	}
	return nil
}

func bestOf(es []entry, min float64, keep func(Type) bool) *entry {
	var best *entry
	for i := range es {
		if es[i].conf >= min && keep(es[i].typ) && (best == nil || es[i].conf > best.conf) {
			best = &es[i]
		}
	}
	return best
}

// keyForm is the lookup form of one token as keyTokens makes it: acronyms (capitals only, at
// most 6 characters) keep their capitals.
func keyForm(text string, t token) string {
	w := text[t.bstart:t.bend]
	if t.punct {
		return w
	}
	var buf, ubuf [64]byte
	lo, up := normWord(buf[:0], ubuf[:0], w)
	if up != nil && utf8.RuneCountInString(w) <= 6 {
		return string(up)
	}
	return string(lo)
}

// modifierKey is keyForm into a caller's buffer (no allocation for the map lookup).
func modifierKey(buf []byte, side byte, text string, t token) []byte {
	w := text[t.bstart:t.bend]
	buf = append(buf[:0], side)
	if t.punct {
		return append(buf, w...)
	}
	var lb, ub [64]byte
	lo, up := normWord(lb[:0], ub[:0], w)
	if up != nil && utf8.RuneCountInString(w) <= 6 {
		return append(buf, up...)
	}
	return append(buf, lo...)
}

// grow extends the entity of c over the modifiers next to it that the training lexicon says
// belong to mentions of its type ("familial" + "gastric cancer"), at most maxModifiers a side,
// never into another entity, across punctuation or over a context trigger ("denies").
func (m *matcher) grow(text string, toks []token, c *cand, prevEnd, nextStart int, trig *matcher) {
	if len(m.modifier) == 0 {
		return
	}
	var buf [80]byte
	for n := 0; n < maxModifiers && c.s-1 >= prevEnd && !toks[c.s-1].punct && !trig.startsAt(toks, c.s-1); n++ {
		if m.modifier[modKey{string(modifierKey(buf[:0], '<', text, toks[c.s-1])), c.Type}] < modifierCut {
			break
		}
		c.s--
	}
	for n := 0; n < maxModifiers && c.e < nextStart && !toks[c.e].punct && !trig.startsAt(toks, c.e); n++ {
		if m.modifier[modKey{string(modifierKey(buf[:0], '>', text, toks[c.e])), c.Type}] < modifierCut {
			break
		}
		c.e++
	}
}

type modKey struct {
	key string
	t   Type
}

// modifierCut: a modifier joins when it was inside at least this share of its occurrences.
var modifierCut = 0.8 // 5-fold on train: 0.5 to 1.0 tried, 0.7–0.8 best
