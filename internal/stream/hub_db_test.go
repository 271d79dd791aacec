package stream_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/dbtest"
	"github.com/voiceassist/gateway/internal/flageval"
	"github.com/voiceassist/gateway/internal/flagstore"
	"github.com/voiceassist/gateway/internal/ssetest"
	"github.com/voiceassist/gateway/internal/stream"
)

type fixture struct {
	pool  *pgxpool.Pool
	flags *flagstore.Store
	hub   *stream.Hub
}

var actor = audit.Actor{Email: "stream-test@example.org", Role: "admin"}

// newHub runs a hub (ring of ringSize events) on a fresh database until the test ends.
func newHub(t *testing.T, ringSize int) *fixture {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	pool := dbtest.New(t)
	flags, err := flagstore.New(t.Context(), pool, log, time.Second, nil)
	require.NoError(t, err)
	hub, err := stream.New(t.Context(), pool, flags, log, stream.NewMetrics(prometheus.NewRegistry()),
		stream.Options{Heartbeat: time.Hour, Poll: 10 * time.Millisecond, RingSize: ringSize})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); hub.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done; hub.Close() })
	return &fixture{pool: pool, flags: flags, hub: hub}
}

// createFlag appends a "created" event for a boolean flag of this visibility and returns
// its event id once the hub has applied it.
func (f *fixture) createFlag(t *testing.T, key string, vis flageval.Visibility) int64 {
	t.Helper()
	_, err := f.flags.Create(t.Context(), actor, flageval.Flag{Key: key, Type: flageval.TypeBoolean, Enabled: true, Visibility: vis})
	require.NoError(t, err)
	return f.caughtUp(t)
}

// toggle appends an "updated" event and returns its id once the hub has applied it.
func (f *fixture) toggle(t *testing.T, key string) int64 {
	t.Helper()
	_, err := f.flags.Update(t.Context(), actor, key, flagstore.Precondition{}, "flags.toggled", func(fl *flageval.Flag) error {
		fl.Enabled = !fl.Enabled
		return nil
	})
	require.NoError(t, err)
	return f.caughtUp(t)
}

// caughtUp waits until the hub has applied the newest event and returns its id.
func (f *fixture) caughtUp(t *testing.T) int64 {
	t.Helper()
	var head int64
	require.NoError(t, f.pool.QueryRow(context.Background(), `SELECT coalesce(max(id), 0) FROM flag_events`).Scan(&head))
	require.Eventually(t, func() bool { return f.hub.Version() >= head }, 5*time.Second, 2*time.Millisecond)
	return head
}

// events parses SSE frames.
func events(t *testing.T, frames [][]byte) []ssetest.Event {
	t.Helper()
	r := ssetest.NewReader(bytes.NewReader(bytes.Join(frames, nil)))
	var out []ssetest.Event
	for {
		ev, err := r.Next()
		if err == io.EOF {
			return out
		}
		require.NoError(t, err)
		out = append(out, ev)
	}
}

type update struct {
	Flag     string
	Version  int64
	Replayed bool
	Kind     string
}

func decode(t *testing.T, ev ssetest.Event) update {
	t.Helper()
	require.Equal(t, "flag_update", ev.Event)
	var u update
	require.NoError(t, ev.JSON(&u))
	return u
}

// subscribe registers a client at level and removes it when the test ends.
func (f *fixture) subscribe(t *testing.T, level int) *stream.Client {
	t.Helper()
	c, _, _, err := f.hub.Subscribe(level, "127.0.0.1", nil, false)
	require.NoError(t, err)
	t.Cleanup(func() { f.hub.Unsubscribe(c) })
	return c
}

// Replay from an event id, from the log (a ring of 2 cannot reach back) and from the ring,
// in id order, filtered by the client's visibility.
func TestReplayFromEventID(t *testing.T) {
	t.Parallel()
	f := newHub(t, 2)
	first := f.createFlag(t, "ui.public", flageval.VisibilityPublic)
	f.toggle(t, "ui.public")
	secret := f.createFlag(t, "ui.secret", flageval.VisibilityAdmin)
	f.toggle(t, "ui.public")
	last := f.toggle(t, "ui.public")

	public := f.subscribe(t, flageval.VisibilityPublic.Level())
	rp, err := f.hub.ReplayFor(t.Context(), public, first, last)
	require.NoError(t, err)
	require.True(t, rp.Complete)
	evs := events(t, rp.Frames)
	require.Len(t, evs, 3, "three public events after the first; the admin flag is not shown")
	prev := first
	for _, ev := range evs {
		u := decode(t, ev)
		require.Equal(t, "ui.public", u.Flag)
		require.True(t, u.Replayed)
		require.Equal(t, ev.ID, itoa(u.Version), "the event id is the version")
		require.Greater(t, u.Version, prev, "in id order")
		prev = u.Version
	}

	admin := f.subscribe(t, flageval.VisibilityAdmin.Level())
	rp, err = f.hub.ReplayFor(t.Context(), admin, first, last)
	require.NoError(t, err)
	evs = events(t, rp.Frames)
	require.Len(t, evs, 4)
	require.Equal(t, "ui.secret", decode(t, evs[1]).Flag)
	require.Equal(t, secret, decode(t, evs[1]).Version)

	rp, err = f.hub.ReplayFor(t.Context(), admin, last-1, last) // from the ring
	require.NoError(t, err)
	require.True(t, rp.Complete)
	evs = events(t, rp.Frames)
	require.Len(t, evs, 1)
	require.Equal(t, last, decode(t, evs[0]).Version)

	rp, err = f.hub.ReplayFor(t.Context(), admin, last, last)
	require.NoError(t, err)
	require.True(t, rp.Complete)
	require.Empty(t, rp.Frames, "nothing missed")
}

// Retention deletes a prefix of the log (by count and by age); a replay reaching into the
// pruned part is incomplete, and the client gets history_incomplete and a bulk update.
func TestRetentionAndHistoryIncomplete(t *testing.T) {
	t.Parallel()
	f := newHub(t, 1)
	first := f.createFlag(t, "ui.a", flageval.VisibilityPublic)
	for range 4 {
		f.toggle(t, "ui.a")
	}
	last := f.toggle(t, "ui.a") // events first..last, six in all
	q := db.New(f.pool)
	prune := func(count int64, age time.Duration) int64 {
		n, err := q.PruneFlagEvents(t.Context(), db.PruneFlagEventsParams{RetainCount: count,
			MaxAge: pgtype.Interval{Microseconds: age.Microseconds(), Valid: true}})
		require.NoError(t, err)
		return n
	}

	require.Zero(t, prune(100, 24*time.Hour), "within both limits")
	_, err := f.pool.Exec(t.Context(), `UPDATE flag_events SET created_at = now() - interval '2 days' WHERE id <= $1`, first+1)
	require.NoError(t, err)
	require.EqualValues(t, 2, prune(100, 24*time.Hour), "the two events older than a day")
	require.EqualValues(t, 1, prune(3, 24*time.Hour), "all but the newest three")
	st, err := f.hub.HistoryStats(t.Context())
	require.NoError(t, err)
	require.Equal(t, last-2, st.LogOldest)
	require.EqualValues(t, 3, st.LogEvents)

	c := f.subscribe(t, 0)
	rp, err := f.hub.ReplayFor(t.Context(), c, first, last)
	require.NoError(t, err)
	require.False(t, rp.Complete, "events after the client's id were pruned")
	require.Empty(t, rp.Frames)

	rp, err = f.hub.ReplayFor(t.Context(), c, last-3, last)
	require.NoError(t, err)
	require.True(t, rp.Complete, "the oldest kept event is the next one the client needs")
	require.Len(t, events(t, rp.Frames), 3)

	state, version := f.hub.VisibleState(0)
	evs := events(t, stream.HistoryIncompleteFrames(c, first, version, state))
	require.Len(t, evs, 2)
	require.Equal(t, "history_incomplete", evs[0].Event)
	require.Equal(t, itoa(last), evs[0].ID)
	var hi struct {
		LastEventID    int64 `json:"last_event_id"`
		CurrentVersion int64 `json:"current_version"`
	}
	require.NoError(t, evs[0].JSON(&hi))
	require.Equal(t, first, hi.LastEventID)
	require.Equal(t, last, hi.CurrentVersion)
	require.Equal(t, "flags_bulk_update", evs[1].Event)
	var bulk struct {
		Flags   map[string]any `json:"flags"`
		Version int64          `json:"version"`
		Reason  string         `json:"reason"`
	}
	require.NoError(t, evs[1].JSON(&bulk))
	require.Equal(t, "history_incomplete", bulk.Reason)
	require.Equal(t, last, bulk.Version)
	require.Contains(t, bulk.Flags, "ui.a")
}

// A live event reaches a subscribed client as one frame with the event id.
func TestLiveEventReachesSubscriber(t *testing.T) {
	t.Parallel()
	f := newHub(t, 16)
	f.createFlag(t, "ui.live", flageval.VisibilityPublic)
	c := f.subscribe(t, 0)
	id := f.toggle(t, "ui.live")
	select {
	case <-c.Wake():
	case <-time.After(5 * time.Second):
		t.Fatal("no frame queued")
	}
	var frames [][]byte
	for _, it := range c.Drain(nil) {
		frames = append(frames, it.Frame)
	}
	evs := events(t, frames)
	require.Len(t, evs, 1)
	u := decode(t, evs[0])
	require.Equal(t, id, u.Version)
	require.False(t, u.Replayed)
	require.Equal(t, itoa(id), evs[0].ID)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
