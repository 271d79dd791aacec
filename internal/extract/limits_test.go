package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/go-pdf/fpdf"
	"github.com/stretchr/testify/require"
)

// bombPDF is a small PDF whose pages each say "Page n" and then carry zeros
// bytes of NULs (whitespace to a PDF reader) in their Flate-compressed content
// stream: 1 MiB of zeros compresses to about 1 KiB.
func bombPDF(t *testing.T, pages, zeros int) []byte {
	t.Helper()
	f := fpdf.New("P", "mm", "A4", "")
	f.SetCompression(true)
	f.SetFont("Helvetica", "", 12)
	pad := strings.Repeat("\x00", zeros)
	for i := range pages {
		f.AddPage()
		f.Cell(40, 6, fmt.Sprintf("Page %d", i+1))
		f.RawWriteStr(pad)
	}
	var buf bytes.Buffer
	require.NoError(t, f.Output(&buf))
	return buf.Bytes()
}

func TestPDFStreamBombIsRefused(t *testing.T) {
	t.Parallel()
	data := bombPDF(t, 1, 4<<20)
	require.Less(t, len(data), 64<<10, "the bomb is small")

	_, err := Extract(t.Context(), PDF, data, Limits{MaxStreamBytes: 1 << 20})
	require.ErrorIs(t, err, ErrTooLarge)
	require.ErrorContains(t, err, "a stream inflates to more than 1048576 bytes")

	// Within the limits the same file reads.
	doc, err := Extract(t.Context(), PDF, data, Limits{})
	require.NoError(t, err)
	require.Equal(t, "Page 1", doc.Sections[0].Text)
}

// Streams each under the stream limit add up to more than the document's.
func TestPDFDocumentBombIsRefused(t *testing.T) {
	t.Parallel()
	data := bombPDF(t, 6, 1<<20)
	_, err := Extract(t.Context(), PDF, data, Limits{MaxBytes: 4 << 20, MaxStreamBytes: 2 << 20})
	require.ErrorIs(t, err, ErrTooLarge)
	require.ErrorContains(t, err, "it expands to more than 4194304 bytes")

	doc, err := Extract(t.Context(), PDF, data, Limits{MaxBytes: 8 << 20, MaxStreamBytes: 2 << 20})
	require.NoError(t, err)
	require.Len(t, doc.Sections, 6)
}

// The default limits stop a gigabyte bomb before it costs memory: the
// stream is inflated into a scanner up to the stream limit, never kept.
func TestPDFBombDefaultLimitsBoundMemory(t *testing.T) {
	data := bombPDF(t, 1, 32<<20) // 32 MiB of zeros, about 32 KiB of file
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := Extract(t.Context(), PDF, data, Limits{})
	runtime.ReadMemStats(&after)
	require.ErrorIs(t, err, ErrTooLarge)
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(16<<20), "bytes allocated while refusing the bomb")
}

// A JSON object nested 99 deep gives every leaf a 99-key heading path: a few
// bytes of input per leaf became kilobytes of sections (an input of 25 MiB
// took gigabytes).
func TestJSONHeadingAmplificationIsBounded(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	for range 99 {
		b.WriteString(`{"section heading":`)
	}
	b.WriteString("{")
	for i := range 20000 {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"k%d":"x"`, i)
	}
	b.WriteString("}" + strings.Repeat("}", 99))
	data := []byte(b.String())
	require.Less(t, len(data), 256<<10)

	_, err := Extract(t.Context(), JSON, data, Limits{MaxBytes: 4 << 20})
	require.ErrorIs(t, err, ErrTooLarge)
	require.ErrorContains(t, err, "its text is more than 4194304 bytes")
}

// Paragraphs under one heading are merged without copying the text each time
// (it was quadratic: 200k array entries copied gigabytes).
func TestJSONManyParagraphsAreLinear(t *testing.T) {
	n := 200000
	data := []byte(`{"notes":[` + strings.TrimSuffix(strings.Repeat(`"Aspirin.",`, n), ",") + `]}`)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	doc, err := Extract(t.Context(), JSON, data, Limits{})
	runtime.ReadMemStats(&after)
	require.NoError(t, err)
	require.Len(t, doc.Sections, 1)
	require.Equal(t, n, strings.Count(doc.Sections[0].Text, "Aspirin."))
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(40*len(data)), "bytes allocated")
}

// Long headings repeated over many Markdown sections are charged per section,
// since each section keeps (and Extract copies) its heading path.
func TestMarkdownHeadingAmplificationIsBounded(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("word ", 20000) // 100 kB
	var b strings.Builder
	for l := 1; l <= 5; l++ {
		fmt.Fprintf(&b, "%s %s\n", strings.Repeat("#", l), long)
	}
	for i := range 200 {
		fmt.Fprintf(&b, "###### s%d\nt\n", i)
	}
	_, err := Extract(t.Context(), Markdown, []byte(b.String()), Limits{MaxBytes: 16 << 20})
	require.ErrorIs(t, err, ErrTooLarge)
}

// watch gives up on work that outlives the timeout and tells it to stop; no
// timing is involved: the work blocks until it is told.
func TestWatchAbandonsWorkPastTheTimeout(t *testing.T) {
	t.Parallel()
	stopped := make(chan struct{})
	_, err := watch(t.Context(), time.Nanosecond, func(ctx context.Context) (Document, error) {
		<-ctx.Done()
		close(stopped)
		return Document{}, nil
	})
	require.ErrorIs(t, err, ErrTimeout)
	require.ErrorContains(t, err, "limit 1ns")
	<-stopped
}

// A caller's cancellation is not the file's fault: it is not ErrTimeout (an
// indexing job stopped by shutdown retries).
func TestWatchReportsTheCallersCancellation(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	_, err := watch(ctx, time.Hour, func(ctx context.Context) (Document, error) {
		<-ctx.Done()
		return Document{}, nil
	})
	require.ErrorIs(t, err, context.Canceled)
	require.False(t, errors.Is(err, ErrTimeout))
}

// A panic in an extractor is an error, not a crashed process.
func TestWatchRecoversPanics(t *testing.T) {
	t.Parallel()
	_, err := watch(t.Context(), time.Hour, func(context.Context) (Document, error) { panic("boom") })
	require.ErrorContains(t, err, "panic: boom")
}

// An abandoned PDF reader stops at its next read of the file.
func TestPDFReaderStopsWhenAbandoned(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancelCause(t.Context())
	cancel(ErrTimeout)
	_, err := extractPDF(ctx, makePDF(t, nil), Limits{}.withDefaults())
	require.ErrorIs(t, err, ErrTimeout)
}

func TestStrScanMeasuresStrings(t *testing.T) {
	t.Parallel()
	var s strScan
	in := `BT << /A 1 >> (Hel\)lo (x)) Tj <48 65 6c6c6f> Tj <> Tj [(a) -250 (bc)] TJ ET`
	// Written a byte at a time, as chunks may split a token anywhere.
	for i := range len(in) {
		_, _ = s.Write([]byte{in[i]})
	}
	require.Equal(t, int64(10+5+0+1+2), s.bytes) // the backslash escapes, it is no byte
	require.Equal(t, int64(10), s.longest)
}

// rawPDF writes a one-page PDF by hand: content is the page's content stream
// and cmap its font's ToUnicode map.
func rawPDF(content, cmap string) []byte {
	objs := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /ToUnicode 6 0 R >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(content), content),
		fmt.Sprintf("<< /Length %d >>\nstream\n%s\nendstream", len(cmap), cmap),
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objs))
	for i, o := range objs {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objs)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objs)+1, xref)
	return b.Bytes()
}

// cmapFor maps the code "A" to repl (UTF-16BE hex).
func cmapFor(repl string) string {
	return "/CIDInit /ProcSet findresource begin 12 dict begin begincmap\n" +
		"1 begincodespacerange <00> <FF> endcodespacerange\n" +
		"1 beginbfchar <41> <" + repl + "> endbfchar\n" +
		"endcmap CMapName currentdict /CMap defineresource pop end end"
}

// A character map that turns one byte into thousands of characters made 20 KB
// of page text into 20 million glyphs (over a gigabyte) within the byte limits.
func TestPDFCharacterMapBombIsRefused(t *testing.T) {
	t.Parallel()
	content := "BT /F1 12 Tf 72 720 Td (" + strings.Repeat("A", 20000) + ") Tj ET"

	doc, err := Extract(t.Context(), PDF, rawPDF(content, cmapFor("0042")), Limits{})
	require.NoError(t, err, "the file itself is sound")
	require.Equal(t, strings.Repeat("B", 20000), doc.Sections[0].Text)

	_, err = Extract(t.Context(), PDF, rawPDF(content, cmapFor(strings.Repeat("0042", 1000))), Limits{})
	require.ErrorIs(t, err, ErrTooLarge)
	require.ErrorContains(t, err, "a page's text may be more than 8388608 bytes")
}

func TestTextOverTheLimitIsRefused(t *testing.T) {
	t.Parallel()
	_, err := Extract(t.Context(), Text, bytes.Repeat([]byte("a "), 1<<20), Limits{MaxBytes: 1 << 20})
	require.ErrorIs(t, err, ErrTooLarge)
}

// A page of tiny elements expands ~30× in x/net/html's tree (4 MB of "<br>" took 120 MB):
// it is refused by counting its nodes before the tree is built.
func TestHTMLElementBombIsRefused(t *testing.T) {
	bomb := []byte("<html><body><p>Text</p>" + strings.Repeat("<br>", 1_000_000) + "</body></html>")
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := Extract(context.Background(), HTML, bomb, Limits{}) // the default 64 MiB
	runtime.ReadMemStats(&after)
	require.ErrorIs(t, err, ErrTooLarge)
	require.Contains(t, err.Error(), "elements take more than")
	require.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(16<<20),
		"the tree of a million elements (~120 MB) was not built")

	small := Limits{MaxBytes: 1 << 20} // 1 MiB: about 6,500 nodes
	_, err = Extract(context.Background(), HTML, []byte("<p>x</p>"+strings.Repeat("<b>y</b>", 4000)), small)
	require.ErrorIs(t, err, ErrTooLarge)
	doc, err := Extract(context.Background(), HTML, []byte("<title>T</title><h1>H</h1>"+strings.Repeat("<p>word</p>", 1000)), small)
	require.NoError(t, err)
	require.Equal(t, "T", doc.Title)
	require.Contains(t, doc.Sections[0].Text, "word")
}

// The node count stops when the extraction is abandoned.
func TestHTMLNodeBudgetStopsWhenCancelled(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	cause := errors.New("abandoned")
	cancel(cause)
	err := htmlNodeBudget(ctx, []byte(strings.Repeat("<i>", 100_000)), 1<<40)
	require.ErrorIs(t, err, cause)
}
