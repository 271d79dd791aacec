package realtime_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/realtime"
)

// echoServer serves one realtime.Conn per connection built by opts, which may refer to the
// Conn through the pointer it gets.
func echoServer(t *testing.T, opts func(c **realtime.Conn) realtime.ConnOptions) *websocket.Conn {
	t.Helper()
	up := websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		var c *realtime.Conn
		c = realtime.NewConn(ws, opts(&c))
		c.Run()
	}))
	t.Cleanup(srv.Close)
	ws, _, err := websocket.DefaultDialer.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ws.Close() })
	return ws
}

func readFrame(t *testing.T, ws *websocket.Conn) (int, []byte, error) {
	t.Helper()
	require.NoError(t, ws.SetReadDeadline(timeNowPlusWait()))
	return ws.ReadMessage()
}

func TestConnEchoesTextAndBinary(t *testing.T) {
	t.Parallel()
	ws := echoServer(t, func(c **realtime.Conn) realtime.ConnOptions {
		return realtime.ConnOptions{
			OnText:   func(b []byte) { (*c).SendText("echo", append([]byte("text:"), b...)) },
			OnBinary: func(b []byte) { (*c).SendBinary("echo", b) },
		}
	})
	require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte("hi")))
	typ, data, err := readFrame(t, ws)
	require.NoError(t, err)
	require.Equal(t, websocket.TextMessage, typ)
	require.Equal(t, "text:hi", string(data))

	require.NoError(t, ws.WriteMessage(websocket.BinaryMessage, []byte{1, 2, 3}))
	typ, data, err = readFrame(t, ws)
	require.NoError(t, err)
	require.Equal(t, websocket.BinaryMessage, typ)
	require.Equal(t, []byte{1, 2, 3}, data)
}

func TestConnClosesOnFrameTypeWithoutHandler(t *testing.T) {
	t.Parallel()
	ws := echoServer(t, func(**realtime.Conn) realtime.ConnOptions {
		return realtime.ConnOptions{OnText: func([]byte) {}}
	})
	require.NoError(t, ws.WriteMessage(websocket.BinaryMessage, []byte{1}))
	_, _, err := readFrame(t, ws)
	require.True(t, websocket.IsCloseError(err, websocket.CloseUnsupportedData), "got %v", err)
}

func TestConnReadLimit(t *testing.T) {
	t.Parallel()
	ws := echoServer(t, func(**realtime.Conn) realtime.ConnOptions {
		return realtime.ConnOptions{ReadLimit: 8, OnText: func([]byte) {}}
	})
	require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte("more than eight bytes")))
	_, _, err := readFrame(t, ws)
	require.True(t, websocket.IsCloseError(err, websocket.CloseMessageTooBig), "got %v", err)
}

func TestConnHandlerPanicClosesWith1011(t *testing.T) {
	t.Parallel()
	ws := echoServer(t, func(**realtime.Conn) realtime.ConnOptions {
		return realtime.ConnOptions{OnText: func([]byte) { panic("boom") }}
	})
	require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte("x")))
	_, _, err := readFrame(t, ws)
	require.True(t, websocket.IsCloseError(err, websocket.CloseInternalServerErr), "got %v", err)
}

func TestConnFullQueueClosesWith1013(t *testing.T) {
	t.Parallel()
	writing, release := make(chan struct{}), make(chan struct{})
	sent := make(chan [3]bool, 1) // what the three sends returned
	ws := echoServer(t, func(c **realtime.Conn) realtime.ConnOptions {
		return realtime.ConnOptions{QueueSize: 1,
			// The writer holds the first frame until the queue has overflowed.
			OnSent: func(label string) {
				if label == "first" {
					close(writing)
					<-release
				}
			},
			OnText: func([]byte) {
				defer close(release)
				var r [3]bool
				r[0] = (*c).SendText("first", []byte("1"))
				<-writing
				r[1] = (*c).SendText("queued", []byte("2"))
				r[2] = (*c).SendText("overflow", []byte("3"))
				sent <- r
			}}
	})
	require.NoError(t, ws.WriteMessage(websocket.TextMessage, []byte("go")))
	_, data, err := readFrame(t, ws)
	require.NoError(t, err)
	require.Equal(t, "1", string(data))
	for err == nil { // the queued frame may or may not precede the close frame
		_, _, err = readFrame(t, ws)
	}
	require.True(t, websocket.IsCloseError(err, websocket.CloseTryAgainLater), "got %v", err)
	require.Equal(t, [3]bool{true, true, false}, <-sent)
}

func timeNowPlusWait() time.Time { return time.Now().Add(wait) }
