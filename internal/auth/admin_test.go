package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/auth"
)

// A password-change token passes only POST /api/auth/password; everything else, WebSockets
// included, answers 403 PASSWORD_CHANGE_REQUIRED.
func TestPasswordChangeScope(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	u, err := s.CreateUser(ctx, "scope@example.org", goodPassword, "", auth.RoleAdmin, nil)
	require.NoError(t, err)
	tok, c, err := s.Tokens().IssueScoped(auth.ScopePasswordChange, u.ID, u.Email, u.Role, u.AuthEpoch, uuid.New())
	require.NoError(t, err)
	parsed, err := s.Tokens().Parse(tok, auth.TypeAccess)
	require.NoError(t, err)
	require.Equal(t, auth.ScopePasswordChange, parsed.Scope)
	require.Equal(t, c.ID, parsed.ID)

	call := func(method, path string) error {
		r := httptest.NewRequest(method, path, nil)
		r.Header.Set("Authorization", "Bearer "+tok)
		_, err := s.Authenticate(ctx, "bearerAuth", []string{"user"}, r)
		return err
	}
	require.NoError(t, call(http.MethodPost, auth.PasswordChangePath))
	for _, c := range [][2]string{{http.MethodGet, "/api/auth/me"}, {http.MethodGet, auth.PasswordChangePath}, {http.MethodPost, "/api/auth/logout"}} {
		err := call(c[0], c[1])
		require.Error(t, err, "%v", c)
		require.Equal(t, "PASSWORD_CHANGE_REQUIRED", apierr.From(err).Code)
		require.Equal(t, http.StatusForbidden, apierr.From(err).Status)
	}
	_, err = s.AuthenticateToken(ctx, tok)
	require.Equal(t, "PASSWORD_CHANGE_REQUIRED", apierr.From(err).Code)

	// An ordinary token carries no scope.
	pair, err := s.IssueFor(ctx, u)
	require.NoError(t, err)
	p, err := s.AuthenticateToken(ctx, pair.Access)
	require.NoError(t, err)
	require.Empty(t, p.Scope)
}
