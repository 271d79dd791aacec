package tests

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/auth"
)

func TestAuditChainAndTamperDetection(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	admin := s.account(t, auth.RoleAdmin)
	u := s.account(t, auth.RoleUser)
	s.login(t, u.Email, u.Password)
	s.login(t, u.Email, "a-wrong-password")
	tok := s.token(t, admin)

	logs, err := s.Client.ListAuditLogsWithResponse(ctx, &client.ListAuditLogsParams{ActorId: &u.User.ID}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, logs.StatusCode())
	actions := []string{}
	for _, e := range logs.JSON200.Data {
		actions = append(actions, e.Action)
		require.NotContains(t, strings.ToLower(string(mustJSON(t, e.Details))), "password\":\"", "no password in details")
	}
	require.Contains(t, actions, "auth.login_success")
	require.Contains(t, actions, "auth.login_failed")
	for _, e := range logs.JSON200.Data {
		if e.Action == "auth.login_success" {
			require.Equal(t, "127.0.0.1", e.Ip)
			require.NotEmpty(t, e.RequestId)
			require.Equal(t, "Go-http-client/1.1", e.UserAgent)
		}
	}

	v, err := s.Client.VerifyAuditLogWithResponse(ctx, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, v.StatusCode())
	require.True(t, v.JSON200.Data.Valid, "%+v", v.JSON200.Data)
	require.GreaterOrEqual(t, v.JSON200.Data.Checked, int64(4))

	// An operator with database rights edits one row: verify names exactly that row.
	victim := logs.JSON200.Data[len(logs.JSON200.Data)-1].Id
	_, err = s.App.Pool.Exec(ctx, `ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only`)
	require.NoError(t, err)
	_, err = s.App.Pool.Exec(ctx, `UPDATE audit_log SET action = 'auth.nothing_happened' WHERE id = $1`, victim)
	require.NoError(t, err)
	_, err = s.App.Pool.Exec(ctx, `ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_append_only`)
	require.NoError(t, err)

	v, err = s.Client.VerifyAuditLogWithResponse(ctx, bearerAuth(tok))
	require.NoError(t, err)
	require.False(t, v.JSON200.Data.Valid)
	require.Equal(t, victim, *v.JSON200.Data.FirstBrokenId)
	require.NotEmpty(t, v.JSON200.Data.Reason)

	// Without disabling the trigger, rows cannot be changed at all.
	_, err = s.App.Pool.Exec(ctx, `DELETE FROM audit_log WHERE id = $1`, victim)
	require.Error(t, err)
}

func TestLogsCarryNoSecrets(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"LOG_LEVEL": "debug"})
	ctx := context.Background()
	secretPassword := "unique-Secret-passphrase-" + randomID()
	email := "log" + randomID() + "@example.org"
	reg, err := s.Client.RegisterWithResponse(ctx, client.RegisterRequest{Email: emailAddr(email), Password: secretPassword})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, reg.StatusCode())
	login := s.login(t, email, secretPassword)
	pair := login.JSON200.Data
	s.login(t, email, secretPassword+"-wrong")
	_, err = s.Client.GetMeWithResponse(ctx, bearerAuth(pair.AccessToken))
	require.NoError(t, err)
	_, err = s.Client.RefreshTokenWithResponse(ctx, client.RefreshRequest{RefreshToken: pair.RefreshToken})
	require.NoError(t, err)
	s.raw(t, http.MethodGet, "/health?access_token="+pair.AccessToken, "", nil)

	logs := s.Logs()
	require.Contains(t, logs, `"route":"/api/auth/login"`, "requests are logged")
	for _, secret := range []string{secretPassword, pair.AccessToken, pair.RefreshToken, s.Env["JWT_SECRET_KEY"]} {
		require.NotContains(t, logs, secret)
	}
	// Nor in the audit log.
	var n int
	require.NoError(t, s.App.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE details::text LIKE '%' || $1 || '%'`, secretPassword).Scan(&n))
	require.Zero(t, n)
}
