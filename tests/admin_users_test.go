package tests

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	openapi_types "github.com/oapi-codegen/runtime/types"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/auth"
)

// Admin panel user administration (issue 18, part B), driven through the generated client.

func (s *testServer) invite(t *testing.T, tok, email string, role client.Role) client.Invitation {
	t.Helper()
	r, err := s.Client.InviteUserWithResponse(context.Background(), client.InviteUserRequest{Email: emailAddr(email), Role: &role}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), "%s", r.Body)
	return r.JSON201.Data
}

func errCode(t *testing.T, body []byte) string {
	t.Helper()
	return errorOf(t, body).Error.Code
}

// auditActions lists the actions recorded about one user.
func (s *testServer) auditActions(t *testing.T, tok string, id uuid.UUID) []string {
	t.Helper()
	r, err := s.Client.ListAuditLogsWithResponse(context.Background(), &client.ListAuditLogsParams{ResourceType: ptr("user"), ResourceId: ptr(id.String()), Limit: ptr(200)}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.StatusCode(), "%s", r.Body)
	var out []string
	for _, e := range r.JSON200.Data {
		out = append(out, e.Action)
	}
	return out
}

func TestInvitationLifecycle(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	admin := s.account(t, auth.RoleAdmin)
	super := s.account(t, auth.RoleSuperadmin)
	adminTok := s.token(t, admin)

	// Admin roles need a superadmin; an existing email is 409.
	r, err := s.Client.InviteUserWithResponse(ctx, client.InviteUserRequest{Email: emailAddr("boss" + randomID() + "@example.org"), Role: ptr(client.RoleAdmin)}, bearerAuth(adminTok))
	require.NoError(t, err)
	require.Equal(t, http.StatusForbidden, r.StatusCode())
	r, err = s.Client.InviteUserWithResponse(ctx, client.InviteUserRequest{Email: emailAddr(admin.Email)}, bearerAuth(adminTok))
	require.NoError(t, err)
	require.Equal(t, http.StatusConflict, r.StatusCode())
	require.Equal(t, "EMAIL_ALREADY_EXISTS", r.JSON409.Error.Code)
	boss := s.invite(t, s.token(t, super), "boss"+randomID()+"@example.org", client.RoleAdmin)
	require.Equal(t, client.RoleAdmin, boss.User.Role)

	email := "invitee" + randomID() + "@example.org"
	inv := s.invite(t, adminTok, email, client.RoleViewer)
	require.False(t, inv.User.IsActive, "an invited account is inactive until accepted")
	require.Equal(t, "/api/auth/invitations/accept", inv.AcceptPath)
	require.NotEmpty(t, inv.Token)
	var stored int
	require.NoError(t, s.App.Pool.QueryRow(ctx, `SELECT count(*) FROM invitations WHERE token_hash = sha256(convert_to($1, 'UTF8'))`, inv.Token).Scan(&stored))
	require.Equal(t, 1, stored, "only the token's hash is stored")

	// No password yet: login answers as for a wrong password.
	lr := s.login(t, email, "anything-at-all-123")
	require.Equal(t, http.StatusUnauthorized, lr.StatusCode())
	require.Equal(t, "INVALID_CREDENTIALS", lr.JSON401.Error.Code)

	// Resend: the old token dies, the new one works once.
	re, err := s.Client.ResendInvitationWithResponse(ctx, inv.User.Id, bearerAuth(adminTok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, re.StatusCode(), "%s", re.Body)
	require.NotEqual(t, inv.Token, re.JSON200.Data.Token)
	acc, err := s.Client.AcceptInvitationWithResponse(ctx, client.AcceptInvitationRequest{Token: inv.Token, Password: goodPassword})
	require.NoError(t, err)
	require.Equal(t, http.StatusGone, acc.StatusCode())
	require.Equal(t, "INVITATION_REVOKED", acc.JSON410.Error.Code)

	// The password policy applies.
	acc, err = s.Client.AcceptInvitationWithResponse(ctx, client.AcceptInvitationRequest{Token: re.JSON200.Data.Token, Password: "short"})
	require.NoError(t, err)
	require.Equal(t, http.StatusUnprocessableEntity, acc.StatusCode())
	require.Equal(t, "WEAK_PASSWORD", acc.JSON422.Error.Code)

	acc, err = s.Client.AcceptInvitationWithResponse(ctx, client.AcceptInvitationRequest{Token: re.JSON200.Data.Token, Password: goodPassword})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, acc.StatusCode(), "%s", acc.Body)
	require.True(t, acc.JSON200.Data.User.IsActive)
	require.Equal(t, client.RoleViewer, acc.JSON200.Data.User.Role)
	me, err := s.Client.GetMeWithResponse(ctx, bearerAuth(acc.JSON200.Data.AccessToken))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, me.StatusCode())
	require.Equal(t, http.StatusOK, s.login(t, email, goodPassword).StatusCode())

	// Single use; resending after acceptance is a conflict; unknown tokens are 404.
	acc, err = s.Client.AcceptInvitationWithResponse(ctx, client.AcceptInvitationRequest{Token: re.JSON200.Data.Token, Password: goodPassword + "x"})
	require.NoError(t, err)
	require.Equal(t, http.StatusGone, acc.StatusCode())
	require.Equal(t, "INVITATION_ALREADY_ACCEPTED", acc.JSON410.Error.Code)
	re2, err := s.Client.ResendInvitationWithResponse(ctx, inv.User.Id, bearerAuth(adminTok))
	require.NoError(t, err)
	require.Equal(t, http.StatusConflict, re2.StatusCode())
	acc, err = s.Client.AcceptInvitationWithResponse(ctx, client.AcceptInvitationRequest{Token: "no-such-token", Password: goodPassword})
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, acc.StatusCode())
	require.Equal(t, "INVITATION_NOT_FOUND", acc.JSON404.Error.Code)

	// Expiry (the stored expiry moved into the past: no waiting).
	late := s.invite(t, adminTok, "late"+randomID()+"@example.org", client.RoleUser)
	_, err = s.App.Pool.Exec(ctx, `UPDATE invitations SET expires_at = now() - interval '1 second' WHERE user_id = $1`, late.User.Id)
	require.NoError(t, err)
	acc, err = s.Client.AcceptInvitationWithResponse(ctx, client.AcceptInvitationRequest{Token: late.Token, Password: goodPassword})
	require.NoError(t, err)
	require.Equal(t, http.StatusGone, acc.StatusCode())
	require.Equal(t, "INVITATION_EXPIRED", acc.JSON410.Error.Code)

	// Revoke: the token dies; a second revoke finds nothing open.
	gone := s.invite(t, adminTok, "gone"+randomID()+"@example.org", client.RoleUser)
	rv, err := s.Client.RevokeInvitationWithResponse(ctx, gone.User.Id, bearerAuth(adminTok))
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, rv.StatusCode(), "%s", rv.Body)
	rv, err = s.Client.RevokeInvitationWithResponse(ctx, gone.User.Id, bearerAuth(adminTok))
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, rv.StatusCode())
	acc, err = s.Client.AcceptInvitationWithResponse(ctx, client.AcceptInvitationRequest{Token: gone.Token, Password: goodPassword})
	require.NoError(t, err)
	require.Equal(t, "INVITATION_REVOKED", acc.JSON410.Error.Code)

	// Admins cannot manage a superadmin's invitation of an admin... of a higher role.
	super2 := s.invite(t, s.token(t, super), "super"+randomID()+"@example.org", client.RoleSuperadmin)
	rv, err = s.Client.RevokeInvitationWithResponse(ctx, super2.User.Id, bearerAuth(adminTok))
	require.NoError(t, err)
	require.Equal(t, http.StatusForbidden, rv.StatusCode())

	// Audited, and the history shows it.
	actions := s.auditActions(t, adminTok, inv.User.Id)
	for _, a := range []string{"users.invited", "users.invitation_resent", "auth.invitation_accepted"} {
		require.Contains(t, actions, a)
	}
	h, err := s.Client.GetUserHistoryWithResponse(ctx, inv.User.Id, nil, bearerAuth(s.token(t, s.account(t, auth.RoleViewer))))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, h.StatusCode(), "%s", h.Body)
	require.Len(t, h.JSON200.Data, 3)
	require.Equal(t, "auth.invitation_accepted", h.JSON200.Data[0].Action)
	require.Equal(t, client.HistoryInvitation, h.JSON200.Data[0].Kind)
}

func TestAdminPasswordResetTemporary(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	admin := s.account(t, auth.RoleAdmin)
	adminTok := s.token(t, admin)
	u := s.account(t, auth.RoleUser)
	oldTok := s.token(t, u)

	// Admins cannot reset a superadmin.
	super := s.account(t, auth.RoleSuperadmin)
	rr, err := s.Client.AdminResetPasswordWithResponse(ctx, super.User.ID, client.AdminResetPasswordRequest{Mode: client.ResetModeTemporary}, bearerAuth(adminTok))
	require.NoError(t, err)
	require.Equal(t, http.StatusForbidden, rr.StatusCode())

	rr, err = s.Client.AdminResetPasswordWithResponse(ctx, u.User.ID, client.AdminResetPasswordRequest{Mode: client.ResetModeTemporary}, bearerAuth(adminTok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, rr.StatusCode(), "%s", rr.Body)
	temp := *rr.JSON200.Data.TemporaryPassword
	require.GreaterOrEqual(t, rr.JSON200.Data.SessionsEnded, 1)

	// The user's sessions ended at once.
	me, err := s.Client.GetMeWithResponse(ctx, bearerAuth(oldTok))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, me.StatusCode())

	// The old password is gone; the temporary one logs in only as far as a password change.
	require.Equal(t, http.StatusUnauthorized, s.login(t, u.Email, u.Password).StatusCode())
	lr := s.login(t, u.Email, temp)
	require.Equal(t, http.StatusForbidden, lr.StatusCode(), "%s", lr.Body)
	e := errorOf(t, lr.Body)
	require.Equal(t, "PASSWORD_CHANGE_REQUIRED", e.Error.Code)
	require.NotNil(t, e.Error.Details)
	scoped, _ := (*e.Error.Details)["password_change_token"].(string)
	require.NotEmpty(t, scoped)

	// Every other operation refuses the scoped token with 403.
	me, err = s.Client.GetMeWithResponse(ctx, bearerAuth(scoped))
	require.NoError(t, err)
	require.Equal(t, http.StatusForbidden, me.StatusCode())
	require.Equal(t, "PASSWORD_CHANGE_REQUIRED", errCode(t, me.Body))
	cv, err := s.Client.ListConversationsWithResponse(ctx, nil, bearerAuth(scoped))
	require.NoError(t, err)
	require.Equal(t, http.StatusForbidden, cv.StatusCode())
	lo, err := s.Client.LogoutWithResponse(ctx, bearerAuth(scoped))
	require.NoError(t, err)
	require.Equal(t, http.StatusForbidden, lo.StatusCode())

	// POST /api/auth/password accepts it; afterwards the flag is cleared.
	ch, err := s.Client.ChangePasswordWithResponse(ctx, client.ChangePasswordRequest{CurrentPassword: temp, NewPassword: goodPassword + "-new"}, bearerAuth(scoped))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, ch.StatusCode(), "%s", ch.Body)
	me, err = s.Client.GetMeWithResponse(ctx, bearerAuth(ch.JSON200.Data.AccessToken))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, me.StatusCode())
	me, err = s.Client.GetMeWithResponse(ctx, bearerAuth(scoped))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, me.StatusCode(), "the scoped token died with the change")
	require.Equal(t, http.StatusOK, s.login(t, u.Email, goodPassword+"-new").StatusCode())

	actions := s.auditActions(t, adminTok, u.User.ID)
	require.Contains(t, actions, "users.password_reset")
	require.Contains(t, actions, "auth.login_password_change_required")
	require.Contains(t, actions, "auth.password_changed")
}

func TestAdminPasswordResetToken(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	adminTok := s.token(t, s.account(t, auth.RoleAdmin))
	u := s.account(t, auth.RoleUser)
	oldTok := s.token(t, u)

	issue := func() client.PasswordReset {
		rr, err := s.Client.AdminResetPasswordWithResponse(ctx, u.User.ID, client.AdminResetPasswordRequest{Mode: client.ResetModeToken}, bearerAuth(adminTok))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, rr.StatusCode(), "%s", rr.Body)
		require.NotNil(t, rr.JSON200.Data.ExpiresAt)
		return rr.JSON200.Data
	}
	first := issue()
	second := issue()
	// Issuing a token leaves sessions alone until it is used.
	me, err := s.Client.GetMeWithResponse(ctx, bearerAuth(oldTok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, me.StatusCode())

	redeem := func(tok, pw string) *client.ResetPasswordWithTokenResponse {
		r, err := s.Client.ResetPasswordWithTokenWithResponse(ctx, client.ResetPasswordRequest{Token: tok, NewPassword: pw})
		require.NoError(t, err)
		return r
	}
	r := redeem(*first.ResetToken, goodPassword+"-a")
	require.Equal(t, http.StatusGone, r.StatusCode())
	require.Equal(t, "RESET_TOKEN_REVOKED", r.JSON410.Error.Code)
	r = redeem(*second.ResetToken, "password")
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode())
	r = redeem(*second.ResetToken, goodPassword+"-b")
	require.Equal(t, http.StatusNoContent, r.StatusCode(), "%s", r.Body)
	r = redeem(*second.ResetToken, goodPassword+"-c")
	require.Equal(t, http.StatusGone, r.StatusCode())
	require.Equal(t, "RESET_TOKEN_USED", r.JSON410.Error.Code)
	r = redeem("nope", goodPassword)
	require.Equal(t, http.StatusNotFound, r.StatusCode())

	me, err = s.Client.GetMeWithResponse(ctx, bearerAuth(oldTok))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, me.StatusCode(), "redeeming ends every session")
	require.Equal(t, http.StatusOK, s.login(t, u.Email, goodPassword+"-b").StatusCode())

	third := issue()
	_, err = s.App.Pool.Exec(ctx, `UPDATE password_reset_tokens SET expires_at = now() - interval '1 second' WHERE user_id = $1 AND used_at IS NULL AND revoked_at IS NULL`, u.User.ID)
	require.NoError(t, err)
	r = redeem(*third.ResetToken, goodPassword+"-d")
	require.Equal(t, http.StatusGone, r.StatusCode())
	require.Equal(t, "RESET_TOKEN_EXPIRED", r.JSON410.Error.Code)

	require.Contains(t, s.auditActions(t, adminTok, u.User.ID), "auth.password_reset_completed")
}

func TestBulkUserActions(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	super := s.account(t, auth.RoleSuperadmin)
	admin := s.account(t, auth.RoleAdmin)
	adminTok := s.token(t, admin)
	a, b, c := s.account(t, auth.RoleUser), s.account(t, auth.RoleUser), s.account(t, auth.RoleUser)
	bTok := s.token(t, b)
	missing := uuid.New()

	bulk := func(tok string, req client.BulkUserActionRequest) client.BulkUserActionResult {
		t.Helper()
		r, err := s.Client.BulkUserActionWithResponse(ctx, req, bearerAuth(tok))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.StatusCode(), "%s", r.Body)
		return r.JSON200.Data
	}
	status := func(res client.BulkUserActionResult) map[uuid.UUID]client.BulkUserResultStatus {
		m := map[uuid.UUID]client.BulkUserResultStatus{}
		for _, r := range res.Results {
			m[r.UserId] = r.Status
		}
		return m
	}

	// Deactivate: mixed results; own account skipped; a superadmin is above an admin.
	res := bulk(adminTok, client.BulkUserActionRequest{Action: client.BulkUserActionRequestActionDeactivate,
		UserIds: []openapi_types.UUID{b.User.ID, c.User.ID, admin.User.ID, super.User.ID, missing}, Reason: ptr("left the clinic")})
	st := status(res)
	require.Equal(t, client.BulkStatusOk, st[b.User.ID])
	require.Equal(t, client.BulkStatusOk, st[c.User.ID])
	require.Equal(t, client.BulkStatusSkipped, st[admin.User.ID])
	require.Equal(t, client.BulkStatusForbidden, st[super.User.ID])
	require.Equal(t, client.BulkStatusNotFound, st[missing])
	require.Equal(t, 2, res.Summary["ok"])
	me, err := s.Client.GetMeWithResponse(ctx, bearerAuth(bTok))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, me.StatusCode(), "deactivation ends sessions")

	// Activate: c again, a is already active (skipped).
	st = status(bulk(adminTok, client.BulkUserActionRequest{Action: client.BulkUserActionRequestActionActivate, UserIds: []openapi_types.UUID{c.User.ID, a.User.ID}}))
	require.Equal(t, client.BulkStatusOk, st[c.User.ID])
	require.Equal(t, client.BulkStatusSkipped, st[a.User.ID])

	// change_role: 403 per user for an admin; done for a superadmin; role is required.
	st = status(bulk(adminTok, client.BulkUserActionRequest{Action: client.BulkUserActionRequestActionChangeRole, UserIds: []openapi_types.UUID{a.User.ID}, Role: ptr(client.RoleViewer)}))
	require.Equal(t, client.BulkStatusForbidden, st[a.User.ID])
	superTok := s.token(t, super)
	st = status(bulk(superTok, client.BulkUserActionRequest{Action: client.BulkUserActionRequestActionChangeRole, UserIds: []openapi_types.UUID{a.User.ID, super.User.ID}, Role: ptr(client.RoleViewer)}))
	require.Equal(t, client.BulkStatusOk, st[a.User.ID])
	require.Equal(t, client.BulkStatusSkipped, st[super.User.ID])
	r, err := s.Client.BulkUserActionWithResponse(ctx, client.BulkUserActionRequest{Action: client.BulkUserActionRequestActionChangeRole, UserIds: []openapi_types.UUID{a.User.ID}}, bearerAuth(superTok))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode())
	require.Equal(t, "role", *r.JSON422.Error.Field)

	// Limits: 1-100 distinct ids.
	many := make([]string, 101)
	for i := range many {
		many[i] = `"` + uuid.NewString() + `"`
	}
	res2, body := s.raw(t, http.MethodPost, "/api/admin/panel/users/bulk", `{"action":"activate","user_ids":[`+strings.Join(many, ",")+`]}`,
		map[string]string{"Authorization": "Bearer " + adminTok})
	require.Equal(t, http.StatusUnprocessableEntity, res2.StatusCode, "%s", body)

	// History: the role change and the deactivation with its reason.
	h, err := s.Client.GetUserHistoryWithResponse(ctx, a.User.ID, nil, bearerAuth(adminTok))
	require.NoError(t, err)
	require.Equal(t, client.HistoryRoleChange, h.JSON200.Data[0].Kind)
	h, err = s.Client.GetUserHistoryWithResponse(ctx, b.User.ID, &client.GetUserHistoryParams{Limit: ptr(1)}, bearerAuth(adminTok))
	require.NoError(t, err)
	require.Len(t, h.JSON200.Data, 1)
	require.Equal(t, client.HistoryStatusChange, h.JSON200.Data[0].Kind)
	require.Equal(t, "left the clinic", h.JSON200.Data[0].Details["reason"])
	require.True(t, h.JSON200.Metadata.Pagination.HasMore)
	h, err = s.Client.GetUserHistoryWithResponse(ctx, b.User.ID, &client.GetUserHistoryParams{Cursor: h.JSON200.Metadata.Pagination.NextCursor}, bearerAuth(adminTok))
	require.NoError(t, err)
	require.Equal(t, client.HistoryCreated, h.JSON200.Data[len(h.JSON200.Data)-1].Kind)
}

func TestPermanentDelete(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	super := s.account(t, auth.RoleSuperadmin)
	superTok := s.token(t, super)
	admin := s.account(t, auth.RoleAdmin)
	adminTok := s.token(t, admin)
	victim := s.account(t, auth.RoleUser)
	vTok := s.token(t, victim)
	id, email := victim.User.ID, victim.Email

	// Leave traces of the user across the schema: a conversation, an API key, a flag
	// override targeting them, a flag they own, a pending reset token.
	conv, err := s.Client.CreateConversationWithResponse(ctx, client.ConversationInput{Title: ptr("mine")}, bearerAuth(vTok))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, conv.StatusCode(), "%s", conv.Body)
	key, err := s.Client.CreateApiKeyWithResponse(ctx, client.CreateApiKeyRequest{Name: "k"}, bearerAuth(vTok))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, key.StatusCode(), "%s", key.Body)
	_, err = s.App.Pool.Exec(ctx, `INSERT INTO feature_flags (key, type, owner, created_by, updated_by) VALUES ('ops.purge_check', 'boolean', $2, $1::uuid, $1::uuid)`, id, email)
	require.NoError(t, err)
	_, err = s.App.Pool.Exec(ctx, `INSERT INTO flag_overrides (flag_key, targeting_key, value, created_by) VALUES ('ops.purge_check', $2, 'true', $1)`, id, id.String())
	require.NoError(t, err)
	rr, err := s.Client.AdminResetPasswordWithResponse(ctx, id, client.AdminResetPasswordRequest{Mode: client.ResetModeToken}, bearerAuth(adminTok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, rr.StatusCode())

	del := func(tok string, who uuid.UUID, confirm string) *client.PermanentlyDeleteUserResponse {
		r, err := s.Client.PermanentlyDeleteUserWithResponse(ctx, who, client.PermanentDeleteRequest{ConfirmEmail: confirm, Reason: ptr("GDPR erasure request")}, bearerAuth(tok))
		require.NoError(t, err)
		return r
	}
	r := del(adminTok, id, "someone-else@example.org")
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode())
	require.Equal(t, "confirm_email", *r.JSON422.Error.Field)
	require.Equal(t, http.StatusForbidden, del(adminTok, super.User.ID, super.Email).StatusCode(), "admins cannot delete a superadmin")
	require.Equal(t, http.StatusConflict, del(superTok, super.User.ID, super.Email).StatusCode(), "not yourself")
	require.Equal(t, http.StatusNotFound, del(adminTok, uuid.New(), email).StatusCode())

	r = del(adminTok, id, strings.ToUpper(email))
	require.Equal(t, http.StatusNoContent, r.StatusCode(), "%s", r.Body)

	// Sessions and keys end at once.
	me, err := s.Client.GetMeWithResponse(ctx, bearerAuth(vTok))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, me.StatusCode())
	me, err = s.Client.GetMeWithResponse(ctx, func(_ context.Context, req *http.Request) error {
		req.Header.Set("X-API-Key", key.JSON201.Data.Key)
		return nil
	})
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, me.StatusCode())

	// No column of text or uuid type in any table but audit_log and flag_events names the
	// user's id or email any more.
	rows, err := s.App.Pool.Query(ctx, `
		SELECT c.table_name, c.column_name FROM information_schema.columns c
		JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
		WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE'
		  AND c.data_type IN ('uuid', 'text', 'character varying')
		  AND c.table_name NOT IN ('audit_log', 'flag_events')`)
	require.NoError(t, err)
	type col struct{ table, column string }
	var cols []col
	for rows.Next() {
		var c col
		require.NoError(t, rows.Scan(&c.table, &c.column))
		cols = append(cols, c)
	}
	require.NoError(t, rows.Err())
	require.Greater(t, len(cols), 20)
	for _, c := range cols {
		var n int
		q := `SELECT count(*) FROM "` + c.table + `" WHERE lower("` + c.column + `"::text) IN (lower($1), lower($2))`
		require.NoError(t, s.App.Pool.QueryRow(ctx, q, id.String(), email).Scan(&n))
		require.Zero(t, n, "%s.%s still names the deleted user", c.table, c.column)
	}
	var flags int
	require.NoError(t, s.App.Pool.QueryRow(ctx, `SELECT count(*) FROM feature_flags WHERE key = 'ops.purge_check'`).Scan(&flags))
	require.Equal(t, 1, flags, "shared records stay, without the reference")

	// The tombstone, and the chain still verifies.
	actions := s.auditActions(t, adminTok, id)
	require.Equal(t, "user.deleted", actions[0])
	h, err := s.Client.GetUserHistoryWithResponse(ctx, id, nil, bearerAuth(adminTok))
	require.NoError(t, err)
	require.Equal(t, client.HistoryDeleted, h.JSON200.Data[0].Kind)
	v, err := s.Client.VerifyAuditLogWithResponse(ctx, bearerAuth(adminTok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, v.StatusCode())
	require.True(t, v.JSON200.Data.Valid, "%+v", v.JSON200.Data)
}

func TestPermanentDeleteLastSuperadmin(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	var n int
	require.NoError(t, s.App.Pool.QueryRow(ctx, `SELECT count(*) FROM users WHERE role = 'superadmin' AND is_active`).Scan(&n))
	require.Zero(t, n, "a fresh database has no superadmin")
	a, b := s.account(t, auth.RoleSuperadmin), s.account(t, auth.RoleSuperadmin)
	aTok, bTok := s.token(t, a), s.token(t, b)

	del := func(tok string, who account) *client.PermanentlyDeleteUserResponse {
		r, err := s.Client.PermanentlyDeleteUserWithResponse(ctx, who.User.ID, client.PermanentDeleteRequest{ConfirmEmail: who.Email}, bearerAuth(tok))
		require.NoError(t, err)
		return r
	}
	r := del(aTok, a)
	require.Equal(t, http.StatusConflict, r.StatusCode())
	require.Equal(t, "CANNOT_DELETE_SELF", r.JSON409.Error.Code)
	require.Equal(t, http.StatusNoContent, del(bTok, a).StatusCode(), "one superadmin may delete another")

	// b is now the last active superadmin: refused, and b keeps working.
	r = del(bTok, b)
	require.Equal(t, http.StatusConflict, r.StatusCode())
	require.Equal(t, "LAST_SUPERADMIN", r.JSON409.Error.Code)
	me, err := s.Client.GetMeWithResponse(ctx, bearerAuth(bTok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, me.StatusCode())
}

func TestAdminUserActionRateLimits(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"RATE_LIMIT_ADMIN_USER_ACTIONS": "2", "RATE_LIMIT_TOKEN_REDEEM_PER_HOUR": "2", "TRUSTED_PROXIES": "127.0.0.1/32"})
	ctx := context.Background()
	admin := s.account(t, auth.RoleAdmin)
	tok := s.token(t, admin)
	for i := 0; i < 2; i++ {
		s.invite(t, tok, "rl"+randomID()+"@example.org", client.RoleUser)
	}
	r, err := s.Client.InviteUserWithResponse(ctx, client.InviteUserRequest{Email: emailAddr("rl" + randomID() + "@example.org")}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusTooManyRequests, r.StatusCode())
	require.Equal(t, "RATE_LIMIT_EXCEEDED", r.JSON429.Error.Code)
	require.NotEmpty(t, r.HTTPResponse.Header.Get("Retry-After"))
	// Per admin and per action: another admin, or another action, is not affected.
	s.invite(t, s.token(t, s.account(t, auth.RoleAdmin)), "rl"+randomID()+"@example.org", client.RoleUser)
	rr, err := s.Client.AdminResetPasswordWithResponse(ctx, s.account(t, auth.RoleUser).User.ID, client.AdminResetPasswordRequest{Mode: client.ResetModeToken}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, rr.StatusCode(), "%s", rr.Body)

	// Token redemptions per client IP, whether the token is good or not.
	for i := 0; i < 2; i++ {
		a, err := s.Client.AcceptInvitationWithResponse(ctx, client.AcceptInvitationRequest{Token: "guess" + randomID(), Password: goodPassword}, fromIP("203.0.113.9"))
		require.NoError(t, err)
		require.Equal(t, http.StatusNotFound, a.StatusCode())
	}
	a, err := s.Client.AcceptInvitationWithResponse(ctx, client.AcceptInvitationRequest{Token: "guess", Password: goodPassword}, fromIP("203.0.113.9"))
	require.NoError(t, err)
	require.Equal(t, http.StatusTooManyRequests, a.StatusCode())
	p, err := s.Client.ResetPasswordWithTokenWithResponse(ctx, client.ResetPasswordRequest{Token: "guess", NewPassword: goodPassword}, fromIP("203.0.113.9"))
	require.NoError(t, err)
	require.Equal(t, http.StatusTooManyRequests, p.StatusCode())
}
