package fault

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestFaultRevocationSurvivesRedisLoss: a logged-out access token stays refused after Redis
// restarts empty (issue 21 #20), on the replica that logged out and on another one.
func TestFaultRevocationSurvivesRedisLoss(t *testing.T) {
	c := newCluster(t, nil)
	r1 := c.start(nil)
	r2 := c.start(nil)
	ctx := context.Background()
	access, _ := r1.login(t, adminEmail, adminPassword)
	kept, _ := r1.login(t, adminEmail, adminPassword) // another session: must keep working

	res, err := r1.C.LogoutWithResponse(ctx, bearer(access))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)
	for _, r := range []*replica{r1, r2} {
		status, body, err := do(ctx, http.MethodGet, r.URL+"/api/auth/me", access, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusUnauthorized, status, "%s before the Redis restart: %s", r.name, body)
	}

	env.redis.stop()
	require.NoError(t, env.redis.start())

	for _, r := range []*replica{r1, r2, r1} {
		status, body, err := do(ctx, http.MethodGet, r.URL+"/api/auth/me", access, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusUnauthorized, status, "%s after the Redis restart accepted a logged-out token: %s", r.name, body)
		require.Contains(t, string(body), "TOKEN_REVOKED")
		status, body, err = do(ctx, http.MethodGet, r.URL+"/api/auth/me", kept, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, status, "%s refused a live session: %s", r.name, body)
	}
	// A replica started after the loss knows the revocation too.
	env.redis.stop()
	require.NoError(t, env.redis.start())
	r3 := c.start(nil)
	status, body, err := do(ctx, http.MethodGet, r3.URL+"/api/auth/me", access, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, status, "%s", body)
}
