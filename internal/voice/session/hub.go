// Package session is the voice conversation socket (GET /api/voice/pipeline-ws): speech in,
// a cited answer out as text and speech, sentence by sentence, with barge-in and resume.
//
// A Session is one conversation between a client and the voice pipeline: voice activity
// detection cuts the incoming audio into utterances, each utterance is transcribed, answered
// by the chat pipeline (history, retrieval, citations; stored with source voice) and spoken
// sentence by sentence while the model is still writing. Every output frame of a turn gets a
// sequence number and is appended to a Redis stream, so a client that lost its connection
// can resume on any replica; the turn itself never moves: the replica producing it keeps
// going for DetachGrace after its client left, then stores what was said.
//
// The socket is realtime's connection core (one reader, one writer, bounded queue,
// deadlines): a client that cannot keep up is closed with 1013, never buffered without bound.
package session

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/conversation"
	"github.com/voiceassist/gateway/internal/realtime"
	"github.com/voiceassist/gateway/internal/voice"
	"github.com/voiceassist/gateway/internal/voice/emotion"
)

// Clock is the time source of the session timers (heartbeats, the detach grace, the
// session limit); tests pass a fake one.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

type realClock struct{}

func (realClock) Now() time.Time                         { return time.Now() }
func (realClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// Config configures a Hub; zero values take the defaults noted.
type Config struct {
	Gate  *realtime.Gate
	Voice *voice.Service
	Chats *conversation.Service
	// Dictation takes the utterances of dictation mode (nil: the mode is unavailable).
	Dictation Dictation
	// Memory remembers what voice turns tell about their user (nil: nothing is remembered).
	Memory *voice.MemoryService
	// Emotion reads how the user sounds in turns with backend.voice_emotion on (nil: offline).
	Emotion emotion.Provider
	// Switches turns the voice-intelligence capabilities on per user; evaluated once per
	// turn (nil: all off).
	Switches *voice.Switches
	Pool     *pgxpool.Pool
	Redis    redis.UniversalClient
	Prefix   string // Redis key prefix
	Replica  string // this replica's name (sessions record where they ran)
	Clock    Clock
	Logger   *slog.Logger

	// Analytics stores per-turn analytics while backend.voice_analytics is on (nil: none).
	Analytics *voice.AnalyticsService

	MaxSessions        int           // live sockets on this replica; default 200
	MaxSessionsPerUser int           // live sockets per user across replicas; default 3
	MaxFrameBytes      int64         // largest client frame; default 256 KiB
	MaxSession         time.Duration // longest session; default 1 h
	ResumeBufferBytes  int64         // resume buffer per session; default 8 MiB
	ResumeTTL          time.Duration // how long a resume buffer outlives its last frame; default 600 s
	Lease              time.Duration // a producing replica renews its claim on a turn this often ×3; default 10 s
	DetachGrace        time.Duration // a turn goes on this long after its client left; default 30 s
	PingInterval       time.Duration // heartbeats, token re-check; default 30 s
	WriteWait          time.Duration // default 10 s
	SendQueue          int           // frames queued per socket; default 512
	OutputSampleRate   int           // default 24000
	MaxUtterance       time.Duration // longest utterance; default 60 s
}

func (c *Config) defaults() {
	if c.Clock == nil {
		c.Clock = realClock{}
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	defd := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&c.MaxSessions, 200)
	def(&c.MaxSessionsPerUser, 3)
	def(&c.SendQueue, 512)
	def(&c.OutputSampleRate, 24000)
	if c.MaxFrameBytes <= 0 {
		c.MaxFrameBytes = 256 << 10
	}
	if c.ResumeBufferBytes <= 0 {
		c.ResumeBufferBytes = 8 << 20
	}
	defd(&c.MaxSession, time.Hour)
	defd(&c.ResumeTTL, 600*time.Second)
	defd(&c.Lease, 10*time.Second)
	defd(&c.DetachGrace, 30*time.Second)
	defd(&c.PingInterval, 30*time.Second)
	defd(&c.WriteWait, 10*time.Second)
	defd(&c.MaxUtterance, 60*time.Second)
	if c.Replica == "" {
		c.Replica = uuid.NewString()[:8]
	}
}

// Hub serves one replica's voice sessions.
type Hub struct {
	cfg      Config
	q        *db.Queries
	log      *slog.Logger
	registry registry
	clips    *voice.Clips // backchannel acknowledgements, per voice

	sessions prometheus.Gauge
	frames   *prometheus.CounterVec
	turns    *prometheus.CounterVec
	stages   *prometheus.HistogramVec // per-turn stage timings (analytics.go)

	mu     sync.Mutex
	live   map[*Session]struct{}
	open   int // admitted sockets, including ones still upgrading
	closed bool
	wg     sync.WaitGroup // sessions, including detached turns
}

// New returns a Hub.
func New(cfg Config) *Hub {
	cfg.defaults()
	return &Hub{
		cfg: cfg, q: db.New(cfg.Pool), log: cfg.Logger.With("component", "voice_session"),
		registry: registry{rdb: cfg.Redis, prefix: cfg.Prefix}, clips: voice.NewClips(cfg.Voice, 0),
		sessions: prometheus.NewGauge(prometheus.GaugeOpts{Name: "voiceassist_voice_sessions",
			Help: "Open voice WebSocket sessions on this replica."}),
		frames: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "voiceassist_voice_session_frames_total",
			Help: "Voice session frames by direction (in, out) and type."}, []string{"direction", "type"}),
		turns: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "voiceassist_voice_turns_total",
			Help: "Voice turns by outcome (answered, interrupted, failed)."}, []string{"outcome"}),
		stages: newStageHistogram(),
		live:   map[*Session]struct{}{},
	}
}

// Collectors returns the Hub's metrics for the caller to register.
func (h *Hub) Collectors() []prometheus.Collector {
	return []prometheus.Collector{h.sessions, h.frames, h.turns, h.stages}
}

// Live lists live voice sockets of every replica (at most limit) and their total.
func (h *Hub) Live(ctx context.Context, limit int) ([]LiveSocket, int, error) {
	return h.registry.Live(ctx, limit)
}

// Close ends every session (1001), stores what the running turns said, refuses new
// sessions and waits for them to finish.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	ss := make([]*Session, 0, len(h.live))
	for s := range h.live {
		ss = append(ss, s)
	}
	h.mu.Unlock()
	for _, s := range ss {
		s.shutdown()
	}
	h.wg.Wait()
}

// admit reserves a local slot and a place in the user's cross-replica quota.
func (h *Hub) admit(ctx context.Context, user uuid.UUID, connID uuid.UUID) (func(), *realtime.Refusal) {
	h.mu.Lock()
	switch {
	case h.closed:
		h.mu.Unlock()
		return nil, &realtime.Refusal{Code: websocket.CloseGoingAway, Reason: "server shutting down"}
	case h.open >= h.cfg.MaxSessions:
		h.mu.Unlock()
		return nil, &realtime.Refusal{Code: websocket.CloseTryAgainLater, Reason: "TOO_MANY_SESSIONS: this server is at its voice session limit"}
	}
	h.open++
	h.wg.Add(1)
	h.mu.Unlock()
	release := func() {
		h.mu.Lock()
		h.open--
		h.mu.Unlock()
		h.wg.Done()
	}
	ok, err := h.registry.admit(ctx, LiveSocket{ConnectionID: connID, UserID: user, Replica: h.cfg.Replica,
		StartedAt: time.Now().UTC()}, h.cfg.MaxSessionsPerUser)
	if err != nil {
		// The quota is shared state; without Redis it cannot be kept, and neither could a
		// resume buffer: refuse rather than run sessions that cannot keep their promises.
		release()
		h.log.Warn("voice session: registry unavailable", "err", err)
		return nil, &realtime.Refusal{Code: websocket.CloseTryAgainLater, Reason: "SERVICE_UNAVAILABLE: try again later"}
	}
	if !ok {
		release()
		return nil, &realtime.Refusal{Code: websocket.CloseTryAgainLater,
			Reason: "TOO_MANY_SESSIONS: at most " + itoa(h.cfg.MaxSessionsPerUser) + " voice sessions per user"}
	}
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), h.cfg.WriteWait)
		defer cancel()
		_ = h.registry.remove(ctx, user, connID)
		release()
	}, nil
}

func itoa(n int) string { return strconv.Itoa(n) }

// BufferKey names a session's resume buffer in Redis, for erasing it with the user's memory.
func (h *Hub) BufferKey(id uuid.UUID) string { return h.bufferKey(id) }
