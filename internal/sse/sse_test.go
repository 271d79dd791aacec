package sse_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/sse"
)

func TestFrame(t *testing.T) {
	t.Parallel()
	require.Equal(t, "id: 7\nevent: connected\ndata: {}\n\n", string(sse.Frame("7", "connected", []byte("{}"))))
	require.Equal(t, "event: message.delta\ndata: {\"delta\":\"a\"}\n\n", string(sse.Frame("", "message.delta", []byte(`{"delta":"a"}`))))
	require.Equal(t, "id: 3\ndata: {}\n\n", string(sse.Frame("3", "", []byte("{}"))))
}

func TestWriterStartsOnFirstEvent(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	w := sse.NewWriter(rec)
	require.False(t, w.Started())
	require.False(t, rec.Flushed)

	require.NoError(t, w.Event("citation", []byte(`{"n":1}`)))
	require.NoError(t, w.Send(sse.Frame("", "message.done", []byte(`{}`))))
	require.True(t, w.Started())
	require.True(t, rec.Flushed)
	require.Equal(t, http.StatusOK, rec.Code)
	require.Equal(t, "text/event-stream", rec.Header().Get("Content-Type"))
	require.Equal(t, "no-cache", rec.Header().Get("Cache-Control"))
	require.Equal(t, "no", rec.Header().Get("X-Accel-Buffering"))
	require.Equal(t, "event: citation\ndata: {\"n\":1}\n\nevent: message.done\ndata: {}\n\n", rec.Body.String())
}

func TestWriterStartFlushesHeadersAlone(t *testing.T) {
	t.Parallel()
	rec := httptest.NewRecorder()
	w := sse.NewWriter(rec)
	w.Header().Set("Connection", "keep-alive")
	require.NoError(t, w.Start())
	require.NoError(t, w.Start())
	require.True(t, rec.Flushed)
	require.Equal(t, "keep-alive", rec.Header().Get("Connection"))
	require.Empty(t, rec.Body.String())
}

// deadlineRecorder records the deadlines http.ResponseController sets.
type deadlineRecorder struct {
	*httptest.ResponseRecorder
	write, read time.Time
}

func (d *deadlineRecorder) SetWriteDeadline(t time.Time) error { d.write = t; return nil }
func (d *deadlineRecorder) SetReadDeadline(t time.Time) error  { d.read = t; return nil }

// Issue 21 #18: before waiting for the next heartbeat the write deadline must outlast the wait
// plus the write time, so the heartbeat after a quiet period does not find it expired; the
// request's read deadline is lifted when the stream starts.
func TestWriterDeadlineOutlastsTheWait(t *testing.T) {
	t.Parallel()
	rec := &deadlineRecorder{ResponseRecorder: httptest.NewRecorder(), read: time.Now().Add(time.Second)}
	w := sse.NewWriter(rec)
	require.NoError(t, w.Start())
	require.True(t, rec.read.IsZero(), "the body's read deadline must not outlive the start of the stream")
	heartbeat := 30 * time.Second
	for range 3 {
		w.Await(heartbeat)
		left := time.Until(rec.write)
		require.GreaterOrEqual(t, left, heartbeat+sse.WriteTimeout-10*time.Second-time.Second,
			"write deadline %s away before a wait of %s", left, heartbeat)
		require.NoError(t, w.Send([]byte(": heartbeat\n\n")))
	}
}
