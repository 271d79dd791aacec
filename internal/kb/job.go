package kb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/chunk"
	"github.com/voiceassist/gateway/internal/database"
	"github.com/voiceassist/gateway/internal/extract"
	"github.com/voiceassist/gateway/internal/page"
)

const (
	queue    = "kb"
	jobKind  = "kb_index"
	embBatch = 64 // chunks embedded per call (progress is reported per batch)
)

// indexArgs is the River job that indexes one generation of one document.
type indexArgs struct {
	DocumentID uuid.UUID `json:"document_id"`
	Generation int32     `json:"generation"`
}

func (indexArgs) Kind() string { return jobKind }

func (indexArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: queue} }

type indexWorker struct {
	river.WorkerDefaults[indexArgs]
	s *Service
}

// NextRetry retries soon (RetryDelay doubled per attempt, at most 5 minutes) instead of
// River's default attempt⁴ seconds: a failed embedding call is usually a short outage.
func (w *indexWorker) NextRetry(job *river.Job[indexArgs]) time.Time {
	d := w.s.cfg.RetryDelay << min(job.Attempt-1, 8)
	return time.Now().Add(min(d, 5*time.Minute))
}

func (w *indexWorker) Work(ctx context.Context, job *river.Job[indexArgs]) error {
	err := w.s.index1(ctx, job.Args)
	if err == nil {
		return nil
	}
	permanent := errors.Is(err, extract.ErrMalformed) || errors.Is(err, extract.ErrEmpty) || errors.Is(err, extract.ErrUnsupported) ||
		errors.Is(err, extract.ErrTooLarge) || errors.Is(err, extract.ErrTimeout)
	final := permanent || job.Attempt >= job.MaxAttempts
	// Record the reason on the document; a failure to do so must not hide the job's error.
	msg := err.Error()
	if !final {
		msg = fmt.Sprintf("attempt %d of %d failed, retrying: %s", job.Attempt, job.MaxAttempts, msg)
	}
	ferr := w.s.q.FailKbIndexing(context.WithoutCancel(ctx), db.FailKbIndexingParams{
		ID: job.Args.DocumentID, Generation: job.Args.Generation, Error: database.NonEmpty(msg), Final: final,
	})
	if ferr != nil {
		w.s.log.ErrorContext(ctx, "kb: record indexing failure", "document_id", job.Args.DocumentID, "error", ferr)
	}
	if permanent {
		return river.JobCancel(err)
	}
	return err
}

// index1 runs one indexing attempt: extract, chunk and embed outside any transaction, then
// replace the document's chunks, mark it indexed and append the event in one transaction.
// An attempt for a superseded generation or a deleted document does nothing.
func (s *Service) index1(ctx context.Context, a indexArgs) error {
	started := time.Now()
	d, err := s.q.StartKbIndexing(ctx, db.StartKbIndexingParams{ID: a.DocumentID, Generation: a.Generation})
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	content, err := s.q.GetKbContent(ctx, a.DocumentID)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		return err
	}
	doc, err := extract.Extract(ctx, extract.Format(d.Format), content, s.cfg.Extract)
	if err != nil {
		return err
	}
	chunks := chunk.Split(doc, s.cfg.Chunk)
	if len(chunks) == 0 {
		return fmt.Errorf("%w: no text to index", extract.ErrEmpty)
	}
	title := d.Title
	texts := make([]string, len(chunks))
	for i, c := range chunks {
		texts[i] = embedText(title, c)
	}
	vecs := make([][]float32, 0, len(chunks))
	for start := 0; start < len(texts); start += embBatch {
		batch := texts[start:min(start+embBatch, len(texts))]
		vs, err := s.emb.Embed(ctx, batch)
		if err != nil {
			return fmt.Errorf("embedding: %w", err)
		}
		if len(vs) != len(batch) {
			return fmt.Errorf("embedding: %d vectors for %d texts", len(vs), len(batch))
		}
		vecs = append(vecs, vs...)
		done := len(vecs)
		_ = s.q.SetKbProgress(ctx, db.SetKbProgressParams{ID: d.ID, Generation: a.Generation, ProgressDone: int32(done), ProgressTotal: int32(len(chunks))})
	}
	pages := pageCount(doc)
	model := s.emb.Model()
	rows := make([]db.InsertKbChunksParams, len(chunks))
	for i, c := range chunks {
		heading := c.Heading
		if heading == nil {
			heading = []string{}
		}
		ents, ids := s.chunkEntities(c.Text)
		rows[i] = db.InsertKbChunksParams{
			ID: uuid.New(), DocumentID: d.ID, Ord: int32(c.Ord), Text: c.Text, Heading: heading,
			Page: pageOf(c.Page), Tokens: int32(c.Tokens), Embedding: vecs[i], EmbeddingModel: model,
			Entities: ents, EntityIds: ids,
		}
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		took := time.Since(started).Milliseconds()
		q := s.q.WithTx(tx)
		cur, err := q.LockKbDocument(ctx, d.ID)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && cur.Generation != a.Generation) {
			return errSuperseded
		}
		if err != nil {
			return err
		}
		removed, err := q.DeleteKbChunks(ctx, d.ID)
		if err != nil {
			return err
		}
		if _, err := q.InsertKbChunks(ctx, rows); err != nil {
			return err
		}
		if _, err := q.FinishKbIndexing(ctx, db.FinishKbIndexingParams{
			ID: d.ID, Generation: a.Generation, ChunkCount: int32(len(rows)), Pages: pages,
			EmbeddingModel: database.NonEmpty(model), Title: title,
			IndexDurationMs: &took, ProgressDone: int32(len(rows)),
		}); err != nil {
			return err
		}
		return s.event(ctx, q, d.ID, "upsert", removed)
	})
	if errors.Is(err, errSuperseded) {
		return nil
	}
	if err != nil {
		return err
	}
	s.metrics.Indexed(len(rows))
	s.changed(ctx)
	// This process's indexes first; the others apply the event when they next search.
	if err := s.CatchUp(ctx); err != nil {
		s.log.WarnContext(ctx, "kb: apply index changes", "error", err)
	}
	return nil
}

var errSuperseded = errors.New("kb: superseded")

// embedText is what gets embedded for a chunk: its document title and heading path give the
// passage its topic, as for the keyword index.
func embedText(title string, c chunk.Chunk) string {
	var b strings.Builder
	b.WriteString(title)
	if len(c.Heading) > 0 {
		b.WriteString("\n")
		b.WriteString(strings.Join(c.Heading, " / "))
	}
	b.WriteString("\n")
	b.WriteString(c.Text)
	return b.String()
}

func pageCount(d extract.Document) *int32 {
	n := 0
	for _, s := range d.Sections {
		n = max(n, s.Page)
	}
	return pageOf(n)
}

// pageOf is NULL (nil) for an unknown page (0).
func pageOf(p int) *int32 {
	if p <= 0 {
		return nil
	}
	n := int32(p)
	return &n
}

// Job is an indexing job as River reports it.
type Job struct {
	Row        *rivertype.JobRow
	DocumentID *uuid.UUID
}

// Jobs lists indexing jobs, newest first; cursor is the previous page's, "" for the first.
func (s *Service) Jobs(ctx context.Context, state string, limit int, cursor string) ([]Job, string, error) {
	p := river.NewJobListParams().Kinds(jobKind).OrderBy(river.JobListOrderByID, river.SortOrderDesc).First(limit)
	if state != "" {
		p = p.States(rivertype.JobState(state))
	}
	if cursor != "" {
		var c river.JobListCursor
		if err := c.UnmarshalText([]byte(cursor)); err != nil {
			return nil, "", page.BadCursor()
		}
		p = p.After(&c)
	}
	res, err := s.river.JobList(ctx, p)
	if err != nil {
		return nil, "", fmt.Errorf("kb: jobs: %w", err)
	}
	out := make([]Job, len(res.Jobs))
	for i, r := range res.Jobs {
		out[i] = Job{Row: r}
		var a indexArgs
		if err := json.Unmarshal(r.EncodedArgs, &a); err == nil && a.DocumentID != uuid.Nil {
			id := a.DocumentID
			out[i].DocumentID = &id
		}
	}
	next := ""
	if len(res.Jobs) == limit && res.LastCursor != nil {
		b, err := res.LastCursor.MarshalText()
		if err == nil {
			next = string(b)
		}
	}
	return out, next, nil
}

// Documents returns the documents the jobs index, by id.
func (s *Service) Documents(ctx context.Context, jobs []Job) (map[uuid.UUID]Document, error) {
	var ids []uuid.UUID
	for _, j := range jobs {
		if j.DocumentID != nil {
			ids = append(ids, *j.DocumentID)
		}
	}
	rows, err := s.docsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[uuid.UUID]Document, len(rows))
	for id, r := range rows {
		out[id] = documentOf(r)
	}
	return out, nil
}
