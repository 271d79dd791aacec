package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"strings"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/extract"
	"github.com/voiceassist/gateway/internal/kb"
)

func (s *Server) IngestKbDocuments(ctx context.Context, r api.IngestKbDocumentsRequestObject) (api.IngestKbDocumentsResponseObject, error) {
	var ups []kb.Upload
	switch {
	case r.JSONBody != nil:
		b := r.JSONBody
		up := kb.Upload{Format: extract.Markdown, Data: []byte(b.Text), Title: b.Title}
		if b.SourceUrl != nil {
			up.SourceURL = *b.SourceUrl
		}
		if b.Metadata != nil {
			up.Metadata = *b.Metadata
		}
		if b.Tags != nil {
			up.Tags = tagsOf(*b.Tags)
		}
		ups = []kb.Upload{up}
	case r.MultipartBody != nil:
		var err error
		if ups, err = readUploads(r.MultipartBody); err != nil {
			return nil, err
		}
	}
	items, err := s.KB.Ingest(ctx, actorOf(ctx), ups)
	if err != nil {
		return nil, err
	}
	out := api.KbIngestResult{Items: make([]api.KbIngestItem, len(items))}
	for i, it := range items {
		out.Items[i] = api.KbIngestItem{Duplicate: it.Duplicate, Document: kbDocument(it.Document)}
	}
	return api.IngestKbDocuments202JSONResponse{Success: true, Data: out, Metadata: meta(ctx), Timestamp: now()}, nil
}

// readUploads reads the multipart form: every "files" part is one document; "tags" and
// "source_url" apply to all. The validator has checked the fields and bounded the total size
// (and replays the body from a temporary file). Each file is read into memory once, into a
// buffer of its exact size (issue 21 #16).
func readUploads(mr *multipart.Reader) ([]kb.Upload, error) {
	var (
		ups       []kb.Upload
		tags      []string
		sourceURL string
	)
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, uploadError(err)
		}
		switch p.FormName() {
		case "files":
			data, err := readPart(p)
			if err != nil {
				return nil, uploadError(err)
			}
			ct := p.Header.Get("Content-Type")
			if mt, _, err := mime.ParseMediaType(ct); err == nil {
				ct = mt
			}
			ups = append(ups, kb.Upload{Filename: p.FileName(), ContentType: ct, Data: data})
		case "tags", "source_url":
			data, err := io.ReadAll(io.LimitReader(p, 64<<10))
			if err != nil {
				return nil, uploadError(err)
			}
			if p.FormName() == "tags" {
				tags = append(tags, strings.TrimSpace(string(data)))
			} else {
				sourceURL = strings.TrimSpace(string(data))
			}
		}
	}
	if len(ups) == 0 {
		return nil, apierr.Invalid("files", "at least one file is required")
	}
	for i := range ups {
		ups[i].Tags, ups[i].SourceURL = tags, sourceURL
	}
	return ups, nil
}

// readPart reads a file part into a slice of exactly its size: the part is copied to an
// unlinked temporary file first (a 32 KiB buffer at a time), which gives the size, instead of
// growing a slice by doubling, which allocates about three times the file.
func readPart(p *multipart.Part) ([]byte, error) {
	f, err := os.CreateTemp("", "voiceassist-part-*")
	if err != nil {
		return nil, fmt.Errorf("kb upload: spool part: %w", err)
	}
	_ = os.Remove(f.Name())
	defer f.Close()
	n, err := io.Copy(f, p)
	if err != nil {
		return nil, err
	}
	data := make([]byte, n)
	if _, err := f.ReadAt(data, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("kb upload: read spooled part: %w", err)
	}
	return data, nil
}

func uploadError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return apierr.New(http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE", fmt.Sprintf("The upload exceeds %d bytes", mbe.Limit))
	}
	return apierr.New(http.StatusBadRequest, "BAD_REQUEST", "The multipart body could not be read: "+err.Error())
}

func tagsOf(ts []api.KbTag) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = string(t)
	}
	return out
}

func (s *Server) ListKbDocuments(ctx context.Context, r api.ListKbDocumentsRequestObject) (api.ListKbDocumentsResponseObject, error) {
	p := r.Params
	f := kb.ListFilter{Status: string(valueOf(p.Status)), Format: string(valueOf(p.Format)), Tag: string(valueOf(p.Tag)),
		Q: valueOf(p.Q), Cursor: valueOf(p.Cursor), Limit: limitOf(p.Limit)}
	docs, next, err := s.KB.List(ctx, f)
	if err != nil {
		return nil, err
	}
	return api.ListKbDocuments200JSONResponse{Success: true, Data: mapAll(docs, kbDocument), Metadata: pageMeta(ctx, f.Limit, next), Timestamp: now()}, nil
}

func (s *Server) GetKbDocument(ctx context.Context, r api.GetKbDocumentRequestObject) (api.GetKbDocumentResponseObject, error) {
	d, err := s.KB.Get(ctx, r.Id)
	if err != nil {
		return nil, err
	}
	return api.GetKbDocument200JSONResponse{Success: true, Data: kbDocument(d), Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) DeleteKbDocument(ctx context.Context, r api.DeleteKbDocumentRequestObject) (api.DeleteKbDocumentResponseObject, error) {
	if err := s.KB.Delete(ctx, actorOf(ctx), r.Id); err != nil {
		return nil, err
	}
	return api.DeleteKbDocument204Response{}, nil
}

func (s *Server) ReindexKbDocument(ctx context.Context, r api.ReindexKbDocumentRequestObject) (api.ReindexKbDocumentResponseObject, error) {
	d, err := s.KB.Reindex(ctx, actorOf(ctx), r.Id)
	if err != nil {
		return nil, err
	}
	return api.ReindexKbDocument202JSONResponse{Success: true, Data: kbDocument(d), Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) ReindexKnowledgeBase(ctx context.Context, _ api.ReindexKnowledgeBaseRequestObject) (api.ReindexKnowledgeBaseResponseObject, error) {
	n, err := s.KB.ReindexAll(ctx, actorOf(ctx))
	if err != nil {
		return nil, err
	}
	return api.ReindexKnowledgeBase202JSONResponse{Success: true, Data: api.KbReindexResult{Queued: n}, Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) ListKbJobs(ctx context.Context, r api.ListKbJobsRequestObject) (api.ListKbJobsResponseObject, error) {
	p := r.Params
	limit := limitOf(p.Limit)
	jobs, next, err := s.KB.Jobs(ctx, string(valueOf(p.State)), limit, valueOf(p.Cursor))
	if err != nil {
		return nil, err
	}
	docs, err := s.KB.Documents(ctx, jobs)
	if err != nil {
		return nil, err
	}
	out := make([]api.KbJob, len(jobs))
	for i, j := range jobs {
		r := j.Row
		errs := make([]api.KbJobError, len(r.Errors))
		for k, e := range r.Errors {
			errs[k] = api.KbJobError{Attempt: e.Attempt, At: e.At, Error: e.Error}
		}
		out[i] = api.KbJob{Id: r.ID, Kind: r.Kind, DocumentId: j.DocumentID, State: api.KbJobState(r.State), Attempt: r.Attempt,
			MaxAttempts: r.MaxAttempts, Errors: errs, CreatedAt: r.CreatedAt, ScheduledAt: r.ScheduledAt,
			AttemptedAt: r.AttemptedAt, FinalizedAt: r.FinalizedAt}
		if j.DocumentID != nil {
			if d, ok := docs[*j.DocumentID]; ok {
				out[i].DocumentTitle = &d.Title
				if string(r.State) == "running" {
					out[i].Progress = &api.KbProgress{Done: int(d.ProgressDone), Total: int(d.ProgressTotal)}
				}
			}
		}
	}
	return api.ListKbJobs200JSONResponse{Success: true, Data: out, Metadata: pageMeta(ctx, limit, next), Timestamp: now()}, nil
}

func (s *Server) SearchKnowledgeBase(ctx context.Context, r api.SearchKnowledgeBaseRequestObject) (api.SearchKnowledgeBaseResponseObject, error) {
	b := r.Body
	q := kb.Query{Text: b.Query, DocumentID: b.DocumentId}
	if strings.TrimSpace(b.Query) == "" {
		return nil, apierr.Invalid("query", "must contain a word")
	}
	if err := s.KB.AdmitSearch(ctx, owner(ctx)); err != nil {
		return nil, err
	}
	if b.TopK != nil {
		q.TopK = *b.TopK
	}
	if b.Mode != nil {
		q.Mode = string(*b.Mode)
	}
	if b.Fusion != nil {
		q.Fusion = string(*b.Fusion)
	}
	if b.Tags != nil {
		q.Tags = tagsOf(*b.Tags)
	}
	q.EntityID = valueOf(b.EntityId)
	out, err := s.kbSearch(ctx, q)
	if err != nil {
		return nil, err
	}
	return api.SearchKnowledgeBase200JSONResponse{Success: true, Data: out, Metadata: meta(ctx), Timestamp: now()}, nil
}

// kbSearch runs a knowledge-base search and maps its result (shared with /api/medical-ai/search).
func (s *Server) kbSearch(ctx context.Context, q kb.Query) (api.KbSearchResult, error) {
	res, err := s.KB.Search(ctx, q)
	if err != nil {
		return api.KbSearchResult{}, err
	}
	out := api.KbSearchResult{Query: res.Query, Mode: api.KbSearchMode(res.Mode), EmbeddingModel: res.Model,
		TookMs: float32(res.Took.Microseconds()) / 1000, Hits: make([]api.KbSearchHit, len(res.Hits))}
	if res.Fusion != "" {
		f := api.KbFusion(res.Fusion)
		out.Fusion = &f
	}
	for i, h := range res.Hits {
		out.Hits[i] = api.KbSearchHit{Rank: h.Rank, Score: float32(h.Score), ChunkId: h.ChunkID, Text: h.Text,
			Keyword: retrieverScore(h.Keyword), Vector: retrieverScore(h.Vector), Citation: kbCitation(h.Citation),
			Entities: kbEntities(h.Entities)}
	}
	return out, nil
}

func retrieverScore(s *kb.Score) *api.KbRetrieverScore {
	if s == nil {
		return nil
	}
	return &api.KbRetrieverScore{Rank: s.Rank, Score: float32(s.Score)}
}

func kbCitation(c kb.Citation) api.KbCitation {
	out := api.KbCitation{DocumentId: c.DocumentID, Title: c.Title, Heading: c.Heading, ChunkIndex: c.ChunkIndex,
		SourceUrl: nonEmpty(c.SourceURL), Filename: nonEmpty(c.Filename)}
	if out.Heading == nil {
		out.Heading = []string{}
	}
	if c.Page > 0 {
		p := c.Page
		out.Page = &p
	}
	return out
}

func nonEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func kbDocument(d kb.Document) api.KbDocument {
	meta := map[string]any{}
	_ = json.Unmarshal(d.Metadata, &meta)
	out := api.KbDocument{
		Id: d.ID, Title: d.Title, Format: api.KbFormat(d.Format), Tags: d.Tags, Metadata: meta, SizeBytes: d.SizeBytes,
		ContentHash: d.ContentHash, Status: api.KbDocumentStatus(d.Status), ChunkCount: int(d.ChunkCount), Attempts: int(d.Attempts),
		CreatedBy: d.CreatedBy, CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt, IndexingStartedAt: d.IndexingStartedAt, IndexedAt: d.IndexedAt,
		Filename: d.Filename, ContentType: d.ContentType, SourceUrl: d.SourceUrl, Error: d.Error, EmbeddingModel: d.EmbeddingModel,
		IndexDurationMs: d.IndexDurationMs,
	}
	if out.Tags == nil {
		out.Tags = []string{}
	}
	if d.Pages != nil {
		n := int(*d.Pages)
		out.Pages = &n
	}
	if d.Status == "processing" || d.ProgressTotal > 0 {
		out.Progress = &api.KbProgress{Done: int(d.ProgressDone), Total: int(d.ProgressTotal)}
	}
	return out
}
