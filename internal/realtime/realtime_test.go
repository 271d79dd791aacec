package realtime_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/chat"
	"github.com/voiceassist/gateway/internal/realtime"
)

func TestConnectWithQueryToken(t *testing.T) {
	f := newFixture(t)
	h := f.hub(t, false, nil)
	_, ev := dial(t, h, f.aliceTok)
	require.Equal(t, f.alice.UserID.String(), ev.UserID)
	require.NoError(t, uuid.Validate(ev.ConnectionID))
	require.False(t, ev.ServerTime.IsZero())
}

func TestConnectWithBearerSubprotocol(t *testing.T) {
	f := newFixture(t)
	h := f.hub(t, false, nil)
	d := &websocket.Dialer{Subprotocols: []string{"bearer", f.bobTok}}
	c, resp := dialRaw(t, h.url, d, nil)
	require.Equal(t, "bearer", resp.Header.Get("Sec-WebSocket-Protocol"))
	require.Equal(t, "bearer", c.ws.Subprotocol())
	require.Equal(t, f.bob.UserID.String(), c.expect("connected").UserID)
}

func TestBadTokenClosesWithPolicyViolation(t *testing.T) {
	f := newFixture(t)
	h := f.hub(t, false, nil)
	for _, tc := range []struct {
		name, url, reason string
		protos            []string
	}{
		{"missing", h.url, "missing token", nil},
		{"wrong query token", h.url + "?token=nope", "invalid or expired token", nil},
		{"wrong subprotocol token", h.url, "invalid or expired token", []string{"bearer", "nope"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := dialRaw(t, tc.url, &websocket.Dialer{Subprotocols: tc.protos}, nil)
			require.Equal(t, tc.reason, c.expectClose(websocket.ClosePolicyViolation))
		})
	}
}

func TestPlainHTTPRequest(t *testing.T) {
	f := newFixture(t)
	h := f.hub(t, false, nil)

	resp, err := http.Get(h.srv.URL + "/ws")
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	require.Equal(t, "Bearer", resp.Header.Get("WWW-Authenticate"))
	var body struct {
		Success bool
		Error   struct{ Code string }
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	require.Equal(t, "UNAUTHORIZED", body.Error.Code)

	// Authenticated but not a WebSocket handshake: gorilla's 400.
	resp2, err := http.Get(h.srv.URL + "/ws?token=" + f.aliceTok)
	require.NoError(t, err)
	resp2.Body.Close()
	require.Equal(t, http.StatusBadRequest, resp2.StatusCode)
}

func TestOriginCheck(t *testing.T) {
	f := newFixture(t)
	h := f.hub(t, false, nil)

	_, resp, err := websocket.DefaultDialer.Dial(h.url+"?token="+f.aliceTok, http.Header{"Origin": {"https://evil.example"}})
	require.Error(t, err)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)

	c, _ := dialRaw(t, h.url+"?token="+f.aliceTok, nil, http.Header{"Origin": {"https://app.example"}})
	c.expect("connected")

	// The gateway's own pages (the voice demo) are same-origin, listed or not.
	u, err := url.Parse(h.url)
	require.NoError(t, err)
	c, _ = dialRaw(t, h.url+"?token="+f.aliceTok, nil, http.Header{"Origin": {"http://" + u.Host}})
	c.expect("connected")
	_, resp, err = websocket.DefaultDialer.Dial(h.url+"?token="+f.aliceTok, http.Header{"Origin": {"http://" + u.Host + ".evil.example"}})
	require.Error(t, err)
	require.Equal(t, http.StatusForbidden, resp.StatusCode)
}

func TestConnectionCaps(t *testing.T) {
	f := newFixture(t)
	t.Run("per user", func(t *testing.T) {
		h := f.hub(t, false, func(c *realtime.Config) { c.MaxConnsPerUser = 2 })
		dial(t, h, f.aliceTok)
		dial(t, h, f.aliceTok)
		c, _ := dialRaw(t, h.url+"?token="+f.aliceTok, nil, nil)
		require.Equal(t, "too many connections", c.expectClose(websocket.CloseTryAgainLater))
		dial(t, h, f.bobTok) // another user is not affected
	})
	t.Run("global", func(t *testing.T) {
		h := f.hub(t, false, func(c *realtime.Config) { c.MaxConns = 1 })
		dial(t, h, f.aliceTok)
		c, _ := dialRaw(t, h.url+"?token="+f.bobTok, nil, nil)
		c.expectClose(websocket.CloseTryAgainLater)
	})
}

func TestJoinSendsHistory(t *testing.T) {
	f := newFixture(t)
	created := time.Date(2026, 11, 20, 9, 30, 0, 0, time.UTC)
	f.chat.history = []realtime.HistoryMessage{
		{ID: uuid.New(), Role: chat.RoleUser, Content: "What is the dose?", CreatedAt: created},
		{ID: uuid.New(), Role: chat.RoleAssistant, Content: "500 mg [1].", CreatedAt: created.Add(time.Second),
			Citations: []chat.Citation{{N: 1, DocumentID: "doc-1", ChunkID: "chunk-1", Title: "Guide", Snippet: "Give 500 mg"}}},
	}
	h := f.hub(t, false, nil)
	c, _ := dial(t, h, f.aliceTok)

	c.send(map[string]any{"type": "join", "conversation_id": f.conv})
	ev := c.expect("history")
	require.Equal(t, f.conv.String(), ev.ConversationID)
	require.Len(t, ev.Messages, 2)
	require.JSONEq(t, `{"id":"`+f.chat.history[0].ID.String()+`","role":"user","content":"What is the dose?",
		"citations":[],"created_at":"2026-11-20T09:30:00Z"}`, string(ev.Messages[0]))
	require.JSONEq(t, `{"id":"`+f.chat.history[1].ID.String()+`","role":"assistant","content":"500 mg [1].",
		"citations":[{"n":1,"document_id":"doc-1","chunk_id":"chunk-1","title":"Guide","heading":[],"page":null,
		"snippet":"Give 500 mg"}],"created_at":"2026-11-20T09:30:01Z"}`, string(ev.Messages[1]))
}

func TestJoinOfAnotherUsersConversation(t *testing.T) {
	f := newFixture(t)
	h := f.hub(t, false, nil)
	c, _ := dialRaw(t, h.url+"?token="+f.aliceTok, nil, http.Header{"X-Request-Id": {"req-42"}})
	c.expect("connected")

	c.send(map[string]any{"type": "join", "conversation_id": f.other})
	ev := c.expect("error")
	require.Equal(t, "NOT_FOUND", ev.Code)
	require.Equal(t, "req-42", ev.RequestID)

	c.send(map[string]any{"type": "ping", "ts": 1})
	c.expect("pong")
}

func TestMessageStreamsTheAnswer(t *testing.T) {
	f := newFixture(t)
	h := f.hub(t, false, nil)
	c, _ := dial(t, h, f.aliceTok)
	c.send(map[string]any{"type": "join", "conversation_id": f.conv})
	c.expect("history")

	c.send(map[string]any{"type": "message", "conversation_id": f.conv, "content": "Dose of amoxicillin?", "client_id": "c-1"})
	call := f.chat.nextCall(t)
	require.Equal(t, f.alice.UserID, call.user)
	require.Equal(t, f.conv, call.conv)
	require.Equal(t, "Dose of amoxicillin?", call.content)

	cite := chat.Citation{N: 1, DocumentID: "doc-1", ChunkID: "chunk-1", Title: "Guide", Heading: []string{"Dosing"}, Page: 3, Snippet: "500 mg"}
	call.feed(t, delta("Give "), delta("500 mg [1]."), realtime.ChatEvent{Type: chat.EventCitation, Citation: &cite})
	close(call.events)

	for _, want := range []string{"Give ", "500 mg [1]."} {
		ev := c.expect("message.delta")
		require.Equal(t, want, ev.Delta)
		require.Equal(t, f.conv.String(), ev.ConversationID)
		require.Equal(t, "c-1", ev.ClientID)
	}
	ev := c.expect("citation")
	wantCite := `{"n":1,"document_id":"doc-1","chunk_id":"chunk-1","title":"Guide","heading":["Dosing"],"page":3,"snippet":"500 mg"}`
	require.JSONEq(t, wantCite, string(ev.Citation))

	done := c.expect("message.done")
	require.Equal(t, call.messageID.String(), done.MessageID)
	require.Equal(t, call.userMessageID.String(), done.UserMessageID)
	require.Equal(t, "Give 500 mg [1].", done.Content)
	require.Equal(t, "c-1", done.ClientID)
	require.Len(t, done.Citations, 1)
	require.JSONEq(t, wantCite, string(done.Citations[0]))
}

func TestMessageJoinsByItself(t *testing.T) {
	f := newFixture(t)
	h := f.hub(t, false, nil)
	c, _ := dial(t, h, f.aliceTok)

	c.send(map[string]any{"type": "message", "conversation_id": f.conv, "content": "hi"})
	c.expect("history")
	call := f.chat.nextCall(t)
	close(call.events)
	c.expect("message.done")

	// Not the user's: refused before Send is called.
	c.send(map[string]any{"type": "message", "conversation_id": f.other, "content": "hi", "client_id": "x"})
	ev := c.expect("error")
	require.Equal(t, "NOT_FOUND", ev.Code)
	require.Equal(t, "x", ev.ClientID)
	require.Empty(t, f.chat.calls)
}

func TestDisconnectCancelsTheAnswer(t *testing.T) {
	f := newFixture(t)
	h := f.hub(t, false, nil)
	c, _ := dial(t, h, f.aliceTok)
	c.send(map[string]any{"type": "message", "conversation_id": f.conv, "content": "long question"})
	c.expect("history")
	call := f.chat.nextCall(t)
	call.feed(t, delta("Part"))
	c.expect("message.delta")

	require.NoError(t, c.ws.Close()) // drop TCP, no close frame
	select {
	case <-call.ctx.Done():
	case <-time.After(wait):
		t.Fatal("Send's context was not cancelled")
	}
	<-call.returned
	require.ErrorIs(t, call.err, context.Canceled)
}

func TestSecondMessageWhileAnsweringIsBusy(t *testing.T) {
	f := newFixture(t)
	h := f.hub(t, false, nil)
	c, _ := dial(t, h, f.aliceTok)
	c.send(map[string]any{"type": "join", "conversation_id": f.conv})
	c.expect("history")

	c.send(map[string]any{"type": "message", "conversation_id": f.conv, "content": "one", "client_id": "1"})
	call := f.chat.nextCall(t)
	c.send(map[string]any{"type": "message", "conversation_id": f.conv, "content": "two", "client_id": "2"})
	ev := c.expect("error")
	require.Equal(t, "BUSY", ev.Code)
	require.Equal(t, "2", ev.ClientID)

	close(call.events)
	require.Equal(t, "1", c.expect("message.done").ClientID)

	// Free again as soon as message.done arrives.
	c.send(map[string]any{"type": "message", "conversation_id": f.conv, "content": "three", "client_id": "3"})
	call = f.chat.nextCall(t)
	require.Equal(t, "three", call.content)
	close(call.events)
	require.Equal(t, "3", c.expect("message.done").ClientID)
}

func TestInvalidMessagesKeepTheConnection(t *testing.T) {
	f := newFixture(t)
	h := f.hub(t, false, nil)
	c, _ := dial(t, h, f.aliceTok)
	conv := f.conv.String()
	for _, tc := range []struct{ name, msg string }{
		{"malformed JSON", `{"type":`},
		{"not an object", `[1,2]`},
		{"no type", `{}`},
		{"unknown type", `{"type":"dance"}`},
		{"bad conversation id", `{"type":"join","conversation_id":"nope"}`},
		{"empty content", `{"type":"message","conversation_id":"` + conv + `","content":""}`},
		{"blank content", `{"type":"message","conversation_id":"` + conv + `","content":"  \n "}`},
		{"missing content", `{"type":"message","conversation_id":"` + conv + `"}`},
		{"content too long", `{"type":"message","conversation_id":"` + conv + `","content":"` + strings.Repeat("é", 8001) + `"}`},
		{"client_id too long", `{"type":"ping","client_id":"` + strings.Repeat("x", 129) + `"}`},
		{"bad typing state", `{"type":"typing","conversation_id":"` + conv + `","state":"maybe"}`},
		{"typing before join", `{"type":"typing","conversation_id":"` + conv + `","state":"start"}`},
	} {
		c.sendRaw(websocket.TextMessage, []byte(tc.msg))
		ev := c.expect("error")
		require.Equal(t, "VALIDATION_ERROR", ev.Code, tc.name)
		require.NotEmpty(t, ev.Message, tc.name)
	}
	c.sendRaw(websocket.BinaryMessage, []byte{1, 2, 3})
	require.Equal(t, "VALIDATION_ERROR", c.expect("error").Code)

	// 8000 characters is allowed.
	c.send(map[string]any{"type": "message", "conversation_id": conv, "content": strings.Repeat("é", 8000)})
	c.expect("history")
	call := f.chat.nextCall(t)
	close(call.events)
	c.expect("message.done")
	require.Empty(t, f.chat.calls)
}

func TestFrameOverReadLimitCloses(t *testing.T) {
	f := newFixture(t)
	h := f.hub(t, false, func(c *realtime.Config) { c.ReadLimit = 1024 })
	c, _ := dial(t, h, f.aliceTok)
	c.sendRaw(websocket.TextMessage, []byte(`{"type":"ping","ts":"`+strings.Repeat("x", 2048)+`"}`))
	c.expectClose(websocket.CloseMessageTooBig)
}

func TestPingPong(t *testing.T) {
	f := newFixture(t)
	h := f.hub(t, false, nil)
	c, _ := dial(t, h, f.aliceTok)
	c.send(map[string]any{"type": "ping", "ts": 1732611234567})
	require.JSONEq(t, `{"type":"pong","ts":1732611234567}`, string(c.expect("pong").raw))
	c.send(map[string]any{"type": "ping"})
	require.JSONEq(t, `{"type":"pong"}`, string(c.expect("pong").raw))
}

func TestCloseSendsGoingAway(t *testing.T) {
	f := newFixture(t)
	h := f.hub(t, false, nil)
	a, _ := dial(t, h, f.aliceTok)
	b, _ := dial(t, h, f.bobTok)
	b.send(map[string]any{"type": "message", "conversation_id": f.conv, "content": "q"})
	b.expect("history")
	call := f.chat.nextCall(t)

	closed := make(chan struct{})
	go func() { h.Close(); close(closed) }()
	require.Equal(t, "server shutting down", a.expectClose(websocket.CloseGoingAway))
	b.expectClose(websocket.CloseGoingAway)
	select {
	case <-closed:
	case <-time.After(wait):
		t.Fatal("Close did not return")
	}
	<-call.returned
	require.ErrorIs(t, call.err, context.Canceled)

	late, _ := dialRaw(t, h.url+"?token="+f.aliceTok, nil, nil)
	late.expectClose(websocket.CloseGoingAway)
}

func TestSlowClientIsClosed(t *testing.T) {
	f := newFixture(t)
	gate := &stallGate{}
	h := f.hubOn(t, false, func(c *realtime.Config) { c.SendQueue = 1 },
		func(l net.Listener) net.Listener { return stallListener{Listener: l, gate: gate} })
	c, _ := dial(t, h, f.aliceTok)
	c.send(map[string]any{"type": "join", "conversation_id": f.conv})
	c.expect("history")

	gate.stall() // the server can no longer write to this client
	c.send(map[string]any{"type": "message", "conversation_id": f.conv, "content": "q"})
	call := f.chat.nextCall(t)
	// One frame in the stuck write plus one queued: the third overflows.
	for returned := false; !returned; {
		select {
		case call.events <- delta("x"):
		case <-call.returned:
			returned = true
		case <-time.After(wait):
			t.Fatal("the queue never overflowed")
		}
	}
	require.Error(t, call.err)
	gate.release()
	require.Equal(t, "too slow", c.expectClose(websocket.CloseTryAgainLater))
}

func TestRevokedTokenClosesTheConnection(t *testing.T) {
	f := newFixture(t)
	h := f.hub(t, true, func(c *realtime.Config) { c.PingInterval = 20 * time.Millisecond })
	c, _ := dial(t, h, f.aliceTok)
	f.auth.revoke(f.aliceTok)
	require.Equal(t, "token expired or revoked", c.expectClose(websocket.ClosePolicyViolation))
}

// Issue 21 #21 on the socket: when the token cannot be checked (Redis down) the socket is
// closed "try again later", not as if the token were revoked, so the client keeps it.
func TestUncheckableTokenClosesTryAgainLater(t *testing.T) {
	f := newFixture(t)
	h := f.hub(t, true, func(c *realtime.Config) { c.PingInterval = 20 * time.Millisecond })
	c, _ := dial(t, h, f.aliceTok)
	f.auth.outage()
	require.Equal(t, "authentication temporarily unavailable; reconnect shortly", c.expectClose(websocket.CloseTryAgainLater))
}

func TestPresenceAndTypingAcrossReplicas(t *testing.T) {
	f := newFixture(t)
	h1 := f.hub(t, true, nil)
	h2 := f.hub(t, true, nil)
	a, _ := dial(t, h1, f.aliceTok)
	b, _ := dial(t, h2, f.bobTok)

	a.send(map[string]any{"type": "join", "conversation_id": f.conv})
	a.expect("history")
	a.waitPresence(f.alice.UserID)

	b.send(map[string]any{"type": "join", "conversation_id": f.conv})
	b.expect("history")
	b.waitPresence(f.alice.UserID, f.bob.UserID)
	a.waitPresence(f.alice.UserID, f.bob.UserID)

	a.send(map[string]any{"type": "typing", "conversation_id": f.conv, "state": "start"})
	ev := b.waitFor("typing", func(ev event) bool { return ev.Type == "typing" })
	require.Equal(t, f.alice.UserID.String(), ev.UserID)
	require.Equal(t, "start", ev.State)
	require.Equal(t, f.conv.String(), ev.ConversationID)

	// The bus is ordered, so an echo of alice's own typing would reach her
	// before bob's: the first typing she sees must be bob's.
	b.send(map[string]any{"type": "typing", "conversation_id": f.conv, "state": "start"})
	ev = a.waitFor("typing", func(ev event) bool { return ev.Type == "typing" })
	require.Equal(t, f.bob.UserID.String(), ev.UserID)

	require.NoError(t, a.ws.Close()) // alice vanishes while typing
	ev = b.waitFor("typing stop", func(ev event) bool { return ev.Type == "typing" })
	require.Equal(t, "stop", ev.State)
	require.Equal(t, f.alice.UserID.String(), ev.UserID)
	b.waitPresence(f.bob.UserID)

	members, err := f.rdb.ZRange(context.Background(), f.prefix+"ws:presence:"+f.conv.String(), 0, -1).Result()
	require.NoError(t, err)
	require.Len(t, members, 1)
	require.True(t, strings.HasPrefix(members[0], f.bob.UserID.String()+":"), members[0])
}

func TestSameUserOnTwoReplicas(t *testing.T) {
	f := newFixture(t)
	h1 := f.hub(t, true, nil)
	h2 := f.hub(t, true, nil)
	phone, _ := dial(t, h1, f.aliceTok)
	laptop, _ := dial(t, h2, f.aliceTok)

	phone.send(map[string]any{"type": "join", "conversation_id": f.conv})
	phone.expect("history")
	phone.waitPresence(f.alice.UserID)
	laptop.send(map[string]any{"type": "join", "conversation_id": f.conv})
	laptop.expect("history")
	laptop.waitPresence(f.alice.UserID) // one user, however many connections

	phone.send(map[string]any{"type": "typing", "conversation_id": f.conv, "state": "start"})
	ev := laptop.waitFor("typing", func(ev event) bool { return ev.Type == "typing" })
	require.Equal(t, f.alice.UserID.String(), ev.UserID)

	// Leaving stops the typing indicator and updates presence (the laptop remains).
	phone.send(map[string]any{"type": "leave", "conversation_id": f.conv})
	ev = laptop.waitFor("typing stop", func(ev event) bool { return ev.Type == "typing" })
	require.Equal(t, "stop", ev.State)
	laptop.waitPresence(f.alice.UserID)
	n, err := f.rdb.ZCard(context.Background(), f.prefix+"ws:presence:"+f.conv.String()).Result()
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
}

func TestExpiredPresenceOfADeadReplicaIsPruned(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	key := f.prefix + "ws:presence:" + f.conv.String()
	ghost := f.bob.UserID.String() + ":" + uuid.NewString()

	h := f.hub(t, true, func(c *realtime.Config) { c.PingInterval = 20 * time.Millisecond })
	c, _ := dial(t, h, f.aliceTok)
	c.send(map[string]any{"type": "join", "conversation_id": f.conv})
	c.expect("history")
	c.waitPresence(f.alice.UserID)

	// An entry a crashed replica stopped refreshing: never listed, and the next
	// refresh removes it and announces the change (the only presence event left).
	require.NoError(t, f.rdb.ZAdd(ctx, key, redis.Z{Score: float64(time.Now().Add(-time.Minute).UnixMilli()), Member: ghost}).Err())
	c.waitPresence(f.alice.UserID)
	require.ErrorIs(t, f.rdb.ZScore(ctx, key, ghost).Err(), redis.Nil)
}

func TestMetrics(t *testing.T) {
	f := newFixture(t)
	h := f.hub(t, false, nil)
	reg := prometheus.NewRegistry()
	reg.MustRegister(h.Collectors()...)

	c, _ := dial(t, h, f.aliceTok)
	c.send(map[string]any{"type": "ping"})
	c.expect("pong")
	c.sendRaw(websocket.TextMessage, []byte("nope"))
	c.expect("error")

	values := map[string]float64{}
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += "," + l.GetName() + "=" + l.GetValue()
			}
			values[name] = m.GetGauge().GetValue() + m.GetCounter().GetValue()
		}
	}
	require.Equal(t, 1.0, values["voiceassist_ws_connections"])
	require.Equal(t, 1.0, values["voiceassist_ws_messages_total,direction=in,type=ping"])
	require.Equal(t, 1.0, values["voiceassist_ws_messages_total,direction=in,type=invalid"])
}
