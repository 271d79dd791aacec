package bench

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/go-pdf/fpdf"

	"github.com/voiceassist/gateway/internal/extract"
)

// pdfBook is a PDF of pages pages of guideline-like text, Flate-compressed as usual.
func pdfBook(b *testing.B, pages int) []byte {
	f := fpdf.New("P", "mm", "A4", "")
	f.SetFont("Helvetica", "", 11)
	para := strings.Repeat("Hypertension in adults is confirmed by home or ambulatory readings before treatment starts. ", 12)
	for i := range pages {
		f.AddPage()
		f.MultiCell(0, 5, fmt.Sprintf("Page %d. %s\n\n%s", i+1, para, para), "", "L", false)
	}
	var buf bytes.Buffer
	if err := f.Output(&buf); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// pdfBomb is a one-page PDF whose content stream inflates to zeros bytes of NULs.
func pdfBomb(b *testing.B, zeros int) []byte {
	f := fpdf.New("P", "mm", "A4", "")
	f.SetFont("Helvetica", "", 11)
	f.AddPage()
	f.Cell(40, 6, "Bomb")
	f.RawWriteStr(strings.Repeat("\x00", zeros))
	var buf bytes.Buffer
	if err := f.Output(&buf); err != nil {
		b.Fatal(err)
	}
	return buf.Bytes()
}

// BenchmarkExtractPDF reads a normal 100-page PDF with the default limits (the metering
// inflates each page's streams once more before the PDF reader does).
func BenchmarkExtractPDF(b *testing.B) {
	data := pdfBook(b, 100)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := extract.Extract(context.Background(), extract.PDF, data, extract.Limits{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkExtractPDFBomb refuses a PDF whose one stream inflates to 1 GiB (about 1 MiB of
// file) with the default limits: the cost is inflating KB_EXTRACT_MAX_STREAM_BYTES + 1.
func BenchmarkExtractPDFBomb(b *testing.B) {
	data := pdfBomb(b, 1<<30)
	b.SetBytes(int64(len(data)))
	b.ResetTimer()
	for b.Loop() {
		if _, err := extract.Extract(context.Background(), extract.PDF, data, extract.Limits{}); err == nil {
			b.Fatal("the bomb was read")
		}
	}
}
