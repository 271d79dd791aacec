package tests

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/auth"
)

// Three replicas on one database. Changes made through A reach subscribers of B and C; a
// client that leaves B mid-way and resumes on C with Last-Event-ID receives exactly the
// events it missed: over 1,000 changes, every id once, none lost.
func TestStreamAcrossReplicasLossless(t *testing.T) {
	t.Parallel()
	a := startServer(t, nil)
	env := map[string]string{"DATABASE_URL": a.Env["DATABASE_URL"], "REDIS_KEY_PREFIX": a.Env["REDIS_KEY_PREFIX"]}
	b, c := startServer(t, env), startServer(t, env)
	ctx := context.Background()
	admin := a.token(t, a.account(t, auth.RoleAdmin))
	pub := client.FlagVisibilityPublic
	a.createFlag(t, admin, client.FlagInput{Key: "ui.switch", Type: client.FlagTypeBoolean, Visibility: &pub})
	var want int64
	require.NoError(t, a.App.Pool.QueryRow(ctx, `SELECT max(id) FROM flag_events`).Scan(&want))
	require.Eventually(t, func() bool { return b.App.Stream.Version() == want && c.App.Stream.Version() == want },
		10*time.Second, 5*time.Millisecond, "replicas catch up with the creation")

	onB := b.openStream(t, "", nil)
	onC := c.openStream(t, "", nil)
	start := onB.next(t, true)
	require.Equal(t, "connected", start.Name)
	require.Equal(t, "connected", onC.next(t, true).Name)
	first := start.IDInt(t)

	const changes = 1000
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < changes; i++ {
			r, err := a.Client.ToggleFlagWithResponse(ctx, "ui.switch", bearerAuth(admin))
			if err != nil || r.StatusCode() != http.StatusOK {
				t.Errorf("toggle %d: %v", i, err)
				return
			}
		}
	}()

	// The B subscriber reads about a third, then disconnects.
	var got []int64
	for len(got) < changes/3 {
		ev := onB.next(t, true)
		require.Equal(t, "flag_update", ev.Name)
		got = append(got, ev.IDInt(t))
	}
	onB.Close()
	lastSeen := strconv.FormatInt(got[len(got)-1], 10)

	// C's own subscriber sees every change live.
	var onCIDs []int64
	for len(onCIDs) < changes {
		ev := onC.next(t, true)
		require.Equal(t, "flag_update", ev.Name)
		onCIDs = append(onCIDs, ev.IDInt(t))
	}
	wg.Wait()

	// Resume on C.
	resumed := c.openStream(t, "", map[string]string{"Last-Event-ID": lastSeen})
	for {
		ev := resumed.next(t, true)
		if ev.Name == "reconnected" {
			require.Equal(t, true, ev.Data["history_complete"])
			break
		}
		require.Equal(t, "flag_update", ev.Name)
		got = append(got, ev.IDInt(t))
	}
	// Live events that raced the replay would follow; all toggles are done, so none.
	require.Len(t, got, changes, "every change exactly once")
	for i, id := range got {
		require.Equal(t, first+int64(i)+1, id, "ids are consecutive, no gap, no duplicate (at %d)", i)
	}
	require.Equal(t, got, onCIDs, "B-then-C saw the same sequence as C's live subscriber")
}

// Pruned history: a client resuming from before the retained log gets history_incomplete
// and a full flags_bulk_update.
func TestStreamHistoryIncomplete(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	pub := client.FlagVisibilityPublic
	s.createFlag(t, admin, client.FlagInput{Key: "ui.x", Type: client.FlagTypeBoolean, Visibility: &pub})
	for i := 0; i < 5; i++ {
		_, err := s.Client.ToggleFlagWithResponse(ctx, "ui.x", bearerAuth(admin))
		require.NoError(t, err)
	}
	// Another replica's pruning (or a long outage) removed the early events; this replica's
	// ring does not reach back either because it is a new replica.
	_, err := s.App.Pool.Exec(ctx, `DELETE FROM flag_events WHERE id < (SELECT max(id) FROM flag_events)`)
	require.NoError(t, err)
	fresh := startServer(t, map[string]string{"DATABASE_URL": s.Env["DATABASE_URL"]})

	st := fresh.openStream(t, "", map[string]string{"Last-Event-ID": "1"})
	hi := st.next(t, true)
	require.Equal(t, "history_incomplete", hi.Name)
	require.Equal(t, float64(1), hi.Data["last_event_id"])
	bulk := st.next(t, true)
	require.Equal(t, "flags_bulk_update", bulk.Name)
	require.Equal(t, "history_incomplete", bulk.Data["reason"])
	require.Contains(t, bulk.Data["flags"], "ui.x")
	rc := st.next(t, true)
	require.Equal(t, "reconnected", rc.Name)
	require.Equal(t, false, rc.Data["history_complete"])

	ch, err := fresh.Client.GetFlagChangesWithResponse(ctx, &client.GetFlagChangesParams{SinceVersion: 1})
	require.NoError(t, err)
	require.False(t, ch.JSON200.Data.HistoryComplete)
	require.Len(t, ch.JSON200.Data.Flags, 1)
	hs, err := fresh.Client.GetFlagHistoryStatsWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, int64(1), hs.JSON200.Data.LogEvents)
}

func TestStreamLimitsAndShutdown(t *testing.T) {
	t.Parallel()
	// Open streams per IP (SSE_MAX_CONNECTIONS_PER_IP_PER_MINUTE, counted across replicas in
	// Redis): over it 429; a closed stream gives its slot back.
	s := startServer(t, map[string]string{"SSE_MAX_CONNECTIONS_PER_IP_PER_MINUTE": "2"})
	first := s.openStream(t, "", nil)
	require.Equal(t, http.StatusOK, first.Res.StatusCode)
	second := s.openStream(t, "", nil)
	require.Equal(t, http.StatusOK, second.Res.StatusCode)
	limited := s.openStream(t, "", nil)
	require.Equal(t, http.StatusTooManyRequests, limited.Res.StatusCode, "two open streams per IP")
	require.NotEmpty(t, limited.Res.Header.Get("Retry-After"))
	second.Close()
	require.Eventually(t, func() bool {
		again := s.openStream(t, "", nil)
		defer again.Close()
		return again.Res.StatusCode == http.StatusOK
	}, 10*time.Second, 50*time.Millisecond, "a closed stream gives its slot back")

	// The per-replica cap stays 503.
	capS := startServer(t, map[string]string{"SSE_MAX_STREAMS_PER_IP": "1"})
	one := capS.openStream(t, "", nil)
	require.Equal(t, http.StatusOK, one.Res.StatusCode)
	capped := capS.openStream(t, "", nil)
	require.Equal(t, http.StatusServiceUnavailable, capped.Res.StatusCode, "per-IP concurrent cap of the replica")

	require.Equal(t, "connected", first.next(t, true).Name)
	// Shutdown ends every stream with a final error event.
	go func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.App.Shutdown(sctx)
	}()
	ev := first.next(t, true)
	require.Equal(t, "error", ev.Name)
	require.Empty(t, ev.ID, "error events carry no id")
	require.Contains(t, fmt.Sprint(ev.Data["message"]), "shutting down")
}

// A client that stops reading is disconnected; the broadcaster never waits for it.
func TestStreamSlowClientDropped(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"SSE_CLIENT_QUEUE": "16"})
	ctx := context.Background()
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	pub := client.FlagVisibilityPublic
	big := map[string]any{}
	for i := 0; i < 200; i++ {
		big[fmt.Sprintf("k%03d", i)] = "a fairly long value to fill socket buffers quickly ........................................"
	}
	s.createFlag(t, admin, client.FlagInput{Key: "integration.big", Type: client.FlagTypeJson, Value: anyv(big), DefaultValue: anyv(map[string]any{}), Visibility: &pub})

	// Open a stream and never read it.
	req, err := http.NewRequest(http.MethodGet, s.URL+"/api/flags/stream", nil)
	require.NoError(t, err)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	reader := s.openStream(t, "", nil) // a healthy client alongside
	require.Equal(t, "connected", reader.next(t, true).Name)

	for i := 0; i < 400; i++ {
		_, err := s.Client.ToggleFlagWithResponse(ctx, "integration.big", bearerAuth(admin))
		require.NoError(t, err)
	}
	seen := 0
	for seen < 400 {
		if ev := reader.next(t, true); ev.Name == "flag_update" {
			seen++
		}
	}
	require.Eventually(t, func() bool {
		st, err := s.Client.GetFlagStreamStatsWithResponse(ctx)
		return err == nil && st.JSON200.Data.DroppedTotal >= 1 && st.JSON200.Data.ActiveConnections == 1
	}, 10*time.Second, 50*time.Millisecond, "the slow client is dropped, the healthy one stays")
}

// A token revoked mid-stream ends the stream with an error event.
func TestStreamEndsWhenTokenRevoked(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"SSE_HEARTBEAT_SECONDS": "1"})
	u := s.account(t, auth.RoleUser)
	pair := s.login(t, u.Email, u.Password).JSON200.Data
	st := s.openStream(t, "", map[string]string{"Authorization": "Bearer " + pair.AccessToken})
	require.Equal(t, "connected", st.next(t, true).Name)
	out, err := s.Client.LogoutWithResponse(context.Background(), bearerAuth(pair.AccessToken))
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, out.StatusCode())
	ev := st.next(t, true)
	require.Equal(t, "error", ev.Name)
	_, open := <-st.Events
	for open {
		_, open = <-st.Events
	}
}
