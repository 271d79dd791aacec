package phi

import (
	"context"
	"fmt"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/ratelimit"
)

// MaxTextChars is the longest text the API examines, in code points.
const MaxTextChars = 100_000

// Service answers the /api/phi operations: limits, then Detect. It never stores, logs or
// audits the text.
type Service struct {
	limiter   *ratelimit.Limiter
	perMinute int
}

// NewService builds the service; a nil limiter disables the per-user limit.
func NewService(limiter *ratelimit.Limiter, perMinute int) *Service {
	return &Service{limiter: limiter, perMinute: perMinute}
}

// Detect finds the identifiers of the given types (all when types is empty) for user.
func (s *Service) Detect(ctx context.Context, user uuid.UUID, text string, types []string) ([]Finding, error) {
	if err := s.check(ctx, user, text, types); err != nil {
		return nil, err
	}
	return Filter(Detect(text), types), nil
}

// Redact returns text with the identifiers of the given types replaced, and the findings.
func (s *Service) Redact(ctx context.Context, user uuid.UUID, text string, types []string) (string, []Finding, error) {
	fs, err := s.Detect(ctx, user, text, types)
	if err != nil {
		return "", nil, err
	}
	return Redact(text, fs), fs, nil
}

func (s *Service) check(ctx context.Context, user uuid.UUID, text string, types []string) error {
	if n := utf8.RuneCountInString(text); n == 0 || n > MaxTextChars {
		return apierr.Invalid("text", fmt.Sprintf("must be 1 to %d characters", MaxTextChars))
	}
	for _, t := range types {
		if !KnownType(t) {
			return apierr.Invalid("types", "unknown type "+t)
		}
	}
	if s.limiter == nil {
		return nil
	}
	rule := ratelimit.Rule{Name: "phi_user", Limit: s.perMinute, Window: time.Minute}
	return s.limiter.Check(ctx, rule, user.String(), true, "Too many PHI requests; retry later")
}
