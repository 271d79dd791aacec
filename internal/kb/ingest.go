package kb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/database"
	"github.com/voiceassist/gateway/internal/extract"
	"github.com/voiceassist/gateway/internal/page"
)

// Upload is one document to add.
type Upload struct {
	// Filename and ContentType come from a file upload; Filename's extension picks the format.
	Filename    string
	ContentType string
	// Format, when set, overrides detection (JSON input is "md": headings become sections).
	Format    extract.Format
	Data      []byte
	Title     string
	SourceURL string
	Tags      []string
	Metadata  map[string]any
}

// Item is the outcome of one upload.
type Item struct {
	Document  Document
	Duplicate bool
}

// Ingest stores the uploads and queues them for indexing, all or nothing: every upload is
// checked first (type 415, size 413, readable non-empty text 422, naming the file). Content
// already in the knowledge base (same SHA-256) is not stored again; its Item is the existing
// document with Duplicate set.
func (s *Service) Ingest(ctx context.Context, actor audit.Actor, uploads []Upload) ([]Item, error) {
	type checked struct {
		up    Upload
		title string
		hash  string
		pages int
	}
	cs := make([]checked, len(uploads))
	for i, u := range uploads {
		field := fmt.Sprintf("files[%d]", i)
		if u.Filename == "" {
			field = "text"
		}
		if u.Format == "" {
			f, err := extract.FormatOf(u.Filename, u.ContentType)
			if err != nil {
				return nil, apierr.New(http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE",
					fmt.Sprintf("%s: unsupported file type (accepted: .txt, .md, .html, .pdf, .json)", name(u))).WithField(field)
			}
			u.Format = f
		}
		if int64(len(u.Data)) > s.cfg.MaxUploadBytes {
			return nil, apierr.New(http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE",
				fmt.Sprintf("%s: %d bytes, more than the limit of %d", name(u), len(u.Data), s.cfg.MaxUploadBytes)).WithField(field)
		}
		doc, err := extract.Extract(ctx, u.Format, u.Data, s.cfg.Extract)
		if err != nil {
			return nil, unreadable(name(u), field, err)
		}
		title := strings.TrimSpace(u.Title)
		if title == "" {
			title = doc.Title
		}
		if title == "" && u.Filename != "" {
			title = strings.TrimSuffix(filepath.Base(u.Filename), filepath.Ext(u.Filename))
		}
		if title == "" {
			title = "Untitled"
		}
		sum := sha256.Sum256(u.Data)
		cs[i] = checked{up: u, title: title, hash: hex.EncodeToString(sum[:])}
	}
	items := make([]Item, len(cs))
	// Two batches holding the same files in different orders wait on each other's
	// content_hash inserts and deadlock; the one PostgreSQL aborts runs again.
	err := database.InTx(ctx, s.pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		for i, c := range cs {
			meta, err := json.Marshal(orEmpty(c.up.Metadata))
			if err != nil {
				return apierr.Validation(http.StatusUnprocessableEntity, apierr.FieldError{Field: "metadata", Message: "is not JSON"})
			}
			tags := c.up.Tags
			if tags == nil {
				tags = []string{}
			}
			d, err := q.InsertKbDocument(ctx, db.InsertKbDocumentParams{
				Title: c.title, Filename: database.NonEmpty(c.up.Filename), Format: string(c.up.Format),
				ContentType: database.NonEmpty(c.up.ContentType), SourceUrl: database.NonEmpty(c.up.SourceURL),
				Tags: tags, Metadata: meta, ContentHash: c.hash, SizeBytes: int64(len(c.up.Data)), CreatedBy: actor.ID,
			})
			if errors.Is(err, pgx.ErrNoRows) {
				// Same content as a stored document (possibly earlier in this batch).
				if d, err = q.GetKbDocumentByHash(ctx, c.hash); err != nil {
					return err
				}
				items[i] = Item{Document: documentOf(d), Duplicate: true}
				continue
			}
			if err != nil {
				return err
			}
			if err := q.InsertKbContent(ctx, db.InsertKbContentParams{DocumentID: d.ID, Content: c.up.Data}); err != nil {
				return err
			}
			if err := s.enqueue(ctx, tx, d); err != nil {
				return err
			}
			if err := audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "kb.document_created", ResourceType: "kb_document",
				ResourceID: d.ID.String(), Success: true, Details: map[string]any{
					"title": d.Title, "filename": c.up.Filename, "format": d.Format, "size_bytes": d.SizeBytes, "content_hash": d.ContentHash,
				}}); err != nil {
				return err
			}
			items[i] = Item{Document: documentOf(d)}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return items, nil
}

func name(u Upload) string {
	if u.Filename != "" {
		return u.Filename
	}
	return "the document"
}

func orEmpty(m map[string]any) map[string]any {
	if m == nil {
		return map[string]any{}
	}
	return m
}

// unreadable turns an extraction error into a 422 naming the file and the reason.
func unreadable(file, field string, err error) error {
	reason := "could not be read"
	switch {
	case errors.Is(err, extract.ErrTooLarge):
		return apierr.New(http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE", fmt.Sprintf("%s: %v", file, err)).WithField(field)
	case errors.Is(err, extract.ErrTimeout):
		return apierr.New(http.StatusUnprocessableEntity, "UNREADABLE_DOCUMENT", fmt.Sprintf("%s: %v", file, err)).WithField(field)
	case errors.Is(err, extract.ErrEmpty):
		reason = "contains no text"
	case errors.Is(err, extract.ErrMalformed):
		reason = "is damaged or not in the format its name says"
	case errors.Is(err, extract.ErrUnsupported):
		return apierr.New(http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", fmt.Sprintf("%s: %v", file, err)).WithField(field)
	}
	return apierr.New(http.StatusUnprocessableEntity, "UNREADABLE_DOCUMENT", fmt.Sprintf("%s %s (%v)", file, reason, err)).WithField(field)
}

// enqueue queues an indexing job for the document's current generation, in tx.
func (s *Service) enqueue(ctx context.Context, tx pgx.Tx, d db.KbDocument) error {
	_, err := s.river.InsertTx(ctx, tx, indexArgs{DocumentID: d.ID, Generation: d.Generation}, nil)
	if err != nil {
		return fmt.Errorf("kb: queue indexing: %w", err)
	}
	return nil
}

// errNotFound reports an unknown document.
func errNotFound() error { return apierr.NotFound("Document") }

// Get returns one document.
func (s *Service) Get(ctx context.Context, id uuid.UUID) (Document, error) {
	d, err := s.q.GetKbDocument(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return Document{}, errNotFound()
	}
	return documentOf(d), err
}

// ListFilter selects documents.
type ListFilter struct {
	Status, Format, Tag, Q string
	Cursor                 string // the previous page's next cursor; "" for the first page
	Limit                  int
}

// List returns a page of documents, newest first, and the cursor of the next page ("" at
// the end). A cursor List did not issue is page.BadCursor.
func (s *Service) List(ctx context.Context, f ListFilter) ([]Document, string, error) {
	p := db.ListKbDocumentsParams{
		Status: database.NonEmpty(f.Status), Format: database.NonEmpty(f.Format), Tag: database.NonEmpty(f.Tag),
		Q: database.NonEmpty(database.EscapeLike(f.Q)), Lim: page.Limit(f.Limit),
	}
	return page.KeysetList(page.LayoutAt, f.Cursor, f.Limit, func(after *page.Keyset) ([]db.KbDocument, error) {
		if after != nil {
			p.BeforeAt, p.BeforeID = &after.At, &after.ID
		}
		return s.q.ListKbDocuments(ctx, p)
	}, documentOf, func(d Document) page.Keyset { return page.Keyset{At: d.CreatedAt, ID: d.ID} })
}

// Delete removes a document with its chunks, and (through a kb event) its index entries.
func (s *Service) Delete(ctx context.Context, actor audit.Actor, id uuid.UUID) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		d, err := q.LockKbDocument(ctx, id)
		if errors.Is(err, pgx.ErrNoRows) {
			return errNotFound()
		}
		if err != nil {
			return err
		}
		removed, err := q.DeleteKbChunks(ctx, id)
		if err != nil {
			return err
		}
		if _, err := q.DeleteKbDocument(ctx, id); err != nil {
			return err
		}
		if err := s.event(ctx, q, id, "delete", removed); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "kb.document_deleted", ResourceType: "kb_document",
			ResourceID: id.String(), Success: true, Details: map[string]any{"title": d.Title, "chunks": len(removed)}})
	})
	if err != nil {
		return err
	}
	s.changed(ctx)
	return s.CatchUp(ctx)
}

// event appends a kb event; the advisory lock makes event ids follow commit order, so a
// replica that has applied event n has seen every change committed before it.
func (s *Service) event(ctx context.Context, q *db.Queries, doc uuid.UUID, kind string, removed []uuid.UUID) error {
	if err := q.LockKbEvents(ctx); err != nil {
		return err
	}
	if removed == nil {
		removed = []uuid.UUID{}
	}
	return q.InsertKbEvent(ctx, db.InsertKbEventParams{DocumentID: doc, Kind: kind, Removed: removed})
}

// Reindex queues a new indexing of one document (a new generation: running jobs of older
// ones finish without effect).
func (s *Service) Reindex(ctx context.Context, actor audit.Actor, id uuid.UUID) (Document, error) {
	var d db.KbDocument
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		var err error
		d, err = q.BumpKbGeneration(ctx, id)
		if errors.Is(err, pgx.ErrNoRows) {
			return errNotFound()
		}
		if err != nil {
			return err
		}
		if err := s.enqueue(ctx, tx, d); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "kb.document_reindexed", ResourceType: "kb_document",
			ResourceID: id.String(), Success: true, Details: map[string]any{"generation": d.Generation}})
	})
	if err != nil {
		return Document{}, err
	}
	return documentOf(d), nil
}

// ReindexAll queues every document; it returns how many.
func (s *Service) ReindexAll(ctx context.Context, actor audit.Actor) (int, error) {
	ids, err := s.q.ListKbDocumentIDs(ctx)
	if err != nil {
		return 0, err
	}
	n, err := s.requeue(ctx, ids)
	if err != nil {
		return n, err
	}
	err = audit.RecordNow(ctx, s.pool, audit.Entry{Actor: actor, Action: "kb.reindex_all", ResourceType: "kb_document",
		Success: true, Details: map[string]any{"queued": n}})
	return n, err
}

// requeue bumps the generation of each document and queues it, one small transaction per
// document so that a large knowledge base does not hold one long transaction.
func (s *Service) requeue(ctx context.Context, ids []uuid.UUID) (int, error) {
	n := 0
	for _, id := range ids {
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			d, err := s.q.WithTx(tx).BumpKbGeneration(ctx, id)
			if errors.Is(err, pgx.ErrNoRows) {
				return nil // deleted meanwhile
			}
			if err != nil {
				return err
			}
			n++
			return s.enqueue(ctx, tx, d)
		})
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// reembedStale queues the documents whose chunks another embedding model produced.
func (s *Service) reembedStale(ctx context.Context) (int, error) {
	ids, err := s.q.ListKbDocumentsWithStaleModel(ctx, s.emb.Model())
	if err != nil {
		return 0, fmt.Errorf("kb: stale embeddings: %w", err)
	}
	return s.requeue(ctx, ids)
}
