package auth_test

import (
	"context"
	"log/slog"
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/apierr/apierrtest"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/config"
	"github.com/voiceassist/gateway/internal/dbtest"
	"github.com/voiceassist/gateway/internal/redistest"
)

const goodPassword = "vivid-orchid-Lantern-93"

func newService(t *testing.T) (*auth.Service, *pgxpool.Pool) {
	t.Helper()
	pool := dbtest.New(t)
	rdb := redistest.Client(t, nil)
	prefix := redistest.Prefix(t, rdb)
	cfg, err := config.Load(func(k string) string {
		switch k {
		case "REDIS_KEY_PREFIX":
			return prefix
		case "RATE_LIMIT_ENABLED":
			return "false"
		}
		return ""
	})
	require.NoError(t, err)
	s, err := auth.NewService(cfg, pool, rdb, slog.New(slog.DiscardHandler), nil)
	require.NoError(t, err)
	return s, pool
}

// principal acts as the user u.
func principal(u auth.User) *auth.Principal {
	return &auth.Principal{UserID: u.ID, Email: u.Email, Role: u.Role}
}

func TestCreateAndGetUser(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()

	u, err := s.CreateUser(ctx, " Ada@Example.org ", goodPassword, " Ada ", auth.RoleViewer, nil)
	require.NoError(t, err)
	require.Equal(t, "ada@example.org", u.Email)
	require.Equal(t, "Ada", u.FullName)
	require.Equal(t, auth.RoleViewer, u.Role)
	require.True(t, u.IsActive)
	require.Nil(t, u.LastLoginAt)

	got, err := s.GetUser(ctx, u.ID)
	require.NoError(t, err)
	require.Equal(t, u, got)

	_, err = s.CreateUser(ctx, "ADA@example.org", goodPassword, "", auth.RoleUser, nil)
	apierrtest.Require(t, err, http.StatusConflict, "EMAIL_ALREADY_EXISTS", "email")

	_, err = s.CreateUser(ctx, "weak@example.org", "short", "", auth.RoleUser, nil)
	apierrtest.Require(t, err, http.StatusUnprocessableEntity, "WEAK_PASSWORD", "password")

	_, err = s.GetUser(ctx, uuid.New())
	apierrtest.Require(t, err, http.StatusNotFound, "NOT_FOUND", "")
}

func TestLoginReturnsTheUser(t *testing.T) {
	t.Parallel()
	s, _ := newService(t)
	ctx := context.Background()
	u, err := s.CreateUser(ctx, "login@example.org", goodPassword, "", auth.RoleUser, nil)
	require.NoError(t, err)

	pair, got, err := s.Login(ctx, "login@example.org", goodPassword, "192.0.2.1")
	require.NoError(t, err)
	require.Equal(t, u.ID, got.ID)
	require.NotNil(t, got.LastLoginAt)
	require.NotEmpty(t, pair.Access)

	_, _, err = s.Login(ctx, "login@example.org", goodPassword+"x", "192.0.2.1")
	apierrtest.Require(t, err, http.StatusUnauthorized, "INVALID_CREDENTIALS", "")
}

func TestListUsersPages(t *testing.T) {
	t.Parallel()
	s, pool := newService(t)
	ctx := context.Background()
	var want []uuid.UUID // newest first
	for range 5 {
		want = append([]uuid.UUID{dbtest.User(t, pool, "viewer").ID}, want...)
	}
	dbtest.User(t, pool, "user") // filtered out

	viewer := "viewer"
	var got []uuid.UUID
	cursor, pages := "", 0
	for {
		us, next, err := s.ListUsers(ctx, auth.UserFilter{Role: &viewer, Limit: 2, Cursor: cursor})
		require.NoError(t, err)
		require.LessOrEqual(t, len(us), 2)
		for _, u := range us {
			require.Equal(t, auth.RoleViewer, u.Role)
			got = append(got, u.ID)
		}
		pages++
		if next == "" {
			break
		}
		cursor = next
	}
	require.Equal(t, want, got)
	require.Equal(t, 3, pages)

	for _, bad := range []string{"garbage", "eyJhIjoxfQ" /* {"a":1} */} {
		_, _, err := s.ListUsers(ctx, auth.UserFilter{Limit: 2, Cursor: bad})
		apierrtest.Require(t, err, http.StatusBadRequest, "VALIDATION_ERROR", "cursor")
	}
}

func TestAdminChanges(t *testing.T) {
	t.Parallel()
	s, pool := newService(t)
	ctx := context.Background()
	super := auth.User{ID: dbtest.User(t, pool, "superadmin").ID, Role: auth.RoleSuperadmin}
	admin := auth.User{ID: dbtest.User(t, pool, "admin").ID, Role: auth.RoleAdmin}
	target := dbtest.User(t, pool, "user")

	name := "Renamed"
	u, err := s.AdminUpdate(ctx, principal(admin), target.ID, &name, nil)
	require.NoError(t, err)
	require.Equal(t, "Renamed", u.FullName)
	require.Equal(t, target.AuthEpoch, u.AuthEpoch, "a rename keeps the sessions")

	u, err = s.Deactivate(ctx, principal(admin), target.ID)
	require.NoError(t, err)
	require.False(t, u.IsActive)
	require.Greater(t, u.AuthEpoch, target.AuthEpoch, "deactivation ends the sessions")

	_, err = s.AdminUpdate(ctx, principal(admin), uuid.New(), &name, nil)
	apierrtest.Require(t, err, http.StatusNotFound, "NOT_FOUND", "")

	_, err = s.AdminUpdate(ctx, principal(admin), super.ID, &name, nil)
	apierrtest.Require(t, err, http.StatusForbidden, "INSUFFICIENT_PERMISSIONS", "")

	u, err = s.SetRole(ctx, principal(super), admin.ID, auth.RoleViewer)
	require.NoError(t, err)
	require.Equal(t, auth.RoleViewer, u.Role)

	_, err = s.SetRole(ctx, principal(super), super.ID, auth.RoleAdmin)
	apierrtest.Require(t, err, http.StatusConflict, "LAST_SUPERADMIN", "")
}

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	s, pool := newService(t)
	ctx := context.Background()
	owner := auth.User{ID: dbtest.User(t, pool, "admin").ID, Role: auth.RoleAdmin}

	viewer, days := auth.RoleViewer, 30
	k, secret, err := s.CreateAPIKey(ctx, principal(owner), " ci ", &viewer, &days)
	require.NoError(t, err)
	require.Equal(t, "ci", k.Name)
	require.Equal(t, auth.RoleViewer, k.Role)
	require.Equal(t, owner.ID, k.UserID)
	require.NotNil(t, k.ExpiresAt)
	require.Contains(t, secret, k.Prefix)

	super := auth.RoleSuperadmin
	_, _, err = s.CreateAPIKey(ctx, principal(owner), "too much", &super, nil)
	apierrtest.Require(t, err, http.StatusUnprocessableEntity, "VALIDATION_ERROR", "role")

	keys, _, err := s.ListAPIKeys(ctx, principal(owner), "", 10)
	require.NoError(t, err)
	require.Len(t, keys, 1)
	require.Equal(t, k.ID, keys[0].ID)
	require.Nil(t, keys[0].RevokedAt)

	require.NoError(t, s.RevokeAPIKey(ctx, principal(owner), k.ID))
	keys, _, err = s.ListAPIKeys(ctx, principal(owner), "", 10)
	require.NoError(t, err)
	require.NotNil(t, keys[0].RevokedAt)
	apierrtest.Require(t, s.RevokeAPIKey(ctx, principal(owner), uuid.New()), http.StatusNotFound, "NOT_FOUND", "")
}
