// Package adminpanel computes the admin dashboard (summary, daily metrics, live connections of
// all replicas), stores the per-day counters and serves the admin event socket. Figures are
// cached briefly in Redis, shared by replicas; PostgreSQL stays the source of truth.
package adminpanel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/redis/go-redis/v9"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/counter"
	"github.com/voiceassist/gateway/internal/health"
)

// CacheTTL is how long a computed summary or metrics answer is reused.
const CacheTTL = 10 * time.Second

// Sources are the in-process state the panel reads from other services of this replica.
type Sources struct {
	// SSE counts this replica's open flag streams by type (visibility level).
	SSE func() map[string]int
	// WebSockets lists up to limit of this replica's /ws connections and their number.
	WebSockets func(limit int) ([]Socket, int)
	// Voice lists up to limit live voice sockets of all replicas (the Redis registry).
	Voice func(ctx context.Context, limit int) ([]Socket, int, error)
	// CacheStats are the cache layers' counters on this replica.
	CacheStats func() []CacheLayer
	// Ready probes the dependencies (PostgreSQL, Redis, vector store, voice).
	Ready *health.Checker
	// Observed holds the last outcome of calls to unprobed providers (the chat model).
	Observed *health.Registry
}

// Config builds a Service.
type Config struct {
	Pool    *pgxpool.Pool
	Redis   redis.UniversalClient
	Prefix  string // Redis key prefix
	Replica string // this replica's name
	Daily   *counter.Set
	Sources Sources
	Logger  *slog.Logger
	Now     func() time.Time // tests; time.Now when nil
	// FlushEvery is how often Run stores the daily counters (default 2 s).
	FlushEvery time.Duration
	// MetricsEvery is how often admin sockets get metrics_update (default 10 s);
	// RecheckEvery how often their tokens are re-checked (default 30 s).
	MetricsEvery, RecheckEvery time.Duration
}

// Service is the admin panel of one replica.
type Service struct {
	cfg    Config
	q      *db.Queries
	log    *slog.Logger
	now    func() time.Time
	events *Events
}

// New builds the service; Run starts its background work.
func New(cfg Config) *Service {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.FlushEvery <= 0 {
		cfg.FlushEvery = 2 * time.Second
	}
	if cfg.MetricsEvery <= 0 {
		cfg.MetricsEvery = metricsEvery
	}
	if cfg.RecheckEvery <= 0 {
		cfg.RecheckEvery = recheckEvery
	}
	if cfg.Replica == "" {
		cfg.Replica = uuid.NewString()[:8]
	}
	s := &Service{cfg: cfg, q: db.New(cfg.Pool), log: cfg.Logger, now: cfg.Now}
	s.events = newEvents(s)
	return s
}

// Replica is this replica's name.
func (s *Service) Replica() string { return s.cfg.Replica }

func (s *Service) key(parts ...string) string {
	k := s.cfg.Prefix + "admin:panel"
	for _, p := range parts {
		k += ":" + p
	}
	return k
}

// cached returns the JSON cached under key into out, or computes it and caches it for
// CacheTTL. A Redis failure only costs the cache: the answer is computed.
func cached[T any](ctx context.Context, s *Service, key string, compute func(context.Context) (T, error)) (T, error) {
	var out T
	raw, err := s.cfg.Redis.Get(ctx, key).Bytes()
	if err == nil && json.Unmarshal(raw, &out) == nil {
		return out, nil
	}
	if err != nil && !errors.Is(err, redis.Nil) {
		s.log.Warn("adminpanel: read cache", "key", key, "error", err)
	}
	out, err = compute(ctx)
	if err != nil {
		return out, err
	}
	if raw, err := json.Marshal(out); err == nil {
		if err := s.cfg.Redis.Set(ctx, key, raw, CacheTTL).Err(); err != nil {
			s.log.Warn("adminpanel: write cache", "key", key, "error", err)
		}
	}
	return out, nil
}

// Run flushes the daily counters every FlushEvery, publishes this replica's connections and
// follows the audit log for the admin socket, until ctx ends; then it flushes once more.
func (s *Service) Run(ctx context.Context) {
	go s.events.run(ctx)
	flush := time.NewTicker(s.cfg.FlushEvery)
	defer flush.Stop()
	beat := time.NewTicker(presenceEvery)
	defer beat.Stop()
	probe := time.NewTicker(probeEvery)
	defer probe.Stop()
	s.publishPresence(ctx)
	s.probe(ctx)
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := s.Flush(fctx); err != nil {
				s.log.Warn("adminpanel: final flush of daily counters", "error", err)
			}
			s.removePresence(fctx)
			return
		case <-flush.C:
			if err := s.Flush(ctx); err != nil && ctx.Err() == nil {
				s.log.Warn("adminpanel: flush daily counters (kept for the next flush)", "error", err)
			}
		case <-beat.C:
			s.publishPresence(ctx)
		case <-probe.C:
			s.probe(ctx)
		}
	}
}

// probe runs a readiness round for the summary's dependency health, off the request path.
func (s *Service) probe(ctx context.Context) {
	if s.cfg.Sources.Ready != nil {
		s.cfg.Sources.Ready.Verdict(ctx)
	}
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("adminpanel: %s: %w", what, err)
}
