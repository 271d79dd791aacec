package kb_test

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/dbtest"
	"github.com/voiceassist/gateway/internal/embed"
	"github.com/voiceassist/gateway/internal/extract"
	"github.com/voiceassist/gateway/internal/kb"
	"github.com/voiceassist/gateway/internal/vector"
)

// WaitIndexed returns once the workers indexed every document; an id that names no
// document counts as failed and is left out of the documents returned.
func TestWaitIndexed(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pool := dbtest.New(t)
	emb := embed.NewHashing(64)
	s, err := kb.New(ctx, pool, emb, vector.NewExact(emb.Dim()), kb.Config{Dir: t.TempDir(), Workers: 1},
		slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	require.NoError(t, s.Start(ctx))

	items, err := s.Ingest(ctx, audit.Actor{Email: "wait@example.com"}, []kb.Upload{
		{Filename: "a.txt", Format: extract.Text, Data: []byte("Amoxicillin is a penicillin antibiotic.")},
		{Filename: "b.txt", Format: extract.Text, Data: []byte("Asthma is a chronic airway disease.")},
	})
	require.NoError(t, err)
	require.Len(t, items, 2)
	ids := []uuid.UUID{items[0].Document.ID, uuid.New(), items[1].Document.ID}

	var seen []kb.IndexState
	docs, st, err := s.WaitIndexed(ctx, ids, 20*time.Millisecond, func(st kb.IndexState) { seen = append(seen, st) })
	require.NoError(t, err)
	require.Equal(t, kb.IndexState{Total: 3, Indexed: 2, Failed: 1}, st)
	require.True(t, st.Done())
	require.Len(t, docs, 2)
	require.Equal(t, items[0].Document.ID, docs[0].ID)
	require.Equal(t, items[1].Document.ID, docs[1].ID)
	require.Equal(t, "indexed", docs[0].Status)
	require.NotEmpty(t, seen)
	require.Equal(t, st, seen[len(seen)-1])
}

// WaitIndexed gives up when ctx ends.
func TestWaitIndexedStopsWithTheContext(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	emb := embed.NewHashing(64)
	s, err := kb.New(context.Background(), pool, emb, vector.NewExact(emb.Dim()), kb.Config{Dir: t.TempDir()}, // no workers
		slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	t.Cleanup(func() { _ = s.Close(context.Background()) })
	items, err := s.Ingest(context.Background(), audit.Actor{Email: "wait@example.com"}, []kb.Upload{
		{Filename: "a.txt", Format: extract.Text, Data: []byte("Never indexed here.")},
	})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, st, err := s.WaitIndexed(ctx, []uuid.UUID{items[0].Document.ID}, time.Hour, nil)
	require.ErrorIs(t, err, context.Canceled)
	require.Equal(t, kb.IndexState{Total: 1}, st)
}
