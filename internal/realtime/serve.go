package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
)

var errNoToken = errors.New("no token")

// Gate is the handshake every WebSocket of the gateway shares: the token from the
// subprotocol list "bearer, <token>" or from ?token= (browsers cannot set headers on a
// WebSocket), authentication, the origin check and admission. Refusals after a handshake are
// close frames, not HTTP statuses, because browsers do not expose the status or body of a
// failed handshake: 1008 for a missing or bad token, the admission's code (1013 over a
// connection cap, 1001 while shutting down) otherwise.
type Gate struct {
	Auth           Authenticator
	AllowedOrigins []string
	WriteWait      time.Duration
	upgrader       websocket.Upgrader
	once           sync.Once
}

// Accepted is an authenticated, admitted and upgraded connection.
type Accepted struct {
	WS        *websocket.Conn
	User      Principal
	Token     string // re-checked while the connection lives
	RequestID string
	// Release frees the admission slot; call it once the connection has ended.
	Release     func()
	ViaProtocol bool // the token came as a subprotocol
}

// Refusal is why admission turned a user away: a close code and reason.
type Refusal struct {
	Code   int
	Reason string
}

// Accept authenticates the request, asks admit for a slot (it returns a release func, or a
// refusal) and upgrades. When it returns false the request has been answered: a 401
// envelope for a plain HTTP request, a close frame after the handshake otherwise.
func (g *Gate) Accept(w http.ResponseWriter, r *http.Request, admit func(Principal) (func(), *Refusal)) (Accepted, bool) {
	g.once.Do(func() {
		g.upgrader = websocket.Upgrader{Subprotocols: []string{"bearer"}, CheckOrigin: g.checkOrigin, Error: handshakeError}
		if g.WriteWait <= 0 {
			g.WriteWait = 10 * time.Second
		}
	})
	token, viaProtocol := requestToken(r)
	reqID := requestID(w, r)
	p, authErr := g.authenticate(r.Context(), token)
	if authErr != nil && !websocket.IsWebSocketUpgrade(r) {
		writeUnauthorized(w, reqID)
		return Accepted{}, false
	}
	var hdr http.Header // the hijacked response does not carry the middleware's headers
	if reqID != "" {
		hdr = http.Header{"X-Request-Id": {reqID}}
	}
	var release func()
	var refusal *Refusal
	if authErr == nil {
		release, refusal = admit(p)
	}
	// Upgrade answers a failed handshake itself (400 not a handshake, 403 bad origin), in
	// the error envelope (handshakeError).
	ws, err := g.upgrader.Upgrade(w, r, hdr)
	if err != nil {
		if release != nil {
			release()
		}
		return Accepted{}, false
	}
	switch {
	case authErr != nil:
		reason := "invalid or expired token"
		if errors.Is(authErr, errNoToken) {
			reason = "missing token"
		}
		g.Reject(ws, websocket.ClosePolicyViolation, reason)
		return Accepted{}, false
	case refusal != nil:
		g.Reject(ws, refusal.Code, refusal.Reason)
		return Accepted{}, false
	}
	return Accepted{WS: ws, User: p, Token: token, RequestID: reqID, Release: release, ViaProtocol: viaProtocol}, true
}

// ServeHTTP is the /ws endpoint.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a, ok := h.gate.Accept(w, r, func(p Principal) (func(), *Refusal) {
		if h.admit(p.UserID) {
			return func() { h.release(p.UserID) }, nil
		}
		if h.isClosed() {
			return nil, &Refusal{websocket.CloseGoingAway, "server shutting down"}
		}
		return nil, &Refusal{websocket.CloseTryAgainLater, "too many connections"}
	})
	if !ok {
		return
	}
	defer a.Release()
	c := newConn(r.Context(), h, a.WS, a.User, a.Token, a.RequestID)
	if !h.register(c) {
		h.gate.Reject(a.WS, websocket.CloseGoingAway, "server shutting down")
		return
	}
	defer h.unregister(c)
	c.log.Debug("realtime: connected", "bearer_subprotocol", a.ViaProtocol)
	c.run()
}

// requestToken takes the token from ?token= or from the subprotocol list
// "bearer, <token>" (browsers cannot set headers on a WebSocket).
func requestToken(r *http.Request) (token string, viaProtocol bool) {
	protos := websocket.Subprotocols(r)
	for i, p := range protos {
		if p == "bearer" && i+1 < len(protos) {
			return protos[i+1], true
		}
	}
	return r.URL.Query().Get("token"), false
}

func (g *Gate) authenticate(ctx context.Context, token string) (Principal, error) {
	if token == "" {
		return Principal{}, errNoToken
	}
	ctx, cancel := context.WithTimeout(ctx, g.WriteWait)
	defer cancel()
	p, err := g.Auth(ctx, token)
	if err == nil && p.UserID == uuid.Nil {
		err = errors.New("authenticator returned no user")
	}
	return p, err
}

// checkOrigin allows non-browser clients (no Origin header), the gateway's own pages
// (same origin: /demo/voice) and the configured browser origins: anything else could be a
// cross-site page riding the user's session (cross-site WebSocket hijacking).
func (g *Gate) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	if u, err := url.Parse(origin); err == nil && u.Host != "" && strings.EqualFold(u.Host, r.Host) {
		return true
	}
	for _, o := range g.AllowedOrigins {
		if strings.EqualFold(strings.TrimSuffix(o, "/"), origin) {
			return true
		}
	}
	return false
}

// requestID is the request id the HTTP middleware assigned (it sets the
// response header before calling handlers), else the client's.
func requestID(w http.ResponseWriter, r *http.Request) string {
	if id := w.Header().Get("X-Request-Id"); id != "" {
		return id
	}
	return r.Header.Get("X-Request-Id")
}

// writeUnauthorized answers a plain HTTP request in the gateway's error envelope.
func writeUnauthorized(w http.ResponseWriter, reqID string) {
	w.Header().Set("WWW-Authenticate", "Bearer")
	writeError(w, reqID, http.StatusUnauthorized, "UNAUTHORIZED", "Authentication required")
}

// handshakeError is the upgrader's answer to a failed handshake (not a WebSocket request,
// a bad key or version, a foreign origin): the error envelope the contract declares, not
// gorilla's plain text.
func handshakeError(w http.ResponseWriter, r *http.Request, status int, reason error) {
	code := "BAD_REQUEST"
	if status == http.StatusForbidden {
		code = "FORBIDDEN_ORIGIN"
	}
	writeError(w, requestID(w, r), status, code, "WebSocket handshake refused: "+reason.Error())
}

func writeError(w http.ResponseWriter, reqID string, status int, code, message string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"success":   false,
		"data":      nil,
		"error":     map[string]any{"code": code, "message": message, "field": nil, "details": nil},
		"metadata":  map[string]string{"request_id": reqID},
		"timestamp": time.Now().UTC(),
	})
}

// Reject closes a connection that never started: close frame, then a short wait
// for the client's reply so the frame is read before the TCP connection ends.
func (g *Gate) Reject(ws *websocket.Conn, code int, reason string) {
	deadline := time.Now().Add(g.WriteWait)
	_ = ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), deadline)
	ws.SetReadLimit(1024)
	_ = ws.SetReadDeadline(deadline)
	for {
		if _, _, err := ws.NextReader(); err != nil {
			break
		}
	}
	_ = ws.Close()
}

// admit reserves a connection slot before the upgrade, so caps hold under
// concurrent connects.
func (h *Hub) admit(user uuid.UUID) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed || h.total >= h.cfg.MaxConns || h.perUser[user] >= h.cfg.MaxConnsPerUser {
		return false
	}
	h.total++
	h.perUser[user]++
	h.wg.Add(1)
	return true
}

func (h *Hub) release(user uuid.UUID) {
	h.mu.Lock()
	h.total--
	if h.perUser[user]--; h.perUser[user] <= 0 {
		delete(h.perUser, user)
	}
	h.mu.Unlock()
	h.wg.Done()
}

// register makes c visible to Close; false if Close has begun.
func (h *Hub) register(c *conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closed {
		return false
	}
	h.conns[c] = struct{}{}
	h.connGauge.Inc()
	return true
}

func (h *Hub) unregister(c *conn) {
	h.mu.Lock()
	delete(h.conns, c)
	h.mu.Unlock()
	h.connGauge.Dec()
}

// Session is one open /ws connection of this replica.
type Session struct {
	ID, UserID uuid.UUID
	StartedAt  time.Time
}

// Sessions lists up to limit of this replica's open connections and how many there are.
func (h *Hub) Sessions(limit int) ([]Session, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]Session, 0, min(limit, len(h.conns)))
	for c := range h.conns {
		if len(out) == limit {
			break
		}
		out = append(out, Session{ID: c.id, UserID: c.user.UserID, StartedAt: c.start})
	}
	return out, len(h.conns)
}

func (h *Hub) isClosed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}
