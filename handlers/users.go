package handlers

import (
	"context"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/auth"
)

// limitOf applies the contract's default page size.
func limitOf(l *api.Limit) int {
	if l == nil {
		return 50
	}
	return int(*l)
}

func page(limit int, next string) *api.Pagination {
	p := &api.Pagination{Limit: limit, HasMore: next != ""}
	if next != "" {
		p.NextCursor = &next
	}
	return p
}

func (s *Server) GetMyProfile(ctx context.Context, _ api.GetMyProfileRequestObject) (api.GetMyProfileResponseObject, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	u, err := s.Auth.GetUser(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	return api.GetMyProfile200JSONResponse(s.userEnvelope(ctx, u)), nil
}

func (s *Server) UpdateMyProfile(ctx context.Context, r api.UpdateMyProfileRequestObject) (api.UpdateMyProfileResponseObject, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	u, err := s.Auth.UpdateProfile(ctx, p, r.Body.FullName)
	if err != nil {
		return nil, err
	}
	return api.UpdateMyProfile200JSONResponse(s.userEnvelope(ctx, u)), nil
}

func (s *Server) ListUsers(ctx context.Context, r api.ListUsersRequestObject) (api.ListUsersResponseObject, error) {
	f := auth.UserFilter{IsActive: r.Params.IsActive, Search: r.Params.Search, Limit: limitOf(r.Params.Limit)}
	if r.Params.Role != nil {
		role := string(*r.Params.Role)
		f.Role = &role
	}
	if r.Params.Cursor != nil {
		f.Cursor = *r.Params.Cursor
	}
	users, next, err := s.Auth.ListUsers(ctx, f)
	if err != nil {
		return nil, err
	}
	out := make([]api.User, len(users))
	for i, u := range users {
		out[i] = toUser(u)
	}
	m := meta(ctx)
	m.Pagination = page(f.Limit, next)
	return api.ListUsers200JSONResponse{Success: true, Data: out, Metadata: m, Timestamp: now()}, nil
}

func (s *Server) GetUser(ctx context.Context, r api.GetUserRequestObject) (api.GetUserResponseObject, error) {
	u, err := s.Auth.GetUser(ctx, r.Id)
	if err != nil {
		return nil, err
	}
	return api.GetUser200JSONResponse(s.userEnvelope(ctx, u)), nil
}

func (s *Server) UpdateUser(ctx context.Context, r api.UpdateUserRequestObject) (api.UpdateUserResponseObject, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	u, err := s.Auth.AdminUpdate(ctx, p, r.Id, r.Body.FullName, r.Body.IsActive)
	if err != nil {
		return nil, err
	}
	return api.UpdateUser200JSONResponse(s.userEnvelope(ctx, u)), nil
}

func (s *Server) DeactivateUser(ctx context.Context, r api.DeactivateUserRequestObject) (api.DeactivateUserResponseObject, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	u, err := s.Auth.Deactivate(ctx, p, r.Id)
	if err != nil {
		return nil, err
	}
	return api.DeactivateUser200JSONResponse(s.userEnvelope(ctx, u)), nil
}

func (s *Server) SetUserRole(ctx context.Context, r api.SetUserRoleRequestObject) (api.SetUserRoleResponseObject, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	u, err := s.Auth.SetRole(ctx, p, r.Id, auth.Role(r.Body.Role))
	if err != nil {
		return nil, err
	}
	return api.SetUserRole200JSONResponse(s.userEnvelope(ctx, u)), nil
}
