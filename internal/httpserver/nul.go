package httpserver

import (
	"sort"
	"strconv"
	"strings"

	"github.com/voiceassist/gateway/internal/apierr"
)

// PostgreSQL cannot store U+0000 in text: refused for every operation at once, as 422 naming
// the field, instead of a 500 from the database (issue 21 #7): path, query and JSON bodies in
// checkInput, multipart fields and file names in multipart.go (the same nulError); a file's
// text is content, and the extractor drops its control characters.

// nulIn finds the first string (key or value) holding U+0000 and returns its path.
func nulIn(v any, path string) (string, bool) {
	switch x := v.(type) {
	case string:
		return path, strings.IndexByte(x, 0) >= 0
	case []any:
		for i, e := range x {
			p := strconv.Itoa(i) // the validator's style: rules.0.attribute
			if path != "" {
				p = path + "." + p
			}
			if p, ok := nulIn(e, p); ok {
				return p, true
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if strings.IndexByte(k, 0) >= 0 {
				return p, true
			}
			if p, ok := nulIn(x[k], p); ok {
				return p, true
			}
		}
	}
	return "", false
}

func nulError(field string) error {
	return apierr.Invalid(strings.ReplaceAll(field, "\x00", `\u0000`), "must not contain the NUL character (U+0000)")
}
