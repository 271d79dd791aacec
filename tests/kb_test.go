package tests

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/app"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/embed"
)

const sepsisMarkdown = `# Sepsis Management

## Initial resuscitation

Give 30 mL/kg of intravenous crystalloid fluid within the first three hours for sepsis-induced hypoperfusion.
Measure lactate and repeat it when the initial lactate is above 2 mmol/L.

## Antibiotics

Start broad-spectrum antibiotics within one hour of recognising septic shock, after blood cultures.
`

var heartFailurePages = []string{
	"Heart failure overview. Chronic heart failure with reduced ejection fraction needs guideline directed therapy.",
	"Diuretics relieve congestion. In septic shock with heart failure, give crystalloid fluid in smaller boluses and reassess often.",
}

// The acceptance test: an admin uploads a PDF and a Markdown file, they index, and a
// user's hybrid search returns cited chunks from both.
func TestKBUploadPDFAndMarkdownThenHybridSearch(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	user := s.token(t, s.account(t, auth.RoleUser))

	res := s.upload(t, admin, []file{
		{name: "sepsis.md", contentType: "text/markdown", data: []byte(sepsisMarkdown)},
		{name: "heart-failure.pdf", contentType: "application/pdf", data: pdfOf(t, "Heart Failure Guideline", heartFailurePages...)},
	}, map[string][]string{"tags": {"guideline", "critical-care"}})
	require.Equal(t, 202, res.StatusCode(), string(res.Body))
	items := res.JSON202.Data.Items
	require.Len(t, items, 2)
	md, pdf := items[0].Document, items[1].Document
	require.False(t, items[0].Duplicate)
	require.Equal(t, client.KbFormatMd, md.Format)
	require.Equal(t, client.KbFormatPdf, pdf.Format)
	require.Equal(t, "Sepsis Management", md.Title)
	require.Equal(t, "Heart Failure Guideline", pdf.Title)
	require.Equal(t, []string{"guideline", "critical-care"}, md.Tags)

	md = s.waitIndexed(t, admin, md.Id)
	pdf = s.waitIndexed(t, admin, pdf.Id)
	require.Equal(t, client.KbDocumentStatusIndexed, md.Status, "%v", md.Error)
	require.Equal(t, client.KbDocumentStatusIndexed, pdf.Status, "%v", pdf.Error)
	require.Positive(t, md.ChunkCount)
	require.NotNil(t, pdf.Pages)
	require.Equal(t, 2, *pdf.Pages)
	require.NotNil(t, md.IndexDurationMs)
	require.NotNil(t, md.EmbeddingModel)

	out := s.kbSearch(t, user, client.KbSearchRequest{Query: "crystalloid fluid in septic shock", Mode: mode(client.Hybrid)})
	require.Equal(t, client.Hybrid, out.Mode)
	require.NotNil(t, out.Fusion)
	require.Equal(t, client.Weighted, *out.Fusion, "auto fusion with the offline embedder")
	docs := docsOf(out.Hits)
	require.Contains(t, docs, md.Id)
	require.Contains(t, docs, pdf.Id)
	for i, h := range out.Hits {
		require.Equal(t, i+1, h.Rank)
		require.True(t, h.Keyword != nil || h.Vector != nil)
		switch h.Citation.DocumentId {
		case pdf.Id:
			require.Equal(t, "Heart Failure Guideline", h.Citation.Title)
			require.NotNil(t, h.Citation.Page)
			want := 1
			if strings.Contains(h.Text, "smaller boluses") {
				want = 2
			}
			require.Equal(t, want, *h.Citation.Page, h.Text)
			require.Equal(t, "heart-failure.pdf", *h.Citation.Filename)
		case md.Id:
			require.Equal(t, "Sepsis Management", h.Citation.Title)
			require.Nil(t, h.Citation.Page)
			require.Equal(t, "Sepsis Management", h.Citation.Heading[0])
			if strings.Contains(h.Text, "30 mL/kg") {
				require.Equal(t, []string{"Sepsis Management", "Initial resuscitation"}, h.Citation.Heading)
			}
		}
	}
	// Hybrid hits found by both retrievers carry both ranks.
	both := 0
	for _, h := range out.Hits {
		if h.Keyword != nil && h.Vector != nil {
			both++
		}
	}
	require.Positive(t, both)

	// The page-2 passage is cited with page 2.
	p2 := s.kbSearch(t, user, client.KbSearchRequest{Query: "smaller boluses reassess", Mode: mode(client.Keyword)})
	require.NotEmpty(t, p2.Hits)
	require.Equal(t, pdf.Id, p2.Hits[0].Citation.DocumentId)
	require.Equal(t, 2, *p2.Hits[0].Citation.Page)
}

func TestKBSearchModesAndFilters(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	user := s.token(t, s.account(t, auth.RoleUser))
	a := s.addText(t, admin, "Asthma", "# Asthma\n\nInhaled corticosteroids control persistent asthma. Salbutamol relieves acute bronchospasm.", "respiratory")
	b := s.addText(t, admin, "COPD", "# COPD\n\nLong-acting bronchodilators reduce COPD exacerbations. Salbutamol relieves breathlessness.", "respiratory", "copd")
	c := s.addText(t, admin, "Diabetes", "# Diabetes\n\nMetformin is first-line therapy for type 2 diabetes.", "endocrine")
	for _, d := range []client.KbDocument{a, b, c} {
		require.Equal(t, client.KbDocumentStatusIndexed, s.waitIndexed(t, admin, d.Id).Status)
	}

	kw := s.kbSearch(t, user, client.KbSearchRequest{Query: "salbutamol", Mode: mode(client.Keyword)})
	require.ElementsMatch(t, []uuid.UUID{a.Id, b.Id}, docsOf(kw.Hits))
	for _, h := range kw.Hits {
		require.NotNil(t, h.Keyword)
		require.Nil(t, h.Vector)
		require.Equal(t, h.Keyword.Score, h.Score)
	}
	require.Nil(t, kw.Fusion)

	vec := s.kbSearch(t, user, client.KbSearchRequest{Query: "metformin type 2 diabetes", Mode: mode(client.Vector)})
	require.NotEmpty(t, vec.Hits)
	require.Equal(t, c.Id, vec.Hits[0].Citation.DocumentId)
	require.NotNil(t, vec.Hits[0].Vector)
	require.Nil(t, vec.Hits[0].Keyword)

	hy := s.kbSearch(t, user, client.KbSearchRequest{Query: "salbutamol"})
	require.Equal(t, client.Hybrid, hy.Mode)
	w := client.Weighted
	hw := s.kbSearch(t, user, client.KbSearchRequest{Query: "salbutamol", Fusion: &w})
	require.Equal(t, client.Weighted, *hw.Fusion)
	require.NotEmpty(t, hw.Hits)

	// Filters: a tag, several tags (all must match), one document.
	tags := []string{"copd"}
	f := s.kbSearch(t, user, client.KbSearchRequest{Query: "salbutamol", Tags: &tags})
	require.Equal(t, []uuid.UUID{b.Id}, docsOf(f.Hits))
	tags = []string{"respiratory", "copd"}
	f = s.kbSearch(t, user, client.KbSearchRequest{Query: "salbutamol", Tags: &tags})
	require.Equal(t, []uuid.UUID{b.Id}, docsOf(f.Hits))
	f = s.kbSearch(t, user, client.KbSearchRequest{Query: "salbutamol", DocumentId: &a.Id})
	require.Equal(t, []uuid.UUID{a.Id}, docsOf(f.Hits))

	one := 1
	top := s.kbSearch(t, user, client.KbSearchRequest{Query: "salbutamol", TopK: &one})
	require.Len(t, top.Hits, 1)

	none := s.kbSearch(t, user, client.KbSearchRequest{Query: "zzzxqv", Mode: mode(client.Keyword)})
	require.Empty(t, none.Hits)

	// Bad requests are 4xx envelopes.
	for name, body := range map[string]string{
		"empty query":   `{"query":""}`,
		"blank query":   `{"query":"   "}`,
		"top_k 0":       `{"query":"x","top_k":0}`,
		"top_k 101":     `{"query":"x","top_k":101}`,
		"bad mode":      `{"query":"x","mode":"semantic"}`,
		"bad tag":       `{"query":"x","tags":["Bad Tag"]}`,
		"unknown field": `{"query":"x","k":3}`,
		"bad doc id":    `{"query":"x","document_id":"nope"}`,
	} {
		res, err := s.Client.SearchKnowledgeBaseWithBodyWithResponse(context.Background(), "application/json", strings.NewReader(body), bearerAuth(user))
		require.NoError(t, err)
		require.Equal(t, 422, res.StatusCode(), "%s: %s", name, res.Body)
	}
	res, err := s.Client.SearchKnowledgeBaseWithBodyWithResponse(context.Background(), "application/json", strings.NewReader(`{"query":`), bearerAuth(user))
	require.NoError(t, err)
	require.Equal(t, 400, res.StatusCode())
	res, err = s.Client.SearchKnowledgeBaseWithResponse(context.Background(), client.KbSearchRequest{Query: "x"})
	require.NoError(t, err)
	require.Equal(t, 401, res.StatusCode())
}

func TestKBIngestFailures(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"MAX_UPLOAD_BYTES": "2000000"})
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	viewer := s.token(t, s.account(t, auth.RoleViewer))
	good := file{name: "ok.txt", data: []byte("Paracetamol reduces fever.")}

	cases := []struct {
		name   string
		files  []file
		status int
		field  string
	}{
		{"wrong extension", []file{good, {name: "virus.exe", data: []byte("MZ")}}, 415, "files[1]"},
		{"docx", []file{{name: "notes.docx", contentType: "application/vnd.openxmlformats-officedocument.wordprocessingml.document", data: []byte("PK")}}, 415, "files[0]"},
		{"empty file", []file{{name: "empty.txt", data: nil}}, 422, "files[0]"},
		{"whitespace only", []file{{name: "blank.md", data: []byte(" \n\n\t ")}}, 422, "files[0]"},
		{"malformed pdf", []file{{name: "broken.pdf", data: []byte("%PDF-1.4\n1 0 obj << /Type /Catalog >>\ngarbage")}}, 422, "files[0]"},
		{"truncated pdf", []file{{name: "cut.pdf", data: pdfOf(t, "x", "Some text here.")[:300]}}, 422, "files[0]"},
		{"bad json", []file{{name: "doc.json", data: []byte(`{"title": "x", "text": `)}}, 422, "files[0]"},
		{"invalid utf-8", []file{{name: "bad.txt", data: []byte{0xff, 0xfe, 0xfd, 'a'}}}, 422, "files[0]"},
	}
	for _, c := range cases {
		res := s.upload(t, admin, c.files, nil)
		require.Equal(t, c.status, res.StatusCode(), "%s: %s", c.name, res.Body)
		require.Equal(t, c.field, errorFields(t, res.Body)[0], c.name)
	}
	// Nothing of a refused batch was stored.
	list, err := s.Client.ListKbDocumentsWithResponse(context.Background(), nil, bearerAuth(admin))
	require.NoError(t, err)
	require.Empty(t, list.JSON200.Data)

	// A huge file: 413 from the body limit, before anything is read into memory twice.
	huge := bytes.Repeat([]byte("word "), 500_000)
	res := s.upload(t, admin, []file{{name: "huge.txt", data: huge}}, nil)
	require.Equal(t, 413, res.StatusCode(), string(res.Body))

	// No files at all, and a form without the files field.
	ct, body := multipartBody(t, nil, map[string][]string{"tags": {"x"}})
	r2, err := s.Client.IngestKbDocumentsWithBodyWithResponse(context.Background(), ct, body, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, 422, r2.StatusCode(), string(r2.Body))

	// A bad tag in the form.
	rt := s.upload(t, admin, []file{good}, map[string][]string{"tags": {"Bad Tag"}})
	require.Equal(t, 422, rt.StatusCode(), string(rt.Body))

	// Unsupported request content type.
	r3, err := s.Client.IngestKbDocumentsWithBodyWithResponse(context.Background(), "text/plain", strings.NewReader("hello"), bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, 415, r3.StatusCode(), string(r3.Body))

	// JSON input validation.
	for name, b := range map[string]string{
		"no text":       `{"title":"t"}`,
		"empty title":   `{"title":"","text":"x"}`,
		"bad url":       `{"title":"t","text":"x","source_url":"not a url"}`,
		"unknown field": `{"title":"t","text":"x","body":"y"}`,
	} {
		r, err := s.Client.IngestKbDocumentsWithBodyWithResponse(context.Background(), "application/json", strings.NewReader(b), bearerAuth(admin))
		require.NoError(t, err)
		require.Equal(t, 422, r.StatusCode(), "%s: %s", name, r.Body)
	}

	// Roles: a viewer may read but not upload.
	res = s.upload(t, viewer, []file{good}, nil)
	require.Equal(t, 403, res.StatusCode())
	l2, err := s.Client.ListKbDocumentsWithResponse(context.Background(), nil, bearerAuth(viewer))
	require.NoError(t, err)
	require.Equal(t, 200, l2.StatusCode())

	// Duplicates: the same content again (also twice in one batch) returns the stored document.
	first := s.upload(t, admin, []file{good}, nil)
	require.Equal(t, 202, first.StatusCode(), string(first.Body))
	again := s.upload(t, admin, []file{{name: "renamed.txt", data: good.data}, good}, nil)
	require.Equal(t, 202, again.StatusCode(), string(again.Body))
	id := first.JSON202.Data.Items[0].Document.Id
	for _, it := range again.JSON202.Data.Items {
		require.True(t, it.Duplicate)
		require.Equal(t, id, it.Document.Id)
	}
	batch := s.upload(t, admin, []file{{name: "a.txt", data: []byte("Same words twice.")}, {name: "b.txt", data: []byte("Same words twice.")}}, nil)
	require.Equal(t, 202, batch.StatusCode())
	require.False(t, batch.JSON202.Data.Items[0].Duplicate)
	require.True(t, batch.JSON202.Data.Items[1].Duplicate)
	require.Equal(t, batch.JSON202.Data.Items[0].Document.Id, batch.JSON202.Data.Items[1].Document.Id)

	// Unknown documents are 404s; malformed ids 400.
	r4, err := s.Client.GetKbDocumentWithResponse(context.Background(), uuid.New(), bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, 404, r4.StatusCode())
	r5, err := s.Client.DeleteKbDocumentWithResponse(context.Background(), uuid.New(), bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, 404, r5.StatusCode())
	r6, err := s.Client.ReindexKbDocumentWithResponse(context.Background(), uuid.New(), bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, 404, r6.StatusCode())
	bad := s.send(t, "GET", "/api/admin/kb/documents/not-a-uuid", "", map[string]string{"Authorization": "Bearer " + admin})
	require.Equal(t, 422, bad.StatusCode)
}

func TestKBFormatsIndex(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	res := s.upload(t, admin, []file{
		{name: "note.txt", data: []byte("Warfarin interacts with many antibiotics.")},
		{name: "page.html", contentType: "text/html", data: []byte(`<html><head><title>Anticoagulation</title><script>var warfarin=1;</script></head>
<body><h1>Anticoagulation</h1><h2>Monitoring</h2><p>Check the INR &amp; adjust the warfarin dose weekly.</p></body></html>`)},
		{name: "ref.json", data: []byte(`{"title":"Apixaban","text":"Apixaban needs no INR monitoring."}`)},
	}, nil)
	require.Equal(t, 202, res.StatusCode(), string(res.Body))
	for _, it := range res.JSON202.Data.Items {
		d := s.waitIndexed(t, admin, it.Document.Id)
		require.Equal(t, client.KbDocumentStatusIndexed, d.Status, "%s: %v", *d.Filename, d.Error)
	}
	out := s.kbSearch(t, admin, client.KbSearchRequest{Query: "INR monitoring warfarin", Mode: mode(client.Keyword)})
	require.Len(t, docsOf(out.Hits), 3)
	for _, h := range out.Hits {
		require.NotContains(t, h.Text, "var warfarin")
		if h.Citation.Title == "Anticoagulation" {
			require.Equal(t, []string{"Anticoagulation", "Monitoring"}, h.Citation.Heading)
			require.Contains(t, h.Text, "INR & adjust")
		}
	}
	// Lists filter by format, text and status, and paginate.
	f := client.KbFormatHtml
	list, err := s.Client.ListKbDocumentsWithResponse(context.Background(), &client.ListKbDocumentsParams{Format: &f}, bearerAuth(admin))
	require.NoError(t, err)
	require.Len(t, list.JSON200.Data, 1)
	q := "apix"
	list, err = s.Client.ListKbDocumentsWithResponse(context.Background(), &client.ListKbDocumentsParams{Q: &q}, bearerAuth(admin))
	require.NoError(t, err)
	require.Len(t, list.JSON200.Data, 1)
	require.Equal(t, "Apixaban", list.JSON200.Data[0].Title)
	one := 1
	var seen []uuid.UUID
	var cursor *string
	for range 5 {
		p, err := s.Client.ListKbDocumentsWithResponse(context.Background(), &client.ListKbDocumentsParams{Limit: &one, Cursor: cursor}, bearerAuth(admin))
		require.NoError(t, err)
		require.Equal(t, 200, p.StatusCode())
		for _, d := range p.JSON200.Data {
			seen = append(seen, d.Id)
		}
		pg := p.JSON200.Metadata.Pagination
		if !pg.HasMore {
			break
		}
		cursor = pg.NextCursor
	}
	require.Len(t, seen, 3)
	bad := "garbage"
	p, err := s.Client.ListKbDocumentsWithResponse(context.Background(), &client.ListKbDocumentsParams{Cursor: &bad}, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, 400, p.StatusCode())
}

// Deleting a document removes it from both indexes on every replica.
func TestKBDeleteRemovesFromEveryIndex(t *testing.T) {
	t.Parallel()
	a := startServer(t, nil)
	b := startServer(t, map[string]string{"DATABASE_URL": a.Env["DATABASE_URL"]})
	admin := a.account(t, auth.RoleAdmin)
	tokA, tokB := a.token(t, admin), b.token(t, admin)
	d := a.addText(t, tokA, "Hyperkalaemia", "Calcium gluconate stabilises the myocardium in hyperkalaemia.")
	keep := a.addText(t, tokA, "Hypokalaemia", "Oral potassium chloride treats mild hypokalaemia.")
	a.waitIndexed(t, tokA, d.Id)
	a.waitIndexed(t, tokA, keep.Id)
	for _, s := range []struct {
		srv *testServer
		tok string
	}{{a, tokA}, {b, tokB}} {
		for _, m := range []client.KbSearchMode{client.Keyword, client.Vector, client.Hybrid} {
			out := s.srv.kbSearch(t, s.tok, client.KbSearchRequest{Query: "calcium gluconate hyperkalaemia", Mode: mode(m)})
			require.Contains(t, docsOf(out.Hits), d.Id, "before delete, %s", m)
		}
	}
	res, err := b.Client.DeleteKbDocumentWithResponse(context.Background(), d.Id, bearerAuth(tokB))
	require.NoError(t, err)
	require.Equal(t, 204, res.StatusCode())
	for _, s := range []struct {
		srv *testServer
		tok string
	}{{a, tokA}, {b, tokB}} {
		for _, m := range []client.KbSearchMode{client.Keyword, client.Vector, client.Hybrid} {
			out := s.srv.kbSearch(t, s.tok, client.KbSearchRequest{Query: "calcium gluconate hyperkalaemia", Mode: mode(m)})
			require.NotContains(t, docsOf(out.Hits), d.Id, "after delete, %s", m)
		}
	}
	// The indexes themselves dropped the chunks (not only the hydration step).
	n, err := a.App.KB.IndexCounts(context.Background())
	require.NoError(t, err)
	require.Equal(t, a.waitIndexed(t, tokA, keep.Id).ChunkCount, n.Keyword)
	require.Equal(t, n.Keyword, n.Vector)
	g, err := a.Client.GetKbDocumentWithResponse(context.Background(), d.Id, bearerAuth(tokA))
	require.NoError(t, err)
	require.Equal(t, 404, g.StatusCode())
	// Audited.
	logs, err := a.Client.ListAuditLogsWithResponse(context.Background(), &client.ListAuditLogsParams{ResourceId: ptr(d.Id.String())}, bearerAuth(tokA))
	require.NoError(t, err)
	var actions []string
	for _, e := range logs.JSON200.Data {
		actions = append(actions, e.Action)
	}
	require.Contains(t, actions, "kb.document_deleted")
	require.Contains(t, actions, "kb.document_created")
}

// A restarted server rebuilds a missing Bleve index from Postgres.
func TestKBRestartRebuildsMissingIndex(t *testing.T) {
	t.Parallel()
	dataDir := t.TempDir()
	first := startServer(t, map[string]string{"DATA_DIR": dataDir})
	admin := first.account(t, auth.RoleAdmin)
	tok := first.token(t, admin)
	d := first.addText(t, tok, "Anaphylaxis", "Intramuscular adrenaline 0.5 mg is the first treatment of anaphylaxis.")
	first.waitIndexed(t, tok, d.Id)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, first.App.Shutdown(ctx))
	require.NoError(t, os.RemoveAll(filepath.Join(dataDir, "kb", "bleve")))

	second := startServer(t, map[string]string{"DATA_DIR": dataDir, "DATABASE_URL": first.Env["DATABASE_URL"]})
	tok = second.token(t, admin)
	out := second.kbSearch(t, tok, client.KbSearchRequest{Query: "adrenaline anaphylaxis", Mode: mode(client.Keyword)})
	require.Equal(t, []uuid.UUID{d.Id}, docsOf(out.Hits))
	require.Contains(t, second.Logs(), "indexes rebuilt from Postgres")
	_, err := os.Stat(filepath.Join(dataDir, "kb", "bleve"))
	require.NoError(t, err)
}

// flaky fails the first n embedding calls that contain marker, as a provider outage would.
type flaky struct {
	embed.Embedder
	marker string
	left   atomic.Int32
	calls  atomic.Int32
}

func (f *flaky) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if slices.ContainsFunc(texts, func(s string) bool { return strings.Contains(s, f.marker) }) {
		f.calls.Add(1)
		if f.left.Add(-1) >= 0 {
			return nil, errors.New("embedding provider unavailable (injected)")
		}
	}
	return f.Embedder.Embed(ctx, texts)
}

// A failing attempt leaves nothing searchable, records its error, and the job retries.
func TestKBIndexingRetriesAndNeverShowsHalfIndexed(t *testing.T) {
	t.Parallel()
	emb := &flaky{Embedder: embed.NewHashing(embed.DefaultDim), marker: "retrymarker"}
	emb.left.Store(2)
	s := startServer(t, nil, app.WithEmbedder(emb), app.WithKBRetryDelay(200*time.Millisecond))
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	// Many chunks, so that a failure happens after earlier batches succeeded.
	var b strings.Builder
	b.WriteString("# Retry test\n\n")
	for i := range 400 {
		b.WriteString("Sentence number ")
		b.WriteString(strings.Repeat("x", i%7+1))
		b.WriteString(" about oxygen therapy targets. ")
	}
	b.WriteString("\n\n## Last\n\nThe retrymarker section ends the document.")
	d := s.addText(t, admin, "Oxygen therapy", b.String())

	// While attempts fail, the document has its error and no chunk is searchable.
	deadline := time.Now().Add(20 * time.Second)
	for {
		g, err := s.Client.GetKbDocumentWithResponse(context.Background(), d.Id, bearerAuth(admin))
		require.NoError(t, err)
		doc := g.JSON200.Data
		require.NotEqual(t, client.KbDocumentStatusFailed, doc.Status)
		if doc.Error != nil && doc.Status != client.KbDocumentStatusIndexed {
			require.Contains(t, *doc.Error, "injected")
			require.Contains(t, *doc.Error, "retrying")
			out := s.kbSearch(t, admin, client.KbSearchRequest{Query: "oxygen therapy targets", Mode: mode(client.Keyword)})
			require.Empty(t, out.Hits)
			break
		}
		require.True(t, time.Now().Before(deadline), "no failed attempt recorded")
		time.Sleep(5 * time.Millisecond)
	}
	final := s.waitIndexed(t, admin, d.Id)
	require.Equal(t, client.KbDocumentStatusIndexed, final.Status, "%v", final.Error)
	require.Nil(t, final.Error)
	require.Equal(t, 3, final.Attempts)
	require.Equal(t, int32(3), emb.calls.Load())
	out := s.kbSearch(t, admin, client.KbSearchRequest{Query: "oxygen therapy targets retrymarker", Mode: mode(client.Keyword)})
	require.NotEmpty(t, out.Hits)

	// The job list shows the attempts and their errors (River marks the job completed just
	// after the document is indexed).
	jobs := s.waitJobs(t, admin, client.KbJobStateCompleted, 1)
	job := jobs[0]
	require.Equal(t, d.Id, *job.DocumentId)
	require.Equal(t, 3, job.Attempt)
	require.Len(t, job.Errors, 2)
	require.Contains(t, job.Errors[0].Error, "injected")
	require.Equal(t, "Oxygen therapy", *job.DocumentTitle)
}

func TestKBReindex(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	user := s.token(t, s.account(t, auth.RoleUser))
	d := s.addText(t, admin, "Gout", "Colchicine treats acute gout flares.")
	d1 := s.waitIndexed(t, admin, d.Id)
	res, err := s.Client.ReindexKbDocumentWithResponse(context.Background(), d.Id, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, 202, res.StatusCode(), string(res.Body))
	require.Equal(t, client.KbDocumentStatusPending, res.JSON202.Data.Status)
	d2 := s.waitIndexed(t, admin, d.Id)
	require.Equal(t, client.KbDocumentStatusIndexed, d2.Status)
	require.True(t, d2.IndexedAt.After(*d1.IndexedAt))
	out := s.kbSearch(t, user, client.KbSearchRequest{Query: "colchicine gout"})
	require.Len(t, out.Hits, 1, "the old chunks were replaced, not added to")

	all, err := s.Client.ReindexKnowledgeBaseWithResponse(context.Background(), bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, 202, all.StatusCode())
	require.Equal(t, 1, all.JSON202.Data.Queued)
	require.Equal(t, client.KbDocumentStatusIndexed, s.waitIndexed(t, admin, d.Id).Status)

	// Users may search but not administer; viewers may read jobs.
	r, err := s.Client.ReindexKnowledgeBaseWithResponse(context.Background(), bearerAuth(user))
	require.NoError(t, err)
	require.Equal(t, 403, r.StatusCode())
	viewer := s.token(t, s.account(t, auth.RoleViewer))
	require.Len(t, s.waitJobs(t, viewer, client.KbJobStateCompleted, 3), 3)
	one := 1
	j, err := s.Client.ListKbJobsWithResponse(context.Background(), &client.ListKbJobsParams{Limit: &one}, bearerAuth(viewer))
	require.NoError(t, err)
	require.Len(t, j.JSON200.Data, 1)
	require.True(t, j.JSON200.Metadata.Pagination.HasMore)
	j2, err := s.Client.ListKbJobsWithResponse(context.Background(), &client.ListKbJobsParams{Limit: &one, Cursor: j.JSON200.Metadata.Pagination.NextCursor}, bearerAuth(viewer))
	require.NoError(t, err)
	require.Len(t, j2.JSON200.Data, 1)
	require.Less(t, j2.JSON200.Data[0].Id, j.JSON200.Data[0].Id)
	bad := "nope"
	j3, err := s.Client.ListKbJobsWithResponse(context.Background(), &client.ListKbJobsParams{Cursor: &bad}, bearerAuth(viewer))
	require.NoError(t, err)
	require.Equal(t, 400, j3.StatusCode(), string(j3.Body))
}

// With the vector store down (Qdrant unreachable), documents still index, keyword search and
// chat keep working, and the modes that need vectors say so with a 503.
func TestKBDegradesWithoutTheVectorStore(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"QDRANT_HOST": "127.0.0.1", "QDRANT_PORT": "1"})
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	d := s.addText(t, admin, "Hypoglycaemia", "# Hypoglycaemia\n\nGive 15 g of fast-acting glucose and recheck after 15 minutes.")
	require.Equal(t, client.KbDocumentStatusIndexed, s.waitIndexed(t, admin, d.Id).Status)

	kw := s.kbSearch(t, admin, client.KbSearchRequest{Query: "fast-acting glucose", Mode: mode(client.Keyword)})
	require.Equal(t, []uuid.UUID{d.Id}, docsOf(kw.Hits))
	for _, m := range []client.KbSearchMode{client.Vector, client.Hybrid} {
		res, err := s.Client.SearchKnowledgeBaseWithResponse(context.Background(), client.KbSearchRequest{Query: "glucose", Mode: mode(m)}, bearerAuth(admin))
		require.NoError(t, err)
		require.Equal(t, 503, res.StatusCode(), "%s: %s", m, res.Body)
	}
	c := s.newConversation(t, admin, nil)
	ex := s.ask(t, admin, c.Id, "How much fast-acting glucose for hypoglycaemia?")
	require.NotEmpty(t, ex.AssistantMessage.Citations, "chat falls back to keyword retrieval")
	require.Equal(t, d.Id, ex.AssistantMessage.Citations[0].DocumentId)

	// The vector store is optional (keyword search and chat keep working): ready, degraded.
	r, err := s.Client.GetReadyWithResponse(context.Background())
	require.NoError(t, err)
	require.Equal(t, 200, r.StatusCode(), "%s", r.Body)
	require.Equal(t, client.Degraded, r.JSON200.Status)
	require.Equal(t, client.Down, r.JSON200.Checks.Qdrant.Status)
}
