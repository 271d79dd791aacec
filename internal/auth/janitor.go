package auth

import (
	"context"
	"fmt"
	"time"
)

// JanitorInterval is how often RunJanitor sweeps.
const JanitorInterval = time.Hour

// SweepRefreshTokens deletes refresh tokens a day past expiry (kept that long so a late
// reuse of a rotated token is still recognised), revocations past their tokens' life, and
// invitations and reset tokens 30 days past expiry, and returns how many refresh tokens it
// deleted.
func (s *Service) SweepRefreshTokens(ctx context.Context) (int64, error) {
	n, err := s.q.DeleteExpiredRefreshTokens(ctx)
	if err != nil {
		return 0, fmt.Errorf("auth: delete expired refresh tokens: %w", err)
	}
	// Revoked sessions no token of which can still be valid.
	if _, err := s.q.DeleteExpiredRevokedSessions(ctx); err != nil {
		return n, fmt.Errorf("auth: delete expired revoked sessions: %w", err)
	}
	// Invitations and reset tokens long dead (admin.go).
	if _, err := s.q.DeleteStaleAdminTokens(ctx); err != nil {
		return n, fmt.Errorf("auth: delete stale invitations and reset tokens: %w", err)
	}
	return n, nil
}

// RunJanitor calls SweepRefreshTokens every interval until ctx ends. Every replica runs it;
// the delete is idempotent.
func (s *Service) RunJanitor(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			n, err := s.SweepRefreshTokens(ctx)
			if err != nil && ctx.Err() == nil {
				s.log.Warn("delete expired refresh tokens", "error", err)
			} else if n > 0 {
				s.log.Info("deleted expired refresh tokens", "count", n)
			}
		}
	}
}
