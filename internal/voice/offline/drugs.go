package offline

import (
	_ "embed"
	"strings"
)

//go:generate go run gendrugs.go

//go:embed drugs_generic.txt
var drugsGeneric string

// DrugNames returns the embedded generic drug-name list (Drugs@FDA, public domain).
func DrugNames() []string {
	var out []string
	for _, line := range strings.Split(drugsGeneric, "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}
