package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/database"
	"github.com/voiceassist/gateway/internal/page"
)

// GetUser returns one account.
func (s *Service) GetUser(ctx context.Context, id uuid.UUID) (User, error) {
	u, err := s.q.GetUser(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return User{}, apierr.NotFound("User")
	}
	if err != nil {
		return User{}, err
	}
	return userOf(u), nil
}

// UpdateProfile changes the caller's own name.
func (s *Service) UpdateProfile(ctx context.Context, p *Principal, fullName *string) (User, error) {
	if fullName != nil {
		n, err := CleanName("full_name", *fullName)
		if err != nil {
			return User{}, err
		}
		fullName = &n
	}
	var u db.User
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var err error
		if u, err = db.New(tx).UpdateProfile(ctx, db.UpdateProfileParams{ID: p.UserID, FullName: fullName}); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actorOf(p, nil), Action: "users.profile_updated", ResourceType: "user", ResourceID: u.ID.String(), Success: true})
	})
	if err != nil {
		return User{}, err
	}
	return userOf(u), nil
}

// UserFilter selects users for the admin list.
type UserFilter struct {
	Role     *string
	IsActive *bool
	Search   *string
	Limit    int
	Cursor   string // the previous page's next cursor; "" for the first page
}

// ListUsers returns a page, newest first, and the cursor of the next page ("" at the end).
// A cursor ListUsers did not issue is page.BadCursor.
func (s *Service) ListUsers(ctx context.Context, f UserFilter) ([]User, string, error) {
	params := db.ListUsersParams{Role: f.Role, IsActive: f.IsActive, Lim: page.Limit(f.Limit)}
	if f.Search != nil {
		// ILIKE wildcards in the search text are literal characters.
		esc := database.EscapeLike(*f.Search)
		params.Search = &esc
	}
	// User lists keep their own cursor layout (the time under "c"), as issued so far.
	return page.KeysetList(page.LayoutCreated, f.Cursor, f.Limit, func(after *page.Keyset) ([]db.User, error) {
		if after != nil {
			params.BeforeCreated, params.BeforeID = &after.At, &after.ID
		}
		return s.q.ListUsers(ctx, params)
	}, userOf, func(u User) page.Keyset { return page.Keyset{At: u.CreatedAt, ID: u.ID} })
}

// AdminUpdate changes a user's name or active status. Admins cannot touch accounts above
// their own rank; the last active superadmin cannot be deactivated.
func (s *Service) AdminUpdate(ctx context.Context, p *Principal, id uuid.UUID, fullName *string, active *bool) (User, error) {
	if fullName != nil {
		n, err := CleanName("full_name", *fullName)
		if err != nil {
			return User{}, err
		}
		fullName = &n
	}
	return s.changeUser(ctx, p, id, "users.updated", func(q *db.Queries, before db.User) (db.User, error) {
		if active != nil && !*active && before.Role == string(RoleSuperadmin) && before.IsActive {
			if err := s.keepOneSuperadmin(ctx, q); err != nil {
				return db.User{}, err
			}
		}
		return q.UpdateUserAdmin(ctx, db.UpdateUserAdminParams{ID: id, FullName: fullName, IsActive: active})
	})
}

// Deactivate is AdminUpdate with is_active=false.
func (s *Service) Deactivate(ctx context.Context, p *Principal, id uuid.UUID) (User, error) {
	f := false
	return s.AdminUpdate(ctx, p, id, nil, &f)
}

// SetRole changes a user's role (superadmins only, declared in the contract).
func (s *Service) SetRole(ctx context.Context, p *Principal, id uuid.UUID, role Role) (User, error) {
	return s.changeUser(ctx, p, id, "users.role_changed", func(q *db.Queries, before db.User) (db.User, error) {
		if before.Role == string(RoleSuperadmin) && role != RoleSuperadmin && before.IsActive {
			if err := s.keepOneSuperadmin(ctx, q); err != nil {
				return db.User{}, err
			}
		}
		r := string(role)
		return q.UpdateUserAdmin(ctx, db.UpdateUserAdminParams{ID: id, Role: &r})
	})
}

func (s *Service) keepOneSuperadmin(ctx context.Context, q *db.Queries) error {
	// Serialise demotions so two concurrent ones cannot both see "another one is left".
	if _, err := q.LockSuperadmins(ctx); err != nil {
		return err
	}
	n, err := q.CountSuperadmins(ctx)
	if err != nil {
		return err
	}
	if n <= 1 {
		return apierr.Conflict("LAST_SUPERADMIN", "The last active superadmin cannot be demoted or deactivated")
	}
	return nil
}

// changeUser runs one audited admin change of a user; when the change bumps the user's
// auth epoch, their sessions end.
func (s *Service) changeUser(ctx context.Context, p *Principal, id uuid.UUID, action string, change func(*db.Queries, db.User) (db.User, error)) (User, error) {
	return s.changeUserWith(ctx, p, id, action, nil, change)
}

// changeUserWith is changeUser with extra audit details (a bulk action's reason).
func (s *Service) changeUserWith(ctx context.Context, p *Principal, id uuid.UUID, action string, extra map[string]any, change func(*db.Queries, db.User) (db.User, error)) (User, error) {
	var before, after db.User
	var families []uuid.UUID
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		var err error
		before, err = q.GetUserForUpdate(ctx, id)
		if errors.Is(err, pgx.ErrNoRows) {
			return apierr.NotFound("User")
		}
		if err != nil {
			return err
		}
		if !p.Role.AtLeast(Role(before.Role)) {
			return apierr.Forbidden("You cannot change an account with a higher role than yours")
		}
		if after, err = change(q, before); err != nil {
			return err
		}
		if after.AuthEpoch != before.AuthEpoch {
			if families, err = s.endSessions(ctx, q, id); err != nil {
				return err
			}
		}
		d := map[string]any{
			"before": map[string]any{"role": before.Role, "is_active": before.IsActive, "full_name": before.FullName},
			"after":  map[string]any{"role": after.Role, "is_active": after.IsActive, "full_name": after.FullName},
		}
		for k, v := range extra {
			d[k] = v
		}
		return audit.Record(ctx, tx, audit.Entry{
			Actor: actorOf(p, nil), Action: action, ResourceType: "user", ResourceID: id.String(), Success: true, Details: d,
		})
	})
	if err != nil {
		return User{}, err
	}
	if after.AuthEpoch != before.AuthEpoch {
		if err := s.sessionsEnded(ctx, id, after.AuthEpoch, families...); err != nil {
			s.log.ErrorContext(ctx, "end sessions in redis: tokens of the old epoch pass until Redis is reloaded", "error", err)
		}
	}
	return userOf(after), nil
}

// CreateAPIKey makes a key for the caller acting with at most role (default: the caller's).
func (s *Service) CreateAPIKey(ctx context.Context, p *Principal, name string, role *Role, expiresInDays *int) (APIKey, string, error) {
	r := p.Role
	if role != nil {
		if !p.Role.AtLeast(*role) {
			return APIKey{}, "", apierr.Invalid("role", "cannot exceed your own role ("+string(p.Role)+")")
		}
		r = *role
	}
	var exp *time.Time
	if expiresInDays != nil {
		t := s.now().Add(time.Duration(*expiresInDays) * 24 * time.Hour).UTC()
		exp = &t
	}
	name, err := CleanName("name", name)
	if err != nil {
		return APIKey{}, "", err
	}
	if name == "" {
		return APIKey{}, "", apierr.Invalid("name", "must not be blank")
	}
	key, prefix, hash := newAPIKey()
	var k db.ApiKey
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		// The cap counts usable keys (revoked and expired ones are history). Two concurrent
		// creations may both pass it; that bounds the overshoot to the caller's parallelism.
		if s.maxKeys > 0 {
			n, err := db.New(tx).CountAPIKeys(ctx, p.UserID)
			if err != nil {
				return err
			}
			if n >= int64(s.maxKeys) {
				return apierr.Conflict("API_KEY_LIMIT", fmt.Sprintf("You already have %d active API keys, the most allowed; revoke one first", n))
			}
		}
		var err error
		k, err = db.New(tx).CreateAPIKey(ctx, db.CreateAPIKeyParams{UserID: p.UserID, Name: name, Prefix: prefix, SecretHash: hash, Role: string(r), ExpiresAt: exp})
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actorOf(p, nil), Action: "api_keys.created", ResourceType: "api_key", ResourceID: k.ID.String(), Success: true,
			Details: map[string]any{"name": k.Name, "role": k.Role, "prefix": k.Prefix}})
	})
	if err != nil {
		return APIKey{}, "", err
	}
	return apiKeyOf(k), key, nil
}

// ListAPIKeys returns a page of the caller's keys, newest first, and the cursor of the next
// page ("" at the end). A cursor it did not issue is page.BadCursor.
func (s *Service) ListAPIKeys(ctx context.Context, p *Principal, cursor string, limit int) ([]APIKey, string, error) {
	arg := db.ListAPIKeysParams{UserID: p.UserID, Lim: page.Limit(limit)}
	return page.KeysetList(page.LayoutAt, cursor, limit, func(after *page.Keyset) ([]db.ApiKey, error) {
		if after != nil {
			arg.BeforeAt, arg.BeforeID = &after.At, &after.ID
		}
		return s.q.ListAPIKeys(ctx, arg)
	}, apiKeyOf, func(k APIKey) page.Keyset { return page.Keyset{At: k.CreatedAt, ID: k.ID} })
}

// RevokeAPIKey revokes one of the caller's keys.
func (s *Service) RevokeAPIKey(ctx context.Context, p *Principal, id uuid.UUID) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		k, err := db.New(tx).RevokeAPIKey(ctx, db.RevokeAPIKeyParams{ID: id, UserID: p.UserID})
		if errors.Is(err, pgx.ErrNoRows) {
			return apierr.NotFound("API key")
		}
		if err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actorOf(p, nil), Action: "api_keys.revoked", ResourceType: "api_key", ResourceID: k.ID.String(), Success: true})
	})
}
