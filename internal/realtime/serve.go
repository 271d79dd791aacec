package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
)

var errNoToken = errors.New("no token")

// ServeHTTP is the /ws endpoint. Refusals after a WebSocket handshake are close
// frames, not HTTP statuses, because browsers do not expose the status or body
// of a failed handshake: 1008 for a missing or bad token, 1013 over a
// connection cap, 1001 while shutting down.
func (h *Hub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	token, viaProtocol := requestToken(r)
	reqID := requestID(w, r)
	p, authErr := h.authenticate(r.Context(), token)
	if authErr != nil && !websocket.IsWebSocketUpgrade(r) {
		writeUnauthorized(w, reqID)
		return
	}
	var hdr http.Header // the hijacked response does not carry the middleware's headers
	if reqID != "" {
		hdr = http.Header{"X-Request-Id": {reqID}}
	}
	admitted := authErr == nil && h.admit(p.UserID)

	// Upgrade writes its own HTTP error (400 not a handshake, 403 bad origin).
	ws, err := h.upgrader.Upgrade(w, r, hdr)
	if err != nil {
		if admitted {
			h.release(p.UserID)
		}
		return
	}
	switch {
	case authErr != nil:
		reason := "invalid or expired token"
		if errors.Is(authErr, errNoToken) {
			reason = "missing token"
		}
		h.reject(ws, websocket.ClosePolicyViolation, reason)
		return
	case !admitted:
		code, reason := websocket.CloseTryAgainLater, "too many connections"
		if h.isClosed() {
			code, reason = websocket.CloseGoingAway, "server shutting down"
		}
		h.reject(ws, code, reason)
		return
	}
	defer h.release(p.UserID)

	c := newConn(r.Context(), h, ws, p, token, reqID)
	if !h.register(c) {
		h.reject(ws, websocket.CloseGoingAway, "server shutting down")
		return
	}
	defer h.unregister(c)
	c.log.Debug("realtime: connected", "bearer_subprotocol", viaProtocol)
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

func (h *Hub) authenticate(ctx context.Context, token string) (Principal, error) {
	if token == "" {
		return Principal{}, errNoToken
	}
	ctx, cancel := context.WithTimeout(ctx, h.cfg.WriteWait)
	defer cancel()
	p, err := h.cfg.Auth(ctx, token)
	if err == nil && p.UserID == uuid.Nil {
		err = errors.New("authenticator returned no user")
	}
	return p, err
}

// checkOrigin allows non-browser clients (no Origin header) and the configured
// browser origins: anything else could be a cross-site page riding the user's
// session (cross-site WebSocket hijacking).
func (h *Hub) checkOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	for _, o := range h.cfg.AllowedOrigins {
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
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("WWW-Authenticate", "Bearer")
	w.WriteHeader(http.StatusUnauthorized)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"success":   false,
		"data":      nil,
		"error":     map[string]string{"code": "UNAUTHORIZED", "message": "Authentication required"},
		"metadata":  map[string]string{"request_id": reqID},
		"timestamp": time.Now().UTC(),
	})
}

// reject closes a connection that never started: close frame, then a short wait
// for the client's reply so the frame is read before the TCP connection ends.
func (h *Hub) reject(ws *websocket.Conn, code int, reason string) {
	deadline := time.Now().Add(h.cfg.WriteWait)
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

func (h *Hub) isClosed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.closed
}
