package tests

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/auth"
)

// wsClient is one WebSocket connection to a gateway.
type wsClient struct {
	t    *testing.T
	conn *websocket.Conn
}

func dialWS(t *testing.T, s *testServer, tok string) *wsClient {
	t.Helper()
	url := "ws" + strings.TrimPrefix(s.URL, "http") + "/ws"
	d := websocket.Dialer{Subprotocols: []string{"bearer", tok}, HandshakeTimeout: 10 * time.Second}
	c, res, err := d.Dial(url, nil)
	require.NoError(t, err)
	require.Equal(t, "bearer", res.Header.Get("Sec-WebSocket-Protocol"))
	t.Cleanup(func() { _ = c.Close() })
	w := &wsClient{t: t, conn: c}
	require.Equal(t, "connected", w.next()["type"])
	return w
}

func (w *wsClient) send(v map[string]any) {
	w.t.Helper()
	require.NoError(w.t, w.conn.WriteJSON(v))
}

// next reads one event (failing after 10 s).
func (w *wsClient) next() map[string]any {
	w.t.Helper()
	_ = w.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	var ev map[string]any
	require.NoError(w.t, w.conn.ReadJSON(&ev))
	return ev
}

// until reads events until one of type typ arrives and returns it with those before it.
func (w *wsClient) until(typ string) (map[string]any, []map[string]any) {
	w.t.Helper()
	var seen []map[string]any
	for {
		ev := w.next()
		if ev["type"] == typ {
			return ev, seen
		}
		seen = append(seen, ev)
	}
}

// presenceWith waits for a presence event listing exactly users.
func (w *wsClient) presenceWith(users ...uuid.UUID) {
	w.t.Helper()
	want := make([]string, len(users))
	for i, u := range users {
		want[i] = u.String()
	}
	for {
		ev, _ := w.until("presence")
		var got []string
		for _, u := range ev["users"].([]any) {
			got = append(got, u.(string))
		}
		if len(got) == len(want) && strings.Join(got, ",") == strings.Join(want, ",") {
			return
		}
	}
}

func TestRealtimeChatPresenceAndTyping(t *testing.T) {
	t.Parallel()
	prefix := "test:" + randomID() + ":"
	a := startServer(t, map[string]string{"REDIS_KEY_PREFIX": prefix})
	b := startServer(t, map[string]string{"REDIS_KEY_PREFIX": prefix, "DATABASE_URL": a.Env["DATABASE_URL"]})
	seedKB(t, a)
	alice := a.account(t, auth.RoleUser)
	bob := a.account(t, auth.RoleUser)
	tokA := a.token(t, alice)
	conv := a.newConversation(t, tokA, nil)

	// Alice asks over the WebSocket on replica A: history, streamed answer, citations, done.
	wa := dialWS(t, a, tokA)
	wa.send(map[string]any{"type": "join", "conversation_id": conv.Id})
	h, _ := wa.until("history")
	require.Empty(t, h["messages"])
	wa.send(map[string]any{"type": "message", "conversation_id": conv.Id, "content": "What are the first-line drugs for hypertension?", "client_id": "m1"})
	done, before := wa.until("message.done")
	var deltas strings.Builder
	citations := 0
	for _, ev := range before {
		switch ev["type"] {
		case "message.delta":
			deltas.WriteString(ev["delta"].(string))
			require.Equal(t, "m1", ev["client_id"])
		case "citation":
			citations++
		}
	}
	require.Equal(t, done["content"], deltas.String())
	require.Contains(t, deltas.String(), "thiazide")
	require.Positive(t, citations)
	require.Len(t, done["citations"], citations)

	// The answer is stored: the REST API lists both messages.
	m, err := a.Client.ListMessagesWithResponse(t.Context(), conv.Id, nil, bearerAuth(tokA))
	require.NoError(t, err)
	require.Len(t, m.JSON200.Data, 2)
	require.Equal(t, done["message_id"], m.JSON200.Data[1].Id.String())

	// Alice's second device on replica B: history has both, presence and typing cross replicas.
	wb := dialWS(t, b, b.token(t, alice))
	wb.send(map[string]any{"type": "join", "conversation_id": conv.Id})
	hb, _ := wb.until("history")
	require.Len(t, hb["messages"], 2)
	wa.presenceWith(alice.User.ID)
	wa.send(map[string]any{"type": "typing", "conversation_id": conv.Id, "state": "start"})
	ty, _ := wb.until("typing")
	require.Equal(t, "start", ty["state"])
	require.Equal(t, alice.User.ID.String(), ty["user_id"])

	// Bob cannot join Alice's conversation; his connection stays usable.
	wbob := dialWS(t, b, b.token(t, bob))
	wbob.send(map[string]any{"type": "join", "conversation_id": conv.Id})
	e, _ := wbob.until("error")
	require.Equal(t, "NOT_FOUND", e["code"])
	wbob.send(map[string]any{"type": "ping", "ts": 7})
	p, _ := wbob.until("pong")
	require.EqualValues(t, 7, p["ts"])
	wbob.send(map[string]any{"type": "message", "conversation_id": conv.Id, "content": "let me in"})
	e, _ = wbob.until("error")
	require.Equal(t, "NOT_FOUND", e["code"])
	wbob.send(map[string]any{"type": "nonsense"})
	e, _ = wbob.until("error")
	require.Equal(t, "VALIDATION_ERROR", e["code"])
}

func TestRealtimeRefusesBadTokens(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	url := "ws" + strings.TrimPrefix(s.URL, "http") + "/ws"
	for _, protos := range [][]string{nil, {"bearer", "not-a-token"}} {
		c, _, err := (&websocket.Dialer{Subprotocols: protos}).Dial(url, nil)
		require.NoError(t, err)
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, _, err = c.ReadMessage()
		var ce *websocket.CloseError
		require.True(t, errors.As(err, &ce), "%v", err)
		require.Equal(t, websocket.ClosePolicyViolation, ce.Code)
		c.Close()
	}
	// A plain HTTP request is an ordinary 401 envelope.
	res := s.send(t, "GET", "/ws", "", nil)
	defer res.Body.Close()
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	var env map[string]any
	require.NoError(t, json.NewDecoder(res.Body).Decode(&env))
	require.Equal(t, false, env["success"])

	// The query-parameter token works too.
	tok := s.token(t, s.account(t, auth.RoleUser))
	c, _, err := websocket.DefaultDialer.Dial(url+"?token="+tok, nil)
	require.NoError(t, err)
	defer c.Close()
	var ev map[string]any
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	require.NoError(t, c.ReadJSON(&ev))
	require.Equal(t, "connected", ev["type"])
}
