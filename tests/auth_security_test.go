package tests

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/auth"
)

// Issue 21 #11: registration does not reveal which emails have accounts.
func TestRegisterExistingEmailLooksLikeSuccess(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	a := s.account(t, auth.RoleUser)
	fresh := "n" + randomID() + "@example.org"

	reg := func(email, pw string) *client.RegisterResponse {
		r, err := s.Client.RegisterWithResponse(ctx, client.RegisterRequest{Email: emailAddr(email), Password: pw, FullName: ptr("Eve")})
		require.NoError(t, err)
		return r
	}
	other := "another-Strong-passphrase-7"
	taken, created := reg(a.Email, other), reg(fresh, other)
	for _, r := range []*client.RegisterResponse{taken, created} {
		require.Equal(t, http.StatusCreated, r.StatusCode())
		require.Equal(t, "Eve", r.JSON201.Data.FullName)
		require.Equal(t, client.RoleUser, r.JSON201.Data.Role)
		require.True(t, r.JSON201.Data.IsActive)
	}
	require.Equal(t, a.Email, string(taken.JSON201.Data.Email))
	require.NotEqual(t, a.User.ID, taken.JSON201.Data.Id, "the existing account's id is not disclosed")

	// The existing account is untouched: its password still works, the new one does not.
	require.Equal(t, http.StatusOK, s.login(t, a.Email, a.Password).StatusCode())
	require.Equal(t, http.StatusUnauthorized, s.login(t, a.Email, other).StatusCode())
	require.Equal(t, http.StatusOK, s.login(t, fresh, other).StatusCode())
}

// Issue 21 #11: a deactivated account answers like a wrong password, whatever the password.
func TestDisabledAccountIsNoPasswordOracle(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	a := s.account(t, auth.RoleUser)
	admin := s.account(t, auth.RoleAdmin)
	d, err := s.Client.DeactivateUserWithResponse(context.Background(), a.User.ID, bearerAuth(s.token(t, admin)))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, d.StatusCode())

	right, wrong := s.login(t, a.Email, a.Password), s.login(t, a.Email, "not-the-password-at-all")
	require.Equal(t, http.StatusUnauthorized, right.StatusCode())
	require.Equal(t, wrong.StatusCode(), right.StatusCode())
	require.Equal(t, errorOf(t, wrong.Body).Error, errorOf(t, right.Body).Error)
	require.Equal(t, "INVALID_CREDENTIALS", errorOf(t, right.Body).Error.Code)
}

// Issue 21 #9: token answers and authenticated JSON are never stored by caches.
func TestTokenAndAuthenticatedAnswersAreNoStore(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	a := s.account(t, auth.RoleUser)

	login := s.login(t, a.Email, a.Password)
	require.Equal(t, http.StatusOK, login.StatusCode())
	refresh, err := s.Client.RefreshTokenWithResponse(ctx, client.RefreshRequest{RefreshToken: login.JSON200.Data.RefreshToken})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, refresh.StatusCode())
	tok := refresh.JSON200.Data.AccessToken
	pw, err := s.Client.ChangePasswordWithResponse(ctx, client.ChangePasswordRequest{CurrentPassword: a.Password, NewPassword: "another-Strong-passphrase-7"}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, pw.StatusCode())
	tok = pw.JSON200.Data.AccessToken
	me, err := s.Client.GetMyProfileWithResponse(ctx, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, me.StatusCode())
	bad := s.login(t, a.Email, "not-the-password-at-all")
	require.Equal(t, http.StatusUnauthorized, bad.StatusCode())

	for name, h := range map[string]http.Header{
		"login": login.HTTPResponse.Header, "refresh": refresh.HTTPResponse.Header, "password": pw.HTTPResponse.Header,
		"profile": me.HTTPResponse.Header, "failed login": bad.HTTPResponse.Header,
	} {
		require.Equal(t, "no-store", h.Get("Cache-Control"), name)
	}
}
