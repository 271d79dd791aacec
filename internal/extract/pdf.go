package extract

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/ledongthuc/pdf"
)

// maxPDFNodes bounds the page-tree walk, which hostile files can make
// cyclic or huge.
const maxPDFNodes = 10000

// extractPDF gives one section per page with text. The pdf library panics on
// many kinds of corrupt input, so every panic becomes ErrMalformed.
//
// The library inflates streams without bound, so before it reads a page, the
// streams that page makes it read (contents and font character maps) are
// inflated here into a scanner that keeps nothing and charged against lim: a
// bomb is refused having cost at most MaxStreamBytes+1 of inflating and no
// memory.
func extractPDF(ctx context.Context, data []byte, lim Limits) (doc Document, err error) {
	defer func() {
		if r := recover(); r != nil {
			if ctx.Err() != nil { // abandoned by watch: the reader was stopped
				doc, err = Document{}, context.Cause(ctx)
				return
			}
			doc, err = Document{}, fmt.Errorf("%w: pdf: %v", ErrMalformed, r)
		}
	}()
	// The reader only accepts "%PDF-1.x" headers; 2.0 files use the same
	// syntax as far as text goes, so present them as 1.7.
	if bytes.HasPrefix(data, []byte("%PDF-2.")) {
		data = bytes.Clone(data)
		copy(data[5:], "1.7")
	}
	r, err := pdf.NewReader(ctxReaderAt{ctx, bytes.NewReader(data)}, int64(len(data)))
	if err != nil {
		if ctx.Err() != nil {
			return Document{}, context.Cause(ctx)
		}
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
	m := meter{ctx: ctx, left: lim.MaxBytes, lim: lim}
	for i, p := range pages {
		if err := m.page(p); err != nil {
			return Document{}, err
		}
		text := pageText(p.Content().Text)
		if m.left -= int64(len(text)); m.left < 0 {
			return Document{}, tooLarge("it expands to", lim.MaxBytes)
		}
		doc.Sections = append(doc.Sections, Section{Page: i + 1, Text: text})
	}
	return doc, nil
}

// meter charges what the PDF reader will inflate against the limits.
type meter struct {
	ctx  context.Context
	left int64 // of lim.MaxBytes
	lim  Limits
	buf  []byte // io.CopyBuffer's, reused for every stream
}

// page charges the streams Page.Content reads: the contents, and the
// ToUnicode map of each font in the page's resources. It also bounds the
// glyphs the reader will keep for the page (about 64 bytes each) to
// MaxStreamBytes: at most one per byte of the page's strings times the
// longest replacement a character map gives one code (a map can turn one
// byte into thousands of characters).
func (m *meter) page(p pdf.Page) error {
	var content strScan
	if err := m.stream(p.V.Key("Contents"), &content); err != nil {
		return err
	}
	perCode := int64(1)
	fonts := p.Resources().Key("Font")
	for _, name := range fonts.Keys() {
		var cmap strScan
		if err := m.stream(fonts.Key(name).Key("ToUnicode"), &cmap); err != nil {
			return err
		}
		perCode = max(perCode, (cmap.longest+1)/2) // UTF-16: two bytes a character
	}
	if content.bytes*perCode > m.lim.MaxStreamBytes {
		return tooLarge("a page's text may be", m.lim.MaxStreamBytes)
	}
	return nil
}

// stream inflates v (a stream or an array of streams) into scan, up to
// one byte past the stream limit. Read errors other than the context's are
// left to the reader, which tolerates truncated streams.
func (m *meter) stream(v pdf.Value, scan *strScan) error {
	switch v.Kind() {
	case pdf.Array:
		for i := range v.Len() {
			if err := m.stream(v.Index(i), scan); err != nil {
				return err
			}
		}
		return nil
	case pdf.Stream:
	default:
		return nil
	}
	rd := v.Reader()
	defer rd.Close()
	if m.buf == nil {
		m.buf = make([]byte, 32<<10)
	}
	n, _ := io.CopyBuffer(scan, io.LimitReader(rd, m.lim.MaxStreamBytes+1), m.buf)
	if err := m.ctx.Err(); err != nil {
		return context.Cause(m.ctx)
	}
	if n > m.lim.MaxStreamBytes {
		return tooLarge("a stream inflates to", m.lim.MaxStreamBytes)
	}
	if m.left -= n; m.left < 0 {
		return tooLarge("it expands to", m.lim.MaxBytes)
	}
	return nil
}

// strScan measures the string tokens, (literal) and <hex>, of the PDF
// syntax written to it, keeping nothing: their total bytes and the longest.
// Escapes and inline image data make it overcount, never undercount.
type strScan struct {
	depth   int  // parentheses open in a literal string; 0 outside one
	esc     bool // a backslash in a literal string
	lt      bool // a '<' outside strings: "<<" or a hex string
	hex     bool // in a hex string
	cur     int64
	bytes   int64
	longest int64
}

func (s *strScan) Write(p []byte) (int, error) {
	for _, c := range p {
		switch {
		case s.depth > 0:
			switch {
			case s.esc:
				s.esc = false
			case c == '\\':
				s.esc = true
				continue
			case c == '(':
				s.depth++
			case c == ')':
				if s.depth--; s.depth == 0 {
					s.end(s.cur)
					continue
				}
			}
			s.cur++
		case s.lt:
			s.lt = false
			if c != '<' { // "<<" opens a dictionary
				s.hex = true
				s.hexByte(c)
			}
		case s.hex:
			s.hexByte(c)
		case c == '(':
			s.depth = 1
		case c == '<':
			s.lt = true
		}
	}
	return len(p), nil
}

func (s *strScan) hexByte(c byte) {
	if c == '>' {
		s.hex = false
		s.end((s.cur + 1) / 2)
	} else if c > ' ' {
		s.cur++
	}
}

func (s *strScan) end(n int64) {
	s.bytes += n
	s.longest = max(s.longest, n)
	s.cur = 0
}

// ctxReaderAt fails every read once ctx is done, which stops an abandoned
// PDF reader at its next read (it panics, and extractPDF recovers).
type ctxReaderAt struct {
	ctx context.Context
	r   io.ReaderAt
}

func (c ctxReaderAt) ReadAt(p []byte, off int64) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.ReadAt(p, off)
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
