package ner

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// token is one word or punctuation mark of a text. Offsets are in code points so they match
// the API's offsets; byte offsets are kept to slice the text without re-decoding it.
type token struct {
	start, end   int // code points, end exclusive
	bstart, bend int // bytes
	lower, upper int32
	punct        bool
	sentEnd      bool // sentence boundary after this token (for the context rules)
}

// foldRune lower-cases and strips the accents of the Latin letters our vocabularies spell
// without them (Sjögren, Ménière). Greek letters are spelled out by the tokenizer instead.
func foldRune(r rune) rune {
	r = unicode.ToLower(r)
	switch r {
	case 'à', 'á', 'â', 'ã', 'ä', 'å':
		return 'a'
	case 'ç':
		return 'c'
	case 'è', 'é', 'ê', 'ë':
		return 'e'
	case 'ì', 'í', 'î', 'ï':
		return 'i'
	case 'ñ':
		return 'n'
	case 'ò', 'ó', 'ô', 'õ', 'ö', 'ø':
		return 'o'
	case 'ù', 'ú', 'û', 'ü':
		return 'u'
	case 'ý', 'ÿ':
		return 'y'
	}
	return r
}

var greek = map[rune]string{
	'α': "alpha", 'β': "beta", 'γ': "gamma", 'δ': "delta", 'κ': "kappa", 'ε': "epsilon", 'μ': "mu",
	'ω': "omega", 'τ': "tau",
}

// isWordRune: letters and digits make words; everything else separates them.
func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }

// dropped are the separators that do not become tokens, so "non-Hodgkin" matches
// "non Hodgkin" and "Alzheimer's" matches "Alzheimer" (the possessive "s" is dropped too).
func dropped(r rune) bool {
	switch r {
	case '-', '‐', '‑', '–', '\'', '’', '`', '"', '“', '”', '®', '™':
		return true
	}
	return unicode.IsSpace(r)
}

// singular makes the plural forms of the vocabulary and of the text meet: both sides go
// through it, so it only has to be consistent, not linguistically right.
func singular(w []byte) []byte {
	n := len(w)
	if n < 4 || w[n-1] != 's' {
		return w
	}
	for _, c := range w {
		if c >= '0' && c <= '9' {
			return w
		}
	}
	switch {
	case strings.HasSuffix(string(w), "ies") && n > 4:
		return append(w[:n-3], 'y')
	case strings.HasSuffix(string(w), "ss"), strings.HasSuffix(string(w), "us"), strings.HasSuffix(string(w), "is"),
		strings.HasSuffix(string(w), "ys"): // Denys-Drash is not "deny" (denies)
		return w
	}
	return w[:n-1]
}

// normWord appends the lookup form of a word: folded, lower case, singular. upper is the
// lookup form of an all-capitals word (kept in capitals so acronyms such as ALL or MS only
// match where they are written as acronyms), or nil.
func normWord(buf, ubuf []byte, w string) (lower, upper []byte) {
	lower = buf[:0]
	hasLower, hasUpper := false, false
	for _, r := range w {
		if unicode.IsLower(r) {
			hasLower = true
		} else if unicode.IsUpper(r) {
			hasUpper = true
		}
		if g, ok := greek[unicode.ToLower(r)]; ok {
			lower = append(lower, g...)
			continue
		}
		lower = utf8.AppendRune(lower, foldRune(r))
	}
	if hasUpper && !hasLower {
		upper = append(ubuf[:0], w...)
	}
	return singular(lower), upper
}

// tokenize splits text into tokens and looks each one up in dict (unknown words get -1).
// Sentence ends: . ! ? followed by a space or the end, and blank lines.
func tokenize(text string, dict map[string]int32, toks []token) []token {
	var buf, ubuf [64]byte
	cp := 0 // code point offset of i
	newlines := 0
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		if r == '\n' {
			newlines++
			if newlines >= 2 && len(toks) > 0 {
				toks[len(toks)-1].sentEnd = true
			}
		} else if !unicode.IsSpace(r) {
			newlines = 0
		}
		if isWordRune(r) {
			j, cj := i, cp
			for j < len(text) {
				r2, s2 := utf8.DecodeRuneInString(text[j:])
				if !isWordRune(r2) {
					break
				}
				j += s2
				cj++
			}
			w := text[i:j]
			// A possessive 's right after the previous word is dropped.
			if (w == "s" || w == "S") && i > 0 && len(toks) > 0 && toks[len(toks)-1].bend == i-apostropheLen(text, i) && apostropheLen(text, i) > 0 && (j == len(text) || !isWordRune(firstRune(text[j:]))) {
				i, cp = j, cj
				continue
			}
			lo, up := normWord(buf[:0], ubuf[:0], w)
			t := token{start: cp, end: cj, bstart: i, bend: j, lower: -1, upper: -1}
			if id, ok := dict[string(lo)]; ok {
				t.lower = id
			}
			if up != nil {
				if id, ok := dict[string(up)]; ok {
					t.upper = id
				}
			}
			toks = append(toks, t)
			i, cp = j, cj
			continue
		}
		if !dropped(r) {
			t := token{start: cp, end: cp + 1, bstart: i, bend: i + size, lower: -1, upper: -1, punct: true}
			if id, ok := dict[text[i:i+size]]; ok {
				t.lower = id
			}
			if r == ';' {
				t.sentEnd = true // a clause: "denies dysuria; reports hematuria"
			} else if r == '.' || r == '!' || r == '?' {
				next := i + size
				if next >= len(text) || unicode.IsSpace(firstRune(text[next:])) {
					t.sentEnd = true
				}
			}
			toks = append(toks, t)
		}
		i += size
		cp++
	}
	if len(toks) > 0 {
		toks[len(toks)-1].sentEnd = true
	}
	return toks
}

func firstRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

// apostropheLen is the byte length of the apostrophe just before byte i, or 0.
func apostropheLen(text string, i int) int {
	r, size := utf8.DecodeLastRuneInString(text[:i])
	if r == '\'' || r == '’' {
		return size
	}
	return 0
}

// keyTokens splits a vocabulary phrase into its lookup forms, the way tokenize does for
// text. Each element is the form to intern; acronym words (all capitals, at most 6
// characters) keep their capitals.
func keyTokens(phrase string) []string {
	toks := tokenize(phrase, nil, nil)
	out := make([]string, 0, len(toks))
	var buf, ubuf [64]byte
	for _, t := range toks {
		w := phrase[t.bstart:t.bend]
		if t.punct {
			out = append(out, w)
			continue
		}
		lo, up := normWord(buf[:0], ubuf[:0], w)
		if up != nil && utf8.RuneCountInString(w) <= 6 {
			out = append(out, string(up))
		} else {
			out = append(out, string(lo))
		}
	}
	return out
}
