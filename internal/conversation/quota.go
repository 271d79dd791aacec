package conversation

import (
	"context"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/chat"
	"github.com/voiceassist/gateway/internal/ratelimit"
)

// Limits bound what one user may spend on answers (issue 21 #4, #15). A zero Limits (the
// default) limits nothing, for tests and tools that build a Service directly.
type Limits struct {
	Limiter *ratelimit.Limiter    // nil: no rate limit
	Redis   redis.UniversalClient // nil: no stream cap and no token quota
	Prefix  string                // Redis key prefix
	// AnswersPerMinute limits send, stream and regenerate per user.
	AnswersPerMinute int
	// MaxStreams caps concurrent streamed answers per user (0 = none).
	MaxStreams int
	// DailyTokens is the estimated model tokens per user per UTC day (0 = none); set it only
	// when a paid model answers.
	DailyTokens int
	// MaxConversations caps the conversations one user keeps (0 = none).
	MaxConversations int
}

// streamLease bounds how long a stream slot counts if its replica dies without releasing it.
const streamLease = 30 * time.Minute

// SetLimits installs limits; call it before serving.
func (s *Service) SetLimits(l Limits) { s.limits = l }

// Admit is asked before answering for user: 429 when the per-minute answer limit or the daily
// token quota is used up, 503 when Redis cannot be asked (fail closed, as other limits do).
func (s *Service) Admit(ctx context.Context, user uuid.UUID) error {
	l := s.limits
	if l.Limiter != nil && l.AnswersPerMinute > 0 {
		rule := ratelimit.Rule{Name: "chat_user", Limit: l.AnswersPerMinute, Window: time.Minute}
		if err := l.Limiter.Check(ctx, rule, user.String(), true, "Too many questions; retry later"); err != nil {
			return err
		}
	}
	if l.Redis == nil || l.DailyTokens <= 0 {
		return nil
	}
	now := time.Now().UTC()
	used, err := l.Redis.Get(ctx, s.tokenKey(user, now)).Int()
	if err != nil && err != redis.Nil {
		return apierr.Unavailable("The token quota cannot be checked right now; try again shortly", err)
	}
	if used < l.DailyTokens {
		return nil
	}
	midnight := now.Truncate(24 * time.Hour).Add(24 * time.Hour)
	return apierr.New(http.StatusTooManyRequests, "TOKEN_QUOTA_EXCEEDED", "Today's answer quota is used up; it renews at 00:00 UTC").
		WithHeader("Retry-After", strconv.FormatInt(int64(midnight.Sub(now)/time.Second)+1, 10))
}

// AdmitStream is Admit for a streamed answer, which also takes one of the user's stream
// slots; release (never nil) gives it back.
func (s *Service) AdmitStream(ctx context.Context, user uuid.UUID) (release func(), err error) {
	release = func() {}
	if err := s.Admit(ctx, user); err != nil {
		return release, err
	}
	l := s.limits
	if l.Redis == nil || l.MaxStreams <= 0 {
		return release, nil
	}
	key := l.Prefix + "chat:streams:" + user.String()
	n, err := l.Redis.Incr(ctx, key).Result()
	if err != nil {
		return release, apierr.Unavailable("The stream limit cannot be checked right now; try again shortly", err)
	}
	l.Redis.Expire(ctx, key, streamLease)
	release = func() { l.Redis.Decr(context.WithoutCancel(ctx), key) }
	if n > int64(l.MaxStreams) {
		release()
		return func() {}, apierr.New(http.StatusTooManyRequests, "TOO_MANY_STREAMS",
			"Too many answers are streaming at once; wait for one to finish").WithHeader("Retry-After", "1")
	}
	return release, nil
}

// charge counts an answer's estimated tokens against the daily quota.
func (s *Service) charge(ctx context.Context, user uuid.UUID, tokens int) {
	l := s.limits
	if l.Redis == nil || l.DailyTokens <= 0 || user == uuid.Nil {
		return
	}
	key := s.tokenKey(user, time.Now().UTC())
	pipe := l.Redis.TxPipeline()
	pipe.IncrBy(ctx, key, int64(tokens))
	pipe.Expire(ctx, key, 48*time.Hour)
	_, _ = pipe.Exec(context.WithoutCancel(ctx))
}

func (s *Service) tokenKey(user uuid.UUID, day time.Time) string {
	return s.limits.Prefix + "chat:tokens:" + day.Format("2006-01-02") + ":" + user.String()
}

// estimate is the tokens an answer cost: the history, the question and the answer.
func estimate(history []Message, question, answer string) int {
	n := chat.EstimateTokens(question) + chat.EstimateTokens(answer)
	for _, m := range history {
		n += chat.EstimateTokens(m.Content)
	}
	return n
}

// roomFor refuses a new conversation when user already keeps MaxConversations (409).
// Concurrent creations may overshoot the cap by their number; it bounds storage, not exactly.
func (s *Service) roomFor(ctx context.Context, user uuid.UUID) error {
	if s.limits.MaxConversations <= 0 {
		return nil
	}
	n, err := s.q.CountConversations(ctx, user)
	if err != nil {
		return err
	}
	if n >= int64(s.limits.MaxConversations) {
		return apierr.Conflict("CONVERSATION_LIMIT", "You keep "+strconv.FormatInt(n, 10)+" conversations, the most allowed; delete some first")
	}
	return nil
}
