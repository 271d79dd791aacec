package tests

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/go-pdf/fpdf"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/auth"
)

// bombPDF is a one-page PDF saying text, whose Flate-compressed content stream then holds
// zeros NUL bytes (whitespace to a PDF reader): 16 MiB of them compress to about 16 KiB.
func bombPDF(t *testing.T, text string, zeros int) []byte {
	t.Helper()
	f := fpdf.New("P", "mm", "A4", "")
	f.SetCompression(true)
	f.SetFont("Helvetica", "", 12)
	f.AddPage()
	f.Cell(40, 6, text)
	f.RawWriteStr(strings.Repeat("\x00", zeros))
	var buf bytes.Buffer
	require.NoError(t, f.Output(&buf))
	return buf.Bytes()
}

const bombReason = "document expands past the extraction limit: a stream inflates to more than 8388608 bytes"

// A PDF bomb uploaded with the default limits (KB_EXTRACT_MAX_STREAM_BYTES 8 MiB) is refused
// with a 413 naming the file and the limit, having cost no more than inflating the limit's
// worth into nothing; the server stays healthy and indexes the next upload.
func TestKBPDFBombIsRefusedAtUpload(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	admin := s.token(t, s.account(t, auth.RoleAdmin))

	bomb := bombPDF(t, "Bomb page", 16<<20)
	require.Less(t, len(bomb), 64<<10)
	res := s.upload(t, admin, []file{{name: "bomb.pdf", contentType: "application/pdf", data: bomb}}, nil)
	require.Equal(t, 413, res.StatusCode(), string(res.Body))
	require.Equal(t, "PAYLOAD_TOO_LARGE", res.JSON413.Error.Code)
	require.Equal(t, "bomb.pdf: "+bombReason, res.JSON413.Error.Message)
	require.Equal(t, "files[0]", *res.JSON413.Error.Field)

	h, err := s.Client.GetHealthWithResponse(context.Background())
	require.NoError(t, err)
	require.Equal(t, 200, h.StatusCode())
	ok := s.upload(t, admin, []file{{name: "ok.pdf", contentType: "application/pdf", data: pdfOf(t, "Fine", "Metformin is first line in type 2 diabetes.")}}, nil)
	require.Equal(t, 202, ok.StatusCode(), string(ok.Body))
	d := s.waitIndexed(t, admin, ok.JSON202.Data.Items[0].Document.Id)
	require.Equal(t, client.KbDocumentStatusIndexed, d.Status, "%v", d.Error)
}

// A bomb that reaches indexing (accepted by a replica with higher limits, or stored before
// the limit was lowered) ends failed at once, not retried, with the reason stored; the
// indexing replica keeps working.
func TestKBPDFBombFailsIndexing(t *testing.T) {
	t.Parallel()
	intake := startServer(t, map[string]string{
		"KB_INDEX_WORKERS":            "0",
		"KB_EXTRACT_MAX_BYTES":        "134217728",
		"KB_EXTRACT_MAX_STREAM_BYTES": "67108864",
	})
	indexer := startServer(t, map[string]string{"DATABASE_URL": intake.Env["DATABASE_URL"]})
	admin := intake.token(t, intake.account(t, auth.RoleAdmin))

	res := intake.upload(t, admin, []file{{name: "bomb.pdf", contentType: "application/pdf", data: bombPDF(t, "Bomb page", 16<<20)}}, nil)
	require.Equal(t, 202, res.StatusCode(), string(res.Body))
	d := intake.waitIndexed(t, admin, res.JSON202.Data.Items[0].Document.Id)
	require.Equal(t, client.KbDocumentStatusFailed, d.Status)
	require.NotNil(t, d.Error)
	require.Equal(t, bombReason, *d.Error)
	jobs := intake.waitJobs(t, admin, client.KbJobStateCancelled, 1)
	require.Equal(t, 1, jobs[0].Attempt, "a bomb is not retried")

	h, err := indexer.Client.GetHealthWithResponse(context.Background())
	require.NoError(t, err)
	require.Equal(t, 200, h.StatusCode())
	doc := intake.addText(t, admin, "After the bomb", "Warfarin needs INR monitoring.")
	require.Equal(t, client.KbDocumentStatusIndexed, intake.waitIndexed(t, admin, doc.Id).Status)
}

// An HTML page of a million "<br>" (4 MB, ~120 MB as x/net/html's tree) is refused at upload
// with a 413 before its tree is built.
func TestKBHTMLElementBombIsRefusedAtUpload(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	admin := s.token(t, s.account(t, auth.RoleAdmin))

	bomb := []byte("<html><body><p>Breaks</p>" + strings.Repeat("<br>", 1_000_000) + "</body></html>")
	res := s.upload(t, admin, []file{{name: "breaks.html", contentType: "text/html", data: bomb}}, nil)
	require.Equal(t, 413, res.StatusCode(), string(res.Body))
	require.Equal(t, "PAYLOAD_TOO_LARGE", res.JSON413.Error.Code)
	require.Contains(t, res.JSON413.Error.Message, "breaks.html: ")
	require.Contains(t, res.JSON413.Error.Message, "elements take more than 67108864 bytes")
	require.Equal(t, "files[0]", *res.JSON413.Error.Field)

	page := []byte("<html><head><title>Statins</title></head><body><h1>Statins</h1><p>Statins lower LDL cholesterol.</p></body></html>")
	ok := s.upload(t, admin, []file{{name: "ok.html", contentType: "text/html", data: page}}, nil)
	require.Equal(t, 202, ok.StatusCode(), string(ok.Body))
	d := s.waitIndexed(t, admin, ok.JSON202.Data.Items[0].Document.Id)
	require.Equal(t, client.KbDocumentStatusIndexed, d.Status, "%v", d.Error)
}
