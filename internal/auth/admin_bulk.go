package auth

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/page"
)

// Bulk actions.
const (
	BulkActivate   = "activate"
	BulkDeactivate = "deactivate"
	BulkChangeRole = "change_role"
)

// Per-user outcomes of a bulk action.
const (
	BulkOK        = "ok"
	BulkSkipped   = "skipped"
	BulkForbidden = "forbidden"
	BulkNotFound  = "not_found"
	BulkError     = "error"
)

// BulkResult is the outcome for one user of a bulk action.
type BulkResult struct {
	UserID  uuid.UUID
	Status  string
	Code    string // "" when Status is ok
	Message string
}

var errUnchanged = apierr.Conflict("UNCHANGED", "Nothing to change")

// Bulk applies one action to many users, each in its own audited transaction, and reports
// per user. The caller's own account is skipped; change_role is superadmin-only per user,
// as PUT /api/users/{id}/role is.
func (s *Service) Bulk(ctx context.Context, p *Principal, action string, ids []uuid.UUID, role *Role, reason string) ([]BulkResult, error) {
	switch action {
	case BulkActivate, BulkDeactivate:
	case BulkChangeRole:
		if role == nil {
			return nil, apierr.Invalid("role", "is required for change_role")
		}
		if !role.Valid() {
			return nil, apierr.Invalid("role", "is not a role")
		}
	default:
		return nil, apierr.Invalid("action", "must be activate, deactivate or change_role")
	}
	if len(ids) == 0 || len(ids) > 100 {
		return nil, apierr.Invalid("user_ids", "must hold 1 to 100 ids")
	}
	reason, err := CleanName("reason", reason)
	if err != nil {
		return nil, err
	}
	if err := s.adminLimit(ctx, p, "bulk"); err != nil {
		return nil, err
	}
	extra := map[string]any{"bulk": true}
	if reason != "" {
		extra["reason"] = reason
	}
	out := make([]BulkResult, 0, len(ids))
	for _, id := range ids {
		r := BulkResult{UserID: id, Status: BulkOK, Message: "done"}
		switch {
		case id == p.UserID:
			r.Status, r.Code, r.Message = BulkSkipped, "SELF", "Your own account is skipped"
		case action == BulkChangeRole && p.Role != RoleSuperadmin:
			r.Status, r.Code, r.Message = BulkForbidden, "INSUFFICIENT_PERMISSIONS", "Only a superadmin may change roles"
		default:
			err := s.bulkOne(ctx, p, id, action, role, extra)
			if err != nil {
				r.Status, r.Code, r.Message = bulkOutcome(err)
				if r.Code == "INTERNAL_ERROR" {
					s.log.ErrorContext(ctx, "bulk user action", "user", id, "action", action, "error", err)
				}
			}
		}
		out = append(out, r)
	}
	return out, nil
}

func (s *Service) bulkOne(ctx context.Context, p *Principal, id uuid.UUID, action string, role *Role, extra map[string]any) error {
	auditAction := "users.updated"
	if action == BulkChangeRole {
		auditAction = "users.role_changed"
	}
	_, err := s.changeUserWith(ctx, p, id, auditAction, extra, func(q *db.Queries, before db.User) (db.User, error) {
		switch action {
		case BulkActivate:
			if before.IsActive {
				return db.User{}, errUnchanged
			}
			if before.PasswordHash == nil {
				return db.User{}, errInvitationPending
			}
			return q.UpdateUserAdmin(ctx, db.UpdateUserAdminParams{ID: id, IsActive: new(true)})
		case BulkDeactivate:
			if !before.IsActive {
				return db.User{}, errUnchanged
			}
			if before.Role == string(RoleSuperadmin) {
				if err := s.keepOneSuperadmin(ctx, q); err != nil {
					return db.User{}, err
				}
			}
			return q.UpdateUserAdmin(ctx, db.UpdateUserAdminParams{ID: id, IsActive: new(false)})
		default:
			if before.Role == string(*role) {
				return db.User{}, errUnchanged
			}
			if before.Role == string(RoleSuperadmin) && before.IsActive {
				if err := s.keepOneSuperadmin(ctx, q); err != nil {
					return db.User{}, err
				}
			}
			return q.UpdateUserAdmin(ctx, db.UpdateUserAdminParams{ID: id, Role: new(string(*role))})
		}
	})
	return err
}

// bulkOutcome maps one user's failure to its bulk status.
func bulkOutcome(err error) (status, code, message string) {
	ae := apierr.From(err)
	switch {
	case ae == errUnchanged || ae == errInvitationPending:
		return BulkSkipped, ae.Code, ae.Message
	case ae.Status == http.StatusNotFound:
		return BulkNotFound, "NOT_FOUND", "User not found"
	case ae.Status == http.StatusForbidden:
		return BulkForbidden, ae.Code, ae.Message
	case ae.Status >= 500:
		return BulkError, "INTERNAL_ERROR", "An internal error occurred"
	}
	return BulkError, ae.Code, ae.Message
}

// PermanentDelete removes an account and every row naming its id or email, except the
// append-only audit_log and flag_events; a user.deleted audit row is the tombstone. Owned
// rows go (ON DELETE CASCADE from users, and the flag overrides that target the user);
// shared records keep existing with the reference cleared.
func (s *Service) PermanentDelete(ctx context.Context, p *Principal, id uuid.UUID, confirmEmail, reason string) error {
	reason, err := CleanName("reason", reason)
	if err != nil {
		return err
	}
	if err := s.adminLimit(ctx, p, "permanent_delete"); err != nil {
		return err
	}
	var families []uuid.UUID
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		u, err := lockUser(ctx, q, p, id)
		if err != nil {
			return err
		}
		if NormalizeEmail(confirmEmail) != u.Email {
			return apierr.Invalid("confirm_email", "does not match the account's email")
		}
		if u.Role == string(RoleSuperadmin) && u.IsActive {
			if err := s.keepOneSuperadmin(ctx, q); err != nil {
				if apierr.From(err).Code == "LAST_SUPERADMIN" {
					return apierr.Conflict("LAST_SUPERADMIN", "The last active superadmin cannot be deleted")
				}
				return err
			}
		}
		// After the superadmin check, so that the last superadmin asking hears why.
		if id == p.UserID {
			return apierr.Conflict("CANNOT_DELETE_SELF", "You cannot delete your own account")
		}
		if families, err = s.endSessions(ctx, q, id); err != nil {
			return err
		}
		if err := s.recordRevoked(ctx, q, families...); err != nil {
			return err
		}
		if _, err := q.PurgeUserFlagOverrides(ctx, db.PurgeUserFlagOverridesParams{UserID: id.String(), Email: u.Email}); err != nil {
			return err
		}
		if err := q.ClearUserFlagOverrideAuthor(ctx, &id); err != nil {
			return err
		}
		if err := q.ClearUserFlagReferences(ctx, db.ClearUserFlagReferencesParams{UserID: id, Email: u.Email}); err != nil {
			return err
		}
		if err := q.ClearUserScheduleReferences(ctx, db.ClearUserScheduleReferencesParams{UserID: id, Email: u.Email}); err != nil {
			return err
		}
		if _, err := q.DeleteUser(ctx, id); err != nil {
			return err
		}
		d := map[string]any{"user_id": id.String(), "role": u.Role, "sessions_ended": len(families)}
		if reason != "" {
			d["reason"] = reason
		}
		return audit.Record(ctx, tx, audit.Entry{
			Actor: actorOf(p, nil), Action: "user.deleted", ResourceType: "user", ResourceID: id.String(), Success: true, Details: d,
		})
	})
	if err != nil {
		return err
	}
	// No epoch is current for a deleted account: "deleted" matches none, so every token of it
	// is refused without a database read (its sessions are durable in revoked_sessions).
	if err := s.sessionsEnded(ctx, id, -1, families...); err != nil {
		s.log.ErrorContext(ctx, "end sessions of a deleted account in redis", "error", err)
	}
	return nil
}

// Kinds of history entries.
const (
	HistoryCreated      = "created"
	HistoryInvitation   = "invitation"
	HistoryRoleChange   = "role_change"
	HistoryStatusChange = "status_change"
	HistoryPassword     = "password"
	HistoryDeleted      = "deleted"
	HistoryOther        = "other"
)

// historyActions are the audit actions that make up a user's history, by kind.
var historyActions = map[string]string{
	"users.created":                 HistoryCreated,
	"users.invited":                 HistoryInvitation,
	"users.invitation_resent":       HistoryInvitation,
	"users.invitation_revoked":      HistoryInvitation,
	"auth.invitation_accepted":      HistoryInvitation,
	"users.role_changed":            HistoryRoleChange,
	"users.updated":                 HistoryStatusChange, // refined by its before/after below
	"users.password_reset":          HistoryPassword,
	"auth.password_reset_completed": HistoryPassword,
	"auth.password_changed":         HistoryPassword,
	"user.deleted":                  HistoryDeleted,
}

// History returns a page of a user's role and status history from the audit log, newest
// first, each row's kind, and the next cursor ("" at the end). It works for deleted
// accounts too.
func (s *Service) History(ctx context.Context, id uuid.UUID, cursor string, limit int) ([]audit.Row, []string, string, error) {
	actions := make([]string, 0, len(historyActions))
	for a := range historyActions {
		actions = append(actions, a)
	}
	params := db.ListUserHistoryParams{UserID: id.String(), Actions: actions, Lim: page.Limit(limit)}
	if cursor != "" {
		before, err := audit.ParseCursor(cursor)
		if err != nil {
			return nil, nil, "", err
		}
		params.BeforeID = &before
	}
	got, err := s.q.ListUserHistory(ctx, params)
	if err != nil {
		return nil, nil, "", err
	}
	got, more := page.Trim(got, limit)
	rows := make([]audit.Row, len(got))
	kinds := make([]string, len(got))
	for i, g := range got {
		d := map[string]any{}
		if err := json.Unmarshal(g.Details, &d); err != nil {
			return nil, nil, "", errors.Join(errors.New("auth: history details"), err)
		}
		rows[i] = audit.Row{ID: g.ID, OccurredAt: g.OccurredAt.UTC(), Actor: audit.Actor{ID: g.ActorID, Email: g.ActorEmail},
			Action: g.Action, ResourceType: "user", ResourceID: id.String(), Success: true, Details: d}
		kinds[i] = historyKind(g.Action, d)
	}
	next := ""
	if more {
		next = audit.Cursor(got[len(got)-1].ID)
	}
	return rows, kinds, next, nil
}

// historyKind names what an entry changed; a users.updated row that kept the active
// status (a rename) is "other".
func historyKind(action string, d map[string]any) string {
	k := historyActions[action]
	if action != "users.updated" {
		return k
	}
	before, _ := d["before"].(map[string]any)
	after, _ := d["after"].(map[string]any)
	if before != nil && after != nil && before["is_active"] != after["is_active"] {
		return HistoryStatusChange
	}
	return HistoryOther
}
