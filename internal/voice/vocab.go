package voice

import (
	_ "embed"
	"strings"
)

//go:embed vocab/clinical_terms.txt
var clinicalTerms string

// ClinicalTerms returns the distinct words of the clinical term list, in file order: the
// vocabulary the offline recogniser adds to its dictionary and language model.
func ClinicalTerms() []string { return words(clinicalTerms) }

// words reads a term list: one term a line, # comments, each word of a term once.
func words(list string) []string {
	seen := map[string]bool{}
	var out []string
	for _, line := range strings.Split(list, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		for _, w := range strings.Fields(strings.ToLower(line)) {
			if !seen[w] {
				seen[w] = true
				out = append(out, w)
			}
		}
	}
	return out
}
