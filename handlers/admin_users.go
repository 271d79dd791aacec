package handlers

import (
	"context"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/auth"
)

// User administration of the admin panel (/api/admin/panel/users…) and the two public
// token redemptions it hands out (/api/auth/invitations/accept, /api/auth/password/reset).

const acceptPath = "/api/auth/invitations/accept"

func (s *Server) invitationEnvelope(ctx context.Context, inv auth.Invitation) api.InvitationEnvelope {
	return api.InvitationEnvelope{Success: true, Metadata: meta(ctx), Timestamp: now(), Data: api.Invitation{
		User: toUser(inv.User), Token: inv.Token, ExpiresAt: inv.ExpiresAt.UTC(), AcceptPath: acceptPath,
	}}
}

func (s *Server) InviteUser(ctx context.Context, r api.InviteUserRequestObject) (api.InviteUserResponseObject, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	role := auth.Role("")
	if r.Body.Role != nil {
		role = auth.Role(*r.Body.Role)
	}
	inv, err := s.Auth.Invite(ctx, p, string(r.Body.Email), valueOf(r.Body.FullName), role)
	if err != nil {
		return nil, err
	}
	return api.InviteUser201JSONResponse(s.invitationEnvelope(ctx, inv)), nil
}

func (s *Server) ResendInvitation(ctx context.Context, r api.ResendInvitationRequestObject) (api.ResendInvitationResponseObject, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	inv, err := s.Auth.ResendInvitation(ctx, p, r.Id)
	if err != nil {
		return nil, err
	}
	return api.ResendInvitation200JSONResponse(s.invitationEnvelope(ctx, inv)), nil
}

func (s *Server) RevokeInvitation(ctx context.Context, r api.RevokeInvitationRequestObject) (api.RevokeInvitationResponseObject, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.Auth.RevokeInvitation(ctx, p, r.Id); err != nil {
		return nil, err
	}
	return api.RevokeInvitation204Response{}, nil
}

func (s *Server) AcceptInvitation(ctx context.Context, r api.AcceptInvitationRequestObject) (api.AcceptInvitationResponseObject, error) {
	pair, u, err := s.Auth.AcceptInvitation(ctx, r.Body.Token, r.Body.Password, clientIP(ctx))
	if err != nil {
		return nil, err
	}
	return api.AcceptInvitation200JSONResponse(s.tokenEnvelope(ctx, pair, u)), nil
}

func (s *Server) AdminResetPassword(ctx context.Context, r api.AdminResetPasswordRequestObject) (api.AdminResetPasswordResponseObject, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	res, err := s.Auth.ResetPassword(ctx, p, r.Id, string(r.Body.Mode))
	if err != nil {
		return nil, err
	}
	out := api.PasswordReset{UserId: res.UserID, Mode: api.PasswordResetMode(res.Mode), SessionsEnded: res.SessionsEnded, ExpiresAt: res.ExpiresAt}
	if res.TemporaryPassword != "" {
		out.TemporaryPassword = &res.TemporaryPassword
	}
	if res.ResetToken != "" {
		out.ResetToken = &res.ResetToken
	}
	return api.AdminResetPassword200JSONResponse{Success: true, Data: out, Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) ResetPasswordWithToken(ctx context.Context, r api.ResetPasswordWithTokenRequestObject) (api.ResetPasswordWithTokenResponseObject, error) {
	if err := s.Auth.RedeemResetToken(ctx, r.Body.Token, r.Body.NewPassword, clientIP(ctx)); err != nil {
		return nil, err
	}
	return api.ResetPasswordWithToken204Response{}, nil
}

func (s *Server) BulkUserAction(ctx context.Context, r api.BulkUserActionRequestObject) (api.BulkUserActionResponseObject, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var role *auth.Role
	if r.Body.Role != nil {
		role = new(auth.Role(*r.Body.Role))
	}
	results, err := s.Auth.Bulk(ctx, p, string(r.Body.Action), r.Body.UserIds, role, valueOf(r.Body.Reason))
	if err != nil {
		return nil, err
	}
	out := api.BulkUserActionResult{Action: api.BulkUserActionResultAction(r.Body.Action), Results: make([]api.BulkUserResult, len(results)),
		Summary: map[string]int{auth.BulkOK: 0, auth.BulkSkipped: 0, auth.BulkForbidden: 0, auth.BulkNotFound: 0, auth.BulkError: 0}}
	for i, res := range results {
		out.Results[i] = api.BulkUserResult{UserId: res.UserID, Status: api.BulkUserResultStatus(res.Status), Message: res.Message}
		if res.Code != "" {
			out.Results[i].Code = new(res.Code)
		}
		out.Summary[res.Status]++
	}
	return api.BulkUserAction200JSONResponse{Success: true, Data: out, Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) PermanentlyDeleteUser(ctx context.Context, r api.PermanentlyDeleteUserRequestObject) (api.PermanentlyDeleteUserResponseObject, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.Auth.PermanentDelete(ctx, p, r.Id, r.Body.ConfirmEmail, valueOf(r.Body.Reason)); err != nil {
		return nil, err
	}
	return api.PermanentlyDeleteUser204Response{}, nil
}

func (s *Server) GetUserHistory(ctx context.Context, r api.GetUserHistoryRequestObject) (api.GetUserHistoryResponseObject, error) {
	limit := limitOf(r.Params.Limit)
	rows, kinds, next, err := s.Auth.History(ctx, r.Id, valueOf(r.Params.Cursor), limit)
	if err != nil {
		return nil, err
	}
	out := make([]api.UserHistoryEntry, len(rows))
	for i, row := range rows {
		out[i] = api.UserHistoryEntry{Id: row.ID, OccurredAt: row.OccurredAt, Action: row.Action, Kind: api.UserHistoryEntryKind(kinds[i]),
			ActorId: row.Actor.ID, ActorEmail: row.Actor.Email, Details: row.Details}
	}
	return api.GetUserHistory200JSONResponse{Success: true, Data: out, Metadata: pageMeta(ctx, limit, next), Timestamp: now()}, nil
}
