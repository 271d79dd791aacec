package adminpanel

import (
	"context"
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/database"
	"github.com/voiceassist/gateway/internal/realtime"
)

// The admin socket (GET /api/admin/panel/ws). While it has admin sockets, each replica LISTENs
// on "audit_log" (a trigger notifies the id of every inserted audit row at commit) and sends the committed rows after
// the last id it sent to its sockets, so a change made through any replica reaches every
// admin; a safety poll covers a lost notification. Every metricsEvery the summary goes out as
// metrics_update. Tokens are re-checked every recheckEvery (1008 when no longer valid, 1013
// when they cannot be checked), as /ws does.
const (
	metricsEvery   = 10 * time.Second
	recheckEvery   = 30 * time.Second
	safetyPoll     = 5 * time.Second
	maxAdminConns  = 100 // per replica
	eventBatch     = 500
	adminReadLimit = 4 << 10
)

// Events serves the admin sockets of one replica.
type Events struct {
	s    *Service
	gate *realtime.Gate

	mu     sync.Mutex
	conns  map[*adminConn]struct{}
	closed bool
	wake   chan struct{}
	// follow asks the run loop to start (true) or stop (false) following the audit log; the
	// reply channel is closed once done. A replica without admin sockets holds no LISTEN
	// connection and runs no query.
	follow  chan followReq
	runDone chan struct{} // closed when run returns
}

type followReq struct {
	on   bool
	done chan struct{}
}

type adminConn struct {
	sock    *realtime.Conn
	id      uuid.UUID
	user    realtime.Principal
	token   string
	started time.Time
}

func newEvents(s *Service) *Events {
	return &Events{s: s, conns: map[*adminConn]struct{}{}, wake: make(chan struct{}, 1), follow: make(chan followReq)}
}

// Events is the admin socket hub; SetGate must be called before it serves.
func (s *Service) Events() *Events { return s.events }

// SetGate sets the handshake shared with the other sockets.
func (e *Events) SetGate(g *realtime.Gate) { e.gate = g }

// AdminEvent is one committed audit entry as the socket sends it.
type AdminEvent struct {
	Type         string         `json:"type"` // admin_event
	ID           int64          `json:"id"`
	OccurredAt   time.Time      `json:"occurred_at"`
	ActorID      *uuid.UUID     `json:"actor_id"`
	ActorEmail   string         `json:"actor_email"`
	ActorRole    string         `json:"actor_role"`
	Action       string         `json:"action"`
	ResourceType string         `json:"resource_type"`
	ResourceID   string         `json:"resource_id"`
	Success      bool           `json:"success"`
	RequestID    string         `json:"request_id"`
	Details      map[string]any `json:"details"`
}

// ServeHTTP authenticates (viewer and above), admits and serves one admin socket.
func (e *Events) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a, ok := e.gate.Accept(w, r, func(p realtime.Principal) (func(), *realtime.Refusal) {
		if !auth.Role(p.Role).AtLeast(auth.RoleViewer) {
			return nil, &realtime.Refusal{Code: websocket.ClosePolicyViolation, Reason: "the viewer role is required"}
		}
		e.mu.Lock()
		defer e.mu.Unlock()
		switch {
		case e.closed:
			return nil, &realtime.Refusal{Code: websocket.CloseGoingAway, Reason: "server shutting down"}
		case len(e.conns) >= maxAdminConns:
			return nil, &realtime.Refusal{Code: websocket.CloseTryAgainLater, Reason: "too many connections"}
		}
		return func() {}, nil
	})
	if !ok {
		return
	}
	defer a.Release()
	c := &adminConn{id: uuid.New(), user: a.User, token: a.Token, started: e.s.now().UTC()}
	log := e.s.log.With("component", "adminpanel", "connection_id", c.id, "user_id", a.User.UserID)
	c.sock = realtime.NewConn(a.WS, realtime.ConnOptions{
		ReadLimit: adminReadLimit, Logger: log,
		OnText: func(data []byte) {
			var in struct {
				Type string          `json:"type"`
				TS   json.RawMessage `json:"ts,omitempty"`
			}
			if json.Unmarshal(data, &in) != nil || in.Type != "ping" {
				c.send(map[string]any{"type": "error", "code": "VALIDATION_ERROR", "message": "only {\"type\":\"ping\"} is accepted"})
				return
			}
			c.send(map[string]any{"type": "pong", "ts": in.TS})
		},
	})
	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()
		e.gate.Reject(a.WS, websocket.CloseGoingAway, "server shutting down")
		return
	}
	e.conns[c] = struct{}{}
	first := len(e.conns) == 1
	e.mu.Unlock()
	if first {
		// Events committed from here on reach this socket: the run loop has read the head
		// and is listening before "connected" is sent.
		e.setFollow(r.Context(), true)
	}
	defer func() {
		e.mu.Lock()
		delete(e.conns, c)
		last := len(e.conns) == 0
		e.mu.Unlock()
		if last {
			e.setFollow(context.Background(), false)
		}
	}()
	c.send(map[string]any{"type": "connected", "connection_id": c.id, "user_id": c.user.UserID,
		"role": c.user.Role, "replica": e.s.cfg.Replica, "server_time": c.started})
	c.sock.Run()
}

// setFollow hands a start or stop request to the run loop and waits for it (or for ctx, or
// for the loop to end).
func (e *Events) setFollow(ctx context.Context, on bool) {
	req := followReq{on: on, done: make(chan struct{})}
	select {
	case e.follow <- req:
		select {
		case <-req.done:
		case <-ctx.Done():
		}
	case <-ctx.Done():
	case <-e.stopped():
	}
}

func (e *Events) stopped() <-chan struct{} { return e.runDoneChan() }

func (e *Events) runDoneChan() chan struct{} {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.runDone == nil {
		e.runDone = make(chan struct{})
	}
	return e.runDone
}

func (c *adminConn) send(v any) {
	data, err := json.Marshal(v)
	if err == nil {
		c.sock.SendText("admin", data)
	}
}

func (e *Events) all() []*adminConn {
	e.mu.Lock()
	defer e.mu.Unlock()
	out := make([]*adminConn, 0, len(e.conns))
	for c := range e.conns {
		out = append(out, c)
	}
	return out
}

// sockets lists up to limit of this replica's admin sockets and their number.
func (e *Events) sockets(limit int) ([]Socket, int) {
	conns := e.all()
	out := make([]Socket, 0, min(limit, len(conns)))
	for _, c := range conns {
		if len(out) == limit {
			break
		}
		out = append(out, Socket{Kind: "admin", ConnectionID: c.id, UserID: c.user.UserID, Replica: e.s.cfg.Replica, StartedAt: c.started})
	}
	return out, len(conns)
}

func (e *Events) broadcast(v any) {
	conns := e.all()
	if len(conns) == 0 {
		return
	}
	data, err := json.Marshal(v)
	if err != nil {
		e.s.log.Error("adminpanel: marshal event", "error", err)
		return
	}
	for _, c := range conns {
		c.sock.SendText("admin", data) // a client too slow to drain its queue is closed (1013)
	}
}

// run serves follow requests, forwards committed audit rows while some socket is open and
// sends metrics, until ctx ends; then it closes every socket.
func (e *Events) run(ctx context.Context) {
	done := e.runDoneChan()
	defer func() {
		close(done)
		e.close()
	}()
	var (
		last      int64
		following bool
		stop      context.CancelFunc = func() {}
	)
	defer func() { stop() }()
	poll := time.NewTicker(safetyPoll)
	defer poll.Stop()
	metrics := time.NewTicker(e.s.cfg.MetricsEvery)
	defer metrics.Stop()
	recheck := time.NewTicker(e.s.cfg.RecheckEvery)
	defer recheck.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case req := <-e.follow:
			switch {
			case req.on && !following:
				head, err := e.s.q.PanelAuditHead(ctx)
				if err != nil {
					e.s.log.Warn("adminpanel: read the audit head", "error", err)
					// Nothing is skipped: the first forward reads from the start of the log's
					// recent rows at worst; fall back to the newest known id.
					head = last
				}
				last, following = head, true
				stop = e.listen(ctx)
			case !req.on && following:
				stop()
				stop, following = func() {}, false
			}
			close(req.done)
		case <-e.wake:
			if following {
				last = e.forward(ctx, last)
			}
		case <-poll.C:
			if following {
				last = e.forward(ctx, last)
			}
		case <-metrics.C:
			if len(e.all()) > 0 {
				sum, err := e.s.Summary(ctx)
				if err != nil {
					e.s.log.Warn("adminpanel: summary for metrics_update", "error", err)
					continue
				}
				e.broadcast(struct {
					Type    string  `json:"type"`
					Summary Summary `json:"summary"`
				}{"metrics_update", sum})
			}
		case <-recheck.C:
			e.recheck(ctx)
		}
	}
}

// listen holds a LISTEN connection on "audit_log" until the returned func is called.
func (e *Events) listen(ctx context.Context) context.CancelFunc {
	lctx, cancel := context.WithCancel(ctx)
	go database.Listen(lctx, e.s.cfg.Pool, "audit_log", e.wake, e.s.log)
	return cancel
}

// forward sends the audit rows committed after last and returns the new last id.
func (e *Events) forward(ctx context.Context, last int64) int64 {
	for {
		rows, err := e.s.q.AuditLogAfter(ctx, db.AuditLogAfterParams{AfterID: last, RowLimit: eventBatch})
		if err != nil {
			if ctx.Err() == nil {
				e.s.log.Warn("adminpanel: read audit rows", "after", last, "error", err)
			}
			return last
		}
		for _, r := range rows {
			ev := AdminEvent{Type: "admin_event", ID: r.ID, OccurredAt: r.OccurredAt.UTC(), ActorID: r.ActorID,
				ActorEmail: r.ActorEmail, ActorRole: r.ActorRole, Action: r.Action, ResourceType: r.ResourceType,
				ResourceID: r.ResourceID, Success: r.Success, RequestID: r.RequestID, Details: map[string]any{}}
			_ = json.Unmarshal(r.Details, &ev.Details)
			e.broadcast(ev)
			last = r.ID
		}
		if len(rows) < eventBatch {
			return last
		}
	}
}

// recheck closes the sockets whose token no longer holds.
func (e *Events) recheck(ctx context.Context) {
	for _, c := range e.all() {
		cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		p, err := e.gate.Auth(cctx, c.token)
		cancel()
		switch {
		case err != nil:
			c.sock.Close(realtime.RecheckClose(err))
		case !auth.Role(p.Role).AtLeast(auth.RoleViewer):
			c.sock.Close(websocket.ClosePolicyViolation, "the viewer role is required")
		}
	}
}

// close ends every socket (1001) and refuses new ones.
func (e *Events) close() {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
	for _, c := range e.all() {
		c.sock.Close(websocket.CloseGoingAway, "server shutting down")
	}
}
