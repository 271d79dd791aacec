package auth

import (
	"time"

	"github.com/google/uuid"

	"github.com/voiceassist/gateway/gen/db"
)

// User is an account as the service hands it out; its password hash stays inside.
type User struct {
	ID          uuid.UUID
	Email       string
	FullName    string
	Role        Role
	IsActive    bool
	AuthEpoch   int32 // bumped when every session must end (password, role or status change)
	LastLoginAt *time.Time
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

func userOf(u db.User) User {
	return User{ID: u.ID, Email: u.Email, FullName: u.FullName, Role: Role(u.Role), IsActive: u.IsActive,
		AuthEpoch: u.AuthEpoch, LastLoginAt: u.LastLoginAt, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt}
}

// APIKey is a service caller's key; the secret is shown once, at creation, and never stored.
type APIKey struct {
	ID         uuid.UUID
	UserID     uuid.UUID
	Name       string
	Prefix     string // the visible start of the key, to tell keys apart
	Role       Role   // at most the owner's role
	ExpiresAt  *time.Time
	LastUsedAt *time.Time
	LastUsedIP string
	RevokedAt  *time.Time
	CreatedAt  time.Time
}

func apiKeyOf(k db.ApiKey) APIKey {
	return APIKey{ID: k.ID, UserID: k.UserID, Name: k.Name, Prefix: k.Prefix, Role: Role(k.Role), ExpiresAt: k.ExpiresAt,
		LastUsedAt: k.LastUsedAt, LastUsedIP: k.LastUsedIp, RevokedAt: k.RevokedAt, CreatedAt: k.CreatedAt}
}
