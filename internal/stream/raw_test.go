package stream_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/flageval"
	"github.com/voiceassist/gateway/internal/ssetest"
	"github.com/voiceassist/gateway/internal/stream"
)

// rawServer serves the hub's stream over real HTTP/1.1 and counts handlers still running
// and streams ended (Session.OnClose).
type rawServer struct {
	*httptest.Server
	running, closed atomic.Int64
}

func newRawServer(t *testing.T, f *fixture, expires ...time.Time) *rawServer {
	t.Helper()
	s := &rawServer{}
	var exp time.Time
	if len(expires) > 0 {
		exp = expires[0]
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.running.Add(1)
		defer s.running.Add(-1)
		w.Header().Set("X-Request-ID", "req-1") // a middleware's header survives the hijack
		err := f.hub.Serve(w, r, stream.Session{Level: flageval.VisibilityPublic.Level(), IP: "127.0.0.1",
			ExpiresAt: exp, OnClose: func() { s.closed.Add(1) }})
		if err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *rawServer) open(t *testing.T) (*http.Response, *ssetest.Reader) {
	t.Helper()
	res, err := http.Get(s.URL)
	require.NoError(t, err)
	t.Cleanup(func() { res.Body.Close() })
	require.Equal(t, http.StatusOK, res.StatusCode)
	return res, ssetest.NewReader(res.Body)
}

func next(t *testing.T, r *ssetest.Reader) ssetest.Event {
	t.Helper()
	for {
		ev, err := r.Next()
		require.NoError(t, err)
		if !ev.IsComment() && ev.Event != "heartbeat" {
			return ev
		}
	}
}

// An HTTP/1.1 stream is hijacked after its greeting: its handler returns, and the hub's write
// loops deliver every change, in order, as a well-formed chunked response.
func TestRawStreamOutlivesItsHandler(t *testing.T) {
	t.Parallel()
	f := newHub(t, 64)
	s := newRawServer(t, f)
	key := "ui.raw"
	f.createFlag(t, key, flageval.VisibilityPublic)

	const n = 20
	readers := make([]*ssetest.Reader, n)
	for i := range readers {
		res, r := s.open(t)
		require.Equal(t, "text/event-stream", res.Header.Get("Content-Type"))
		require.Equal(t, "req-1", res.Header.Get("X-Request-ID"))
		require.Equal(t, []string{"chunked"}, res.TransferEncoding)
		require.Equal(t, "connected", next(t, r).Event)
		readers[i] = r
	}
	require.Eventually(t, func() bool { return s.running.Load() == 0 }, 5*time.Second, 5*time.Millisecond,
		"no handler goroutine per stream")

	var ids []int64
	for range 5 {
		ids = append(ids, f.toggle(t, key))
	}
	for _, r := range readers {
		for _, id := range ids {
			ev := next(t, r)
			require.Equal(t, "flag_update", ev.Event)
			require.Equal(t, id, decode(t, ev).Version)
		}
	}
	require.Zero(t, s.closed.Load())
}

// A client that leaves is noticed without a write (its slot is given back); Close ends the
// others with a final event and the end of the body.
func TestRawStreamLeaveAndClose(t *testing.T) {
	t.Parallel()
	f := newHub(t, 64)
	s := newRawServer(t, f)
	leaving, r := s.open(t)
	require.Equal(t, "connected", next(t, r).Event)
	_, stay := s.open(t)
	require.Equal(t, "connected", next(t, stay).Event)

	leaving.Body.Close()
	require.Eventually(t, func() bool { return s.closed.Load() == 1 && f.hub.Stats().Active == 1 },
		5*time.Second, 5*time.Millisecond, "the stream that left is closed")

	f.hub.Close()
	ev := next(t, stay)
	require.Equal(t, "error", ev.Event)
	require.Contains(t, ev.Data, "shutting down")
	_, err := stay.Next()
	require.ErrorIs(t, err, io.EOF, "the chunked body ends")
	require.Equal(t, int64(2), s.closed.Load())
}

// A hijacked stream still ends when the caller's token expires (a timer, no goroutine).
func TestRawStreamTokenExpiry(t *testing.T) {
	t.Parallel()
	f := newHub(t, 64)
	s := newRawServer(t, f, time.Now()) // expired as soon as it is served
	_, r := s.open(t)
	require.Equal(t, "connected", next(t, r).Event)
	ev := next(t, r)
	require.Equal(t, "error", ev.Event)
	require.Contains(t, ev.Data, "token expired")
	_, err := r.Next()
	require.ErrorIs(t, err, io.EOF)
	require.Eventually(t, func() bool { return s.closed.Load() == 1 }, 5*time.Second, 5*time.Millisecond)
}
