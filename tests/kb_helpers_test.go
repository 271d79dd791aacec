package tests

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/textproto"
	"testing"
	"time"

	"github.com/go-pdf/fpdf"
	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
)

// file is one part of a multipart upload.
type file struct {
	name, contentType string
	data              []byte
}

// multipartBody builds a multipart/form-data body with "files" parts and extra fields.
func multipartBody(t *testing.T, files []file, fields map[string][]string) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for _, f := range files {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="files"; filename="`+f.name+`"`)
		ct := f.contentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		h.Set("Content-Type", ct)
		p, err := w.CreatePart(h)
		require.NoError(t, err)
		_, err = p.Write(f.data)
		require.NoError(t, err)
	}
	for k, vs := range fields {
		for _, v := range vs {
			require.NoError(t, w.WriteField(k, v))
		}
	}
	require.NoError(t, w.Close())
	return w.FormDataContentType(), &buf
}

// upload posts files and returns the response.
func (s *testServer) upload(t *testing.T, tok string, files []file, fields map[string][]string) *client.IngestKbDocumentsResponse {
	t.Helper()
	ct, body := multipartBody(t, files, fields)
	res, err := s.Client.IngestKbDocumentsWithBodyWithResponse(context.Background(), ct, body, bearerAuth(tok))
	require.NoError(t, err)
	return res
}

// addText ingests a JSON document and returns it.
func (s *testServer) addText(t *testing.T, tok, title, text string, tags ...string) client.KbDocument {
	t.Helper()
	in := client.KbDocumentInput{Title: title, Text: text}
	if len(tags) > 0 {
		in.Tags = &tags
	}
	res, err := s.Client.IngestKbDocumentsWithResponse(context.Background(), in, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, 202, res.StatusCode(), string(res.Body))
	return res.JSON202.Data.Items[0].Document
}

// waitIndexed polls a document until it leaves pending/processing and returns it.
func (s *testServer) waitIndexed(t *testing.T, tok string, id uuid.UUID) client.KbDocument {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := s.Client.GetKbDocumentWithResponse(context.Background(), id, bearerAuth(tok))
		require.NoError(t, err)
		require.Equal(t, 200, res.StatusCode(), string(res.Body))
		d := res.JSON200.Data
		if d.Status == client.KbDocumentStatusIndexed || d.Status == client.KbDocumentStatusFailed {
			return d
		}
		if time.Now().After(deadline) {
			t.Fatalf("document %s still %s after 30 s (error %v)", id, d.Status, d.Error)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// kbSearch runs a search and requires a 200.
func (s *testServer) kbSearch(t *testing.T, tok string, req client.KbSearchRequest) client.KbSearchResult {
	t.Helper()
	res, err := s.Client.SearchKnowledgeBaseWithResponse(context.Background(), req, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, 200, res.StatusCode(), string(res.Body))
	return res.JSON200.Data
}

func mode(m client.KbSearchMode) *client.KbSearchMode { return &m }

// docsOf lists the distinct documents of hits, in order of first appearance.
func docsOf(hits []client.KbSearchHit) []uuid.UUID {
	var out []uuid.UUID
	seen := map[uuid.UUID]bool{}
	for _, h := range hits {
		if !seen[h.Citation.DocumentId] {
			seen[h.Citation.DocumentId] = true
			out = append(out, h.Citation.DocumentId)
		}
	}
	return out
}

// pdfOf renders pages of text as a real PDF.
func pdfOf(t *testing.T, title string, pages ...string) []byte {
	t.Helper()
	p := fpdf.New("P", "mm", "A4", "")
	p.SetTitle(title, true)
	p.SetFont("Helvetica", "", 12)
	for _, text := range pages {
		p.AddPage()
		p.MultiCell(0, 6, text, "", "L", false)
	}
	var buf bytes.Buffer
	require.NoError(t, p.Output(&buf))
	return buf.Bytes()
}

// waitJobs polls the job list until n jobs are in state and returns them.
func (s *testServer) waitJobs(t *testing.T, tok string, state client.KbJobState, n int) []client.KbJob {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		res, err := s.Client.ListKbJobsWithResponse(context.Background(), &client.ListKbJobsParams{State: &state}, bearerAuth(tok))
		require.NoError(t, err)
		require.Equal(t, 200, res.StatusCode(), string(res.Body))
		if len(res.JSON200.Data) >= n {
			return res.JSON200.Data
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d jobs %s after 30 s", len(res.JSON200.Data), n, state)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
