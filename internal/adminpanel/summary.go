package adminpanel

import (
	"context"
	"errors"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/redis/go-redis/v9"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/counter"
	"github.com/voiceassist/gateway/internal/health"
)

// activityDays is how many days the summary's activity covers.
const activityDays = 7

// Dependency health comes from a probe round Run refreshes every probeEvery; a summary
// probes itself only when the newest round is older than probeMaxAge (Run not started).
const (
	probeEvery  = 10 * time.Second
	probeMaxAge = 3 * probeEvery
)

// Summary is the answer of GET /api/admin/panel/summary; its JSON (the Redis cache and the
// socket's metrics_update) has the contract's field names.
type Summary struct {
	GeneratedAt  time.Time     `json:"generated_at"`
	Users        UserCounts    `json:"users"`
	Activity     []DayActivity `json:"activity"`
	KB           KBCounts      `json:"knowledge_base"`
	Flags        FlagCounts    `json:"flags"`
	Scheduled    Scheduled     `json:"scheduled_changes"`
	Live         LiveCounts    `json:"connections"`
	Cache        []CacheLayer  `json:"cache"`
	Dependencies []Dependency  `json:"dependencies"`
}

// UserCounts counts accounts.
type UserCounts struct {
	Total  int64            `json:"total"`
	Active int64            `json:"active"`
	ByRole map[string]int64 `json:"by_role"`
	New24h int64            `json:"new_24h"`
	New7d  int64            `json:"new_7d"`
}

// DayActivity counts one UTC day's conversations and messages.
type DayActivity struct {
	Day           time.Time `json:"day"`
	Conversations int64     `json:"conversations"`
	Messages      int64     `json:"messages"`
}

// KBCounts counts knowledge-base documents.
type KBCounts struct {
	ByStatus map[string]int64 `json:"by_status"`
	Backlog  int64            `json:"backlog"`
}

// FlagCounts counts live flags.
type FlagCounts struct {
	Total      int64            `json:"total"`
	ByCategory map[string]int64 `json:"by_category"`
	ByType     map[string]int64 `json:"by_type"`
}

// Scheduled counts pending scheduled changes.
type Scheduled struct {
	Pending int64      `json:"pending"`
	NextDue *DueChange `json:"next_due"`
}

// DueChange is the next pending scheduled change.
type DueChange struct {
	ID          uuid.UUID `json:"id"`
	FlagKey     string    `json:"flag_key"`
	ScheduledAt time.Time `json:"scheduled_at"`
}

// LiveCounts counts the live connections of all replicas.
type LiveCounts struct {
	Replicas  int `json:"replicas"`
	SSE       int `json:"sse_streams"`
	WebSocket int `json:"websocket_sessions"`
	Voice     int `json:"voice_sessions"`
	Admin     int `json:"admin_sockets"`
}

// CacheLayer is one cache layer's hit rate on this replica.
type CacheLayer struct {
	Layer   string  `json:"layer"`
	Hits    int64   `json:"hits"`
	Misses  int64   `json:"misses"`
	HitRate float64 `json:"hit_rate"`
}

// Dependency is one dependency's health.
type Dependency struct {
	Name      string     `json:"name"`
	State     string     `json:"state"`
	LatencyMS float64    `json:"latency_ms"`
	Error     string     `json:"error"`
	CheckedAt *time.Time `json:"checked_at"` // nil: never checked
}

// Summary returns the dashboard, computed at most every CacheTTL and shared by replicas.
// Its cache key names the newest audit entry, so an audited change invalidates it at once.
func (s *Service) Summary(ctx context.Context) (Summary, error) {
	head, err := s.q.PanelAuditHead(ctx)
	if err != nil {
		return Summary{}, wrap("audit head", err)
	}
	return s.summaryAt(ctx, head)
}

func (s *Service) summaryAt(ctx context.Context, head int64) (Summary, error) {
	return cached(ctx, s, s.key("summary", strconv.FormatInt(head, 10)), s.ComputeSummary)
}

// SummaryJSON is Summary as encode renders it (the API's shape), cached in Redis as those
// bytes so a cached answer is written as is: no decoding and re-encoding per request.
// A miss goes through Summary's own cache, which the admin socket shares.
func (s *Service) SummaryJSON(ctx context.Context, encode func(Summary) ([]byte, error)) ([]byte, error) {
	head, err := s.q.PanelAuditHead(ctx)
	if err != nil {
		return nil, wrap("audit head", err)
	}
	key := s.key("summary", "encoded", strconv.FormatInt(head, 10))
	raw, err := s.cfg.Redis.Get(ctx, key).Bytes()
	if err == nil {
		return raw, nil
	}
	if !errors.Is(err, redis.Nil) {
		s.log.Warn("adminpanel: read cache", "key", key, "error", err)
	}
	sum, err := s.summaryAt(ctx, head)
	if err != nil {
		return nil, err
	}
	if raw, err = encode(sum); err != nil {
		return nil, wrap("encode summary", err)
	}
	// Live only as long as the value it encodes, so an answer is never older than CacheTTL.
	if ttl := CacheTTL - s.now().Sub(sum.GeneratedAt); ttl >= time.Millisecond {
		if err := s.cfg.Redis.Set(ctx, key, raw, ttl).Err(); err != nil {
			s.log.Warn("adminpanel: write cache", "key", key, "error", err)
		}
	}
	return raw, nil
}

// ComputeSummary computes the dashboard without the cache. Its parts are independent
// reads, run concurrently (each on its own pooled connection).
func (s *Service) ComputeSummary(ctx context.Context) (Summary, error) {
	now := s.now().UTC()
	var out Summary
	out.GeneratedAt = now
	parts := []func(context.Context) error{
		func(ctx context.Context) error { return s.userCounts(ctx, now, &out.Users) },
		func(ctx context.Context) error { return s.activity(ctx, now, &out) },
		func(ctx context.Context) error { return s.kbCounts(ctx, &out.KB) },
		func(ctx context.Context) error { return s.flagCounts(ctx, &out.Flags) },
		func(ctx context.Context) error { return s.scheduled(ctx, &out.Scheduled) },
		func(ctx context.Context) error {
			conns, err := s.Connections(ctx)
			if err != nil {
				return err
			}
			out.Live = LiveCounts{Replicas: len(conns.Replicas), SSE: conns.SSEStreams, WebSocket: conns.WebSocket.Total,
				Voice: conns.Voice.Total, Admin: conns.Admin.Total}
			return nil
		},
		func(ctx context.Context) error { out.Dependencies = s.dependencies(ctx); return nil },
	}
	errs := make([]error, len(parts))
	var wg sync.WaitGroup
	for i, f := range parts {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = f(ctx) }()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return out, err
	}
	out.Cache = []CacheLayer{}
	if f := s.cfg.Sources.CacheStats; f != nil {
		out.Cache = f()
	}
	return out, nil
}

func (s *Service) userCounts(ctx context.Context, now time.Time, u *UserCounts) error {
	rows, err := s.q.PanelUsersByRole(ctx)
	if err != nil {
		return wrap("users by role", err)
	}
	u.ByRole = map[string]int64{"user": 0, "viewer": 0, "admin": 0, "superadmin": 0}
	for _, r := range rows {
		u.Total += r.N
		u.ByRole[r.Role] += r.N
		if r.IsActive {
			u.Active += r.N
		}
	}
	n, err := s.q.PanelNewUsers(ctx, db.PanelNewUsersParams{Since24h: now.Add(-24 * time.Hour), Since7d: now.Add(-7 * 24 * time.Hour)})
	if err != nil {
		return wrap("new users", err)
	}
	u.New24h, u.New7d = n.New24h, n.New7d
	return nil
}

func (s *Service) activity(ctx context.Context, now time.Time, out *Summary) error {
	first := counter.Day(now).AddDate(0, 0, -(activityDays - 1))
	days := make([]DayActivity, activityDays)
	idx := map[time.Time]*DayActivity{}
	for i := range days {
		days[i].Day = first.AddDate(0, 0, i)
		idx[days[i].Day] = &days[i]
	}
	at := func(d pgtype.Date) *DayActivity { return idx[counter.Day(d.Time)] }
	convs, err := s.q.PanelConversationsPerDay(ctx, first)
	if err != nil {
		return wrap("conversations per day", err)
	}
	for _, r := range convs {
		if d := at(r.Day); d != nil {
			d.Conversations = r.N
		}
	}
	// Messages per day are kept in daily_counters (a count over the messages table grows
	// with it: 120 ms for 270,000 rows, docs/benchmarks.md).
	msgs, err := s.q.DailyCounterSince(ctx, db.DailyCounterSinceParams{Since: pgtype.Date{Time: first, Valid: true}, Name: counter.Messages})
	if err != nil {
		return wrap("messages per day", err)
	}
	for _, r := range msgs {
		if d := at(r.Day); d != nil {
			d.Messages = r.Value
		}
	}
	out.Activity = days
	return nil
}

func (s *Service) kbCounts(ctx context.Context, kb *KBCounts) error {
	kb.ByStatus = map[string]int64{"pending": 0, "processing": 0, "indexed": 0, "failed": 0}
	rows, err := s.q.PanelKBByStatus(ctx)
	if err != nil {
		return wrap("documents by status", err)
	}
	for _, r := range rows {
		kb.ByStatus[r.Status] = r.N
	}
	kb.Backlog = kb.ByStatus["pending"] + kb.ByStatus["processing"]
	return nil
}

func (s *Service) flagCounts(ctx context.Context, fc *FlagCounts) error {
	flags, err := s.q.PanelFlagCounts(ctx)
	if err != nil {
		return wrap("flag counts", err)
	}
	fc.ByCategory, fc.ByType = map[string]int64{}, map[string]int64{}
	for _, f := range flags {
		fc.Total += f.N
		fc.ByCategory[f.Category] += f.N
		fc.ByType[f.Type] += f.N
	}
	return nil
}

func (s *Service) scheduled(ctx context.Context, sc *Scheduled) error {
	var err error
	if sc.Pending, err = s.q.PanelPendingChanges(ctx); err != nil {
		return wrap("pending changes", err)
	}
	next, err := s.q.PanelNextDueChange(ctx)
	switch {
	case err == nil:
		sc.NextDue = &DueChange{ID: next.ID, FlagKey: next.FlagKey, ScheduledAt: next.ScheduledAt.UTC()}
	case !errors.Is(err, pgx.ErrNoRows):
		return wrap("next change", err)
	}
	return nil
}

// dependencies reports the newest probe round of what /ready probes (Run refreshes it every
// probeEvery; a request probes only when none is younger than probeMaxAge) and the chat
// model's last observed call, each with when it was taken.
func (s *Service) dependencies(ctx context.Context) []Dependency {
	out := []Dependency{}
	if s.cfg.Sources.Ready != nil {
		st, at := s.cfg.Sources.Ready.Recent(ctx, probeMaxAge)
		for name, v := range st {
			d := Dependency{Name: name, State: v.State, Error: v.Err, LatencyMS: ms(v.Latency)}
			if v.State != "disabled" {
				d.CheckedAt = utcPtr(at)
			}
			out = append(out, d)
		}
	}
	model := Dependency{Name: "model", State: "unknown"}
	if o, ok := s.observed("model"); ok {
		model = Dependency{Name: "model", State: "up", LatencyMS: ms(o.Latency), Error: o.Err, CheckedAt: utcPtr(o.At)}
		if !o.OK {
			model.State = "down"
		}
	}
	out = append(out, model)
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

func utcPtr(t time.Time) *time.Time { t = t.UTC(); return &t }

func (s *Service) observed(name string) (health.Observation, bool) {
	if s.cfg.Sources.Observed == nil {
		return health.Observation{}, false
	}
	return s.cfg.Sources.Observed.Get(name)
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
