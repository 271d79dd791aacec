package tests

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/auth"
)

// Two gateway instances on one database and one Redis share every limit.
func TestRateLimitsSharedAcrossInstances(t *testing.T) {
	t.Parallel()
	env := map[string]string{"RATE_LIMIT_LOGIN_PER_MINUTE": "3", "RATE_LIMIT_LOGIN_FAILURES": "50", "TRUSTED_PROXIES": "127.0.0.1/32"}
	a := startServer(t, env)
	env["DATABASE_URL"] = a.Env["DATABASE_URL"]
	env["REDIS_KEY_PREFIX"] = a.Env["REDIS_KEY_PREFIX"]
	b := startServer(t, env)
	ctx := context.Background()
	acc := a.account(t, auth.RoleUser)
	ip := "203.0.113.7"

	try := func(s *testServer, ipAddr string) *client.LoginResponse {
		r, err := s.Client.LoginWithResponse(ctx, client.LoginRequest{Email: acc.Email, Password: "wrong-password-x"}, fromIP(ipAddr))
		require.NoError(t, err)
		return r
	}
	require.Equal(t, http.StatusUnauthorized, try(a, ip).StatusCode())
	require.Equal(t, http.StatusUnauthorized, try(b, ip).StatusCode())
	require.Equal(t, http.StatusUnauthorized, try(a, ip).StatusCode())
	over := try(b, ip)
	require.Equal(t, http.StatusTooManyRequests, over.StatusCode(), "the 4th attempt from one IP, spread over two instances")
	require.Equal(t, "RATE_LIMIT_EXCEEDED", errorOf(t, over.Body).Error.Code)
	h := over.HTTPResponse.Header
	retry, err := strconv.Atoi(h.Get("Retry-After"))
	require.NoError(t, err)
	require.GreaterOrEqual(t, retry, 1)
	require.LessOrEqual(t, retry, 60)
	require.Equal(t, "3", h.Get("X-RateLimit-Limit"))
	require.Equal(t, "0", h.Get("X-RateLimit-Remaining"))
	require.NotEmpty(t, h.Get("X-RateLimit-Reset"))

	// Another client IP is not affected.
	require.Equal(t, http.StatusUnauthorized, try(a, "203.0.113.8").StatusCode())
}

// Failed logins are counted per (client IP, account) pair and reset by a successful login;
// other IPs and other accounts are not affected (tests/auth_security_test.go).
func TestLoginFailureLimitPerAccountResets(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"RATE_LIMIT_LOGIN_FAILURES": "2", "TRUSTED_PROXIES": "127.0.0.1/32"})
	ctx := context.Background()
	acc := s.account(t, auth.RoleUser)
	login := func(email, pw string) int {
		r, err := s.Client.LoginWithResponse(ctx, client.LoginRequest{Email: email, Password: pw}, fromIP("198.51.100.1"))
		require.NoError(t, err)
		return r.StatusCode()
	}
	require.Equal(t, http.StatusUnauthorized, login(acc.Email, "bad-password-1"))
	require.Equal(t, http.StatusOK, login(acc.Email, acc.Password), "one failure is below the limit")
	require.Equal(t, http.StatusUnauthorized, login(acc.Email, "bad-password-2"), "the success reset the count")
	require.Equal(t, http.StatusUnauthorized, login(acc.Email, "bad-password-3"))
	require.Equal(t, http.StatusTooManyRequests, login(acc.Email, acc.Password), "two failures: this IP is throttled for the account, even with the right password")
	other := s.account(t, auth.RoleUser)
	require.Equal(t, http.StatusOK, login(other.Email, other.Password), "other accounts are not affected")
}

func TestRegisterLimitPerIP(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"RATE_LIMIT_REGISTER_PER_HOUR": "2", "TRUSTED_PROXIES": "127.0.0.1/32"})
	ctx := context.Background()
	codes := []int{}
	for i := 0; i < 3; i++ {
		r, err := s.Client.RegisterWithResponse(ctx, client.RegisterRequest{Email: emailAddr("r" + randomID() + "@example.org"), Password: goodPassword}, fromIP("192.0.2.10"))
		require.NoError(t, err)
		codes = append(codes, r.StatusCode())
	}
	require.Equal(t, []int{201, 201, 429}, codes)
}

func TestXForwardedForIgnoredWithoutTrustedProxy(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"RATE_LIMIT_LOGIN_PER_MINUTE": "2"})
	ctx := context.Background()
	codes := []int{}
	for i := 0; i < 3; i++ {
		// A client rotating X-Forwarded-For cannot escape its limit when no proxy is trusted.
		r, err := s.Client.LoginWithResponse(ctx, client.LoginRequest{Email: "x@example.org", Password: "whatever-pass"}, fromIP("192.0.2."+strconv.Itoa(i+1)))
		require.NoError(t, err)
		codes = append(codes, r.StatusCode())
	}
	require.Equal(t, []int{401, 401, 429}, codes)
}
