package phi

import (
	"strings"
)

// Dictated and typed notes misspell their labels ("accoutn numer"). fuzzy widens every
// lower-case word of six letters or more in a label expression to the word itself or any
// one-letter slip of the common kinds: a letter dropped, doubled, or swapped with the next.
// Substituted letters are not covered.
var longWord = compile(`[a-z]{6,}`)

func fuzzy(expr string) string {
	return longWord.ReplaceAllStringFunc(expr, func(w string) string {
		seen := map[string]bool{w: true}
		alts := []string{w}
		add := func(v string) {
			if !seen[v] {
				seen[v] = true
				alts = append(alts, v)
			}
		}
		for i := 1; i < len(w); i++ { // the first letter is kept: slips there are rare
			add(w[:i] + w[i+1:])
			add(w[:i] + w[i:i+1] + w[i:])
			if i+1 < len(w) {
				add(w[:i] + w[i+1:i+2] + w[i:i+1] + w[i+2:])
			}
		}
		return "(?:" + strings.Join(alts, "|") + ")"
	})
}
