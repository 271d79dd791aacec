package tests

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/ssetest"
)

// sseEvent is one parsed Server-Sent Event.
type sseEvent struct {
	ID   string
	Name string
	Data map[string]any
}

func (e sseEvent) IDInt(t *testing.T) int64 {
	n, err := strconv.ParseInt(e.ID, 10, 64)
	require.NoError(t, err, "event %s id %q", e.Name, e.ID)
	return n
}

// sseStream reads events from an open stream in the background.
type sseStream struct {
	Res    *http.Response
	Events chan sseEvent
	cancel context.CancelFunc
}

func (s *testServer) openStream(t *testing.T, query string, header map[string]string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+"/api/flags/stream"+query, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	st := &sseStream{Res: res, Events: make(chan sseEvent, 10000), cancel: cancel}
	t.Cleanup(st.Close)
	if res.StatusCode != http.StatusOK {
		return st
	}
	go func() {
		defer close(st.Events)
		r := ssetest.NewReader(res.Body)
		for {
			e, err := r.Next()
			if err != nil {
				return
			}
			if e.Event == "" {
				continue // comments (heartbeats)
			}
			ev := sseEvent{ID: e.ID, Name: e.Event}
			_ = e.JSON(&ev.Data)
			st.Events <- ev
		}
	}()
	return st
}

func (st *sseStream) Close() {
	st.cancel()
	st.Res.Body.Close()
}

// next waits for the next event (optionally skipping heartbeats).
func (st *sseStream) next(t *testing.T, skipHeartbeats bool) sseEvent {
	t.Helper()
	for {
		select {
		case ev, ok := <-st.Events:
			require.True(t, ok, "stream ended")
			if skipHeartbeats && ev.Name == "heartbeat" {
				continue
			}
			return ev
		case <-time.After(10 * time.Second):
			t.Fatal("no event within 10 s")
		}
	}
}

// caughtUp waits until the server's stream hub has applied every committed flag event, so a
// stream opened next starts after them (otherwise they could still arrive as live updates).
func (s *testServer) caughtUp(t *testing.T) {
	t.Helper()
	var head int64
	require.NoError(t, s.App.Pool.QueryRow(context.Background(), `SELECT coalesce(max(id), 0) FROM flag_events`).Scan(&head))
	require.Eventually(t, func() bool { return s.App.Stream.Version() >= head }, 10*time.Second, 5*time.Millisecond)
}
