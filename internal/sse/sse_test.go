package sse_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

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
