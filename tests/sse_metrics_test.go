package tests

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/auth"
)

// sseSeries are the seed README's thirteen SSE metric names.
var sseSeries = []string{
	"voiceassist_sse_connections_active",
	"voiceassist_sse_connections_total",
	"voiceassist_sse_reconnects_total",
	"voiceassist_sse_events_replayed_total",
	"voiceassist_sse_events_dropped_total",
	"voiceassist_sse_flag_updates_broadcast_total",
	"voiceassist_sse_flag_update_rate_total",
	"voiceassist_sse_clients_notified",
	"voiceassist_sse_version_lag",
	"voiceassist_sse_event_delivery_latency_seconds",
	"voiceassist_sse_connection_duration_seconds",
	"voiceassist_sse_client_version_drift",
	"voiceassist_sse_history_incomplete_total",
}

// Each of the seed's thirteen voiceassist_sse_* series exists and moves when its event
// happens: connect and disconnect, a reconnect with Last-Event-ID (version lag, replay), a
// broadcast (by type, per flag, clients notified, delivery latency), a slow client (version
// drift, then dropped), and a resume from pruned history (history incomplete).
func TestSSEMetrics(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"SSE_HEARTBEAT_SECONDS": "1", "SSE_CLIENT_QUEUE": "200"})
	ctx := context.Background()
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	pub := client.FlagVisibilityPublic

	m := s.scrape(t)
	require.Zero(t, m.value("voiceassist_sse_connections_active"))
	require.Zero(t, m.value("voiceassist_sse_connections_total"))

	// Connect.
	a := s.openStream(t, "", nil)
	require.Equal(t, "connected", a.next(t, true).Name)
	m = s.scrape(t)
	require.Equal(t, 1.0, m.value("voiceassist_sse_connections_active"))
	require.Equal(t, 1.0, m.value("voiceassist_sse_connections_total", "action", "connect"))
	require.Equal(t, 1.0, m.value("voiceassist_sse_reconnects_total", "with_last_event_id", "false"))

	// Broadcasts of single-flag changes, delivered to the open stream.
	s.createFlag(t, admin, client.FlagInput{Key: "ui.metered", Type: client.FlagTypeBoolean, Visibility: &pub})
	first := a.next(t, true)
	require.Equal(t, "flag_update", first.Name)
	_, err := s.Client.ToggleFlagWithResponse(ctx, "ui.metered", bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, "flag_update", a.next(t, true).Name)
	require.Eventually(t, func() bool {
		m = s.scrape(t)
		return m.value("voiceassist_sse_event_delivery_latency_seconds", "event_type", "flag_update") >= 2
	}, 10*time.Second, 50*time.Millisecond, "delivery latency observed per delivered event")
	require.GreaterOrEqual(t, m.value("voiceassist_sse_flag_updates_broadcast_total", "event_type", "flag_update"), 2.0)
	require.Equal(t, 2.0, m.value("voiceassist_sse_flag_update_rate_total", "flag_name", "ui.metered"))
	require.GreaterOrEqual(t, m.value("voiceassist_sse_clients_notified"), 2.0)
	require.GreaterOrEqual(t, m.histogramSum("voiceassist_sse_clients_notified"), 2.0, "one client notified per broadcast")

	// Reconnect with Last-Event-ID: one event missed is replayed, with a version lag of one.
	b := s.openStream(t, "", map[string]string{"Last-Event-ID": first.ID})
	ev := b.next(t, true)
	require.Equal(t, "flag_update", ev.Name)
	require.Equal(t, "reconnected", b.next(t, true).Name)
	m = s.scrape(t)
	require.Equal(t, 1.0, m.value("voiceassist_sse_reconnects_total", "with_last_event_id", "true"))
	require.Equal(t, 1.0, m.value("voiceassist_sse_events_replayed_total"))
	require.Equal(t, 1.0, m.value("voiceassist_sse_version_lag"))
	require.Equal(t, 1.0, m.histogramSum("voiceassist_sse_version_lag"))
	require.Equal(t, 2.0, m.value("voiceassist_sse_connections_active"))

	// Disconnect.
	a.Close()
	b.Close()
	require.Eventually(t, func() bool {
		m = s.scrape(t)
		return m.value("voiceassist_sse_connections_total", "action", "disconnect") == 2
	}, 10*time.Second, 50*time.Millisecond)
	require.Zero(t, m.value("voiceassist_sse_connections_active"))
	require.Equal(t, 2.0, m.value("voiceassist_sse_connection_duration_seconds"))
	require.Positive(t, m.histogramSum("voiceassist_sse_connection_duration_seconds"))

	// A client that stops reading falls behind (version drift, set at each heartbeat) and,
	// once its queue is full, is dropped.
	big := map[string]any{}
	for i := 0; i < 200; i++ {
		big[fmt.Sprintf("k%03d", i)] = "a fairly long value to fill socket buffers quickly ........................................"
	}
	s.createFlag(t, admin, client.FlagInput{Key: "integration.metered_big", Type: client.FlagTypeJson, Value: anyv(big), DefaultValue: anyv(map[string]any{}), Visibility: &pub})
	slowClient(t, s.URL, "/api/flags/stream")
	drift, dropped := 0.0, 0.0
	toggles := 0
	for ; toggles < 2000 && (drift == 0 || dropped == 0); toggles++ {
		_, err := s.Client.ToggleFlagWithResponse(ctx, "integration.metered_big", bearerAuth(admin))
		require.NoError(t, err)
		if toggles%5 == 0 {
			m = s.scrape(t)
			drift = max(drift, m.value("voiceassist_sse_client_version_drift"))
			dropped = m.value("voiceassist_sse_events_dropped_total", "reason", "queue_full")
		}
	}
	t.Logf("slow client: drift %v reported, dropped after %d changes", drift, toggles)
	require.Positive(t, drift, "the slow client's drift was reported")
	require.Equal(t, 1.0, dropped, "the slow client was dropped")

	// Pruned history: a replica whose ring does not reach back reads the log, which no
	// longer has the events after Last-Event-ID.
	_, err = s.App.Pool.Exec(ctx, `DELETE FROM flag_events WHERE id < (SELECT max(id) FROM flag_events)`)
	require.NoError(t, err)
	fresh := startServer(t, map[string]string{"DATABASE_URL": s.Env["DATABASE_URL"]})
	require.Zero(t, fresh.scrape(t).value("voiceassist_sse_history_incomplete_total"))
	st := fresh.openStream(t, "", map[string]string{"Last-Event-ID": first.ID})
	require.Equal(t, "history_incomplete", st.next(t, true).Name)
	fm := fresh.scrape(t)
	require.Equal(t, 1.0, fm.value("voiceassist_sse_history_incomplete_total"))
	require.GreaterOrEqual(t, fm.value("voiceassist_sse_flag_updates_broadcast_total"), 0.0)

	for _, name := range sseSeries {
		require.True(t, m.has(name) || fm.has(name), "%s is exported", name)
	}
	require.True(t, fm.has("voiceassist_sse_history_incomplete_total"))
}

// slowClient opens path and never reads it, over a socket whose receive buffer is small
// and fixed (no autotuning to megabytes), so the server's writes block after a few hundred
// kilobytes: the client falls behind quickly whatever the machine's load.
func slowClient(t *testing.T, base, path string) {
	t.Helper()
	u, err := url.Parse(base)
	require.NoError(t, err)
	d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		var serr error
		err := c.Control(func(fd uintptr) { serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		return errors.Join(err, serr)
	}}
	conn, err := d.Dial("tcp", u.Host)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	_, err = fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", path, u.Host)
	require.NoError(t, err)
}
