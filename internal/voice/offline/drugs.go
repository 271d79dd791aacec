// Package offline holds the offline voice providers: pocketsphinx for speech-to-text and
// flite for text-to-speech, linked through cgo. They build only with the offlinevoice tag
// (and cgo) and need the Debian packages named in Packages; without them every constructor
// returns an error wrapping voice.ErrUnavailable.
package offline

import (
	_ "embed"
	"strings"
)

//go:generate go run gendrugs.go

// Packages are the Debian packages the offline providers build and run with.
const Packages = "libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us flite1-dev"

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
