package realtime_test

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/voiceassist/gateway/internal/redistest"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/chat"
	"github.com/voiceassist/gateway/internal/realtime"
)

// wait bounds every blocking step; reaching it is a failure, never an expectation.
const wait = 10 * time.Second

// fakeAuth accepts the tokens it was given until they are revoked.
type fakeAuth struct {
	mu     sync.Mutex
	tokens map[string]realtime.Principal
	down   bool // every check fails as the real one does while Redis is down
}

func (a *fakeAuth) authenticate(_ context.Context, token string) (realtime.Principal, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.down {
		return realtime.Principal{}, apierr.Unavailable("Token revocation cannot be checked; try again shortly", nil)
	}
	p, ok := a.tokens[token]
	if !ok {
		return realtime.Principal{}, errors.New("bad token")
	}
	return p, nil
}

func (a *fakeAuth) outage() {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.down = true
}

func (a *fakeAuth) revoke(token string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.tokens, token)
}

// sendCall is one Send the fake received. The test streams its events through
// events and finishes it by closing events.
type sendCall struct {
	ctx           context.Context
	user, conv    uuid.UUID
	content       string
	events        chan realtime.ChatEvent
	returned      chan struct{} // closed when Send returns
	err           error         // Send's error; read after returned
	messageID     uuid.UUID
	userMessageID uuid.UUID
}

// fakeChat lets the users in members use a conversation and records Sends.
type fakeChat struct {
	members map[uuid.UUID][]uuid.UUID
	history []realtime.HistoryMessage
	calls   chan *sendCall
}

var _ realtime.Conversations = (*fakeChat)(nil)

func (f *fakeChat) allowed(user, conv uuid.UUID) bool {
	for _, u := range f.members[conv] {
		if u == user {
			return true
		}
	}
	return false
}

func (f *fakeChat) History(_ context.Context, user, conv uuid.UUID, limit int) ([]realtime.HistoryMessage, error) {
	if !f.allowed(user, conv) {
		return nil, realtime.ErrNotFound
	}
	if limit < len(f.history) {
		return f.history[len(f.history)-limit:], nil
	}
	return f.history, nil
}

func (f *fakeChat) Send(ctx context.Context, user, conv uuid.UUID, content string, emit func(realtime.ChatEvent) error) (realtime.Done, error) {
	if !f.allowed(user, conv) {
		return realtime.Done{}, realtime.ErrNotFound
	}
	call := &sendCall{ctx: ctx, user: user, conv: conv, content: content,
		events: make(chan realtime.ChatEvent), returned: make(chan struct{}),
		messageID: uuid.New(), userMessageID: uuid.New()}
	defer close(call.returned)
	f.calls <- call
	var text strings.Builder
	var cites []chat.Citation
	for {
		select {
		case ev, ok := <-call.events:
			if !ok {
				return realtime.Done{MessageID: call.messageID, UserMessageID: call.userMessageID,
					Content: text.String(), Citations: cites}, nil
			}
			if err := emit(ev); err != nil {
				call.err = err
				return realtime.Done{}, err
			}
			text.WriteString(ev.Delta)
			if ev.Citation != nil {
				cites = append(cites, *ev.Citation)
			}
		case <-ctx.Done():
			call.err = ctx.Err()
			return realtime.Done{}, ctx.Err()
		}
	}
}

func (f *fakeChat) nextCall(t *testing.T) *sendCall {
	t.Helper()
	select {
	case c := <-f.calls:
		return c
	case <-time.After(wait):
		t.Fatal("no Send call")
		return nil
	}
}

// feed streams ev into call, failing if Send stopped listening.
func (c *sendCall) feed(t *testing.T, evs ...realtime.ChatEvent) {
	t.Helper()
	for _, ev := range evs {
		select {
		case c.events <- ev:
		case <-c.returned:
			t.Fatalf("Send returned early: %v", c.err)
		case <-time.After(wait):
			t.Fatal("Send did not take the event")
		}
	}
}

func delta(s string) realtime.ChatEvent { return realtime.ChatEvent{Type: chat.EventDelta, Delta: s} }

// fixture: alice and bob share conv; other belongs to someone else.
type fixture struct {
	rdb              *redis.Client
	prefix           string
	auth             *fakeAuth
	chat             *fakeChat
	alice, bob       realtime.Principal
	aliceTok, bobTok string
	conv, other      uuid.UUID
}

func newFixture(t *testing.T) *fixture {
	rdb := redistest.Client(t, nil)
	f := &fixture{
		rdb: rdb, prefix: redistest.Prefix(t, rdb),
		alice: realtime.Principal{UserID: uuid.New(), Email: "alice@example.com", Role: "user"},
		bob:   realtime.Principal{UserID: uuid.New(), Email: "bob@example.com", Role: "user"},
		conv:  uuid.New(), other: uuid.New(),
		aliceTok: "alice-token", bobTok: "bob-token",
	}
	f.auth = &fakeAuth{tokens: map[string]realtime.Principal{f.aliceTok: f.alice, f.bobTok: f.bob}}
	f.chat = &fakeChat{
		members: map[uuid.UUID][]uuid.UUID{f.conv: {f.alice.UserID, f.bob.UserID}, f.other: {uuid.New()}},
		calls:   make(chan *sendCall, 8),
	}
	return f
}

type testHub struct {
	*realtime.Hub
	srv *httptest.Server
	url string // ws:// URL of /ws
}

// hub starts a Hub behind an httptest server. With start, it also runs Start
// (cross-replica presence and typing). Every hub of a fixture shares its Redis
// prefix, like replicas of one deployment.
func (f *fixture) hub(t *testing.T, start bool, mutate func(*realtime.Config)) *testHub {
	return f.hubOn(t, start, mutate, nil)
}

func (f *fixture) hubOn(t *testing.T, start bool, mutate func(*realtime.Config), wrap func(net.Listener) net.Listener) *testHub {
	t.Helper()
	cfg := realtime.Config{Auth: f.auth.authenticate, Chat: f.chat, Redis: redistest.Client(t, nil), Prefix: f.prefix,
		AllowedOrigins: []string{"https://app.example"}}
	if mutate != nil {
		mutate(&cfg)
	}
	h := realtime.New(cfg)
	srv := httptest.NewUnstartedServer(h)
	if wrap != nil {
		srv.Listener = wrap(srv.Listener)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	t.Cleanup(h.Close) // runs first: closes the hijacked connections srv.Close does not track
	if start {
		ctx, cancel := context.WithCancel(context.Background())
		t.Cleanup(cancel)
		h.Start(ctx)
	}
	return &testHub{Hub: h, srv: srv, url: "ws" + strings.TrimPrefix(srv.URL, "http") + "/ws"}
}

// event is any server event, decoded loosely.
type event struct {
	Type           string            `json:"type"`
	ConnectionID   string            `json:"connection_id"`
	UserID         string            `json:"user_id"`
	ServerTime     time.Time         `json:"server_time"`
	ConversationID string            `json:"conversation_id"`
	Messages       []json.RawMessage `json:"messages"`
	Delta          string            `json:"delta"`
	Citation       json.RawMessage   `json:"citation"`
	MessageID      string            `json:"message_id"`
	UserMessageID  string            `json:"user_message_id"`
	Content        string            `json:"content"`
	Citations      []json.RawMessage `json:"citations"`
	ClientID       string            `json:"client_id"`
	State          string            `json:"state"`
	Users          []string          `json:"users"`
	TS             json.RawMessage   `json:"ts"`
	Code           string            `json:"code"`
	Message        string            `json:"message"`
	RequestID      string            `json:"request_id"`
	raw            []byte
}

type client struct {
	t  *testing.T
	ws *websocket.Conn
}

// dial connects with ?token= and reads the connected event.
func dial(t *testing.T, h *testHub, token string) (*client, event) {
	t.Helper()
	ws, _, err := websocket.DefaultDialer.Dial(h.url+"?token="+token, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ws.Close() })
	c := &client{t: t, ws: ws}
	ev := c.next()
	require.Equal(t, "connected", ev.Type, string(ev.raw))
	return c, ev
}

// dialRaw connects and returns the connection without reading anything.
func dialRaw(t *testing.T, url string, d *websocket.Dialer, hdr http.Header) (*client, *http.Response) {
	t.Helper()
	if d == nil {
		d = websocket.DefaultDialer
	}
	ws, resp, err := d.Dial(url, hdr)
	require.NoError(t, err)
	t.Cleanup(func() { _ = ws.Close() })
	return &client{t: t, ws: ws}, resp
}

func (c *client) send(v any) {
	c.t.Helper()
	_ = c.ws.SetWriteDeadline(time.Now().Add(wait))
	require.NoError(c.t, c.ws.WriteJSON(v))
}

func (c *client) sendRaw(typ int, data []byte) {
	c.t.Helper()
	_ = c.ws.SetWriteDeadline(time.Now().Add(wait))
	require.NoError(c.t, c.ws.WriteMessage(typ, data))
}

func (c *client) next() event {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(wait))
	_, data, err := c.ws.ReadMessage()
	require.NoError(c.t, err, "reading an event")
	var ev event
	require.NoError(c.t, json.Unmarshal(data, &ev), string(data))
	ev.raw = data
	return ev
}

// expect reads the next event and checks its type.
func (c *client) expect(typ string) event {
	c.t.Helper()
	ev := c.next()
	require.Equal(c.t, typ, ev.Type, string(ev.raw))
	return ev
}

// waitFor reads events until one satisfies match, skipping the rest.
func (c *client) waitFor(what string, match func(event) bool) event {
	c.t.Helper()
	deadline := time.Now().Add(wait)
	for time.Now().Before(deadline) {
		if ev := c.next(); match(ev) {
			return ev
		}
	}
	c.t.Fatalf("no %s event", what)
	return event{}
}

func (c *client) waitPresence(users ...uuid.UUID) event {
	c.t.Helper()
	want := make([]string, len(users))
	for i, u := range users {
		want[i] = u.String()
	}
	return c.waitFor("presence "+strings.Join(want, ","), func(ev event) bool {
		return ev.Type == "presence" && sameSet(ev.Users, want)
	})
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	seen := map[string]bool{}
	for _, s := range a {
		seen[s] = true
	}
	for _, s := range b {
		if !seen[s] {
			return false
		}
	}
	return true
}

// expectClose reads until the connection ends and returns the close frame.
func (c *client) expectClose(code int) string {
	c.t.Helper()
	_ = c.ws.SetReadDeadline(time.Now().Add(wait))
	for {
		_, data, err := c.ws.ReadMessage()
		if err == nil {
			c.t.Logf("skipping %s", data)
			continue
		}
		var ce *websocket.CloseError
		require.ErrorAs(c.t, err, &ce, "want close %d", code)
		require.Equal(c.t, code, ce.Code, ce.Text)
		return ce.Text
	}
}

// stallGate holds every server write while stalled.
type stallGate struct {
	mu sync.Mutex
	ch chan struct{} // non-nil while stalled; closed to release
}

func (g *stallGate) stall() { g.mu.Lock(); g.ch = make(chan struct{}); g.mu.Unlock() }

func (g *stallGate) release() {
	g.mu.Lock()
	if g.ch != nil {
		close(g.ch)
		g.ch = nil
	}
	g.mu.Unlock()
}

func (g *stallGate) wait() {
	g.mu.Lock()
	ch := g.ch
	g.mu.Unlock()
	if ch != nil {
		<-ch
	}
}

type stallListener struct {
	net.Listener
	gate *stallGate
}

func (l stallListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return stallConn{Conn: c, gate: l.gate}, nil
}

type stallConn struct {
	net.Conn
	gate *stallGate
}

func (c stallConn) Write(b []byte) (int, error) {
	c.gate.wait()
	return c.Conn.Write(b)
}
