package kb

import (
	"context"
	"time"

	"github.com/google/uuid"

	"github.com/voiceassist/gateway/internal/ratelimit"
)

// searchQuota limits the searches one user asks for directly (issue 21 #4); the chat
// pipeline's own retrieval is bounded by the chat answer limit instead.
type searchQuota struct {
	limiter   *ratelimit.Limiter
	perMinute int
}

// SetSearchLimit installs the per-user search limit (a nil limiter disables it); call it
// before serving.
func (s *Service) SetSearchLimit(l *ratelimit.Limiter, perMinute int) {
	s.quota = searchQuota{limiter: l, perMinute: perMinute}
}

// AdmitSearch counts one search by user: 429 with Retry-After past the limit, 503 when Redis
// cannot be asked.
func (s *Service) AdmitSearch(ctx context.Context, user uuid.UUID) error {
	q := s.quota
	if q.limiter == nil || q.perMinute <= 0 {
		return nil
	}
	rule := ratelimit.Rule{Name: "kb_search_user", Limit: q.perMinute, Window: time.Minute}
	return q.limiter.Check(ctx, rule, user.String(), true, "Too many searches; retry later")
}
