package fault

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
)

func dialWS(t *testing.T, r *replica, tok string, readBuffer int) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{"bearer", tok}, HandshakeTimeout: 10 * time.Second,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			if tc, ok := c.(*net.TCPConn); ok && readBuffer > 0 {
				_ = tc.SetReadBuffer(readBuffer)
			}
			return c, err
		}}
	c, _, err := d.Dial("ws"+strings.TrimPrefix(r.URL, "http")+"/ws", nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// TestFaultStalledWebSocket: a /ws client that keeps asking (pings) but never reads the
// answers is closed once its queue is full; another socket on the replica is served.
func TestFaultStalledWebSocket(t *testing.T) {
	c := newCluster(t, nil)
	r1 := c.start(nil)
	tok, _ := r1.login(t, adminEmail, adminPassword)
	stalled := dialWS(t, r1, tok, 4096)
	other := dialWS(t, r1, tok, 0)
	var ev map[string]any
	require.NoError(t, other.ReadJSON(&ev))
	require.Equal(t, "connected", ev["type"])

	deadline := time.Now().Add(60 * time.Second)
	closed := false
	for i := 0; time.Now().Before(deadline); i++ {
		_ = stalled.SetWriteDeadline(time.Now().Add(5 * time.Second))
		if err := stalled.WriteJSON(map[string]any{"type": "ping", "ts": i}); err != nil {
			closed = true // the server closed it (its writes to us had nowhere to go)
			break
		}
		if i%5000 == 0 {
			// Meanwhile the other socket is answered at once.
			require.NoError(t, other.WriteJSON(map[string]any{"type": "ping", "ts": i}))
			_ = other.SetReadDeadline(time.Now().Add(10 * time.Second))
			for {
				require.NoError(t, other.ReadJSON(&ev), "the reading socket was hurt")
				if ev["type"] == "pong" {
					break
				}
			}
		}
	}
	require.True(t, closed, "a socket that never reads was not closed")
	require.Contains(t, r1.logs.String(), "realtime: send queue full; closing", "closed for the right reason")
	require.NoError(t, other.WriteJSON(map[string]any{"type": "ping", "ts": -1}))
	_ = other.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		require.NoError(t, other.ReadJSON(&ev))
		if ev["type"] == "pong" {
			break
		}
	}
}
