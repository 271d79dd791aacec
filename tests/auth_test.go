package tests

import (
	"context"
	"net/http"
	"strings"
	"testing"

	openapi_types "github.com/oapi-codegen/runtime/types"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/auth"
)

// The "done when": register, log in, refresh, call me, log out, old tokens refused.
func TestAuthLifecycle(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	email := "Alice." + randomID() + "@Example.org"

	reg, err := s.Client.RegisterWithResponse(ctx, client.RegisterRequest{Email: openapi_types.Email(email), Password: goodPassword, FullName: ptr("Alice Doe")})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, reg.StatusCode(), "%s", reg.Body)
	require.Equal(t, strings.ToLower(email), string(reg.JSON201.Data.Email), "emails are stored lower-case")
	require.Equal(t, client.RoleUser, reg.JSON201.Data.Role)

	login := s.login(t, strings.ToUpper(email), goodPassword)
	require.Equal(t, http.StatusOK, login.StatusCode(), "%s", login.Body)
	pair := login.JSON200.Data
	require.Equal(t, client.Bearer, pair.TokenType)
	require.Equal(t, 300, pair.ExpiresIn)
	require.Equal(t, 3600, pair.RefreshExpiresIn)
	require.NotNil(t, pair.User.LastLoginAt)

	me, err := s.Client.GetMeWithResponse(ctx, bearerAuth(pair.AccessToken))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, me.StatusCode())
	require.Equal(t, reg.JSON201.Data.Id, me.JSON200.Data.Id)

	ref, err := s.Client.RefreshTokenWithResponse(ctx, client.RefreshRequest{RefreshToken: pair.RefreshToken})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, ref.StatusCode(), "%s", ref.Body)
	next := ref.JSON200.Data
	require.NotEqual(t, pair.AccessToken, next.AccessToken)

	out, err := s.Client.LogoutWithResponse(ctx, bearerAuth(next.AccessToken))
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, out.StatusCode())

	// Every token of the session is dead: the logged-out access token, the earlier access
	// token of the same session, and the refresh token.
	for _, tok := range []string{next.AccessToken, pair.AccessToken} {
		r, err := s.Client.GetMeWithResponse(ctx, bearerAuth(tok))
		require.NoError(t, err)
		require.Equal(t, http.StatusUnauthorized, r.StatusCode())
		require.Equal(t, "TOKEN_REVOKED", errorOf(t, r.Body).Error.Code)
		require.Equal(t, "Bearer", r.HTTPResponse.Header.Get("WWW-Authenticate"))
	}
	r, err := s.Client.RefreshTokenWithResponse(ctx, client.RefreshRequest{RefreshToken: next.RefreshToken})
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, r.StatusCode())
}

func ptr[T any](v T) *T { return &v }

func TestRefreshReuseRevokesFamily(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	a := s.account(t, auth.RoleUser)
	first := s.login(t, a.Email, a.Password).JSON200.Data

	rotated, err := s.Client.RefreshTokenWithResponse(ctx, client.RefreshRequest{RefreshToken: first.RefreshToken})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, rotated.StatusCode())

	// An attacker replays the first refresh token: refused, and the whole session dies.
	replay, err := s.Client.RefreshTokenWithResponse(ctx, client.RefreshRequest{RefreshToken: first.RefreshToken})
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, replay.StatusCode())
	require.Equal(t, "TOKEN_REVOKED", errorOf(t, replay.Body).Error.Code)

	legit, err := s.Client.RefreshTokenWithResponse(ctx, client.RefreshRequest{RefreshToken: rotated.JSON200.Data.RefreshToken})
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, legit.StatusCode(), "the rotated token belongs to the revoked family")
	me, err := s.Client.GetMeWithResponse(ctx, bearerAuth(rotated.JSON200.Data.AccessToken))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, me.StatusCode(), "access tokens of the family are revoked too")

	// Another session of the same user is unaffected.
	other := s.login(t, a.Email, a.Password).JSON200.Data
	me, err = s.Client.GetMeWithResponse(ctx, bearerAuth(other.AccessToken))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, me.StatusCode())

	// The reuse is audited.
	admin := s.account(t, auth.RoleAdmin)
	logs, err := s.Client.ListAuditLogsWithResponse(ctx, &client.ListAuditLogsParams{Action: ptr("auth.refresh_token_reused")}, bearerAuth(s.token(t, admin)))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, logs.StatusCode())
	require.Len(t, logs.JSON200.Data, 1)
	require.Equal(t, a.User.ID, *logs.JSON200.Data[0].ActorId)
}

func TestLoginFailures(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	a := s.account(t, auth.RoleUser)

	wrong := s.login(t, a.Email, "not-the-password-at-all")
	unknown := s.login(t, "nobody-"+randomID()+"@example.org", "not-the-password-at-all")
	for _, r := range []*client.LoginResponse{wrong, unknown} {
		require.Equal(t, http.StatusUnauthorized, r.StatusCode())
		e := errorOf(t, r.Body)
		require.Equal(t, "INVALID_CREDENTIALS", e.Error.Code)
		require.Equal(t, "Email or password is incorrect", e.Error.Message, "no user enumeration by message")
	}

	// A deactivated account cannot log in, even with the right password (and the answer does not
	// say the password was right: tests/auth_security_test.go).
	admin := s.account(t, auth.RoleAdmin)
	d, err := s.Client.DeactivateUserWithResponse(context.Background(), a.User.ID, bearerAuth(s.token(t, admin)))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, d.StatusCode())
	r := s.login(t, a.Email, a.Password)
	require.Equal(t, http.StatusUnauthorized, r.StatusCode())
	require.Equal(t, "INVALID_CREDENTIALS", errorOf(t, r.Body).Error.Code)
}

func TestRegisterValidation(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	email := "bob" + randomID() + "@example.org"

	weak, err := s.Client.RegisterWithResponse(ctx, client.RegisterRequest{Email: openapi_types.Email(email), Password: "password1234"})
	require.NoError(t, err)
	require.Equal(t, http.StatusUnprocessableEntity, weak.StatusCode())
	e := errorOf(t, weak.Body)
	require.Equal(t, "WEAK_PASSWORD", e.Error.Code)
	require.Equal(t, "password", *e.Error.Field)
	require.NotEmpty(t, (*e.Error.Details)["errors"])

	short, err := s.Client.RegisterWithResponse(ctx, client.RegisterRequest{Email: openapi_types.Email(email), Password: "Sh0rt!"})
	require.NoError(t, err)
	require.Equal(t, http.StatusUnprocessableEntity, short.StatusCode())
	require.Contains(t, errorOf(t, short.Body).Error.Message, "12 characters")

	ok, err := s.Client.RegisterWithResponse(ctx, client.RegisterRequest{Email: openapi_types.Email(email), Password: goodPassword})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, ok.StatusCode())
	// A second registration of the email looks like the first (tests/auth_security_test.go).
	dup, err := s.Client.RegisterWithResponse(ctx, client.RegisterRequest{Email: openapi_types.Email(strings.ToUpper(email)), Password: goodPassword})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, dup.StatusCode())

	// The contract rejects a malformed email before any handler runs.
	res, body := s.raw(t, http.MethodPost, "/api/auth/register", `{"email":"not-an-email","password":"`+goodPassword+`"}`, nil)
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	require.Equal(t, "email", *errorOf(t, body).Error.Field)
}

func TestChangePasswordEndsSessions(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	a := s.account(t, auth.RoleUser)
	old := s.login(t, a.Email, a.Password).JSON200.Data
	other := s.token(t, a)

	wrong, err := s.Client.ChangePasswordWithResponse(ctx, client.ChangePasswordRequest{CurrentPassword: "wrong-password-here", NewPassword: "another-Strong-passphrase-7"}, bearerAuth(old.AccessToken))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnprocessableEntity, wrong.StatusCode())
	require.Equal(t, "current_password", *errorOf(t, wrong.Body).Error.Field)

	weak, err := s.Client.ChangePasswordWithResponse(ctx, client.ChangePasswordRequest{CurrentPassword: a.Password, NewPassword: "qwertyuiopasdf"}, bearerAuth(old.AccessToken))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnprocessableEntity, weak.StatusCode())
	require.Equal(t, "new_password", *errorOf(t, weak.Body).Error.Field)

	newPassword := "another-Strong-passphrase-7"
	ch, err := s.Client.ChangePasswordWithResponse(ctx, client.ChangePasswordRequest{CurrentPassword: a.Password, NewPassword: newPassword}, bearerAuth(old.AccessToken))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, ch.StatusCode(), "%s", ch.Body)

	// Tokens issued before the change are refused, on every session; the new pair works.
	for _, tok := range []string{old.AccessToken, other} {
		r, err := s.Client.GetMeWithResponse(ctx, bearerAuth(tok))
		require.NoError(t, err)
		require.Equal(t, http.StatusUnauthorized, r.StatusCode())
	}
	r, err := s.Client.RefreshTokenWithResponse(ctx, client.RefreshRequest{RefreshToken: old.RefreshToken})
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, r.StatusCode())
	me, err := s.Client.GetMeWithResponse(ctx, bearerAuth(ch.JSON200.Data.AccessToken))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, me.StatusCode())
	require.Equal(t, http.StatusUnauthorized, s.login(t, a.Email, a.Password).StatusCode())
	require.Equal(t, http.StatusOK, s.login(t, a.Email, newPassword).StatusCode())
}

func TestRevocationFailsClosedWithoutRedis(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"REDIS_URL": "redis://127.0.0.1:1/0"})
	a := s.account(t, auth.RoleUser)
	me, err := s.Client.GetMeWithResponse(context.Background(), bearerAuth(s.token(t, a)))
	require.NoError(t, err)
	require.Equal(t, http.StatusServiceUnavailable, me.StatusCode())
	require.Equal(t, "SERVICE_UNAVAILABLE", errorOf(t, me.Body).Error.Code)
	require.NotContains(t, string(me.Body), "127.0.0.1")
}
