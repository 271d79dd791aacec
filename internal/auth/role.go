// Package auth authenticates callers (JWT access tokens and API keys), issues and rotates
// tokens, revokes them, and manages accounts. Roles form one ladder; the contract declares
// the lowest role of every operation and Authenticate enforces it.
package auth

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// Role is a rung of the ladder user < viewer < admin < superadmin.
type Role string

const (
	RoleUser       Role = "user"
	RoleViewer     Role = "viewer"
	RoleAdmin      Role = "admin"
	RoleSuperadmin Role = "superadmin"
)

var rank = map[Role]int{RoleUser: 1, RoleViewer: 2, RoleAdmin: 3, RoleSuperadmin: 4}

func (r Role) Valid() bool { return rank[r] > 0 }

// AtLeast reports whether r is min or above it.
func (r Role) AtLeast(min Role) bool { return r.Valid() && rank[r] >= rank[min] }

// Lower returns the lower of two roles.
func Lower(a, b Role) Role {
	if rank[a] <= rank[b] {
		return a
	}
	return b
}

// Principal is the authenticated caller of a request.
type Principal struct {
	UserID    uuid.UUID
	Email     string
	Role      Role
	TokenID   uuid.UUID  // jti of the access token (zero for API keys)
	Family    uuid.UUID  // session of the access token (zero for API keys)
	ExpiresAt time.Time  // of the access token
	Epoch     int32      // the user's auth epoch the token was issued under
	Scope     string     // ScopePasswordChange restricts the token to POST /api/auth/password
	APIKeyID  *uuid.UUID // set when the caller used an API key
}

type principalKey struct{}

// WithPrincipal returns ctx carrying p (p must be a *Principal).
func WithPrincipal(ctx context.Context, p any) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// From returns the caller of the request, if authenticated.
func From(ctx context.Context) (*Principal, bool) {
	p, ok := ctx.Value(principalKey{}).(*Principal)
	return p, ok
}
