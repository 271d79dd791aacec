package chunk

import (
	"unicode"
	"unicode/utf8"
)

// CountTokens estimates the LLM tokens of s without a vocabulary:
//
//   - a run of letters counts one token per started 4 letters
//     ("the" 1, "dose" 1, "hypertension" 3);
//   - a run of digits counts one per started 3 digits ("140" 1, "2024" 2),
//     as common tokenizers group digits in threes;
//   - every other visible character (punctuation, symbols, CJK ideographs,
//     kana, hangul) counts 1;
//   - whitespace counts nothing.
//
// Subword tokenizers give about one token per 4 characters of English, and
// rare terms, frequent in medical text, split even finer, so this stays at
// or somewhat above real counts: chunks sized with it fit model limits.
// Counts add up over text joined by whitespace.
func CountTokens(s string) int {
	n := 0
	scan(s, func(int, int) { n++ })
	return n
}

type runeKind int

const (
	space runeKind = iota
	letter
	digit
	single
)

func kindOf(r rune) runeKind {
	switch {
	case unicode.IsSpace(r):
		return space
	case unicode.In(r, unicode.Han, unicode.Hiragana, unicode.Katakana, unicode.Hangul):
		return single
	case unicode.IsLetter(r) || unicode.IsMark(r):
		return letter
	case unicode.IsDigit(r):
		return digit
	}
	return single
}

// scan calls fn with the byte range of each token of s, in order.
func scan(s string, fn func(start, end int)) {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		k := kindOf(r)
		switch k {
		case space:
			i += n
		case single:
			fn(i, i+n)
			i += n
		default:
			per := 4
			if k == digit {
				per = 3
			}
			start, count := i, 0
			for i < len(s) {
				r, n := utf8.DecodeRuneInString(s[i:])
				if kindOf(r) != k {
					break
				}
				if count == per {
					fn(start, i)
					start, count = i, 0
				}
				i += n
				count++
			}
			fn(start, i)
		}
	}
}
