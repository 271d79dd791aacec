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

// userOp runs one user operation as the caller and wraps the user it returns.
func (s *Server) userOp(ctx context.Context, op func(p *auth.Principal) (auth.User, error)) (api.UserEnvelope, error) {
	p, err := caller(ctx)
	if err != nil {
		return api.UserEnvelope{}, err
	}
	u, err := op(p)
	if err != nil {
		return api.UserEnvelope{}, err
	}
	return s.userEnvelope(ctx, u), nil
}

// me is the caller's own profile (GetMe and GetMyProfile answer the same).
func (s *Server) me(ctx context.Context) (api.UserEnvelope, error) {
	return s.userOp(ctx, func(p *auth.Principal) (auth.User, error) { return s.Auth.GetUser(ctx, p.UserID) })
}

func (s *Server) GetMyProfile(ctx context.Context, _ api.GetMyProfileRequestObject) (api.GetMyProfileResponseObject, error) {
	env, err := s.me(ctx)
	if err != nil {
		return nil, err
	}
	return api.GetMyProfile200JSONResponse(env), nil
}

func (s *Server) UpdateMyProfile(ctx context.Context, r api.UpdateMyProfileRequestObject) (api.UpdateMyProfileResponseObject, error) {
	env, err := s.userOp(ctx, func(p *auth.Principal) (auth.User, error) { return s.Auth.UpdateProfile(ctx, p, r.Body.FullName) })
	if err != nil {
		return nil, err
	}
	return api.UpdateMyProfile200JSONResponse(env), nil
}

func (s *Server) ListUsers(ctx context.Context, r api.ListUsersRequestObject) (api.ListUsersResponseObject, error) {
	f := auth.UserFilter{Role: stringOf(r.Params.Role), IsActive: r.Params.IsActive, Search: r.Params.Search, Limit: limitOf(r.Params.Limit), Cursor: valueOf(r.Params.Cursor)}
	users, next, err := s.Auth.ListUsers(ctx, f)
	if err != nil {
		return nil, err
	}
	return api.ListUsers200JSONResponse{Success: true, Data: mapAll(users, toUser), Metadata: pageMeta(ctx, f.Limit, next), Timestamp: now()}, nil
}

func (s *Server) GetUser(ctx context.Context, r api.GetUserRequestObject) (api.GetUserResponseObject, error) {
	u, err := s.Auth.GetUser(ctx, r.Id)
	if err != nil {
		return nil, err
	}
	return api.GetUser200JSONResponse(s.userEnvelope(ctx, u)), nil
}

func (s *Server) UpdateUser(ctx context.Context, r api.UpdateUserRequestObject) (api.UpdateUserResponseObject, error) {
	env, err := s.userOp(ctx, func(p *auth.Principal) (auth.User, error) {
		return s.Auth.AdminUpdate(ctx, p, r.Id, r.Body.FullName, r.Body.IsActive)
	})
	if err != nil {
		return nil, err
	}
	return api.UpdateUser200JSONResponse(env), nil
}

func (s *Server) DeactivateUser(ctx context.Context, r api.DeactivateUserRequestObject) (api.DeactivateUserResponseObject, error) {
	env, err := s.userOp(ctx, func(p *auth.Principal) (auth.User, error) { return s.Auth.Deactivate(ctx, p, r.Id) })
	if err != nil {
		return nil, err
	}
	return api.DeactivateUser200JSONResponse(env), nil
}

func (s *Server) SetUserRole(ctx context.Context, r api.SetUserRoleRequestObject) (api.SetUserRoleResponseObject, error) {
	env, err := s.userOp(ctx, func(p *auth.Principal) (auth.User, error) {
		return s.Auth.SetRole(ctx, p, r.Id, auth.Role(r.Body.Role))
	})
	if err != nil {
		return nil, err
	}
	return api.SetUserRole200JSONResponse(env), nil
}
