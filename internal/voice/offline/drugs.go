package offline

import (
	_ "embed"
	"strings"
)

//go:generate go run gendrugs.go

//go:embed drugs_generic.txt
var drugsGeneric string

// DrugNames returns the embedded generic drug-name list (Drugs@FDA, public domain). Adding
// all of it to the recogniser halves the errors on sentences naming drugs outside
// voice.ClinicalTerms but inserts drug names into other speech (slt voice: general WER
// 8.5% -> 10.8%, clinical 9.8% -> 17.6%), so it is opt-in; the clinical terms already
// hold the common generics.
func DrugNames() []string {
	var out []string
	for _, line := range strings.Split(drugsGeneric, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}
