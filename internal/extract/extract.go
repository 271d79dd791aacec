// Package extract turns an uploaded file into plain-text sections that keep
// the heading path and page a citation needs.
package extract

import (
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Format is a supported input format.
type Format string

// Supported formats.
const (
	Text     Format = "txt"
	Markdown Format = "md"
	HTML     Format = "html"
	PDF      Format = "pdf"
	JSON     Format = "json"
)

// Section is a run of text under one heading path (and, for PDFs, one page).
type Section struct {
	Heading []string // heading path, outermost first; empty when none
	Page    int      // 1-based PDF page; 0 for formats without pages
	Text    string   // plain text, paragraphs separated by "\n\n"
}

// Document is the extracted text of a file.
type Document struct {
	Title    string // from the format's own title, else ""
	Sections []Section
}

// Sentinel errors; Extract and FormatOf wrap them with detail.
var (
	ErrUnsupported = errors.New("unsupported format")
	ErrEmpty       = errors.New("no text found")
	ErrMalformed   = errors.New("malformed file")
)

var extFormats = map[string]Format{
	".txt": Text, ".text": Text,
	".md": Markdown, ".markdown": Markdown,
	".html": HTML, ".htm": HTML,
	".pdf":  PDF,
	".json": JSON,
}

var typeFormats = map[string]Format{
	"text/plain":       Text,
	"text/markdown":    Markdown,
	"text/x-markdown":  Markdown,
	"text/html":        HTML,
	"application/pdf":  PDF,
	"application/json": JSON,
}

// FormatOf picks the format from the file extension, falling back to the
// content type (parameters such as charset ignored) when the extension is
// missing or unknown.
func FormatOf(filename, contentType string) (Format, error) {
	if f, ok := extFormats[strings.ToLower(path.Ext(filename))]; ok {
		return f, nil
	}
	mediaType, _, _ := strings.Cut(contentType, ";")
	if f, ok := typeFormats[strings.ToLower(strings.TrimSpace(mediaType))]; ok {
		return f, nil
	}
	return "", fmt.Errorf("%w: file %q with content type %q", ErrUnsupported, filename, contentType)
}

// Extract reads data in format f. Section texts are whitespace-normalised and
// sections without text are dropped; a document with no text at all gives
// ErrEmpty.
func Extract(f Format, data []byte) (Document, error) {
	var doc Document
	var err error
	switch f {
	case Text:
		doc, err = extractText(data)
	case Markdown:
		doc, err = extractMarkdown(data)
	case HTML:
		doc, err = extractHTML(data)
	case PDF:
		doc, err = extractPDF(data)
	case JSON:
		doc, err = extractJSON(data)
	default:
		return Document{}, fmt.Errorf("%w: %q", ErrUnsupported, f)
	}
	if err != nil {
		return Document{}, err
	}
	out := Document{Title: oneLine(doc.Title)}
	for _, s := range doc.Sections {
		if s.Text = clean(s.Text); s.Text == "" {
			continue
		}
		h := make([]string, 0, len(s.Heading))
		for _, part := range s.Heading {
			if part = oneLine(part); part != "" {
				h = append(h, part)
			}
		}
		s.Heading = h
		out.Sections = append(out.Sections, s)
	}
	if len(out.Sections) == 0 {
		return Document{}, fmt.Errorf("%w: %s file has no text", ErrEmpty, f)
	}
	return out, nil
}

// clean drops control characters, collapses horizontal whitespace, trims
// lines and keeps single line breaks and at most one blank line between
// paragraphs; each run of invalid UTF-8 becomes U+FFFD. One pass into a buffer
// of the input's size: uploads are megabytes (issue 21 #16).
func clean(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	breaks := 0    // line breaks since the last written character
	space := false // whitespace since the last written character
	invalid := false
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if r == utf8.RuneError && n == 1 {
			if invalid {
				continue // one replacement per run, as strings.ToValidUTF8
			}
			invalid = true
		} else {
			invalid = false
		}
		switch {
		case r == '\r' || r == '\n':
			if r == '\r' && i < len(s) && s[i] == '\n' {
				i++
			}
			breaks++
			continue
		case r == '\t' || r == ' ':
			space = true
			continue
		case unicode.IsControl(r) || r == '\uFEFF':
			continue // dropped, not a separator: "a\x00b" reads "ab"
		case unicode.IsSpace(r):
			space = true
			continue
		}
		if b.Len() > 0 {
			switch {
			case breaks > 1:
				b.WriteString("\n\n")
			case breaks == 1:
				b.WriteByte('\n')
			case space:
				b.WriteByte(' ')
			}
		}
		breaks, space = 0, false
		b.WriteRune(r)
	}
	return b.String()
}

// oneLine collapses all whitespace, line breaks included, to single spaces.
func oneLine(s string) string {
	return strings.Join(strings.Fields(clean(s)), " ")
}

// builder collects sections for the formats that have headings.
type builder struct {
	doc     Document
	heading []string
	levels  []int // level of each heading entry
	buf     strings.Builder
}

// write appends text to the current section.
func (b *builder) write(s string) { b.buf.WriteString(s) }

// flush closes the current section.
func (b *builder) flush() {
	if strings.TrimSpace(b.buf.String()) != "" {
		b.doc.Sections = append(b.doc.Sections, Section{Heading: slices.Clone(b.heading), Text: b.buf.String()})
	}
	b.buf.Reset()
}

// setHeading starts a section under a heading of the given level (1 is
// outermost): deeper or equal entries of the path are replaced.
func (b *builder) setHeading(level int, title string) {
	title = oneLine(title)
	if title == "" {
		return
	}
	b.flush()
	n := len(b.levels)
	for n > 0 && b.levels[n-1] >= level {
		n--
	}
	b.heading = append(b.heading[:n], title)
	b.levels = append(b.levels[:n], level)
}

// add appends a paragraph under an explicit heading and page, merging with
// the previous section when both match.
func (b *builder) add(heading []string, page int, text string) {
	if strings.TrimSpace(text) == "" {
		return
	}
	if n := len(b.doc.Sections); n > 0 {
		last := &b.doc.Sections[n-1]
		if last.Page == page && slices.Equal(last.Heading, heading) {
			last.Text += "\n\n" + text
			return
		}
	}
	b.doc.Sections = append(b.doc.Sections, Section{Heading: slices.Clone(heading), Page: page, Text: text})
}
