package flagstore_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/dbtest"
	"github.com/voiceassist/gateway/internal/flageval"
	"github.com/voiceassist/gateway/internal/flagstore"
)

var actor = audit.Actor{Email: "flagstore-test@example.org", Role: "admin"}

// newStore opens a store on a fresh database.
func newStore(t *testing.T) (*flagstore.Store, *pgxpool.Pool) {
	t.Helper()
	pool := dbtest.New(t)
	s, err := flagstore.New(t.Context(), pool, slog.New(slog.NewTextHandler(io.Discard, nil)), time.Second, nil)
	require.NoError(t, err)
	return s, pool
}

// createFlag stores a public boolean flag named key, after mods change the defaults.
func createFlag(t *testing.T, s *flagstore.Store, key string, mods ...func(*flageval.Flag)) flagstore.Record {
	t.Helper()
	f := flageval.Flag{Key: key, Type: flageval.TypeBoolean, Enabled: true, Visibility: flageval.VisibilityPublic}
	for _, m := range mods {
		m(&f)
	}
	rec, err := s.Create(t.Context(), actor, f)
	require.NoError(t, err)
	return rec
}

// requireAPIError requires err to be an API error of this status and code.
func requireAPIError(t *testing.T, err error, status int, code string) {
	t.Helper()
	require.Error(t, err)
	ae := apierr.From(err)
	require.Equal(t, status, ae.Status, "%v", err)
	if code != "" {
		require.Equal(t, code, ae.Code, "%v", err)
	}
}

func count(t *testing.T, pool *pgxpool.Pool, sql string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, pool.QueryRow(context.Background(), sql, args...).Scan(&n))
	return n
}

func TestCreate(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	rec := createFlag(t, s, "ui.new_header")
	require.Equal(t, int64(1), rec.Version)
	require.Equal(t, true, rec.Value, "a boolean flag without values serves true when on")
	require.Equal(t, false, rec.DefaultValue)
	require.False(t, rec.CreatedAt.IsZero())

	got, err := s.Get(t.Context(), "ui.new_header")
	require.NoError(t, err)
	require.Equal(t, rec.Flag, got.Flag)
	f, ok := s.Snapshot().Flag("ui.new_header")
	require.True(t, ok, "the writer's snapshot has the flag at once")
	require.Equal(t, int64(1), f.Version)

	require.Equal(t, 1, count(t, pool, `SELECT count(*) FROM flag_events WHERE flag_key = $1 AND kind = 'created' AND version = 1`, "ui.new_header"))
	require.Equal(t, 1, count(t, pool, `SELECT count(*) FROM audit_log WHERE action = 'flags.created' AND resource_id = $1`, "ui.new_header"))

	_, err = s.Create(t.Context(), actor, flageval.Flag{Key: "ui.new_header", Type: flageval.TypeBoolean})
	requireAPIError(t, err, http.StatusConflict, "FLAG_EXISTS")
	_, err = s.Create(t.Context(), actor, flageval.Flag{Key: "not a key", Type: flageval.TypeBoolean})
	requireAPIError(t, err, http.StatusUnprocessableEntity, "")
	require.Equal(t, 1, count(t, pool, `SELECT count(*) FROM flag_events`), "failed creates leave no event")
}

func TestUpdate(t *testing.T) {
	t.Parallel()
	s, pool := newStore(t)
	createFlag(t, s, "ui.banner", func(f *flageval.Flag) { f.Description = "old" })

	rec, err := s.Update(t.Context(), actor, "ui.banner", flagstore.Precondition{}, "flags.updated", func(f *flageval.Flag) error {
		f.Description = "new"
		f.Enabled = false
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, int64(2), rec.Version)
	require.Equal(t, "new", rec.Description)
	require.False(t, rec.Enabled)
	f, ok := s.Snapshot().Flag("ui.banner")
	require.True(t, ok)
	require.False(t, f.Enabled)

	same, err := s.Update(t.Context(), actor, "ui.banner", flagstore.Precondition{}, "flags.updated", func(f *flageval.Flag) error {
		f.Description = "new"
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, int64(2), same.Version, "an update that changes nothing is not written")
	require.Equal(t, 1, count(t, pool, `SELECT count(*) FROM flag_events WHERE flag_key = 'ui.banner' AND kind = 'updated'`))
	require.Equal(t, 1, count(t, pool, `SELECT count(*) FROM audit_log WHERE action = 'flags.updated' AND resource_id = 'ui.banner'`))

	_, err = s.Update(t.Context(), actor, "ui.banner", flagstore.Precondition{}, "flags.updated", func(f *flageval.Flag) error {
		f.RolloutPercentage = 101
		return nil
	})
	requireAPIError(t, err, http.StatusUnprocessableEntity, "")
	got, err := s.Get(t.Context(), "ui.banner")
	require.NoError(t, err)
	require.Equal(t, int64(2), got.Version, "an invalid change is not written")
}

func TestUpdateVersionConflict(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	createFlag(t, s, "ops.kill_switch")
	one, two := int64(1), int64(2)
	toggle := func(f *flageval.Flag) error { f.Enabled = !f.Enabled; return nil }

	_, err := s.Update(t.Context(), actor, "ops.kill_switch", flagstore.Precondition{BodyVersion: &two}, "flags.updated", toggle)
	requireAPIError(t, err, http.StatusConflict, "VERSION_CONFLICT")
	_, err = s.Update(t.Context(), actor, "ops.kill_switch", flagstore.Precondition{IfMatch: &two}, "flags.updated", toggle)
	requireAPIError(t, err, http.StatusPreconditionFailed, "PRECONDITION_FAILED")

	rec, err := s.Update(t.Context(), actor, "ops.kill_switch", flagstore.Precondition{IfMatch: &one, BodyVersion: &one}, "flags.updated", toggle)
	require.NoError(t, err)
	require.Equal(t, int64(2), rec.Version)
	_, err = s.Update(t.Context(), actor, "ops.kill_switch", flagstore.Precondition{BodyVersion: &one}, "flags.updated", toggle)
	requireAPIError(t, err, http.StatusConflict, "VERSION_CONFLICT")
}

// Two writers that read version 1 and both send it: exactly one wins.
func TestConcurrentUpdatesWithTheSameVersion(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	createFlag(t, s, "ui.race")
	one := int64(1)
	errs := make(chan error, 2)
	for _, d := range []string{"a", "b"} {
		go func() {
			_, err := s.Update(context.Background(), actor, "ui.race", flagstore.Precondition{BodyVersion: &one}, "flags.updated", func(f *flageval.Flag) error {
				f.Description = d
				return nil
			})
			errs <- err
		}()
	}
	e1, e2 := <-errs, <-errs
	require.True(t, (e1 == nil) != (e2 == nil), "one wins: %v / %v", e1, e2)
	if e1 == nil {
		e1 = e2
	}
	requireAPIError(t, e1, http.StatusConflict, "VERSION_CONFLICT")
}

func TestNotFound(t *testing.T) {
	t.Parallel()
	s, _ := newStore(t)
	_, err := s.Get(t.Context(), "ui.missing")
	requireAPIError(t, err, http.StatusNotFound, "")
	_, err = s.Update(t.Context(), actor, "ui.missing", flagstore.Precondition{}, "flags.updated", func(*flageval.Flag) error { return nil })
	requireAPIError(t, err, http.StatusNotFound, "")
	requireAPIError(t, s.Delete(t.Context(), actor, "ui.missing"), http.StatusNotFound, "")

	createFlag(t, s, "ui.short_lived")
	require.NoError(t, s.Delete(t.Context(), actor, "ui.short_lived"))
	_, err = s.Get(t.Context(), "ui.short_lived")
	requireAPIError(t, err, http.StatusNotFound, "")
	_, ok := s.Snapshot().Flag("ui.short_lived")
	require.False(t, ok)
}

// A second store on the same database (another replica) learns of changes.
func TestAnotherReplicaSeesChanges(t *testing.T) {
	t.Parallel()
	a, pool := newStore(t)
	b, err := flagstore.New(t.Context(), pool, slog.New(slog.NewTextHandler(io.Discard, nil)), 20*time.Millisecond, nil)
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go b.Run(ctx)

	createFlag(t, a, "ui.shared")
	require.Eventually(t, func() bool {
		_, ok := b.Snapshot().Flag("ui.shared")
		return ok
	}, 5*time.Second, 5*time.Millisecond)
}
