package extract

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-pdf/fpdf"
)

// fuzzFormats are the formats Extract accepts; the fuzzer picks one by index.
var fuzzFormats = []Format{Text, Markdown, HTML, PDF, JSON}

// fuzzBudget bounds one extraction of a fuzz-sized input (a few KiB): a parser that loops
// or backtracks on hostile input shows up as a failure, not a slow run.
const fuzzBudget = 2 * time.Second

// Uploaded files are hostile. Whatever the bytes, Extract never panics, fails only with the
// sentinel errors, answers in bounded time, and what it returns can go into PostgreSQL and
// the chunker as is: valid UTF-8, no NUL or other control characters (line breaks between
// lines only), no empty sections, and not much more text than the input held.
func FuzzExtract(f *testing.F) {
	f.Add(uint8(0), []byte("a\x00b\n\n\nc\x01d\u2028e\r\nf\x7f"))
	f.Add(uint8(0), []byte("\xef\xbb\xbfplain text\twith tabs"))
	f.Add(uint8(1), []byte("Title\n===\n# A *b* [c](d)\n```\ncode\x00\n"))
	f.Add(uint8(1), []byte("# \x00\n\n## sub\x1b[31m\n\ntext"))
	f.Add(uint8(2), []byte("<h2>x</h2><p>y<br><br>z</p><script>w</script>"))
	f.Add(uint8(2), []byte("<title>&#0;t&#x1;</title><h1>a&#0;b</h1><p>c&#x0;d</p>"))
	f.Add(uint8(2), []byte(`<meta charset="windows-1252"><p>caf\xe9 \x00</p>`))
	f.Add(uint8(3), []byte("%PDF-1.4\n%%EOF"))
	f.Add(uint8(3), fuzzPDF(f))
	f.Add(uint8(4), []byte(`{"title":"t","sections":[{"heading":["a"],"page":2,"text":["b"]}]}`))
	f.Add(uint8(4), []byte(`{"title":"\u0000t","sections":[{"heading":["\u0000"],"text":["a\u0000b"]}]}`))
	f.Add(uint8(4), []byte(`[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["x"]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]`))
	f.Fuzz(func(t *testing.T, which uint8, data []byte) {
		format := fuzzFormats[int(which)%len(fuzzFormats)]
		start := time.Now()
		doc, err := Extract(t.Context(), format, data, Limits{})
		if d := time.Since(start); d > fuzzBudget {
			t.Fatalf("%s: %d bytes took %v", format, len(data), d)
		}
		if err != nil {
			if !errors.Is(err, ErrUnsupported) && !errors.Is(err, ErrEmpty) && !errors.Is(err, ErrMalformed) {
				t.Fatalf("%s: error without sentinel: %v", format, err)
			}
			return
		}
		if len(doc.Sections) == 0 {
			t.Fatalf("%s: success without sections", format)
		}
		checkLine(t, "title", doc.Title)
		total := len(doc.Title)
		for i, s := range doc.Sections {
			if s.Text == "" || s.Page < 0 || (format != PDF && format != JSON && s.Page != 0) {
				t.Fatalf("%s: section %d: empty text or bad page %d", format, i, s.Page)
			}
			if s.Text != clean(s.Text) {
				t.Fatalf("%s: section %d not normalised: %q", format, i, s.Text)
			}
			for _, h := range s.Heading {
				if h == "" {
					t.Fatalf("%s: section %d has an empty heading", format, i)
				}
				checkLine(t, "heading", h)
			}
			for _, line := range strings.Split(s.Text, "\n") {
				checkLine(t, "text", line)
			}
			total += len(s.Text)
		}
		// A PDF's content streams are compressed, so only the others are bounded by size: no
		// format may turn a few bytes into much more text (entities and escapes shrink).
		if format != PDF && total > 4*len(data)+64 {
			t.Fatalf("%s: %d bytes of input gave %d bytes of text", format, len(data), total)
		}
	})
}

// checkLine fails unless s is valid UTF-8 without NUL or other control characters: what
// PostgreSQL text and a one-line field accept.
func checkLine(t *testing.T, what, s string) {
	t.Helper()
	if !utf8.ValidString(s) {
		t.Fatalf("%s is not valid UTF-8: %q", what, s)
	}
	if i := strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || r == '\uFEFF' }); i >= 0 {
		t.Fatalf("%s holds a control character at %d: %q", what, i, s)
	}
	if s != strings.TrimSpace(s) {
		t.Fatalf("%s is not trimmed: %q", what, s)
	}
}

// fuzzPDF is a real two-page PDF with a title, for the fuzzer to mutate.
func fuzzPDF(f *testing.F) []byte {
	p := fpdf.New("P", "mm", "A4", "")
	p.SetTitle("Seed \u2013 PDF", true)
	p.SetCompression(false) // mutations then reach the text operators
	for _, text := range []string{"Hypertension is diagnosed after two readings.", "Second page."} {
		p.AddPage()
		p.SetFont("Helvetica", "", 12)
		p.MultiCell(0, 6, text, "", "J", false)
	}
	var buf bytes.Buffer
	if err := p.Output(&buf); err != nil {
		f.Fatal(err)
	}
	return buf.Bytes()
}

// clean is a one-pass rewrite of the obvious multi-pass version below (which allocated
// several copies of a multi-megabyte upload); both must agree on every input.
func FuzzClean(f *testing.F) {
	f.Add("  a \u00a0  b \n c \n \n\t\n d \n")
	f.Add("a\x00b\r\nc\rd\r\r\ne\u2028f\u0085g\vh\x7f\ufeffi")
	f.Add("x\xff\xfe\xfdy\xffz \xc3")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := clean(s), cleanReference(s); got != want {
			t.Fatalf("clean(%q) = %q, want %q", s, got, want)
		}
	})
}

func cleanReference(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\t' {
			return r
		}
		if unicode.IsControl(r) || r == '\uFEFF' {
			return -1
		}
		return r
	}, s)
	var b strings.Builder
	blank := false
	for line := range strings.SplitSeq(s, "\n") {
		line = strings.Join(strings.Fields(line), " ")
		if line == "" {
			blank = true
			continue
		}
		if b.Len() > 0 {
			if blank {
				b.WriteString("\n\n")
			} else {
				b.WriteByte('\n')
			}
		}
		blank = false
		b.WriteString(line)
	}
	return b.String()
}
