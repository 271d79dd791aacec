package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/password"
	"github.com/voiceassist/gateway/internal/ratelimit"
)

// User administration of the admin panel: invitations, admin password resets, the
// password-change-required login, bulk actions and permanent deletion. Every action is
// audited in its transaction and limited per admin in Redis.

// adminWindow is the window of RATE_LIMIT_ADMIN_USER_ACTIONS.
const adminWindow = 5 * time.Minute

// adminLimit counts one admin action of p (per action name, so a burst of invitations does
// not block a reset).
func (s *Service) adminLimit(ctx context.Context, p *Principal, action string) error {
	r := ratelimit.Rule{Name: "admin_" + action, Limit: s.limits.adminAction, Window: adminWindow}
	return s.allow(ctx, r, p.UserID.String(), true)
}

// newSecret returns a single-use token (256 random bits) and the SHA-256 that is stored.
func newSecret() (string, []byte) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	return tok, secretHash(tok)
}

func secretHash(tok string) []byte {
	sum := sha256.Sum256([]byte(tok))
	return sum[:]
}

// checkRank refuses to act on an account above the caller's role.
func checkRank(p *Principal, target db.User) error {
	if !p.Role.AtLeast(Role(target.Role)) {
		return apierr.Forbidden("You cannot change an account with a higher role than yours")
	}
	return nil
}

// lockUser reads a user for update inside tx (404 when missing) and checks the caller's rank.
func lockUser(ctx context.Context, q *db.Queries, p *Principal, id uuid.UUID) (db.User, error) {
	u, err := q.GetUserForUpdate(ctx, id)
	if errors.Is(err, pgx.ErrNoRows) {
		return db.User{}, apierr.NotFound("User")
	}
	if err != nil {
		return db.User{}, err
	}
	return u, checkRank(p, u)
}

// Invitation is a freshly issued invitation; Token is shown once and never stored.
type Invitation struct {
	User      User
	Token     string
	ExpiresAt time.Time
}

// Invite creates an inactive account without a password and its invitation. Roles at
// admin and above need a superadmin, as every role grant does.
func (s *Service) Invite(ctx context.Context, p *Principal, email, fullName string, role Role) (Invitation, error) {
	if role == "" {
		role = RoleUser
	}
	if !role.Valid() {
		return Invitation{}, apierr.Invalid("role", "is not a role")
	}
	if role.AtLeast(RoleAdmin) && p.Role != RoleSuperadmin {
		return Invitation{}, apierr.Forbidden("Only a superadmin may invite an admin or a superadmin")
	}
	email, err := CleanEmail(email)
	if err != nil {
		return Invitation{}, err
	}
	if fullName, err = CleanName("full_name", fullName); err != nil {
		return Invitation{}, err
	}
	if err := s.adminLimit(ctx, p, "invite"); err != nil {
		return Invitation{}, err
	}
	var inv Invitation
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		u, err := q.CreateInvitedUser(ctx, db.CreateInvitedUserParams{Email: email, FullName: fullName, Role: string(role)})
		if err != nil {
			if ae := apierr.From(err); ae.Status == http.StatusConflict {
				return apierr.Conflict(codeEmailExists, "An account with this email already exists").WithField("email")
			}
			return err
		}
		if inv, err = s.invite(ctx, q, p, u); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{
			Actor: actorOf(p, nil), Action: "users.invited", ResourceType: "user", ResourceID: u.ID.String(), Success: true,
			Details: map[string]any{"role": u.Role, "email": u.Email, "expires_at": inv.ExpiresAt.UTC().Format(time.RFC3339)},
		})
	})
	return inv, err
}

// invite revokes u's open invitation and issues a new one.
func (s *Service) invite(ctx context.Context, q *db.Queries, p *Principal, u db.User) (Invitation, error) {
	if _, err := q.RevokeOpenInvitations(ctx, u.ID); err != nil {
		return Invitation{}, err
	}
	tok, hash := newSecret()
	by := p.UserID
	row, err := q.CreateInvitation(ctx, db.CreateInvitationParams{
		UserID: u.ID, TokenHash: hash, CreatedBy: &by, ExpiresAt: s.now().Add(s.invitationTTL).UTC(),
	})
	if err != nil {
		return Invitation{}, err
	}
	return Invitation{User: userOf(u), Token: tok, ExpiresAt: row.ExpiresAt}, nil
}

// ResendInvitation replaces the open invitation of an account that has not accepted yet.
func (s *Service) ResendInvitation(ctx context.Context, p *Principal, id uuid.UUID) (Invitation, error) {
	if err := s.adminLimit(ctx, p, "invitation"); err != nil {
		return Invitation{}, err
	}
	var inv Invitation
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		u, err := lockUser(ctx, q, p, id)
		if err != nil {
			return err
		}
		if u.PasswordHash != nil {
			return apierr.Conflict("INVITATION_NOT_PENDING", "The account has a password; its invitation was accepted or it was never invited")
		}
		if inv, err = s.invite(ctx, q, p, u); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{
			Actor: actorOf(p, nil), Action: "users.invitation_resent", ResourceType: "user", ResourceID: u.ID.String(), Success: true,
			Details: map[string]any{"expires_at": inv.ExpiresAt.UTC().Format(time.RFC3339)},
		})
	})
	return inv, err
}

// RevokeInvitation kills the open invitation of an account (404 when there is none).
func (s *Service) RevokeInvitation(ctx context.Context, p *Principal, id uuid.UUID) error {
	if err := s.adminLimit(ctx, p, "invitation"); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		u, err := lockUser(ctx, q, p, id)
		if err != nil {
			return err
		}
		n, err := q.RevokeOpenInvitations(ctx, u.ID)
		if err != nil {
			return err
		}
		if n == 0 {
			return apierr.NotFound("Open invitation")
		}
		return audit.Record(ctx, tx, audit.Entry{
			Actor: actorOf(p, nil), Action: "users.invitation_revoked", ResourceType: "user", ResourceID: u.ID.String(), Success: true,
		})
	})
}

// invitationState refuses an invitation that can no longer be used.
func (s *Service) invitationState(inv db.Invitation) error {
	switch {
	case inv.AcceptedAt != nil:
		return apierr.New(http.StatusGone, "INVITATION_ALREADY_ACCEPTED", "The invitation was already accepted").WithField("token")
	case inv.RevokedAt != nil:
		return apierr.New(http.StatusGone, "INVITATION_REVOKED", "The invitation was revoked").WithField("token")
	case !inv.ExpiresAt.After(s.now()):
		return apierr.New(http.StatusGone, "INVITATION_EXPIRED", "The invitation has expired").WithField("token")
	}
	return nil
}

var errInvitationNotFound = apierr.New(http.StatusNotFound, "INVITATION_NOT_FOUND", "No invitation has this token").WithField("token")

// AcceptInvitation sets the invitee's password, activates the account and starts a session.
func (s *Service) AcceptInvitation(ctx context.Context, token, pw, ip string) (Pair, User, error) {
	if err := s.allow(ctx, s.limits.redeem, ip, true); err != nil {
		return Pair{}, User{}, err
	}
	hash := secretHash(token)
	// Check and hash outside the transaction (argon2id is slow); the transaction checks again.
	inv, err := s.q.GetInvitationByHashForUpdate(ctx, hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return Pair{}, User{}, errInvitationNotFound
	}
	if err != nil {
		return Pair{}, User{}, err
	}
	if err := s.invitationState(inv); err != nil {
		return Pair{}, User{}, err
	}
	u, err := s.q.GetUser(ctx, inv.UserID)
	if err != nil {
		return Pair{}, User{}, err
	}
	pwHash, err := s.checkAndHash(ctx, "password", pw, u.Email)
	if err != nil {
		return Pair{}, User{}, err
	}
	var pair Pair
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		inv, err := q.GetInvitationByHashForUpdate(ctx, hash)
		if errors.Is(err, pgx.ErrNoRows) {
			return errInvitationNotFound // the account was deleted meanwhile
		}
		if err != nil {
			return err
		}
		if err := s.invitationState(inv); err != nil {
			return err
		}
		if u, err = q.SetPasswordAndActivate(ctx, db.SetPasswordAndActivateParams{ID: inv.UserID, PasswordHash: &pwHash}); err != nil {
			return err
		}
		if err := q.MarkInvitationAccepted(ctx, inv.ID); err != nil {
			return err
		}
		if err := q.TouchLogin(ctx, u.ID); err != nil {
			return err
		}
		if pair, err = s.issue(ctx, q, userOf(u), uuid.New()); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{
			Actor: actorOf(nil, &u), Action: "auth.invitation_accepted", ResourceType: "user", ResourceID: u.ID.String(), Success: true,
		})
	})
	if err != nil {
		return Pair{}, User{}, err
	}
	return pair, userOf(u), nil
}

// checkAndHash applies the password policy (as registration does) and hashes.
func (s *Service) checkAndHash(ctx context.Context, field, pw, email string) (string, error) {
	if vs := password.Check(field, pw, email); len(vs) > 0 {
		return "", policyError(vs)
	}
	h, err := s.hasher.Hash(ctx, pw)
	if err != nil {
		return "", fmt.Errorf("auth: hash password: %w", err)
	}
	return h, nil
}

// Reset modes of ResetPassword.
const (
	ResetTemporary = "temporary"
	ResetToken     = "token"
)

// PasswordReset is the outcome of an admin reset; the secret in it is shown once.
type PasswordReset struct {
	UserID            uuid.UUID
	Mode              string
	TemporaryPassword string
	ResetToken        string
	ExpiresAt         *time.Time
	SessionsEnded     int
}

var errInvitationPending = apierr.Conflict("INVITATION_PENDING", "The account has no password yet; resend its invitation instead")

// ResetPassword sets a temporary password (the user must change it at the next login, and
// every session ends) or issues a single-use reset token.
func (s *Service) ResetPassword(ctx context.Context, p *Principal, id uuid.UUID, mode string) (PasswordReset, error) {
	if mode != ResetTemporary && mode != ResetToken {
		return PasswordReset{}, apierr.Invalid("mode", "must be temporary or token")
	}
	if err := s.adminLimit(ctx, p, "reset_password"); err != nil {
		return PasswordReset{}, err
	}
	out := PasswordReset{UserID: id, Mode: mode}
	var tempHash string
	if mode == ResetTemporary {
		out.TemporaryPassword = temporaryPassword()
		var err error
		if tempHash, err = s.hasher.Hash(ctx, out.TemporaryPassword); err != nil {
			return PasswordReset{}, fmt.Errorf("auth: hash password: %w", err)
		}
	}
	var families []uuid.UUID
	var epoch int32
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		u, err := lockUser(ctx, q, p, id)
		if err != nil {
			return err
		}
		if u.PasswordHash == nil {
			return errInvitationPending
		}
		if _, err := q.RevokeOpenResetTokens(ctx, id); err != nil {
			return err
		}
		if mode == ResetTemporary {
			after, err := q.SetTemporaryPassword(ctx, db.SetTemporaryPasswordParams{ID: id, PasswordHash: &tempHash})
			if err != nil {
				return err
			}
			epoch = after.AuthEpoch
			if families, err = s.endSessions(ctx, q, id); err != nil {
				return err
			}
			out.SessionsEnded = len(families)
		} else {
			tok, hash := newSecret()
			by := p.UserID
			row, err := q.CreateResetToken(ctx, db.CreateResetTokenParams{UserID: id, TokenHash: hash, CreatedBy: &by, ExpiresAt: s.now().Add(s.resetTTL).UTC()})
			if err != nil {
				return err
			}
			out.ResetToken, out.ExpiresAt = tok, &row.ExpiresAt
		}
		return audit.Record(ctx, tx, audit.Entry{
			Actor: actorOf(p, nil), Action: "users.password_reset", ResourceType: "user", ResourceID: id.String(), Success: true,
			Details: map[string]any{"mode": mode, "sessions_ended": out.SessionsEnded},
		})
	})
	if err != nil {
		return PasswordReset{}, err
	}
	if mode == ResetTemporary {
		if err := s.sessionsEnded(ctx, id, epoch, families...); err != nil {
			s.log.ErrorContext(ctx, "end sessions in redis: tokens of the old epoch pass until Redis is reloaded", "error", err)
		}
	}
	return out, nil
}

// temporaryPassword is 20 characters from a 56-letter alphabet without look-alikes (about
// 116 bits); it passes the password policy and is meant to be typed once.
func temporaryPassword() string {
	const alphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	var b [20]byte
	_, _ = rand.Read(b[:])
	out := make([]byte, len(b))
	for i, c := range b {
		out[i] = alphabet[int(c)%len(alphabet)]
	}
	return string(out)
}

func (s *Service) resetTokenState(t db.PasswordResetToken) error {
	switch {
	case t.UsedAt != nil:
		return apierr.New(http.StatusGone, "RESET_TOKEN_USED", "The reset token was already used").WithField("token")
	case t.RevokedAt != nil:
		return apierr.New(http.StatusGone, "RESET_TOKEN_REVOKED", "The reset token was replaced or revoked").WithField("token")
	case !t.ExpiresAt.After(s.now()):
		return apierr.New(http.StatusGone, "RESET_TOKEN_EXPIRED", "The reset token has expired").WithField("token")
	}
	return nil
}

var errResetTokenNotFound = apierr.New(http.StatusNotFound, "RESET_TOKEN_NOT_FOUND", "No reset token has this value").WithField("token")

// RedeemResetToken sets a new password with an admin-issued reset token and ends every
// session of the account.
func (s *Service) RedeemResetToken(ctx context.Context, token, pw, ip string) error {
	if err := s.allow(ctx, s.limits.redeem, ip, true); err != nil {
		return err
	}
	hash := secretHash(token)
	t, err := s.q.GetResetTokenByHashForUpdate(ctx, hash)
	if errors.Is(err, pgx.ErrNoRows) {
		return errResetTokenNotFound
	}
	if err != nil {
		return err
	}
	if err := s.resetTokenState(t); err != nil {
		return err
	}
	u, err := s.q.GetUser(ctx, t.UserID)
	if err != nil {
		return err
	}
	pwHash, err := s.checkAndHash(ctx, "new_password", pw, u.Email)
	if err != nil {
		return err
	}
	var families []uuid.UUID
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		t, err := q.GetResetTokenByHashForUpdate(ctx, hash)
		if errors.Is(err, pgx.ErrNoRows) {
			return errResetTokenNotFound
		}
		if err != nil {
			return err
		}
		if err := s.resetTokenState(t); err != nil {
			return err
		}
		if u, err = q.UpdatePassword(ctx, db.UpdatePasswordParams{ID: t.UserID, PasswordHash: &pwHash}); err != nil {
			return err
		}
		if err := q.MarkResetTokenUsed(ctx, t.ID); err != nil {
			return err
		}
		if families, err = s.endSessions(ctx, q, u.ID); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{
			Actor: actorOf(nil, &u), Action: "auth.password_reset_completed", ResourceType: "user", ResourceID: u.ID.String(), Success: true,
			Details: map[string]any{"sessions_ended": len(families)},
		})
	})
	if err != nil {
		return err
	}
	if err := s.sessionsEnded(ctx, u.ID, u.AuthEpoch, families...); err != nil {
		s.log.ErrorContext(ctx, "end sessions in redis: tokens of the old epoch pass until Redis is reloaded", "error", err)
	}
	return nil
}

// passwordChangeRequired answers a correct login of an account with a temporary password:
// 403 PASSWORD_CHANGE_REQUIRED carrying an access token good only for the password change
// (no refresh token, no session to rotate). Audited in tx.
func (s *Service) passwordChangeRequired(ctx context.Context, tx pgx.Tx, u db.User) error {
	tok, c, err := s.tokens.IssueScoped(ScopePasswordChange, u.ID, u.Email, Role(u.Role), u.AuthEpoch, uuid.New())
	if err != nil {
		return err
	}
	if err := audit.Record(ctx, tx, audit.Entry{
		Actor: actorOf(nil, &u), Action: "auth.login_password_change_required", ResourceType: "user", ResourceID: u.ID.String(), Success: true,
	}); err != nil {
		return err
	}
	// Returning an error rolls the audit row back: commit it here, then refuse.
	if err := tx.Commit(ctx); err != nil {
		return err
	}
	e := apierr.New(http.StatusForbidden, "PASSWORD_CHANGE_REQUIRED",
		"The password was reset by an administrator and must be changed: call POST "+PasswordChangePath+" with the token in details")
	e.Details = map[string]any{
		"password_change_token": tok,
		"token_type":            "bearer",
		"expires_in":            int(c.ExpiresAt.Sub(c.IssuedAt).Seconds()),
	}
	return e
}
