package tests

import (
	"context"
	"net/http"
	"testing"

	openapi_types "github.com/oapi-codegen/runtime/types"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/auth"
)

const goodPassword = "vivid-orchid-Lantern-93"

// account is a user created directly through the service (no HTTP, no rate limits).
type account struct {
	User     auth.User
	Email    string
	Password string
}

func (s *testServer) account(t *testing.T, role auth.Role) account {
	t.Helper()
	email := "u" + randomID() + "@example.org"
	u, err := s.App.Auth.CreateUser(context.Background(), email, goodPassword, "Test "+string(role), role, nil)
	require.NoError(t, err)
	return account{User: u, Email: email, Password: goodPassword}
}

// token starts a new session for a (no password check) and returns its access token.
func (s *testServer) token(t *testing.T, a account) string {
	t.Helper()
	u, err := s.App.Auth.GetUser(context.Background(), a.User.ID)
	require.NoError(t, err)
	p, err := s.App.Auth.IssueFor(context.Background(), u)
	require.NoError(t, err)
	return p.Access
}

func bearerAuth(tok string) client.RequestEditorFn {
	return func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+tok)
		return nil
	}
}

func fromIP(ip string) client.RequestEditorFn {
	return func(_ context.Context, r *http.Request) error {
		r.Header.Set("X-Forwarded-For", ip)
		return nil
	}
}

func (s *testServer) login(t *testing.T, email, password string) *client.LoginResponse {
	t.Helper()
	res, err := s.Client.LoginWithResponse(context.Background(), client.LoginRequest{Email: email, Password: password})
	require.NoError(t, err)
	return res
}

func emailAddr(s string) openapi_types.Email { return openapi_types.Email(s) }
