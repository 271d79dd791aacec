package tests

import (
	"context"
	"net/http"
	"regexp"
	"strconv"
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
	// Timestamps have the database's precision in both answers.
	stamp := regexp.MustCompile(`"created_at":"[0-9T:-]+(\.[0-9]{1,6})?(Z|[+-][0-9:]+)"`)
	require.Regexp(t, stamp, string(taken.Body))
	require.Regexp(t, stamp, string(created.Body))

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

// Issue 21 #5: failures from one IP cannot lock the account's owner out, and failures past
// the account-wide threshold only slow logins down.
func TestLockoutIsNotAWeapon(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{
		"RATE_LIMIT_LOGIN_FAILURES": "2", "RATE_LIMIT_LOGIN_ACCOUNT_FAILURES": "3",
		"RATE_LIMIT_LOGIN_MAX_DELAY_SECONDS": "1", "TRUSTED_PROXIES": "127.0.0.1/32",
	})
	ctx := context.Background()
	victim := s.account(t, auth.RoleSuperadmin)
	login := func(email, pw, ip string) int {
		r, err := s.Client.LoginWithResponse(ctx, client.LoginRequest{Email: email, Password: pw}, fromIP(ip))
		require.NoError(t, err)
		return r.StatusCode()
	}

	// The attacker's own IP is throttled for this account, whatever password it sends.
	for range 2 {
		require.Equal(t, http.StatusUnauthorized, login(victim.Email, "guess-password-1", "203.0.113.66"))
	}
	require.Equal(t, http.StatusTooManyRequests, login(victim.Email, "guess-password-2", "203.0.113.66"))
	require.Equal(t, http.StatusTooManyRequests, login(victim.Email, victim.Password, "203.0.113.66"))
	// The owner, elsewhere, logs in.
	require.Equal(t, http.StatusOK, login(victim.Email, victim.Password, "198.51.100.7"))

	// Past the account-wide threshold (failures from many IPs) the owner is delayed, not refused.
	for i := range 6 {
		require.Equal(t, http.StatusUnauthorized, login(victim.Email, "guess-password-3", "203.0.113."+strconv.Itoa(100+i)))
	}
	require.Equal(t, http.StatusOK, login(victim.Email, victim.Password, "198.51.100.8"))

	// Unknown emails are counted the same way (no enumeration by the 429).
	ghost := "ghost-" + randomID() + "@example.org"
	codes := []int{}
	for range 3 {
		codes = append(codes, login(ghost, "guess-password-4", "203.0.113.67"))
	}
	require.Equal(t, []int{401, 401, 429}, codes)
}

// Issue 21 #12: no look-alike accounts: invisible characters and mixed-script domains are
// refused, Unicode domains are stored in their IDNA form.
func TestLookAlikeAccountsRefused(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	id := randomID()
	reg := func(email, name string) *client.RegisterResponse {
		r, err := s.Client.RegisterWithResponse(ctx, client.RegisterRequest{Email: emailAddr(email), Password: goodPassword, FullName: ptr(name)})
		require.NoError(t, err)
		return r
	}
	for _, c := range []struct{ email, name, field string }{
		{"ad\u200bmin" + id + "@example.org", "Ada", "email"}, // zero-width space
		{"admin" + id + "\u2060@example.org", "Ada", "email"}, // word joiner
		{"admin" + id + "@ex\u0430mple.org", "Ada", "email"},  // Cyrillic а among Latin letters
		{"ada" + id + "@example.org", "Ada\u202e", "full_name"},
	} {
		r := reg(c.email, c.name)
		require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode(), "%q %q", c.email, c.name)
		require.Equal(t, c.field, *errorOf(t, r.Body).Error.Field)
	}

	ok := reg("ada"+id+"@BÜCHER.example", "Ada")
	require.Equal(t, http.StatusCreated, ok.StatusCode())
	require.Equal(t, "ada"+id+"@xn--bcher-kva.example", string(ok.JSON201.Data.Email))
	// Either spelling of the domain is the same account.
	require.Equal(t, http.StatusOK, s.login(t, "ada"+id+"@bücher.example", goodPassword).StatusCode())
	require.Equal(t, http.StatusOK, s.login(t, "ada"+id+"@xn--bcher-kva.example", goodPassword).StatusCode())

	a := s.account(t, auth.RoleUser)
	up, err := s.Client.UpdateMyProfileWithResponse(ctx, client.UpdateProfileRequest{FullName: ptr("Ad\u200dmin")}, bearerAuth(s.token(t, a)))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnprocessableEntity, up.StatusCode())
	require.Equal(t, "full_name", *errorOf(t, up.Body).Error.Field)
}
