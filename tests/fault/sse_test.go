package fault

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/ssetest"
)

type event struct {
	ID, Name string
	Retry    time.Duration
	Data     map[string]any
}

// stream reads one flag stream in the background; Events closes when it ends.
type stream struct {
	Status int
	Header http.Header
	Body   string // the error body when Status is not 200
	Events chan event
	cancel context.CancelFunc
}

// openStream opens /api/flags/stream on r with the given headers.
func openStream(t *testing.T, r *replica, header map[string]string) *stream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL+"/api/flags/stream", nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	st := &stream{Status: res.StatusCode, Header: res.Header, Events: make(chan event, 100000), cancel: cancel}
	t.Cleanup(st.Close)
	if res.StatusCode != http.StatusOK {
		b := make([]byte, 4096)
		n, _ := res.Body.Read(b)
		st.Body = string(b[:n])
		res.Body.Close()
		close(st.Events)
		return st
	}
	go func() {
		defer close(st.Events)
		defer res.Body.Close()
		rd := ssetest.NewReader(res.Body)
		for {
			e, err := rd.Next()
			if err != nil {
				return
			}
			if e.Event == "" {
				continue
			}
			ev := event{ID: e.ID, Name: e.Event, Retry: e.Retry}
			_ = e.JSON(&ev.Data)
			st.Events <- ev
		}
	}()
	return st
}

func (st *stream) Close() { st.cancel() }

// next returns the next event other than heartbeats, or fails after within.
func (st *stream) next(t *testing.T, within time.Duration) (event, bool) {
	t.Helper()
	timeout := time.After(within)
	for {
		select {
		case ev, ok := <-st.Events:
			if !ok {
				return event{}, false
			}
			if ev.Name == "heartbeat" {
				continue
			}
			return ev, true
		case <-timeout:
			t.Fatalf("no event within %s", within)
		}
	}
}

// heartbeat waits for a heartbeat (the stream is alive and served).
func (st *stream) heartbeat(t *testing.T, within time.Duration) {
	t.Helper()
	timeout := time.After(within)
	for {
		select {
		case ev, ok := <-st.Events:
			require.True(t, ok, "stream ended")
			if ev.Name == "heartbeat" {
				return
			}
		case <-timeout:
			t.Fatalf("no heartbeat within %s", within)
		}
	}
}

// openStreamQuiet opens a stream for background clients: nil unless it answered 200.
func openStreamQuiet(r *replica, header map[string]string) *stream {
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.URL+"/api/flags/stream", nil)
	if err != nil {
		cancel()
		return nil
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		cancel()
		return nil
	}
	if res.StatusCode != http.StatusOK {
		res.Body.Close()
		cancel()
		return nil
	}
	st := &stream{Status: res.StatusCode, Header: res.Header, Events: make(chan event, 100000), cancel: cancel}
	go func() {
		defer close(st.Events)
		defer res.Body.Close()
		rd := ssetest.NewReader(res.Body)
		for {
			e, err := rd.Next()
			if err != nil {
				return
			}
			if e.Event == "" {
				continue
			}
			ev := event{ID: e.ID, Name: e.Event, Retry: e.Retry}
			_ = e.JSON(&ev.Data)
			st.Events <- ev
		}
	}()
	return st
}
