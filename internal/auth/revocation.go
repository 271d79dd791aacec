package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/apierr"
)

// Revocation is kept in two places (issue 21 #20): PostgreSQL's revoked_sessions is the
// truth, written in the revoking transaction; Redis holds the fast path
// ("revoked:fam:<id>", "revoked:jti:<id>"). Redis may lose its keys (a restart without
// persistence, FLUSHALL, eviction), so it also holds a sentinel written after the keys were
// loaded from PostgreSQL: every check reads the sentinel with the keys, and a missing
// sentinel means Redis forgot, so the keys are reloaded before the check is answered.
// A revoked token is therefore never accepted because Redis lost state.

const revocationSentinel = "revocations:loaded"

// revoked reports whether an access token (by id) or its session (family) is revoked.
func (s *Service) revoked(ctx context.Context, jti, family uuid.UUID) (bool, error) {
	for attempt := 0; ; attempt++ {
		vals, err := s.rdb.MGet(ctx, s.prefix+revocationSentinel, s.prefix+"revoked:jti:"+jti.String(), s.prefix+"revoked:fam:"+family.String()).Result()
		if err != nil {
			return false, apierr.Unavailable("Token revocation cannot be checked; try again shortly", err)
		}
		if vals[0] != nil || attempt > 0 {
			return vals[1] != nil || vals[2] != nil, nil
		}
		if err := s.LoadRevocations(ctx); err != nil {
			return false, apierr.Unavailable("Token revocation cannot be checked; try again shortly", err)
		}
	}
}

// LoadRevocations copies the unexpired revocations from PostgreSQL into Redis unless the
// sentinel says Redis already has them. Called at start and whenever the sentinel is gone.
func (s *Service) LoadRevocations(ctx context.Context) error {
	s.reload.Lock() // replicas may reload at once: SET is idempotent
	defer s.reload.Unlock()
	if n, err := s.rdb.Exists(ctx, s.prefix+revocationSentinel).Result(); err != nil {
		return err
	} else if n > 0 {
		return nil
	}
	rows, err := s.q.ListRevokedSessions(ctx)
	if err != nil {
		return fmt.Errorf("auth: list revoked sessions: %w", err)
	}
	now := s.now()
	pipe := s.rdb.Pipeline()
	for _, r := range rows {
		if ttl := r.ExpiresAt.Sub(now); ttl > 0 {
			pipe.Set(ctx, s.prefix+"revoked:fam:"+r.FamilyID.String(), "1", ttl)
		}
	}
	pipe.Set(ctx, s.prefix+revocationSentinel, now.UTC().Format(time.RFC3339), 0)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("auth: load revocations into redis: %w", err)
	}
	s.log.Info("revocations loaded into redis", "sessions", len(rows))
	return nil
}

// recordRevoked stores session revocations in PostgreSQL (in the caller's transaction),
// for as long as any token of those sessions can be valid.
func (s *Service) recordRevoked(ctx context.Context, q *db.Queries, families ...uuid.UUID) error {
	until := s.now().Add(s.tokens.refreshTTL + time.Minute)
	for _, f := range families {
		if err := q.RecordRevokedSession(ctx, db.RecordRevokedSessionParams{FamilyID: f, ExpiresAt: until}); err != nil {
			return fmt.Errorf("auth: record revoked session: %w", err)
		}
	}
	return nil
}
