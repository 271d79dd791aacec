package extract

import (
	"bytes"
	"fmt"
	"math"
	"strings"

	"github.com/ledongthuc/pdf"
)

// maxPDFNodes bounds the page-tree walk, which hostile files can make
// cyclic or huge.
const maxPDFNodes = 10000

// extractPDF gives one section per page with text. The pdf library panics on
// many kinds of corrupt input, so every panic becomes ErrMalformed.
func extractPDF(data []byte) (doc Document, err error) {
	defer func() {
		if r := recover(); r != nil {
			doc, err = Document{}, fmt.Errorf("%w: pdf: %v", ErrMalformed, r)
		}
	}()
	// The reader only accepts "%PDF-1.x" headers; 2.0 files use the same
	// syntax as far as text goes, so present them as 1.7.
	if bytes.HasPrefix(data, []byte("%PDF-2.")) {
		data = bytes.Clone(data)
		copy(data[5:], "1.7")
	}
	r, err := pdf.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		if bytes.Contains(data, []byte("/Encrypt")) {
			return Document{}, fmt.Errorf("%w: encrypted PDF (%v)", ErrUnsupported, err)
		}
		return Document{}, fmt.Errorf("%w: pdf: %v", ErrMalformed, err)
	}
	// The reader opens files with an empty user password but decrypts them
	// wrongly, so any encryption is refused.
	if r.Trailer().Key("Encrypt").Kind() != pdf.Null {
		return Document{}, fmt.Errorf("%w: encrypted PDF", ErrUnsupported)
	}

	pages, err := pdfPages(r.Trailer().Key("Root").Key("Pages"))
	if err != nil {
		return Document{}, fmt.Errorf("%w: pdf: %v", ErrUnsupported, err)
	}
	doc.Title = r.Trailer().Key("Info").Key("Title").Text()
	for i, p := range pages {
		doc.Sections = append(doc.Sections, Section{Page: i + 1, Text: pageText(p.Content().Text)})
	}
	return doc, nil
}

// pdfPages lists the leaves of the page tree in order.
func pdfPages(root pdf.Value) ([]pdf.Page, error) {
	var pages []pdf.Page
	budget := maxPDFNodes
	var walk func(v pdf.Value) error
	walk = func(v pdf.Value) error {
		if budget--; budget < 0 {
			return fmt.Errorf("page tree has more than %d nodes", maxPDFNodes)
		}
		switch v.Key("Type").Name() {
		case "Pages":
			kids := v.Key("Kids")
			for i := range kids.Len() {
				if err := walk(kids.Index(i)); err != nil {
					return err
				}
			}
		case "Page":
			pages = append(pages, pdf.Page{V: v})
		}
		return nil
	}
	return pages, walk(root)
}

// pageText rebuilds lines from positioned glyphs, in content-stream order: a
// jump in Y starts a new line (a large one a new paragraph), and a horizontal
// gap becomes a space, since many PDFs place words instead of writing
// spaces between them.
func pageText(glyphs []pdf.Text) string {
	var b strings.Builder
	var prev pdf.Text
	for _, g := range glyphs {
		if g.S == "" || g.S == "\n" {
			continue // the reader adds a "\n" glyph after each TJ array
		}
		if strings.TrimSpace(g.S) == "" {
			g.S = " "
		}
		if b.Len() > 0 {
			size := math.Max(math.Abs(g.FontSize), 1)
			dy := math.Abs(g.Y - prev.Y)
			gap := math.Abs(g.X - (prev.X + prev.W))
			switch {
			case dy > 2*size:
				b.WriteString("\n\n")
			case dy > size/2:
				b.WriteByte('\n')
			case gap > size/5 && prev.S != " " && g.S != " ":
				b.WriteByte(' ')
			}
		}
		b.WriteString(g.S)
		prev = g
	}
	return b.String()
}
