package handlers

import (
	"context"
	"encoding/json"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/auth"
)

// caller is the authenticated principal; the contract guarantees one on secured operations.
func caller(ctx context.Context) (*auth.Principal, error) {
	p, ok := auth.From(ctx)
	if !ok {
		return nil, apierr.Unauthorized("UNAUTHORIZED", "Authentication required")
	}
	return p, nil
}

func clientIP(ctx context.Context) string { return audit.RequestFrom(ctx).IP }

func toUser(u auth.User) api.User {
	return api.User{
		Id: u.ID, Email: openapi_types.Email(u.Email), FullName: u.FullName, Role: api.Role(u.Role), IsActive: u.IsActive,
		LastLoginAt: u.LastLoginAt, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
	}
}

func toAPIKey(k auth.APIKey) api.ApiKey {
	return api.ApiKey{
		Id: k.ID, Name: k.Name, Prefix: k.Prefix, Role: api.Role(k.Role), CreatedAt: k.CreatedAt,
		ExpiresAt: k.ExpiresAt, LastUsedAt: k.LastUsedAt, RevokedAt: k.RevokedAt,
	}
}

func (s *Server) userEnvelope(ctx context.Context, u auth.User) api.UserEnvelope {
	return api.UserEnvelope{Success: true, Data: toUser(u), Metadata: meta(ctx), Timestamp: now()}
}

func (s *Server) tokenEnvelope(ctx context.Context, p auth.Pair, u auth.User) api.TokenEnvelope {
	return api.TokenEnvelope{Success: true, Metadata: meta(ctx), Timestamp: now(), Data: api.TokenPair{
		AccessToken:      p.Access,
		RefreshToken:     p.Refresh,
		TokenType:        api.Bearer,
		ExpiresIn:        int(s.Auth.Tokens().AccessTTL().Seconds()),
		RefreshExpiresIn: int(s.Auth.Tokens().RefreshTTL().Seconds()),
		User:             toUser(u),
	}}
}

func (s *Server) GetJWKS(ctx context.Context, _ api.GetJWKSRequestObject) (api.GetJWKSResponseObject, error) {
	raw, err := json.Marshal(s.Auth.Tokens().JWKS())
	if err != nil {
		return nil, err
	}
	var out api.JWKS
	if err := json.Unmarshal(raw, &out); err != nil {
		return nil, err
	}
	if out.Keys == nil {
		out.Keys = []api.JWK{}
	}
	return api.GetJWKS200JSONResponse(out), nil
}

func (s *Server) Register(ctx context.Context, r api.RegisterRequestObject) (api.RegisterResponseObject, error) {
	name := ""
	if r.Body.FullName != nil {
		name = *r.Body.FullName
	}
	u, err := s.Auth.Register(ctx, string(r.Body.Email), r.Body.Password, name, clientIP(ctx))
	if err != nil {
		return nil, err
	}
	return api.Register201JSONResponse(s.userEnvelope(ctx, u)), nil
}

func (s *Server) Login(ctx context.Context, r api.LoginRequestObject) (api.LoginResponseObject, error) {
	p, u, err := s.Auth.Login(ctx, r.Body.Email, r.Body.Password, clientIP(ctx))
	if err != nil {
		return nil, err
	}
	return api.Login200JSONResponse(s.tokenEnvelope(ctx, p, u)), nil
}

func (s *Server) RefreshToken(ctx context.Context, r api.RefreshTokenRequestObject) (api.RefreshTokenResponseObject, error) {
	p, u, err := s.Auth.Refresh(ctx, r.Body.RefreshToken)
	if err != nil {
		return nil, err
	}
	return api.RefreshToken200JSONResponse(s.tokenEnvelope(ctx, p, u)), nil
}

func (s *Server) Logout(ctx context.Context, _ api.LogoutRequestObject) (api.LogoutResponseObject, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.Auth.Logout(ctx, p); err != nil {
		return nil, err
	}
	return api.Logout204Response{}, nil
}

func (s *Server) GetMe(ctx context.Context, _ api.GetMeRequestObject) (api.GetMeResponseObject, error) {
	env, err := s.me(ctx)
	if err != nil {
		return nil, err
	}
	return api.GetMe200JSONResponse(env), nil
}

func (s *Server) ChangePassword(ctx context.Context, r api.ChangePasswordRequestObject) (api.ChangePasswordResponseObject, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	pair, u, err := s.Auth.ChangePassword(ctx, p, r.Body.CurrentPassword, r.Body.NewPassword)
	if err != nil {
		return nil, err
	}
	return api.ChangePassword200JSONResponse(s.tokenEnvelope(ctx, pair, u)), nil
}

func (s *Server) ListApiKeys(ctx context.Context, r api.ListApiKeysRequestObject) (api.ListApiKeysResponseObject, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	limit := limitOf(r.Params.Limit)
	keys, next, err := s.Auth.ListAPIKeys(ctx, p, valueOf(r.Params.Cursor), limit)
	if err != nil {
		return nil, err
	}
	return api.ListApiKeys200JSONResponse{Success: true, Data: mapAll(keys, toAPIKey), Metadata: pageMeta(ctx, limit, next), Timestamp: now()}, nil
}

func (s *Server) CreateApiKey(ctx context.Context, r api.CreateApiKeyRequestObject) (api.CreateApiKeyResponseObject, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	var role *auth.Role
	if r.Body.Role != nil {
		rr := auth.Role(*r.Body.Role)
		role = &rr
	}
	k, key, err := s.Auth.CreateAPIKey(ctx, p, r.Body.Name, role, r.Body.ExpiresInDays)
	if err != nil {
		return nil, err
	}
	return api.CreateApiKey201JSONResponse{Success: true, Metadata: meta(ctx), Timestamp: now(),
		Data: api.ApiKeyCreated{Key: key, ApiKey: toAPIKey(k)}}, nil
}

func (s *Server) RevokeApiKey(ctx context.Context, r api.RevokeApiKeyRequestObject) (api.RevokeApiKeyResponseObject, error) {
	p, err := caller(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.Auth.RevokeAPIKey(ctx, p, r.Id); err != nil {
		return nil, err
	}
	return api.RevokeApiKey204Response{}, nil
}
