package kb_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"log/slog"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/apierr/apierrtest"
	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/dbtest"
	"github.com/voiceassist/gateway/internal/embed"
	"github.com/voiceassist/gateway/internal/kb"
	"github.com/voiceassist/gateway/internal/vector"
)

// newService is an insert-only knowledge base (no workers): documents stay pending.
func newService(t *testing.T) (*kb.Service, *pgxpool.Pool) {
	t.Helper()
	pool := dbtest.New(t)
	emb := embed.NewHashing(embed.DefaultDim)
	s, err := kb.New(context.Background(), pool, emb, vector.NewExact(embed.DefaultDim), kb.Config{Dir: t.TempDir()}, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	return s, pool
}

// newDocument inserts a pending Markdown document row with the given title (no content,
// no job): enough for listing and lookups.
func newDocument(t *testing.T, pool *pgxpool.Pool, title string, tags ...string) db.KbDocument {
	t.Helper()
	if tags == nil {
		tags = []string{}
	}
	sum := sha256.Sum256([]byte(title + uuid.NewString()))
	d, err := db.New(pool).InsertKbDocument(context.Background(), db.InsertKbDocumentParams{
		Title: title, Format: "md", Tags: tags, Metadata: []byte("{}"), ContentHash: hex.EncodeToString(sum[:]), SizeBytes: 1,
	})
	require.NoError(t, err)
	return d
}

func TestIngestGetReindex(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	up := kb.Upload{Filename: "chest-pain.md", ContentType: "text/markdown", Data: []byte("# Chest pain\n\nAssess the ABCs first.\n"), Tags: []string{"cardiology"}}

	items, err := s.Ingest(ctx, audit.Actor{}, []kb.Upload{up})
	require.NoError(t, err)
	require.Len(t, items, 1)
	d := items[0].Document
	require.False(t, items[0].Duplicate)
	require.Equal(t, "pending", d.Status)
	require.Equal(t, "chest-pain.md", *d.Filename)
	require.Nil(t, d.Error)
	require.Nil(t, d.IndexedAt)

	items, err = s.Ingest(ctx, audit.Actor{}, []kb.Upload{up})
	require.NoError(t, err)
	require.True(t, items[0].Duplicate, "same content")
	require.Equal(t, d.ID, items[0].Document.ID)

	got, err := s.Get(ctx, d.ID)
	require.NoError(t, err)
	require.Equal(t, d.Title, got.Title)

	r, err := s.Reindex(ctx, audit.Actor{}, d.ID)
	require.NoError(t, err)
	require.Equal(t, d.Generation+1, r.Generation)

	_, err = s.Get(ctx, uuid.New())
	apierrtest.Require(t, err, http.StatusNotFound, "NOT_FOUND", "")
	_, err = s.Reindex(ctx, audit.Actor{}, uuid.New())
	apierrtest.Require(t, err, http.StatusNotFound, "NOT_FOUND", "")
	apierrtest.Require(t, s.Delete(ctx, audit.Actor{}, uuid.New()), http.StatusNotFound, "NOT_FOUND", "")
}

func TestListPages(t *testing.T) {
	t.Parallel()
	s, pool := newService(t)
	ctx := context.Background()
	want := map[uuid.UUID]bool{}
	for _, title := range []string{"a", "b", "c", "d", "e"} {
		want[newDocument(t, pool, title, "guideline").ID] = true
	}
	newDocument(t, pool, "untagged")

	got := map[uuid.UUID]bool{}
	cursor, pages := "", 0
	for {
		docs, next, err := s.List(ctx, kb.ListFilter{Tag: "guideline", Limit: 2, Cursor: cursor})
		require.NoError(t, err)
		for _, d := range docs {
			require.False(t, got[d.ID], "a document on two pages")
			got[d.ID] = true
		}
		pages++
		if next == "" {
			break
		}
		cursor = next
	}
	require.Equal(t, want, got)
	require.Equal(t, 3, pages)

	_, _, err := s.List(ctx, kb.ListFilter{Limit: 2, Cursor: "not-a-cursor"})
	apierrtest.Require(t, err, http.StatusBadRequest, "VALIDATION_ERROR", "cursor")
	_, _, err = s.Jobs(ctx, "", 2, "not-a-cursor")
	apierrtest.Require(t, err, http.StatusBadRequest, "VALIDATION_ERROR", "cursor")
}

func TestJobsNameTheirDocuments(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	items, err := s.Ingest(ctx, audit.Actor{}, []kb.Upload{{Filename: "a.md", Data: []byte("# A\n\nText.\n")}})
	require.NoError(t, err)

	jobs, _, err := s.Jobs(ctx, "", 10, "")
	require.NoError(t, err)
	require.Len(t, jobs, 1)
	docs, err := s.Documents(ctx, jobs)
	require.NoError(t, err)
	require.Equal(t, items[0].Document.Title, docs[items[0].Document.ID].Title)
}
