package extract

import (
	"bytes"
	"fmt"
	"unicode/utf8"
)

var bom = []byte("\uFEFF")

// extractText reads plain text as one section; blank lines stay paragraph
// breaks.
func extractText(data []byte) (Document, error) {
	data = bytes.TrimPrefix(data, bom)
	if !utf8.Valid(data) {
		return Document{}, fmt.Errorf("%w: text is not valid UTF-8", ErrMalformed)
	}
	return Document{Sections: []Section{{Text: string(data)}}}, nil
}
