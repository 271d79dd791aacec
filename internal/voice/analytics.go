package voice

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/redis/go-redis/v9"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/page"
)

// Turn outcomes and inputs as analytics records them.
const (
	OutcomeAnswered    = "answered"
	OutcomeInterrupted = "interrupted"
	OutcomeFailed      = "failed"
	InputVoice         = "voice"
	InputText          = "text"
)

// TurnStats is what one voice turn did (docs/voice.md, "Session analytics"). Durations are
// nil when the turn never reached that point (no STT for a typed turn, no audio when muted).
// FirstToken, FirstAudio and Total count from the turn's start; STT and Retrieval are the
// length of their stage.
type TurnStats struct {
	ID                                int64
	Session, Turn                     uuid.UUID
	Input, Outcome                    string
	STT, Retrieval, FirstToken, Audio *time.Duration
	Total                             time.Duration
	BargeIns, Repairs                 int
	UserWords, AnswerWords            int
	Variants                          map[string]string
	At                                time.Time // when the turn started
}

// CountWords is the word count analytics records: runs of non-space characters.
func CountWords(text string) int { return len(strings.Fields(text)) }

// AnalyticsService stores per-turn analytics and reads them back per session and per day.
type AnalyticsService struct {
	Q *db.Queries
	// Redis caches the daily aggregate for AnalyticsCacheTTL (nil: not cached); Prefix
	// starts its keys.
	Redis  redis.UniversalClient
	Prefix string
	Now    func() time.Time
}

// AnalyticsCacheTTL is how long a computed daily aggregate is reused (like the admin panel).
const AnalyticsCacheTTL = 10 * time.Second

// Record stores one turn.
func (s *AnalyticsService) Record(ctx context.Context, t TurnStats) error {
	variants, err := json.Marshal(t.Variants)
	if err != nil || t.Variants == nil {
		variants = []byte("{}")
	}
	err = s.Q.InsertVoiceTurnAnalytics(ctx, db.InsertVoiceTurnAnalyticsParams{
		SessionID: t.Session, TurnID: t.Turn, Input: t.Input, Outcome: t.Outcome,
		SttMs: msPtr(t.STT), RetrievalMs: msPtr(t.Retrieval), FirstTokenMs: msPtr(t.FirstToken), FirstAudioMs: msPtr(t.Audio),
		TotalMs: ms(t.Total), BargeIns: int16(min(t.BargeIns, 1<<15-1)), Repairs: int16(min(t.Repairs, 1<<15-1)),
		UserWords: int32(t.UserWords), AnswerWords: int32(t.AnswerWords), Variants: variants, CreatedAt: t.At.UTC(),
	})
	if err != nil {
		return fmt.Errorf("voice: record turn analytics: %w", err)
	}
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func msPtr(d *time.Duration) *float64 {
	if d == nil {
		return nil
	}
	v := ms(*d)
	return &v
}

func durPtr(v *float64) *time.Duration {
	if v == nil {
		return nil
	}
	d := time.Duration(*v * float64(time.Millisecond))
	return &d
}

// Percentiles of one timing in milliseconds; nil without any value.
type Percentiles struct{ P50, P95, P99 *float64 }

func percentilesOf(v []float64) Percentiles {
	var p Percentiles
	for i, dst := range []**float64{&p.P50, &p.P95, &p.P99} {
		if i < len(v) {
			x := v[i]
			*dst = &x
		}
	}
	return p
}

// Timings are the percentiles of every per-turn timing.
type Timings struct{ STT, Retrieval, FirstToken, FirstAudio, Total Percentiles }

// SessionAnalytics is a page of a session's turns and the summary of all of them (P99 unset).
type SessionAnalytics struct {
	Turns                        []TurnStats
	Next                         string // cursor of the next page, "" at the end
	Count, Answered, Interrupted int64
	Failed, BargeIns, Repairs    int64
	Timings                      Timings
}

// Session reads the analytics of a session the user owns (404 for any other or unknown
// session). No flag is checked: the owner reads the rows that exist (none when the flag was
// off for every turn).
func (s *AnalyticsService) Session(ctx context.Context, user, id uuid.UUID, cursor string, limit int) (SessionAnalytics, error) {
	if cursor != "" { // a bad cursor is a 400 before any lookup
		if _, err := page.DecodeKeyset(cursor); err != nil {
			return SessionAnalytics{}, err
		}
	}
	sess, err := s.Q.GetVoiceSession(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && sess.UserID != user) {
		return SessionAnalytics{}, apierr.NotFound("Voice session")
	}
	if err != nil {
		return SessionAnalytics{}, fmt.Errorf("voice: analytics session: %w", err)
	}
	// In the order the turns started: rows are written in the background and may commit out
	// of order.
	turns, next, err := page.KeysetList(page.LayoutAt, cursor, limit, func(after *page.Keyset) ([]db.VoiceTurnAnalytic, error) {
		p := db.ListVoiceTurnAnalyticsParams{SessionID: id, Limit: page.Limit(limit)}
		if after != nil {
			p.AfterAt, p.AfterTurn = &after.At, &after.ID
		}
		return s.Q.ListVoiceTurnAnalytics(ctx, p)
	}, turnStatsOf, func(t TurnStats) page.Keyset { return page.Keyset{At: t.At, ID: t.Turn} })
	if err != nil {
		return SessionAnalytics{}, fmt.Errorf("voice: analytics turns: %w", err)
	}
	sum, err := s.Q.VoiceSessionAnalyticsSummary(ctx, id)
	if err != nil {
		return SessionAnalytics{}, fmt.Errorf("voice: analytics summary: %w", err)
	}
	out := SessionAnalytics{Count: sum.Turns, Answered: sum.Answered, Interrupted: sum.Interrupted, Failed: sum.Failed,
		BargeIns: sum.BargeIns, Repairs: sum.Repairs, Timings: Timings{
			STT: percentilesOf(sum.Stt), Retrieval: percentilesOf(sum.Retrieval), FirstToken: percentilesOf(sum.FirstToken),
			FirstAudio: percentilesOf(sum.FirstAudio), Total: percentilesOf(sum.Total)}}
	out.Turns, out.Next = turns, next
	return out, nil
}

func turnStatsOf(r db.VoiceTurnAnalytic) TurnStats {
	t := TurnStats{ID: r.ID, Session: r.SessionID, Turn: r.TurnID, Input: r.Input, Outcome: r.Outcome,
		STT: durPtr(r.SttMs), Retrieval: durPtr(r.RetrievalMs), FirstToken: durPtr(r.FirstTokenMs), Audio: durPtr(r.FirstAudioMs),
		Total: time.Duration(r.TotalMs * float64(time.Millisecond)), BargeIns: int(r.BargeIns), Repairs: int(r.Repairs),
		UserWords: int(r.UserWords), AnswerWords: int(r.AnswerWords), At: r.CreatedAt}
	if json.Unmarshal(r.Variants, &t.Variants) != nil || t.Variants == nil {
		t.Variants = map[string]string{}
	}
	return t
}

// AnalyticsDay is one UTC day of voice turns of every user.
type AnalyticsDay struct {
	Day                                time.Time
	Sessions, Turns, BargeIns, Repairs int64
	Timings                            Timings
}

// Daily aggregates the turns per UTC day over the last days days (1–MaxSummaryDays),
// oldest first, computed in SQL and cached for AnalyticsCacheTTL.
func (s *AnalyticsService) Daily(ctx context.Context, days int) ([]AnalyticsDay, error) {
	if days < 1 || days > MaxSummaryDays {
		return nil, apierr.Invalid("days", fmt.Sprintf("from 1 to %d", MaxSummaryDays))
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	today := now().UTC().Truncate(24 * time.Hour)
	key := s.Prefix + "voice:analytics:" + today.Format(time.DateOnly) + ":" + strconv.Itoa(days)
	if s.Redis != nil {
		var out []AnalyticsDay
		if raw, err := s.Redis.Get(ctx, key).Bytes(); err == nil && json.Unmarshal(raw, &out) == nil {
			return out, nil
		}
	}
	rows, err := s.Q.VoiceAnalyticsDaily(ctx, db.VoiceAnalyticsDailyParams{
		FirstDay: pgtype.Date{Time: today.AddDate(0, 0, -(days - 1)), Valid: true}, LastDay: pgtype.Date{Time: today, Valid: true}})
	if err != nil {
		return nil, fmt.Errorf("voice: analytics daily: %w", err)
	}
	out := make([]AnalyticsDay, len(rows))
	for i, r := range rows {
		out[i] = AnalyticsDay{Day: r.Day.Time, Sessions: r.Sessions, Turns: r.Turns, BargeIns: r.BargeIns, Repairs: r.Repairs,
			Timings: Timings{STT: percentilesOf(r.Stt), Retrieval: percentilesOf(r.Retrieval), FirstToken: percentilesOf(r.FirstToken),
				FirstAudio: percentilesOf(r.FirstAudio), Total: percentilesOf(r.Total)}}
	}
	if s.Redis != nil {
		// A Redis failure only costs the cache.
		if raw, err := json.Marshal(out); err == nil {
			_ = s.Redis.Set(ctx, key, raw, AnalyticsCacheTTL).Err()
		}
	}
	return out, nil
}
