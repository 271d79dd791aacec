package extract

import (
	"bytes"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/go-pdf/fpdf"
	"github.com/stretchr/testify/require"
)

// pdfPageTexts are written one per page; an empty entry is a blank page.
var pdfPageTexts = []string{
	"Hypertension is diagnosed after two separate office readings. " +
		"Home blood pressure monitoring confirms the diagnosis and this long sentence " +
		"wraps over several lines of the page so line breaks are exercised.",
	"",
	"Lifestyle changes come first for stage one hypertension.",
	"Thiazide diuretics and calcium channel blockers are first line drugs.",
}

// makePDF renders pdfPageTexts with fpdf, plus a row of two cells on
// each page with text.
func makePDF(t *testing.T, configure func(*fpdf.Fpdf)) []byte {
	t.Helper()
	f := fpdf.New("P", "mm", "A4", "")
	f.SetTitle("Hypertension \u2013 Adult Guideline", true)
	if configure != nil {
		configure(f)
	}
	for _, text := range pdfPageTexts {
		f.AddPage()
		if text == "" {
			continue
		}
		f.SetFont("Helvetica", "", 12)
		f.MultiCell(0, 6, text, "", "J", false)
		f.Ln(4)
		f.Cell(40, 6, "Left cell")
		f.Cell(40, 6, "Right cell")
	}
	var buf bytes.Buffer
	require.NoError(t, f.Output(&buf))
	return buf.Bytes()
}

func TestPDFPagesAndTitle(t *testing.T) {
	t.Parallel()
	doc, err := Extract(t.Context(), PDF, makePDF(t, nil), Limits{})
	require.NoError(t, err)
	require.Equal(t, "Hypertension \u2013 Adult Guideline", doc.Title)

	var pages []int
	for _, s := range doc.Sections {
		pages = append(pages, s.Page)
		require.Empty(t, s.Heading)
		want := pdfPageTexts[s.Page-1]
		// Words must come out separated: the exact sentence reappears
		// once line breaks are read as spaces.
		require.Contains(t, strings.Join(strings.Fields(s.Text), " "), want)
		require.Contains(t, s.Text, "Left cell Right cell")
		for i, other := range pdfPageTexts {
			if i != s.Page-1 && other != "" {
				require.NotContains(t, s.Text, other[:30])
			}
		}
	}
	require.Equal(t, []int{1, 3, 4}, pages, "blank page 2 is skipped")
	// The wrapped paragraph keeps its line structure.
	require.Contains(t, doc.Sections[0].Text, "\n")
}

func TestPDFVersion2Header(t *testing.T) {
	t.Parallel()
	data := makePDF(t, nil)
	require.True(t, bytes.HasPrefix(data, []byte("%PDF-1.")))
	copy(data[5:], "2.0")
	doc, err := Extract(t.Context(), PDF, data, Limits{})
	require.NoError(t, err)
	require.Len(t, doc.Sections, 3)
}

func TestPDFMalformed(t *testing.T) {
	t.Parallel()
	real := makePDF(t, nil)
	rng := rand.New(rand.NewPCG(1, 2))
	random := make([]byte, 4096)
	for i := range random {
		random[i] = byte(rng.UintN(256))
	}
	cases := map[string][]byte{
		"random bytes":     random,
		"pdf header only":  []byte("%PDF-1.4\n"),
		"garbage body":     []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage\nstartxref\n9999\n%%EOF\n"),
		"truncated half":   real[:len(real)/2],
		"truncated tail":   real[:len(real)-10],
		"truncated header": real[:20],
		"corrupt streams":  corruptStreams(real),
	}
	for name, data := range cases {
		require.NotPanics(t, func() {
			_, err := Extract(t.Context(), PDF, data, Limits{})
			require.ErrorIs(t, err, ErrMalformed, name)
		}, name)
	}
}

// corruptStreams overwrites the start of every stream, which makes the
// pdf library panic inside zlib.
func corruptStreams(data []byte) []byte {
	out := bytes.Clone(data)
	for i := 0; ; {
		j := bytes.Index(out[i:], []byte("stream\n"))
		if j < 0 {
			return out
		}
		i += j + len("stream\n")
		if i+4 <= len(out) {
			copy(out[i:], "\x00\xff\x00\xff")
		}
	}
}

func TestPDFMutationsNeverPanic(t *testing.T) {
	t.Parallel()
	real := makePDF(t, nil)
	rng := rand.New(rand.NewPCG(3, 4))
	for range 300 {
		data := bytes.Clone(real)
		for range 1 + rng.IntN(8) {
			data[rng.IntN(len(data))] = byte(rng.UintN(256))
		}
		require.NotPanics(t, func() {
			doc, err := Extract(t.Context(), PDF, data, Limits{})
			if err == nil {
				require.NotEmpty(t, doc.Sections)
			}
		})
	}
}

func TestPDFEncrypted(t *testing.T) {
	t.Parallel()
	for _, user := range []string{"", "secret"} {
		data := makePDF(t, func(f *fpdf.Fpdf) { f.SetProtection(fpdf.CnProtectPrint, user, "owner") })
		_, err := Extract(t.Context(), PDF, data, Limits{})
		require.ErrorIs(t, err, ErrUnsupported, "user password %q", user)
		require.ErrorContains(t, err, "encrypted")
	}
}

func TestPDFWithoutText(t *testing.T) {
	t.Parallel()
	f := fpdf.New("P", "mm", "A4", "")
	f.AddPage()
	f.Rect(10, 10, 50, 50, "F")
	var buf bytes.Buffer
	require.NoError(t, f.Output(&buf))
	_, err := Extract(t.Context(), PDF, buf.Bytes(), Limits{})
	require.ErrorIs(t, err, ErrEmpty)
}

func TestPDFPositionedWordsGetSpaces(t *testing.T) {
	t.Parallel()
	f := fpdf.New("P", "mm", "A4", "")
	f.AddPage()
	f.SetFont("Times", "", 11)
	// Each word is its own text object with no space characters, as
	// many PDF producers write them.
	for i, w := range []string{"Positioned", "words", "here"} {
		f.Text(20+float64(i)*30, 30, w)
	}
	f.Text(20, 36, "Next")
	f.Text(40, 36, "line")
	var buf bytes.Buffer
	require.NoError(t, f.Output(&buf))
	doc, err := Extract(t.Context(), PDF, buf.Bytes(), Limits{})
	require.NoError(t, err)
	require.Empty(t, doc.Title)
	require.Equal(t, []Section{{Heading: []string{}, Page: 1, Text: "Positioned words here\nNext line"}}, doc.Sections)
}
