package auth

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/apierr"
)

// Revocation is kept in two places (issue 21 #20): PostgreSQL is the truth, written in the
// revoking transaction (revoked_sessions; users.auth_epoch and auth_epoch_at); Redis holds
// the fast path ("revoked:fam:<id>", "revoked:jti:<id>", and "epoch:<user>": the current
// auth epoch of a user whose epoch changed within an access token's lifetime). Redis may
// lose its keys (a restart without persistence, FLUSHALL, eviction), so it also holds a
// sentinel written after the keys were loaded from PostgreSQL: every check reads the
// sentinel with the keys, and a missing sentinel means Redis forgot, so the keys are
// reloaded before the check is answered. A revoked token is therefore never accepted
// because Redis lost state.

const revocationSentinel = "revocations:loaded"

// revoked reports whether an access token (by id), its session (family) or the auth epoch
// it was issued under is revoked: one MGET (issue 17: no database read per request).
func (s *Service) revoked(ctx context.Context, jti, family, user uuid.UUID, epoch int32) (bool, error) {
	for attempt := 0; ; attempt++ {
		vals, err := s.reads.mget(ctx, s.prefix+revocationSentinel, s.prefix+"revoked:jti:"+jti.String(),
			s.prefix+"revoked:fam:"+family.String(), s.epochKey(user))
		if err != nil {
			return false, apierr.Unavailable("Token revocation cannot be checked; try again shortly", err)
		}
		if vals[0] != nil || attempt > 0 {
			if vals[1] != nil || vals[2] != nil {
				return true, nil
			}
			// No key: the epoch has not changed within a token's lifetime, so a token
			// that has not expired carries the current one.
			cur, ok := vals[3].(string)
			return ok && cur != strconv.Itoa(int(epoch)), nil
		}
		if err := s.LoadRevocations(ctx); err != nil {
			return false, apierr.Unavailable("Token revocation cannot be checked; try again shortly", err)
		}
	}
}

// setRevokedFamilies queues the fast-path keys of revoked sessions, kept as long as a token
// of them can be valid.
func (s *Service) setRevokedFamilies(ctx context.Context, pipe redis.Pipeliner, families []uuid.UUID) {
	for _, f := range families {
		pipe.Set(ctx, s.prefix+"revoked:fam:"+f.String(), "1", s.tokens.refreshTTL+time.Minute)
	}
}

func (s *Service) epochKey(user uuid.UUID) string { return s.prefix + "epoch:" + user.String() }

// epochTTL is how long Redis must remember a user's new epoch: until every token issued
// under an earlier one has expired.
func (s *Service) epochTTL() time.Duration { return s.tokens.accessTTL + tokenSkew + time.Minute }

// sessionsEnded tells Redis, after the transaction that bumped a user's epoch to epoch and
// revoked their sessions (families) committed, so that the next request with any of their
// tokens is refused on every replica. Retried briefly: PostgreSQL already holds the truth,
// and a reload (a missing sentinel) rebuilds these keys from it.
func (s *Service) sessionsEnded(ctx context.Context, user uuid.UUID, epoch int32, families ...uuid.UUID) error {
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		pipe := s.rdb.TxPipeline()
		pipe.Set(ctx, s.epochKey(user), strconv.Itoa(int(epoch)), s.epochTTL())
		s.setRevokedFamilies(ctx, pipe, families)
		if _, err = pipe.Exec(ctx); err == nil {
			return nil
		}
		time.Sleep(time.Duration(attempt+1) * 20 * time.Millisecond)
	}
	return err
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
	epochs, err := s.q.ListRecentAuthEpochs(ctx, now.Add(-s.epochTTL()))
	if err != nil {
		return fmt.Errorf("auth: list recent auth epochs: %w", err)
	}
	for _, e := range epochs {
		if ttl := e.ChangedAt.Add(s.epochTTL()).Sub(now); ttl > 0 {
			pipe.Set(ctx, s.epochKey(e.ID), strconv.Itoa(int(e.AuthEpoch)), ttl)
		}
	}
	pipe.Set(ctx, s.prefix+revocationSentinel, now.UTC().Format(time.RFC3339), 0)
	if _, err := pipe.Exec(ctx); err != nil {
		return fmt.Errorf("auth: load revocations into redis: %w", err)
	}
	s.log.Info("revocations loaded into redis", "sessions", len(rows), "epochs", len(epochs))
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
