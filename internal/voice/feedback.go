package voice

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/phi"
)

// MaxFeedbackComment is the longest feedback comment, in characters.
const MaxFeedbackComment = 2000

// Feedback is a user's rating of one voice session; every field is optional but one must be set.
type Feedback struct {
	SessionID                      uuid.UUID
	Thumbs                         *string // up or down
	Naturalness, Accuracy, Latency *int    // 1–5
	Comment                        *string
	CommentRedacted                bool
	CreatedAt, UpdatedAt           time.Time
}

// FeedbackService stores feedback and summarises it. Comments pass the PHI guard of
// PHI_POLICY before they are stored: redacted, refused (422 PHI_BLOCKED) or kept.
type FeedbackService struct {
	Q        *db.Queries
	Switches *Switches
	Guard    *phi.Guard
	Now      func() time.Time
}

// Submit stores feedback on a session the user owns (404 for any other session) when the
// backend.voice_feedback flag is on for the user (404 FEATURE_DISABLED otherwise). A second
// submission replaces the first.
func (s *FeedbackService) Submit(ctx context.Context, user uuid.UUID, email, role string, f Feedback) (Feedback, error) {
	if !s.Switches.Enabled(CapFeedback, user, email, role) {
		return Feedback{}, ErrCapabilityOff(CapFeedback)
	}
	if err := validateFeedback(&f); err != nil {
		return Feedback{}, err
	}
	sess, err := s.Q.GetVoiceSession(ctx, f.SessionID)
	if errors.Is(err, pgx.ErrNoRows) || (err == nil && sess.UserID != user) {
		return Feedback{}, apierr.NotFound("Voice session")
	}
	if err != nil {
		return Feedback{}, fmt.Errorf("voice: feedback session: %w", err)
	}
	if f.Comment != nil {
		screened, err := s.Guard.Outbound(*f.Comment)
		if err != nil {
			return Feedback{}, withField(err, "comment")
		}
		f.CommentRedacted = screened != *f.Comment
		f.Comment = &screened
	}
	row, err := s.Q.UpsertVoiceFeedback(ctx, db.UpsertVoiceFeedbackParams{
		SessionID: f.SessionID, UserID: user, Thumbs: f.Thumbs,
		Naturalness: small(f.Naturalness), Accuracy: small(f.Accuracy), Latency: small(f.Latency),
		Comment: f.Comment, CommentRedacted: f.CommentRedacted,
	})
	if err != nil {
		return Feedback{}, fmt.Errorf("voice: store feedback: %w", err)
	}
	return feedbackOf(row), nil
}

func withField(err error, field string) error {
	var ae *apierr.Error
	if errors.As(err, &ae) {
		return ae.WithField(field)
	}
	return err
}

// validateFeedback checks what the contract cannot say: at least one field, and a comment
// that is not blank. Ranges and lengths are checked by the spec and again here.
func validateFeedback(f *Feedback) error {
	if f.Comment != nil {
		c := strings.TrimSpace(*f.Comment)
		if c == "" {
			f.Comment = nil
		} else {
			if utf8.RuneCountInString(c) > MaxFeedbackComment {
				return apierr.Invalid("comment", fmt.Sprintf("at most %d characters", MaxFeedbackComment))
			}
			f.Comment = &c
		}
	}
	if f.Thumbs != nil && *f.Thumbs != "up" && *f.Thumbs != "down" {
		return apierr.Invalid("thumbs", "up or down")
	}
	for name, v := range map[string]*int{"naturalness": f.Naturalness, "accuracy": f.Accuracy, "latency": f.Latency} {
		if v != nil && (*v < 1 || *v > 5) {
			return apierr.Invalid(name, "a rating from 1 to 5")
		}
	}
	if f.Thumbs == nil && f.Naturalness == nil && f.Accuracy == nil && f.Latency == nil && f.Comment == nil {
		return apierr.Validation(http.StatusUnprocessableEntity, apierr.FieldError{Message: "give at least one of thumbs, naturalness, accuracy, latency or comment"})
	}
	return nil
}

func small(v *int) *int16 {
	if v == nil {
		return nil
	}
	x := int16(*v)
	return &x
}

func big(v *int16) *int {
	if v == nil {
		return nil
	}
	x := int(*v)
	return &x
}

func feedbackOf(r db.VoiceFeedback) Feedback {
	return Feedback{SessionID: r.SessionID, Thumbs: r.Thumbs, Naturalness: big(r.Naturalness), Accuracy: big(r.Accuracy),
		Latency: big(r.Latency), Comment: r.Comment, CommentRedacted: r.CommentRedacted, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

// FeedbackDay is one UTC day of feedback; averages are nil without ratings of that kind.
type FeedbackDay struct {
	Day                            time.Time
	Count, ThumbsUp, ThumbsDown    int64
	Naturalness, Accuracy, Latency *float64
	// ThumbsUpRatio is up / (up + down), nil without thumbs.
	ThumbsUpRatio *float64
}

// FeedbackSummary covers the last Days UTC days including today, oldest first.
type FeedbackSummary struct {
	Days                           int
	Series                         []FeedbackDay
	Count, ThumbsUp, ThumbsDown    int64
	Naturalness, Accuracy, Latency *float64
	ThumbsUpRatio                  *float64
	Trend                          Trend
}

// Trend compares the mean rating (all three ratings pooled) of the newer half of the window
// with the older half: improving or declining when they differ by at least TrendThreshold,
// else stable; insufficient_data when either half has no rating.
type Trend struct {
	Direction       string
	Earlier, Recent *float64
}

// TrendThreshold is the change in mean rating (1–5 scale) that counts as a trend.
const TrendThreshold = 0.25

// MaxSummaryDays bounds the summary window.
const MaxSummaryDays = 90

type sums struct{ s, n int64 }

func (a *sums) add(s, n int64) { a.s += s; a.n += n }
func (a sums) mean() *float64 {
	if a.n == 0 {
		return nil
	}
	m := float64(a.s) / float64(a.n)
	return &m
}

func ratio(up, down int64) *float64 {
	if up+down == 0 {
		return nil
	}
	r := float64(up) / float64(up+down)
	return &r
}

// Summary aggregates feedback per UTC day over the last days days.
func (s *FeedbackService) Summary(ctx context.Context, days int) (FeedbackSummary, error) {
	if days < 1 || days > MaxSummaryDays {
		return FeedbackSummary{}, apierr.Invalid("days", fmt.Sprintf("from 1 to %d", MaxSummaryDays))
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	today := now().UTC().Truncate(24 * time.Hour)
	first := today.AddDate(0, 0, -(days - 1))
	rows, err := s.Q.VoiceFeedbackDaily(ctx, db.VoiceFeedbackDailyParams{
		FirstDay: pgtype.Date{Time: first, Valid: true}, LastDay: pgtype.Date{Time: today, Valid: true}})
	if err != nil {
		return FeedbackSummary{}, fmt.Errorf("voice: feedback summary: %w", err)
	}
	out := FeedbackSummary{Days: days, Series: make([]FeedbackDay, 0, len(rows))}
	var nat, acc, lat, earlier, recent sums
	for i, r := range rows {
		d := FeedbackDay{Day: r.Day.Time, Count: r.Total, ThumbsUp: r.ThumbsUp, ThumbsDown: r.ThumbsDown,
			Naturalness: sums{r.NaturalnessSum, r.NaturalnessN}.mean(), Accuracy: sums{r.AccuracySum, r.AccuracyN}.mean(),
			Latency: sums{r.LatencySum, r.LatencyN}.mean(), ThumbsUpRatio: ratio(r.ThumbsUp, r.ThumbsDown)}
		out.Series = append(out.Series, d)
		out.Count += r.Total
		out.ThumbsUp += r.ThumbsUp
		out.ThumbsDown += r.ThumbsDown
		nat.add(r.NaturalnessSum, r.NaturalnessN)
		acc.add(r.AccuracySum, r.AccuracyN)
		lat.add(r.LatencySum, r.LatencyN)
		half := &earlier
		if i >= len(rows)/2 {
			half = &recent
		}
		half.add(r.NaturalnessSum+r.AccuracySum+r.LatencySum, r.NaturalnessN+r.AccuracyN+r.LatencyN)
	}
	out.Naturalness, out.Accuracy, out.Latency = nat.mean(), acc.mean(), lat.mean()
	out.ThumbsUpRatio = ratio(out.ThumbsUp, out.ThumbsDown)
	out.Trend = trendOf(earlier.mean(), recent.mean())
	return out, nil
}

// trendOf compares the mean ratings of the older and the newer half of a window.
func trendOf(earlier, recent *float64) Trend {
	t := Trend{Direction: "insufficient_data", Earlier: earlier, Recent: recent}
	if earlier == nil || recent == nil {
		return t
	}
	switch diff := *recent - *earlier; {
	case diff >= TrendThreshold:
		t.Direction = "improving"
	case diff <= -TrendThreshold:
		t.Direction = "declining"
	default:
		t.Direction = "stable"
	}
	return t
}
