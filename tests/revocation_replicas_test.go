package tests

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/auth"
)

// Issue 17: authentication reads no database row, only one Redis MGET (token, session and
// the user's auth epoch), and stays immediate across replicas: a token whose session ends
// through one replica (role change, deactivation, password change, logout) is refused by
// another replica on its very next request, even though that replica had just verified and
// cached the token; and still after Redis lost every key (the epochs are reloaded from
// users.auth_epoch_at).
func TestRevokedOnOneReplicaRefusedOnAnother(t *testing.T) {
	t.Parallel()
	a := startServer(t, nil)
	b := startServer(t, map[string]string{"DATABASE_URL": a.Env["DATABASE_URL"], "REDIS_KEY_PREFIX": a.Env["REDIS_KEY_PREFIX"]})
	ctx := context.Background()
	super := a.token(t, a.account(t, auth.RoleSuperadmin))

	meOn := func(s *testServer, tok string) *client.GetMeResponse {
		t.Helper()
		r, err := s.Client.GetMeWithResponse(ctx, bearerAuth(tok))
		require.NoError(t, err)
		return r
	}
	refused := func(tok, why string) {
		t.Helper()
		r := meOn(b, tok)
		require.Equal(t, http.StatusUnauthorized, r.StatusCode(), "%s: %s", why, r.Body)
		require.Contains(t, string(r.Body), "TOKEN_REVOKED", why)
	}

	// Role change through A.
	u1 := a.account(t, auth.RoleUser)
	t1 := a.token(t, u1)
	me := meOn(b, t1)
	require.Equal(t, http.StatusOK, me.StatusCode(), "%s", me.Body)
	require.Equal(t, u1.Email, string(me.JSON200.Data.Email), "the email comes from the token")
	role, err := a.Client.SetUserRoleWithResponse(ctx, u1.User.ID, client.SetRoleRequest{Role: client.RoleViewer}, bearerAuth(super))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, role.StatusCode(), "%s", role.Body)
	refused(t1, "role changed on A")
	fresh := b.token(t, u1)
	me = meOn(b, fresh)
	require.Equal(t, http.StatusOK, me.StatusCode(), "%s", me.Body)
	require.Equal(t, client.RoleViewer, me.JSON200.Data.Role, "a new token carries the new role")

	// Deactivation through A.
	u2 := a.account(t, auth.RoleUser)
	t2 := a.token(t, u2)
	require.Equal(t, http.StatusOK, meOn(b, t2).StatusCode())
	off, err := a.Client.DeactivateUserWithResponse(ctx, u2.User.ID, bearerAuth(super))
	require.NoError(t, err)
	require.Less(t, off.StatusCode(), 300, "%s", off.Body)
	refused(t2, "deactivated on A")

	// Password change through A: the old token dies, the new pair works on B.
	u3 := a.account(t, auth.RoleUser)
	t3 := a.token(t, u3)
	require.Equal(t, http.StatusOK, meOn(b, t3).StatusCode())
	pw, err := a.Client.ChangePasswordWithResponse(ctx, client.ChangePasswordRequest{CurrentPassword: u3.Password, NewPassword: "another-Strong-passphrase-7"}, bearerAuth(t3))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, pw.StatusCode(), "%s", pw.Body)
	refused(t3, "password changed on A")
	require.Equal(t, http.StatusOK, meOn(b, pw.JSON200.Data.AccessToken).StatusCode())

	// Logout through A.
	u4 := a.account(t, auth.RoleUser)
	t4 := a.token(t, u4)
	require.Equal(t, http.StatusOK, meOn(b, t4).StatusCode())
	out, err := a.Client.LogoutWithResponse(ctx, bearerAuth(t4))
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, out.StatusCode())
	refused(t4, "logged out on A")

	// Redis loses every key of these replicas: the epochs and sessions come back from
	// PostgreSQL before the next check.
	u5 := a.account(t, auth.RoleUser)
	t5 := a.token(t, u5)
	require.Equal(t, http.StatusOK, meOn(b, t5).StatusCode())
	off, err = a.Client.DeactivateUserWithResponse(ctx, u5.User.ID, bearerAuth(super))
	require.NoError(t, err)
	require.Less(t, off.StatusCode(), 300, "%s", off.Body)
	var keys []string
	it := a.App.Redis.Scan(ctx, 0, a.Env["REDIS_KEY_PREFIX"]+"*", 1000).Iterator()
	for it.Next(ctx) {
		keys = append(keys, it.Val())
	}
	require.NoError(t, it.Err())
	require.NoError(t, a.App.Redis.Del(ctx, keys...).Err())
	for name, tok := range map[string]string{"role": t1, "deactivated": t2, "password": t3, "logout": t4, "deactivated, then Redis lost": t5} {
		refused(tok, name+" (after Redis lost its keys)")
	}
	require.Equal(t, http.StatusOK, meOn(b, fresh).StatusCode(), "a live session is unaffected")
}
