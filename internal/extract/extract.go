// Package extract turns an uploaded file into plain-text sections that keep
// the heading path and page a citation needs.
package extract

import (
	"context"
	"errors"
	"fmt"
	"path"
	"slices"
	"strings"
	"time"
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
	// ErrTooLarge: the file expands past Limits.MaxBytes or Limits.MaxStreamBytes.
	ErrTooLarge = errors.New("document expands past the extraction limit")
	// ErrTimeout: reading the file took longer than Limits.Timeout.
	ErrTimeout = errors.New("document takes too long to read")
)

// Limits bound the work of one extraction: uploads are hostile, and a few KiB of PDF can
// inflate to gigabytes. Zero fields take the defaults.
type Limits struct {
	// MaxBytes bounds what a document expands to: the decompressed PDF streams it reads
	// (a stream each time a page uses it) plus the text and headings extracted (64 MiB).
	MaxBytes int64
	// MaxStreamBytes bounds one decompressed PDF stream (8 MiB). The PDF reader keeps
	// about 64 bytes per glyph of a page, so this bounds the memory one page can take.
	MaxStreamBytes int64
	// Timeout bounds one extraction (60 s).
	Timeout time.Duration
}

// Default limits.
const (
	DefaultMaxBytes       = 64 << 20
	DefaultMaxStreamBytes = 8 << 20
	DefaultTimeout        = 60 * time.Second
)

func (l Limits) withDefaults() Limits {
	if l.MaxBytes <= 0 {
		l.MaxBytes = DefaultMaxBytes
	}
	if l.MaxStreamBytes <= 0 {
		l.MaxStreamBytes = DefaultMaxStreamBytes
	}
	l.MaxStreamBytes = min(l.MaxStreamBytes, l.MaxBytes)
	if l.Timeout <= 0 {
		l.Timeout = DefaultTimeout
	}
	return l
}

func tooLarge(what string, limit int64) error {
	return fmt.Errorf("%w: %s more than %d bytes", ErrTooLarge, what, limit)
}

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

// Extract reads data in format f within lim. Section texts are whitespace-normalised
// and sections without text are dropped; a document with no text at all gives
// ErrEmpty, one that expands past the limits ErrTooLarge, one still being read after
// lim.Timeout ErrTimeout. A cancelled ctx gives ctx's error.
func Extract(ctx context.Context, f Format, data []byte, lim Limits) (Document, error) {
	lim = lim.withDefaults()
	return watch(ctx, lim.Timeout, func(ctx context.Context) (Document, error) {
		return extract(ctx, f, data, lim)
	})
}

// watch runs fn under a deadline. The parsers cannot all be interrupted, so on timeout
// fn is abandoned, not awaited: its ctx is cancelled, which stops the PDF reader at its
// next read, and the byte limits bound what it can allocate meanwhile.
func watch(ctx context.Context, timeout time.Duration, fn func(context.Context) (Document, error)) (Document, error) {
	ctx, cancel := context.WithTimeoutCause(ctx, timeout, fmt.Errorf("%w (limit %s)", ErrTimeout, timeout))
	defer cancel()
	type result struct {
		doc Document
		err error
	}
	done := make(chan result, 1) // buffered: an abandoned fn still finishes its send
	go func() {
		defer func() {
			if r := recover(); r != nil { // a bug, not the file's fault; never crash the process
				done <- result{err: fmt.Errorf("extract: panic: %v", r)}
			}
		}()
		doc, err := fn(ctx)
		done <- result{doc, err}
	}()
	select {
	case r := <-done:
		return r.doc, r.err
	case <-ctx.Done():
		return Document{}, context.Cause(ctx)
	}
}

func extract(ctx context.Context, f Format, data []byte, lim Limits) (Document, error) {
	var doc Document
	var err error
	switch f {
	case Text:
		if int64(len(data)) > lim.MaxBytes {
			return Document{}, tooLarge("its text is", lim.MaxBytes)
		}
		doc, err = extractText(data)
	case Markdown:
		doc, err = extractMarkdown(data, lim.MaxBytes)
	case HTML:
		doc, err = extractHTML(ctx, data, lim.MaxBytes)
	case PDF:
		doc, err = extractPDF(ctx, data, lim)
	case JSON:
		doc, err = extractJSON(data, lim.MaxBytes)
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

// builder collects sections for the formats that have headings, charging what it keeps
// (text, and each section's heading path, which Extract copies per section) against max:
// deep JSON paths or long headings repeated over many sections would otherwise multiply
// the input many times over.
type builder struct {
	doc     Document
	heading []string
	levels  []int // level of each heading entry
	buf     strings.Builder
	max     int64 // bytes the document may keep (0: unbounded)
	used    int64
	err     error // ErrTooLarge once used passes max; later text is dropped
	open    bool  // the last section's text is still in tail (add merges into it)
	tail    strings.Builder
}

// charge counts n more bytes kept and reports whether they fit.
func (b *builder) charge(n int) bool {
	if b.err != nil {
		return false
	}
	b.used += int64(n)
	if b.max > 0 && b.used > b.max {
		b.err = tooLarge("its text is", b.max)
		return false
	}
	return true
}

func headingBytes(h []string) int {
	n := 0
	for _, p := range h {
		n += len(p) + 16 // the string and its header
	}
	return n
}

// write appends text to the current section.
func (b *builder) write(s string) { b.buf.WriteString(s) }

// flush closes the current section.
func (b *builder) flush() {
	b.close()
	if strings.TrimSpace(b.buf.String()) != "" && b.charge(b.buf.Len()+headingBytes(b.heading)) {
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
// the previous section when both match (in a builder: thousands of merges
// must not copy the text each time).
func (b *builder) add(heading []string, page int, text string) {
	if strings.TrimSpace(text) == "" {
		return
	}
	if n := len(b.doc.Sections); b.open && n > 0 {
		last := &b.doc.Sections[n-1]
		if last.Page == page && slices.Equal(last.Heading, heading) {
			if b.charge(len(text) + 2) {
				b.tail.WriteString("\n\n")
				b.tail.WriteString(text)
			}
			return
		}
	}
	b.close()
	if !b.charge(len(text) + headingBytes(heading)) {
		return
	}
	b.doc.Sections = append(b.doc.Sections, Section{Heading: slices.Clone(heading), Page: page})
	b.tail.WriteString(text)
	b.open = true
}

// close stores the text add collected for the last section.
func (b *builder) close() {
	if b.open {
		b.doc.Sections[len(b.doc.Sections)-1].Text = b.tail.String()
		b.tail.Reset()
		b.open = false
	}
}

// result is the document built, or ErrTooLarge.
func (b *builder) result() (Document, error) {
	b.flush()
	if b.err != nil {
		return Document{}, b.err
	}
	return b.doc, nil
}
