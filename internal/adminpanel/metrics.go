package adminpanel

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/redis/go-redis/v9"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/counter"
)

// Bounds of Metrics' days.
const (
	MinDays     = 1
	MaxDays     = 90
	DefaultDays = 7
)

// dauTTL keeps each day's active-user HyperLogLog a little longer than MaxDays.
const dauTTL = (MaxDays + 2) * 24 * time.Hour

// MetricsDay is one UTC day of Metrics.
type MetricsDay struct {
	Day              time.Time `json:"day"`
	ActiveUsers      int64     `json:"active_users"`
	Registrations    int64     `json:"registrations"`
	Messages         int64     `json:"messages"`
	RAGWithCitations int64     `json:"rag_with"`
	RAGWithout       int64     `json:"rag_without"`
	FlagEvaluations  int64     `json:"flag_evaluations"`
	Requests         int64     `json:"requests"`
	Errors           int64     `json:"errors"`
}

// ErrorRate is Errors/Requests (0 without requests).
func (d MetricsDay) ErrorRate() float64 {
	if d.Requests == 0 {
		return 0
	}
	return float64(d.Errors) / float64(d.Requests)
}

// Metrics is the answer of GET /api/admin/panel/metrics.
type Metrics struct {
	Days        int          `json:"days"`
	GeneratedAt time.Time    `json:"generated_at"`
	Series      []MetricsDay `json:"series"`
}

func (s *Service) dauKey(day time.Time) string { return s.key("dau", day.Format(time.DateOnly)) }

// Flush stores what the daily counter set holds: counts are added to daily_counters in one
// statement, active users go into each day's HyperLogLog in Redis. What could not be stored
// is put back for the next flush.
func (s *Service) Flush(ctx context.Context) error {
	d := s.cfg.Daily.Drain()
	if d.Empty() {
		return nil
	}
	if len(d.Counts) > 0 {
		p := db.AddDailyCountersParams{}
		for k, n := range d.Counts {
			p.Days = append(p.Days, pgtype.Date{Time: k.Day, Valid: true})
			p.Names = append(p.Names, k.Name)
			p.Vals = append(p.Vals, n)
		}
		if err := s.q.AddDailyCounters(ctx, p); err != nil {
			s.cfg.Daily.Restore(d)
			return wrap("add daily counters", err)
		}
	}
	pipe := s.cfg.Redis.Pipeline()
	for day, ids := range d.Users {
		members := make([]any, len(ids))
		for i, id := range ids {
			members[i] = id.String()
		}
		pipe.PFAdd(ctx, s.dauKey(day), members...)
		pipe.Expire(ctx, s.dauKey(day), dauTTL)
	}
	// A new version makes cached metrics stale at once (their key names the version).
	pipe.Incr(ctx, s.key("counters"))
	if _, err := pipe.Exec(ctx); err != nil {
		s.cfg.Daily.Restore(counter.Drained{Users: d.Users})
		return wrap("store active users", err)
	}
	return nil
}

// Metrics returns the daily figures of the last days (today included), oldest first,
// cached for CacheTTL (until the next flush that stores something).
func (s *Service) Metrics(ctx context.Context, days int) (Metrics, error) {
	if days < MinDays || days > MaxDays {
		return Metrics{}, apierr.Invalid("days", fmt.Sprintf("must be between %d and %d", MinDays, MaxDays))
	}
	ver, err := s.cfg.Redis.Get(ctx, s.key("counters")).Result()
	if err != nil && !errors.Is(err, redis.Nil) {
		s.log.Warn("adminpanel: read counters version", "error", err)
	}
	today := counter.Day(s.now())
	key := s.key("metrics", strconv.Itoa(days), today.Format(time.DateOnly), "v"+ver)
	return cached(ctx, s, key, func(ctx context.Context) (Metrics, error) { return s.computeMetrics(ctx, today, days) })
}

func (s *Service) computeMetrics(ctx context.Context, today time.Time, days int) (Metrics, error) {
	first := today.AddDate(0, 0, -(days - 1))
	m := Metrics{Days: days, GeneratedAt: s.now().UTC(), Series: make([]MetricsDay, days)}
	idx := map[time.Time]*MetricsDay{}
	for i := range m.Series {
		d := first.AddDate(0, 0, i)
		m.Series[i].Day = d
		idx[d] = &m.Series[i]
	}
	at := func(d pgtype.Date) *MetricsDay { return idx[counter.Day(d.Time)] }

	counts, err := s.q.DailyCountersSince(ctx, pgtype.Date{Time: first, Valid: true})
	if err != nil {
		return m, wrap("daily counters", err)
	}
	for _, c := range counts {
		d := at(c.Day)
		if d == nil {
			continue
		}
		switch c.Name {
		case counter.FlagEvaluations:
			d.FlagEvaluations = c.Value
		case counter.RAGWithCitations:
			d.RAGWithCitations = c.Value
		case counter.RAGWithout:
			d.RAGWithout = c.Value
		case counter.Requests:
			d.Requests = c.Value
		case counter.Errors:
			d.Errors = c.Value
		case counter.Messages:
			d.Messages = c.Value
		}
	}
	regs, err := s.q.PanelRegistrationsPerDay(ctx, first)
	if err != nil {
		return m, wrap("registrations per day", err)
	}
	for _, r := range regs {
		if d := at(r.Day); d != nil {
			d.Registrations = r.N
		}
	}
	pipe := s.cfg.Redis.Pipeline()
	dau := make([]*redis.IntCmd, days)
	for i, d := range m.Series {
		dau[i] = pipe.PFCount(ctx, s.dauKey(d.Day))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return m, wrap("active users", err)
	}
	for i := range m.Series {
		m.Series[i].ActiveUsers = dau[i].Val()
	}
	return m, nil
}

// ActiveUser marks a user active today (for the daily active users).
func (s *Service) ActiveUser(id uuid.UUID) { s.cfg.Daily.Active(id) }
