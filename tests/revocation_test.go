package tests

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/auth"
)

// Revocations are durable (issue 21 #20): when Redis loses its keys (here: every key of this
// server's prefix, as a flush or an empty restart would), a logged-out token stays refused,
// because the revocation is reloaded from PostgreSQL before the next check; live sessions are
// unaffected. Expired revocations are pruned by the janitor.
func TestRevocationSurvivesLostRedisKeys(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	a := s.account(t, auth.RoleUser)
	gone, kept := s.token(t, a), s.token(t, a)
	out, err := s.Client.LogoutWithResponse(ctx, bearerAuth(gone))
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, out.StatusCode(), "%s", out.Body)

	prefix := s.Env["REDIS_KEY_PREFIX"]
	var keys []string // only this server's keys: the shared Redis is never flushed
	it := s.App.Redis.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	for it.Next(ctx) {
		keys = append(keys, it.Val())
	}
	require.NoError(t, it.Err())
	require.NotEmpty(t, keys)
	require.NoError(t, s.App.Redis.Del(ctx, keys...).Err())

	me, err := s.Client.GetMeWithResponse(ctx, bearerAuth(gone))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, me.StatusCode(), "a logged-out token was accepted after Redis lost its keys: %s", me.Body)
	require.Contains(t, string(me.Body), "TOKEN_REVOKED")
	me, err = s.Client.GetMeWithResponse(ctx, bearerAuth(kept))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, me.StatusCode(), "%s", me.Body)
	n, err := s.App.Redis.Exists(ctx, prefix+"revocations:loaded").Result()
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "the reload leaves its sentinel")

	// Pruning: a revocation whose tokens can no longer be valid is deleted.
	_, err = s.App.Pool.Exec(ctx, `INSERT INTO revoked_sessions (family_id, expires_at) VALUES (gen_random_uuid(), $1)`, time.Now().Add(-time.Minute))
	require.NoError(t, err)
	_, err = s.App.Auth.SweepRefreshTokens(ctx)
	require.NoError(t, err)
	var left, live int
	require.NoError(t, s.App.Pool.QueryRow(ctx, `SELECT count(*) FILTER (WHERE expires_at <= now()), count(*) FILTER (WHERE expires_at > now()) FROM revoked_sessions`).Scan(&left, &live))
	require.Zero(t, left)
	require.Equal(t, 1, live, "the logout's revocation stays")
}
