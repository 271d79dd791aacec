// Package realtime is the /ws endpoint: an authenticated WebSocket over which a
// client joins conversations, receives their history, asks questions and gets
// the answer streamed, and sees who else is present and typing.
//
// Each connection has exactly one reader (the handler goroutine) and one writer
// goroutine; everything else enqueues frames into a bounded queue, and a client
// too slow to drain it is closed with 1013 instead of stalling anyone. Presence
// and typing cross replicas through Redis: presence lives in one sorted set per
// conversation (entries expire unless refreshed, so a crashed replica's users
// disappear), and changes are announced on one pub/sub channel that every Hub
// subscribes to (Start).
//
// The package knows nothing of routing, storage or token formats: it gets an
// Authenticator and a Conversations backend.
package realtime

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/voiceassist/gateway/internal/chat"
)

// Principal is the authenticated user of a connection.
type Principal struct {
	UserID      uuid.UUID
	Email, Role string
}

// Authenticator checks an access token. Any error means the token is not
// acceptable: the connection is closed with 1008. It is called on connect and
// again at every ping interval while the connection is open (after Start), so a
// token that expires or is revoked ends the connection.
type Authenticator func(ctx context.Context, token string) (Principal, error)

// HistoryMessage is one stored message of a conversation.
type HistoryMessage struct {
	ID        uuid.UUID
	Role      string // chat.RoleUser or chat.RoleAssistant
	Content   string
	CreatedAt time.Time
	Citations []chat.Citation
}

// ChatEvent is one streamed piece of an answer.
type ChatEvent struct {
	Type     string // chat.EventDelta or chat.EventCitation
	Delta    string
	Citation *chat.Citation
}

// Done is the stored result of a Send.
type Done struct {
	MessageID     uuid.UUID // the assistant message
	UserMessageID uuid.UUID // the stored question
	Content       string
	Citations     []chat.Citation
}

// ErrNotFound is what Conversations returns (possibly wrapped) when the
// conversation does not exist or the user does not own it.
var ErrNotFound = errors.New("realtime: conversation not found")

// Conversations is the chat backend.
type Conversations interface {
	// History returns up to limit of the newest messages, oldest first.
	History(ctx context.Context, userID, conversationID uuid.UUID, limit int) ([]HistoryMessage, error)
	// Send stores the question, streams the answer through emit (deltas in
	// order, then citations) and stores the answer. It must stop when ctx is
	// cancelled (the client went away) or when emit returns an error.
	Send(ctx context.Context, userID, conversationID uuid.UUID, content string, emit func(ChatEvent) error) (Done, error)
}

// Config configures a Hub. Auth, Chat and Redis are required; zero values of
// the rest take the defaults noted.
type Config struct {
	Auth   Authenticator
	Chat   Conversations
	Redis  redis.UniversalClient
	Prefix string // Redis key and channel prefix
	Logger *slog.Logger

	MaxConnsPerUser int           // per replica; default 5
	MaxConns        int           // per replica; default 10000
	ReadLimit       int64         // largest client frame in bytes; default 64 KiB
	PingInterval    time.Duration // server pings, presence refresh, token re-check; default 30s
	PongWait        time.Duration // a connection silent this long is dead; default 60s
	WriteWait       time.Duration // limit for one write; default 10s
	SendQueue       int           // frames queued per connection; default 256
	AllowedOrigins  []string      // browser origins allowed to connect (requests without Origin are always allowed)
	HistoryLimit    int           // messages in a history event; default 50
}

func (c *Config) defaults() {
	if c.Auth == nil || c.Chat == nil || c.Redis == nil {
		panic("realtime: Config needs Auth, Chat and Redis")
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	setDefault(&c.MaxConnsPerUser, 5)
	setDefault(&c.MaxConns, 10000)
	setDefault(&c.ReadLimit, 64<<10)
	setDefault(&c.PingInterval, 30*time.Second)
	setDefault(&c.PongWait, 60*time.Second)
	setDefault(&c.WriteWait, 10*time.Second)
	setDefault(&c.SendQueue, 256)
	setDefault(&c.HistoryLimit, 50)
	if c.PongWait <= c.PingInterval {
		// A pong can only arrive after a ping: a shorter wait would drop healthy clients.
		c.PongWait = 2 * c.PingInterval
	}
}

func setDefault[T int | int64 | time.Duration](v *T, d T) {
	if *v <= 0 {
		*v = d
	}
}

// Hub owns one replica's connections.
type Hub struct {
	cfg     Config
	gate    *Gate
	log     *slog.Logger
	channel string // Redis pub/sub channel for typing and presence changes

	connGauge prometheus.Gauge
	messages  *prometheus.CounterVec

	mu      sync.Mutex
	conns   map[*conn]struct{}
	perUser map[uuid.UUID]int // admitted connections, including ones still upgrading
	total   int
	rooms   map[uuid.UUID]map[*conn]struct{} // local connections joined to each conversation
	closed  bool
	stop    context.CancelFunc // ends Start's goroutines

	wg sync.WaitGroup // admitted connections
	bg sync.WaitGroup // Start's goroutines
}

// New returns a Hub. Call Start to get presence and typing from other replicas.
func New(cfg Config) *Hub {
	cfg.defaults()
	h := &Hub{
		cfg:     cfg,
		log:     cfg.Logger.With("component", "realtime"),
		channel: cfg.Prefix + "ws:events",
		connGauge: prometheus.NewGauge(prometheus.GaugeOpts{Name: "voiceassist_ws_connections",
			Help: "Open WebSocket connections on this replica."}),
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "voiceassist_ws_messages_total",
			Help: "WebSocket messages by direction (in, out) and type."}, []string{"direction", "type"}),
		conns:   map[*conn]struct{}{},
		perUser: map[uuid.UUID]int{},
		rooms:   map[uuid.UUID]map[*conn]struct{}{},
	}
	h.gate = &Gate{Auth: cfg.Auth, AllowedOrigins: cfg.AllowedOrigins, WriteWait: cfg.WriteWait}
	return h
}

// Collectors returns the Hub's metrics for the caller to register.
func (h *Hub) Collectors() []prometheus.Collector {
	return []prometheus.Collector{h.connGauge, h.messages}
}

// Start subscribes to the cross-replica event channel and starts the presence
// refresh and token re-check loop; both stop when ctx ends or at Close. It
// returns once the subscription is confirmed (or failed; go-redis keeps
// retrying), so events published after Start returns are not missed.
func (h *Hub) Start(ctx context.Context) {
	ctx, cancel := context.WithCancel(ctx)
	h.mu.Lock()
	if h.closed || h.stop != nil {
		h.mu.Unlock()
		cancel()
		return
	}
	h.stop = cancel
	h.mu.Unlock()

	sub := h.cfg.Redis.Subscribe(ctx, h.channel)
	if _, err := sub.Receive(ctx); err != nil {
		h.log.Warn("realtime: subscribe failed; retrying in the background", "err", err)
	}
	h.bg.Add(2)
	go func() {
		defer h.bg.Done()
		defer sub.Close()
		h.listen(ctx, sub.Channel())
	}()
	go func() {
		defer h.bg.Done()
		h.maintain(ctx)
	}()
}

// Close closes every connection with 1001 (going away), refuses new ones, waits
// for the connections to finish (each at most about 2×WriteWait after its
// answer stops) and stops Start's goroutines.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	conns := make([]*conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	stop := h.stop
	h.mu.Unlock()

	for _, c := range conns {
		c.close(websocket.CloseGoingAway, "server shutting down")
	}
	h.wg.Wait()
	if stop != nil {
		stop()
	}
	h.bg.Wait()
}

// maintain runs every ping interval: refreshes this replica's presence entries
// and re-checks every connection's token.
func (h *Hub) maintain(ctx context.Context) {
	t := time.NewTicker(h.cfg.PingInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			h.refreshPresence(ctx)
			h.recheckTokens(ctx)
		}
	}
}

func (h *Hub) recheckTokens(ctx context.Context) {
	h.mu.Lock()
	conns := make([]*conn, 0, len(h.conns))
	for c := range h.conns {
		conns = append(conns, c)
	}
	h.mu.Unlock()
	for _, c := range conns {
		actx, cancel := context.WithTimeout(ctx, h.cfg.WriteWait)
		_, err := h.cfg.Auth(actx, c.token)
		cancel()
		if err != nil && ctx.Err() == nil {
			c.log.Info("realtime: token re-check failed", "err", err)
			c.close(RecheckClose(err))
		}
	}
}
