package voice

import (
	"strings"
	"unicode"
)

// NormalizeWords prepares text for word error rate: lower case, punctuation dropped (a
// hyphen or slash separates words, so "follow-up" is "follow up"), apostrophes inside words
// kept ("don't"), and numbers kept as tokens with a decimal point ("2.5") but without
// thousands separators ("1,000" -> "1000").
func NormalizeWords(s string) []string {
	rs := []rune(strings.ToLower(s))
	var words []string
	var cur []rune
	end := func() {
		if len(cur) > 0 {
			words = append(words, string(cur))
			cur = cur[:0]
		}
	}
	between := func(i int, ok func(rune) bool) bool {
		return len(cur) > 0 && i+1 < len(rs) && ok(rs[i-1]) && ok(rs[i+1])
	}
	for i, r := range rs {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			cur = append(cur, r)
		case (r == '\'' || r == '’') && between(i, unicode.IsLetter):
			cur = append(cur, '\'')
		case r == '.' && between(i, unicode.IsDigit):
			cur = append(cur, '.')
		case r == ',' && between(i, unicode.IsDigit):
			// thousands separator: drop, keep the number whole
		default:
			end()
		}
	}
	end()
	return words
}

// WERCounts returns the word-level edit distance (substitutions + deletions + insertions)
// between the normalised reference and hypothesis, and the number of reference words, so a
// benchmark can sum both over a corpus (corpus WER = sum edits / sum words).
func WERCounts(ref, hyp string) (edits, refWords int) {
	r, h := NormalizeWords(ref), NormalizeWords(hyp)
	return editDistance(r, h), len(r)
}

// WER is the word error rate of one hypothesis: edits / reference words. An empty reference
// gives 0 for an empty hypothesis and 1 otherwise.
func WER(ref, hyp string) float64 {
	edits, n := WERCounts(ref, hyp)
	if n == 0 {
		if edits == 0 {
			return 0
		}
		return 1
	}
	return float64(edits) / float64(n)
}

func editDistance(a, b []string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			sub := prev[j-1]
			if a[i-1] != b[j-1] {
				sub++
			}
			cur[j] = min(sub, prev[j]+1, cur[j-1]+1)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
