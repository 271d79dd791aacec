package kb

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/search"
	"github.com/voiceassist/gateway/internal/vector"
)

// Meta keys stored inside the Bleve index.
const (
	metaApplied = "kb_applied_event" // last kb_events id applied to this index
	metaFormat  = "kb_index_format"  // indexFormat: a change rebuilds the index
)

// indexFormat versions what a Bleve document of a chunk contains; bump it when chunkDoc changes.
const indexFormat = "chunk-v2" // v2: entity filter fields

// rebuildPage is the number of chunks read per query while rebuilding.
const rebuildPage = 2000

// openIndex opens the Bleve index and brings it and the vector store up to date: an index
// that is missing, unreadable or of another format is rebuilt from Postgres; otherwise the
// events since it was last updated are applied.
func (s *Service) openIndex(ctx context.Context) (fill func(context.Context) error, err error) {
	dir := bleveDir(s.cfg.Dir)
	_, statErr := os.Stat(dir)
	fresh := errors.Is(statErr, os.ErrNotExist)
	idx, err := search.Open(dir)
	if err != nil && strings.Contains(err.Error(), "timeout") {
		// Another process holds the index (bbolt's file lock): it is in use, not broken. Two
		// processes must not share one DATA_DIR; never delete a live index.
		return nil, fmt.Errorf("kb: search index %s is locked by another process (each process needs its own DATA_DIR): %w", dir, err)
	}
	if err != nil && !fresh {
		s.log.Warn("kb: search index unreadable, rebuilding", "dir", dir, "error", err)
		if err := removeIndexDir(dir); err != nil {
			return nil, err
		}
		fresh = true
		idx, err = search.Open(dir)
	}
	if err != nil {
		return nil, fmt.Errorf("kb: open search index: %w", err)
	}
	s.index = idx
	applied, format := int64(0), ""
	if v, err := idx.Meta(metaApplied); err == nil && v != nil {
		applied, _ = strconv.ParseInt(string(v), 10, 64)
	}
	if v, err := idx.Meta(metaFormat); err == nil {
		format = string(v)
	}
	if !fresh && format != indexFormat {
		s.log.Info("kb: search index has another format, rebuilding", "found", format, "want", indexFormat)
		_ = idx.Close()
		if err := removeIndexDir(dir); err != nil {
			return nil, err
		}
		if s.index, err = search.Open(dir); err != nil {
			return nil, fmt.Errorf("kb: open search index: %w", err)
		}
		fresh = true
	}
	_, inProcess := s.vec.(*vector.Exact)
	s.applied = applied
	if fresh || inProcess {
		// An in-process vector store starts empty every time; a fresh keyword index too. A
		// remote store (Qdrant) is shared and kept current by every replica's events, so a
		// fresh local index does not reset it (POST /api/admin/kb/reindex refills it).
		return func(ctx context.Context) error { return s.rebuild(ctx, fresh, inProcess) }, nil
	}
	return func(ctx context.Context) error {
		if err := s.catchUp(ctx); err != nil {
			s.log.Warn("kb: apply index changes at start (retried on the next search)", "error", err)
		}
		return nil
	}, nil
}

// rebuild fills the Bleve index (when keyword) and the vector store (when vectors) with every
// chunk in Postgres. The event watermark is read first, so events that commit during the scan
// are applied again afterwards (applying is idempotent). A keyword rebuild moves the index's
// watermark to it; otherwise the index keeps its own and CatchUp applies what it lacks.
func (s *Service) rebuild(ctx context.Context, keyword, vectors bool) error {
	start := time.Now()
	mark, err := s.q.LastKbEvent(ctx)
	if err != nil {
		return fmt.Errorf("kb: rebuild: %w", err)
	}
	if vectors {
		if r, ok := s.vec.(interface{ Reset(context.Context) error }); ok {
			if err := r.Reset(ctx); err != nil {
				return fmt.Errorf("kb: rebuild: reset vectors: %w", err)
			}
		}
	}
	model, n := s.emb.Model(), 0
	after := uuid.Nil
	for {
		rows, err := s.q.ListKbChunksPage(ctx, db.ListKbChunksPageParams{ID: after, Limit: rebuildPage})
		if err != nil {
			return fmt.Errorf("kb: rebuild: %w", err)
		}
		if len(rows) == 0 {
			break
		}
		docs, err := s.documentsOf(ctx, rows)
		if err != nil {
			return err
		}
		if err := s.put(ctx, rows, docs, model, keyword, vectors); err != nil {
			return err
		}
		n += len(rows)
		after = rows[len(rows)-1].ID
	}
	if keyword {
		if err := s.index.SetMeta(metaFormat, []byte(indexFormat)); err != nil {
			return err
		}
	}
	if keyword {
		s.applyMu.Lock()
		s.applied = mark
		s.applyMu.Unlock()
		if err := s.index.SetMeta(metaApplied, []byte(strconv.FormatInt(mark, 10))); err != nil {
			return err
		}
	}
	s.log.Info("kb: indexes rebuilt from Postgres", "chunks", n, "keyword", keyword, "vectors", vectors, "took", time.Since(start))
	if err := s.catchUp(ctx); err != nil {
		s.log.Warn("kb: apply index changes at start (retried on the next search)", "error", err)
	}
	return nil
}

// CatchUp applies the kb_events this process has not applied yet to its indexes, once they
// are filled.
func (s *Service) CatchUp(ctx context.Context) error {
	if err := s.WaitFilled(ctx); err != nil {
		return err
	}
	return s.catchUp(ctx)
}

func (s *Service) catchUp(ctx context.Context) error {
	last, err := s.q.LastKbEvent(ctx)
	if err != nil {
		return fmt.Errorf("kb: events: %w", err)
	}
	s.applyMu.Lock()
	defer s.applyMu.Unlock()
	for s.applied < last {
		evs, err := s.q.ListKbEventsAfter(ctx, db.ListKbEventsAfterParams{ID: s.applied, Limit: 500})
		if err != nil {
			return fmt.Errorf("kb: events: %w", err)
		}
		if len(evs) == 0 {
			break
		}
		if err := s.apply(ctx, evs); err != nil {
			return err
		}
		s.applied = evs[len(evs)-1].ID
		if err := s.index.SetMeta(metaApplied, []byte(strconv.FormatInt(s.applied, 10))); err != nil {
			return err
		}
	}
	return nil
}

// apply brings the indexes in line with a batch of events: chunks the events removed are
// deleted, and each touched document's current chunks (read now, so later states win) are put.
func (s *Service) apply(ctx context.Context, evs []db.KbEvent) error {
	var removed []string
	touched := map[uuid.UUID]bool{}
	var ids []uuid.UUID
	for _, e := range evs {
		for _, id := range e.Removed {
			removed = append(removed, id.String())
		}
		if !touched[e.DocumentID] {
			touched[e.DocumentID] = true
			ids = append(ids, e.DocumentID)
		}
	}
	if len(removed) > 0 {
		if err := s.index.Delete(removed...); err != nil {
			return err
		}
		if err := s.vec.Delete(ctx, removed...); err != nil {
			return fmt.Errorf("kb: vector delete: %w", err)
		}
	}
	rows, err := s.q.ListKbChunksOfDocuments(ctx, ids)
	if err != nil {
		return fmt.Errorf("kb: chunks: %w", err)
	}
	docs, err := s.documentsOf(ctx, rows)
	if err != nil {
		return err
	}
	return s.put(ctx, rows, docs, s.emb.Model(), true, true)
}

func (s *Service) documentsOf(ctx context.Context, rows []db.KbChunk) (map[uuid.UUID]db.KbDocument, error) {
	seen := map[uuid.UUID]bool{}
	var ids []uuid.UUID
	for _, r := range rows {
		if !seen[r.DocumentID] {
			seen[r.DocumentID] = true
			ids = append(ids, r.DocumentID)
		}
	}
	return s.docsByID(ctx, ids)
}

func (s *Service) docsByID(ctx context.Context, ids []uuid.UUID) (map[uuid.UUID]db.KbDocument, error) {
	docs := make(map[uuid.UUID]db.KbDocument, len(ids))
	if len(ids) == 0 {
		return docs, nil
	}
	ds, err := s.q.ListKbDocumentsByIDs(ctx, ids)
	if err != nil {
		return nil, fmt.Errorf("kb: documents: %w", err)
	}
	for _, d := range ds {
		docs[d.ID] = d
	}
	return docs, nil
}

// put writes chunks to the keyword index and (when their embedding is of the current model)
// to the vector store.
func (s *Service) put(ctx context.Context, rows []db.KbChunk, docs map[uuid.UUID]db.KbDocument, model string, keyword, vectors bool) error {
	bdocs := make([]search.Doc, 0, len(rows))
	items := make([]vector.Item, 0, len(rows))
	for _, r := range rows {
		d, ok := docs[r.DocumentID]
		if !ok {
			continue // deleted meanwhile; its delete event follows
		}
		fields := entityFields(filterFields(d.ID, d.Tags), r.EntityIds)
		bdocs = append(bdocs, chunkDoc(r, d, fields))
		if r.EmbeddingModel == model && len(r.Embedding) > 0 {
			items = append(items, vector.Item{ID: r.ID.String(), Vector: r.Embedding, Payload: fields})
		}
	}
	if keyword && len(bdocs) > 0 {
		if err := s.index.Put(bdocs...); err != nil {
			return err
		}
	}
	if vectors && len(items) > 0 {
		if err := s.vec.Upsert(ctx, items); err != nil {
			return fmt.Errorf("kb: vector upsert: %w", err)
		}
	}
	return nil
}

// chunkDoc is the keyword-index document of a chunk: the document title and the section's
// heading path are searchable with the text, since a passage often omits its own topic.
func chunkDoc(r db.KbChunk, d db.KbDocument, fields map[string]string) search.Doc {
	text := r.Text
	if len(r.Heading) > 0 {
		text = strings.Join(r.Heading, " / ") + "\n" + text
	}
	return search.Doc{ID: r.ID.String(), Title: d.Title, Text: text, Fields: fields}
}

// Filter fields shared by both indexes: "doc" = document id, "tag.<tag>" = "1" per tag (and
// "ent.<entity id>" = "1" per entity of the chunk, entityFields).
func filterFields(doc uuid.UUID, tags []string) map[string]string {
	f := make(map[string]string, 1+len(tags))
	f["doc"] = doc.String()
	for _, t := range tags {
		f["tag."+t] = "1"
	}
	return f
}

// Counts are the entries of this process's indexes.
type Counts struct{ Keyword, Vector int }

// IndexCounts reports how many chunks each index holds (after applying pending changes).
func (s *Service) IndexCounts(ctx context.Context) (Counts, error) {
	if err := s.CatchUp(ctx); err != nil {
		return Counts{}, err
	}
	n, err := s.index.Count()
	if err != nil {
		return Counts{}, err
	}
	c := Counts{Keyword: int(n)}
	switch v := s.vec.(type) {
	case *vector.Exact:
		c.Vector = v.Len()
	case interface {
		Count(context.Context) (int, error)
	}:
		if c.Vector, err = v.Count(ctx); err != nil {
			return c, err
		}
	}
	return c, nil
}
