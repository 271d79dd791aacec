package stream_test

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/flageval"
	"github.com/voiceassist/gateway/internal/ssetest"
	"github.com/voiceassist/gateway/internal/stream"
)

// A replica whose tail lags the client's Last-Event-ID (issue 21 #19) catches up from the
// log before it greets: the client gets "reconnected" (nothing missed), never a fresh
// "connected" snapshot older than what it had, and no event twice.
func TestLaggingReplicaCatchesUpToLastEventID(t *testing.T) {
	t.Parallel()
	f := newHub(t, 16)
	f.createFlag(t, "ui.public", flageval.VisibilityPublic)
	// The lagging replica: loaded now, never tailing by itself (its Run is not started).
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	lag, err := stream.New(t.Context(), f.pool, f.flags, log, stream.NewMetrics(prometheus.NewRegistry()),
		stream.Options{Heartbeat: time.Hour, Poll: time.Hour})
	require.NoError(t, err)
	t.Cleanup(lag.Close)
	f.toggle(t, "ui.public")
	head := f.toggle(t, "ui.public") // the client saw this one on the healthy replica
	require.Less(t, lag.Version(), head)

	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get("Last-Event-ID")
		if err := lag.Serve(w, r, stream.Session{Level: flageval.VisibilityPublic.Level(), IP: "127.0.0.1", LastEventID: &id}); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	req.Header.Set("Last-Event-ID", strconv.FormatInt(head, 10))
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	ev, err := ssetest.NewReader(bufio.NewReader(res.Body)).Next()
	require.NoError(t, err)
	require.Equal(t, "reconnected", ev.Event, "a lagging replica greeted a resumed client with %s", ev.Event)
	var d struct {
		Version        int64 `json:"version"`
		EventsReplayed int   `json:"events_replayed"`
	}
	require.NoError(t, ev.JSON(&d))
	require.Equal(t, head, d.Version)
	require.Zero(t, d.EventsReplayed, "nothing after the client's id")
	require.Equal(t, head, lag.Version())
}
