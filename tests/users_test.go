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

func TestUserAdministration(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	super := s.account(t, auth.RoleSuperadmin)
	admin := s.account(t, auth.RoleAdmin)
	viewer := s.account(t, auth.RoleViewer)
	var users []account
	for i := 0; i < 5; i++ {
		users = append(users, s.account(t, auth.RoleUser))
	}
	adminTok := s.token(t, admin)

	// Paginate through users with role=user, two at a time: every one exactly once.
	seen := map[string]bool{}
	var cursor *string
	for pages := 0; pages < 10; pages++ {
		r, err := s.Client.ListUsersWithResponse(ctx, &client.ListUsersParams{Role: ptr(client.RoleUser), Limit: ptr(2), Cursor: cursor}, bearerAuth(s.token(t, viewer)))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.StatusCode(), "%s", r.Body)
		for _, u := range r.JSON200.Data {
			require.False(t, seen[u.Id.String()], "user listed twice")
			seen[u.Id.String()] = true
			require.Equal(t, client.RoleUser, u.Role)
		}
		pg := r.JSON200.Metadata.Pagination
		require.NotNil(t, pg)
		if !pg.HasMore {
			break
		}
		cursor = pg.NextCursor
	}
	require.Len(t, seen, 5)

	// Search matches email text; wildcards are literal.
	r, err := s.Client.ListUsersWithResponse(ctx, &client.ListUsersParams{Search: ptr(strings.ToUpper(users[2].Email[:10]))}, bearerAuth(adminTok))
	require.NoError(t, err)
	require.Len(t, r.JSON200.Data, 1)
	r, err = s.Client.ListUsersWithResponse(ctx, &client.ListUsersParams{Search: ptr("%")}, bearerAuth(adminTok))
	require.NoError(t, err)
	require.Empty(t, r.JSON200.Data)
	bad, body := s.raw(t, http.MethodGet, "/api/users?cursor=garbage", "", map[string]string{"Authorization": "Bearer " + adminTok})
	require.Equal(t, http.StatusBadRequest, bad.StatusCode)
	require.Equal(t, "cursor", *errorOf(t, body).Error.Field)

	// A role change needs a superadmin and ends the user's sessions.
	target := users[0]
	userTok := s.token(t, target)
	up, err := s.Client.SetUserRoleWithResponse(ctx, target.User.ID, client.SetRoleRequest{Role: client.RoleAdmin}, bearerAuth(adminTok))
	require.NoError(t, err)
	require.Equal(t, http.StatusForbidden, up.StatusCode())
	up, err = s.Client.SetUserRoleWithResponse(ctx, target.User.ID, client.SetRoleRequest{Role: client.RoleViewer}, bearerAuth(s.token(t, super)))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, up.StatusCode())
	require.Equal(t, client.RoleViewer, up.JSON200.Data.Role)
	me, err := s.Client.GetMeWithResponse(ctx, bearerAuth(userTok))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, me.StatusCode(), "a token issued before the role change is refused")
	lu, err := s.Client.ListUsersWithResponse(ctx, nil, bearerAuth(s.token(t, target)))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, lu.StatusCode(), "the new role applies to new sessions")

	// Admins cannot touch a superadmin; the last superadmin cannot be demoted.
	d, err := s.Client.DeactivateUserWithResponse(ctx, super.User.ID, bearerAuth(adminTok))
	require.NoError(t, err)
	require.Equal(t, http.StatusForbidden, d.StatusCode())
	demote, err := s.Client.SetUserRoleWithResponse(ctx, super.User.ID, client.SetRoleRequest{Role: client.RoleAdmin}, bearerAuth(s.token(t, super)))
	require.NoError(t, err)
	require.Equal(t, http.StatusConflict, demote.StatusCode())
	require.Equal(t, "LAST_SUPERADMIN", errorOf(t, demote.Body).Error.Code)

	// Deactivation ends sessions; patching the name and reactivating works.
	victim := users[1]
	vt := s.token(t, victim)
	d, err = s.Client.DeactivateUserWithResponse(ctx, victim.User.ID, bearerAuth(adminTok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, d.StatusCode())
	require.False(t, d.JSON200.Data.IsActive)
	me, err = s.Client.GetMeWithResponse(ctx, bearerAuth(vt))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, me.StatusCode())
	p, err := s.Client.UpdateUserWithResponse(ctx, victim.User.ID, client.AdminUpdateUserRequest{IsActive: ptr(true), FullName: ptr("Renamed")}, bearerAuth(adminTok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, p.StatusCode())
	require.True(t, p.JSON200.Data.IsActive)
	require.Equal(t, "Renamed", p.JSON200.Data.FullName)

	missing, err := s.Client.GetUserWithResponse(ctx, [16]byte{1}, bearerAuth(adminTok))
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, missing.StatusCode())
	badID, body := s.raw(t, http.MethodGet, "/api/users/not-a-uuid", "", map[string]string{"Authorization": "Bearer " + adminTok})
	require.Equal(t, http.StatusUnprocessableEntity, badID.StatusCode)
	require.Equal(t, "id", *errorOf(t, body).Error.Field)

	// Own profile.
	own, err := s.Client.UpdateMyProfileWithResponse(ctx, client.UpdateProfileRequest{FullName: ptr("  Dr. Who  ")}, bearerAuth(s.token(t, users[3])))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, own.StatusCode())
	require.Equal(t, "Dr. Who", own.JSON200.Data.FullName)
	empty, body := s.raw(t, http.MethodPatch, "/api/users/me", `{}`, map[string]string{"Authorization": "Bearer " + s.token(t, users[3])})
	require.Equal(t, http.StatusUnprocessableEntity, empty.StatusCode, "%s", body)
}

func TestAPIKeys(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	admin := s.account(t, auth.RoleAdmin)
	tok := s.token(t, admin)

	over, err := s.Client.CreateApiKeyWithResponse(ctx, client.CreateApiKeyRequest{Name: "too much", Role: ptr(client.RoleSuperadmin)}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnprocessableEntity, over.StatusCode())
	require.Equal(t, "role", *errorOf(t, over.Body).Error.Field)

	c, err := s.Client.CreateApiKeyWithResponse(ctx, client.CreateApiKeyRequest{Name: "reporting", Role: ptr(client.RoleViewer), ExpiresInDays: ptr(30)}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, c.StatusCode(), "%s", c.Body)
	key := c.JSON201.Data.Key
	require.True(t, strings.HasPrefix(key, c.JSON201.Data.ApiKey.Prefix+"_"))
	withKey := func(k string) client.RequestEditorFn {
		return func(_ context.Context, r *http.Request) error { r.Header.Set("X-API-Key", k); return nil }
	}

	me, err := s.Client.GetMeWithResponse(ctx, withKey(key))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, me.StatusCode())
	require.Equal(t, admin.User.ID, me.JSON200.Data.Id)
	lu, err := s.Client.ListUsersWithResponse(ctx, nil, withKey(key))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, lu.StatusCode(), "viewer-scoped key may read the user list")
	// Operations that do not accept API keys refuse them.
	ak, err := s.Client.ListApiKeysWithResponse(ctx, nil, withKey(key))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, ak.StatusCode())

	list, err := s.Client.ListApiKeysWithResponse(ctx, nil, bearerAuth(tok))
	require.NoError(t, err)
	require.Len(t, list.JSON200.Data, 1)
	require.NotContains(t, string(list.Body), key, "the secret is never listed")

	tampered := key[:len(key)-2] + "xx"
	bad, err := s.Client.GetMeWithResponse(ctx, withKey(tampered))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, bad.StatusCode())
	require.Equal(t, "INVALID_API_KEY", errorOf(t, bad.Body).Error.Code)

	rv, err := s.Client.RevokeApiKeyWithResponse(ctx, c.JSON201.Data.ApiKey.Id, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, rv.StatusCode())
	after, err := s.Client.GetMeWithResponse(ctx, withKey(key))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, after.StatusCode())
	again, err := s.Client.RevokeApiKeyWithResponse(ctx, c.JSON201.Data.ApiKey.Id, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, again.StatusCode())

	// Another user cannot revoke someone else's key.
	other := s.account(t, auth.RoleUser)
	c2, err := s.Client.CreateApiKeyWithResponse(ctx, client.CreateApiKeyRequest{Name: "mine"}, bearerAuth(tok))
	require.NoError(t, err)
	nf, err := s.Client.RevokeApiKeyWithResponse(ctx, c2.JSON201.Data.ApiKey.Id, bearerAuth(s.token(t, other)))
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, nf.StatusCode())
}
