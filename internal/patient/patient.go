// Package patient holds minimal patient records (demographics, problems, medications,
// allergies, recent vitals and labs) that ground chat answers and dictation.
//
// Access: the owner (who created the record), an admin (role admin or superadmin) and users
// the owner or an admin granted read or write access to. Anyone else is told the record does
// not exist (404); a grantee who tries more than the grant allows gets 403. Roles are not
// extended: the grant is per record.
//
// HIPAA access audit: every read (Get, List, Context) names its purpose and writes an audit
// row in the transaction that reads the data, so no read is returned without its row; every
// change writes its row in the change's transaction. Audit rows carry ids, field names,
// purposes and access levels, never clinical content or names.
package patient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/page"
)

// Service stores patient records and decides who may see them.
type Service struct {
	pool *pgxpool.Pool
	q    *db.Queries
	now  func() time.Time
}

// New returns a Service; now is the clock (nil: time.Now).
func New(pool *pgxpool.Pool, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	return &Service{pool: pool, q: db.New(pool), now: now}
}

func notFound() error { return apierr.NotFound("Patient") }

const resourceType = "patient"

// caller is who asks, from the audit actor the handlers already build.
type caller struct {
	id    uuid.UUID
	admin bool
	actor audit.Actor
}

func callerOf(a audit.Actor) (caller, error) {
	if a.ID == nil {
		return caller{}, notFound()
	}
	return caller{id: *a.ID, admin: auth.Role(a.Role).AtLeast(auth.RoleAdmin), actor: a}, nil
}

// accessOf is what c may do with a record owned by owner, given c's grant (nil: none);
// "" means nothing.
func (c caller) accessOf(owner uuid.UUID, grant *string) Access {
	switch {
	case owner == c.id:
		return AccessOwner
	case c.admin:
		return AccessAdmin
	case grant != nil:
		return Access(*grant)
	}
	return ""
}

func (a Access) canWrite() bool  { return a == AccessOwner || a == AccessAdmin || a == AccessWrite }
func (a Access) canManage() bool { return a == AccessOwner || a == AccessAdmin }

// tx runs fn in a READ COMMITTED transaction (audit.Record needs it).
func (s *Service) tx(ctx context.Context, fn func(q *db.Queries, tx pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		return fn(s.q.WithTx(tx), tx)
	})
}

func (s *Service) record(ctx context.Context, tx pgx.Tx, c caller, action string, id uuid.UUID, details map[string]any) error {
	details["patient_id"] = id.String()
	return audit.Record(ctx, tx, audit.Entry{Actor: c.actor, Action: action, ResourceType: resourceType,
		ResourceID: id.String(), Success: true, Details: details})
}

// Create stores a new record owned by the caller.
func (s *Service) Create(ctx context.Context, user audit.Actor, in Input) (Record, error) {
	c, err := callerOf(user)
	if err != nil {
		return Record{}, err
	}
	if in, err = in.valid(s.now()); err != nil {
		return Record{}, err
	}
	var out Record
	err = s.tx(ctx, func(q *db.Queries, tx pgx.Tx) error {
		p, err := insertParams(c.id, in)
		if err != nil {
			return err
		}
		row, err := q.InsertPatient(ctx, p)
		if err != nil {
			return fmt.Errorf("patient: insert: %w", err)
		}
		if out, err = recordOf(row, AccessOwner); err != nil {
			return err
		}
		return s.record(ctx, tx, c, "patient.create", row.ID, map[string]any{})
	})
	return out, err
}

// Get returns a record for purpose, audited as patient.read.
func (s *Service) Get(ctx context.Context, user audit.Actor, id uuid.UUID, purpose string) (Record, error) {
	c, err := callerOf(user)
	if err != nil {
		return Record{}, err
	}
	if purpose, err = Purpose(purpose); err != nil {
		return Record{}, err
	}
	var out Record
	err = s.tx(ctx, func(q *db.Queries, tx pgx.Tx) error {
		row, err := q.GetPatientFor(ctx, db.GetPatientForParams{UserID: c.id, ID: id})
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound()
		}
		if err != nil {
			return fmt.Errorf("patient: get: %w", err)
		}
		acc := c.accessOf(row.Patient.OwnerID, row.GrantAccess)
		if acc == "" {
			return notFound()
		}
		if out, err = recordOf(row.Patient, acc); err != nil {
			return err
		}
		return s.record(ctx, tx, c, "patient.read", id, map[string]any{"purpose": purpose, "access": string(acc)})
	})
	return out, err
}

// Context renders a record as a compact text block for a model prompt (see Render), after
// the same access check and audit row as Get.
func (s *Service) Context(ctx context.Context, user audit.Actor, id uuid.UUID, purpose string) (string, error) {
	r, err := s.Get(ctx, user, id, purpose)
	if err != nil {
		return "", err
	}
	return Render(r, s.now()), nil
}

// List returns a page of the records the caller owns or holds a grant on, most recently
// updated first, and the next page's cursor ("" at the end). Items carry identifiers only;
// the page is audited as patient.list with the ids listed.
func (s *Service) List(ctx context.Context, user audit.Actor, purpose, cursor string, limit int) ([]Summary, string, error) {
	c, err := callerOf(user)
	if err != nil {
		return nil, "", err
	}
	if purpose, err = Purpose(purpose); err != nil {
		return nil, "", err
	}
	var items []Summary
	var next string
	err = s.tx(ctx, func(q *db.Queries, tx pgx.Tx) error {
		p := db.ListPatientsForParams{UserID: c.id, Lim: page.Limit(limit)}
		var err error
		items, next, err = page.KeysetList(page.LayoutAt, cursor, limit, func(after *page.Keyset) ([]db.ListPatientsForRow, error) {
			if after != nil {
				p.BeforeAt, p.BeforeID = &after.At, &after.ID
			}
			return q.ListPatientsFor(ctx, p)
		}, func(r db.ListPatientsForRow) Summary {
			return Summary{ID: r.ID, OwnerID: r.OwnerID, Name: r.Name, Access: c.accessOf(r.OwnerID, r.GrantAccess),
				Version: r.Version, UpdatedAt: r.UpdatedAt}
		}, func(s Summary) page.Keyset { return page.Keyset{At: s.UpdatedAt, ID: s.ID} })
		if err != nil {
			return err
		}
		ids := make([]string, len(items))
		for i, it := range items {
			ids[i] = it.ID.String()
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: c.actor, Action: "patient.list", ResourceType: resourceType,
			Success: true, Details: map[string]any{"purpose": purpose, "patient_ids": ids}})
	})
	return items, next, err
}

// lock reads a record for change and the caller's access to it; a caller without any
// access gets 404.
func lock(ctx context.Context, q *db.Queries, c caller, id uuid.UUID) (db.Patient, Access, error) {
	row, err := q.LockPatientFor(ctx, db.LockPatientForParams{UserID: c.id, ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return db.Patient{}, "", notFound()
	}
	if err != nil {
		return db.Patient{}, "", fmt.Errorf("patient: lock: %w", err)
	}
	acc := c.accessOf(row.Patient.OwnerID, row.GrantAccess)
	if acc == "" {
		return db.Patient{}, "", notFound()
	}
	return row.Patient, acc, nil
}

// Update applies p if p.Version is the stored version (409 VERSION_CONFLICT otherwise).
func (s *Service) Update(ctx context.Context, user audit.Actor, id uuid.UUID, p Patch) (Record, error) {
	c, err := callerOf(user)
	if err != nil {
		return Record{}, err
	}
	var out Record
	err = s.tx(ctx, func(q *db.Queries, tx pgx.Tx) error {
		row, acc, err := lock(ctx, q, c, id)
		if err != nil {
			return err
		}
		if !acc.canWrite() {
			return apierr.Forbidden("Your access to this patient record is read-only")
		}
		if row.Version != p.Version {
			return apierr.Conflict("VERSION_CONFLICT", fmt.Sprintf("The record is at version %d, not %d", row.Version, p.Version)).WithField("version")
		}
		cur, err := recordOf(row, acc)
		if err != nil {
			return err
		}
		in := cur.input()
		changed := p.apply(&in)
		if in, err = in.valid(s.now()); err != nil {
			return err
		}
		ip, err := insertParams(row.OwnerID, in)
		if err != nil {
			return err
		}
		upd, err := q.UpdatePatient(ctx, db.UpdatePatientParams{ID: id, Name: ip.Name, BirthDate: ip.BirthDate, Sex: ip.Sex, Mrn: ip.Mrn,
			Problems: ip.Problems, Medications: ip.Medications, Allergies: ip.Allergies, Vitals: ip.Vitals, Labs: ip.Labs})
		if err != nil {
			return fmt.Errorf("patient: update: %w", err)
		}
		if out, err = recordOf(upd, acc); err != nil {
			return err
		}
		return s.record(ctx, tx, c, "patient.update", id, map[string]any{"fields": changed, "version": upd.Version})
	})
	return out, err
}

// Delete removes a record and its grants (owner or admin).
func (s *Service) Delete(ctx context.Context, user audit.Actor, id uuid.UUID) error {
	c, err := callerOf(user)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(q *db.Queries, tx pgx.Tx) error {
		if _, acc, err := lock(ctx, q, c, id); err != nil {
			return err
		} else if !acc.canManage() {
			return apierr.Forbidden("Only the owner or an admin may delete a patient record")
		}
		if err := q.DeletePatient(ctx, id); err != nil {
			return fmt.Errorf("patient: delete: %w", err)
		}
		return s.record(ctx, tx, c, "patient.delete", id, map[string]any{})
	})
}

func manage(ctx context.Context, q *db.Queries, c caller, id uuid.UUID) (db.Patient, error) {
	row, acc, err := lock(ctx, q, c, id)
	if err != nil {
		return row, err
	}
	if !acc.canManage() {
		return row, apierr.Forbidden("Only the owner or an admin may manage access to a patient record")
	}
	return row, nil
}

// Grant gives target read or write access, or changes the access it has.
func (s *Service) Grant(ctx context.Context, user audit.Actor, id, target uuid.UUID, access Access) (Grant, error) {
	c, err := callerOf(user)
	if err != nil {
		return Grant{}, err
	}
	if access != AccessRead && access != AccessWrite {
		return Grant{}, apierr.Invalid("access", "must be read or write")
	}
	var out Grant
	err = s.tx(ctx, func(q *db.Queries, tx pgx.Tx) error {
		row, err := manage(ctx, q, c, id)
		if err != nil {
			return err
		}
		if target == row.OwnerID {
			return apierr.Invalid("user_id", "the owner has full access and needs no grant")
		}
		if _, err := q.GetPatientGrant(ctx, db.GetPatientGrantParams{PatientID: id, UserID: target}); errors.Is(err, pgx.ErrNoRows) {
			n, err := q.CountPatientGrants(ctx, id)
			if err != nil {
				return fmt.Errorf("patient: count grants: %w", err)
			}
			if n >= MaxGrants {
				return apierr.Invalid("user_id", fmt.Sprintf("a patient record has at most %d grants", MaxGrants))
			}
		} else if err != nil {
			return fmt.Errorf("patient: get grant: %w", err)
		}
		g, err := q.UpsertPatientGrant(ctx, db.UpsertPatientGrantParams{PatientID: id, UserID: target, Access: string(access), GrantedBy: &c.id})
		var pe *pgconn.PgError
		if errors.As(err, &pe) && pe.Code == "23503" { // foreign key: no such user
			return apierr.Invalid("user_id", "no such user")
		}
		if err != nil {
			return fmt.Errorf("patient: grant: %w", err)
		}
		out = grantOf(g)
		return s.record(ctx, tx, c, "patient.grant", id, map[string]any{"user_id": target.String(), "access": string(access)})
	})
	return out, err
}

// Revoke removes target's grant (404 when it has none).
func (s *Service) Revoke(ctx context.Context, user audit.Actor, id, target uuid.UUID) error {
	c, err := callerOf(user)
	if err != nil {
		return err
	}
	return s.tx(ctx, func(q *db.Queries, tx pgx.Tx) error {
		if _, err := manage(ctx, q, c, id); err != nil {
			return err
		}
		n, err := q.DeletePatientGrant(ctx, db.DeletePatientGrantParams{PatientID: id, UserID: target})
		if err != nil {
			return fmt.Errorf("patient: revoke: %w", err)
		}
		if n == 0 {
			return apierr.NotFound("Grant")
		}
		return s.record(ctx, tx, c, "patient.revoke", id, map[string]any{"user_id": target.String()})
	})
}

// Grants returns a page of a record's grants, newest first (owner or admin).
func (s *Service) Grants(ctx context.Context, user audit.Actor, id uuid.UUID, cursor string, limit int) ([]Grant, string, error) {
	c, err := callerOf(user)
	if err != nil {
		return nil, "", err
	}
	var items []Grant
	var next string
	err = s.tx(ctx, func(q *db.Queries, _ pgx.Tx) error {
		if _, err := manage(ctx, q, c, id); err != nil {
			return err
		}
		p := db.ListPatientGrantsParams{PatientID: id, Lim: page.Limit(limit)}
		items, next, err = page.KeysetList(page.LayoutAt, cursor, limit, func(after *page.Keyset) ([]db.PatientGrant, error) {
			if after != nil {
				p.BeforeAt, p.BeforeID = &after.At, &after.ID
			}
			return q.ListPatientGrants(ctx, p)
		}, grantOf, func(g Grant) page.Keyset { return page.Keyset{At: g.CreatedAt, ID: g.UserID} })
		return err
	})
	return items, next, err
}

func grantOf(g db.PatientGrant) Grant {
	return Grant{PatientID: g.PatientID, UserID: g.UserID, Access: Access(g.Access), GrantedBy: g.GrantedBy, CreatedAt: g.CreatedAt}
}

func insertParams(owner uuid.UUID, in Input) (db.InsertPatientParams, error) {
	p := db.InsertPatientParams{OwnerID: owner, Name: in.Name, BirthDate: pgtype.Date{Time: in.BirthDate, Valid: true},
		Sex: in.Sex, Mrn: in.MRN}
	for _, f := range []struct {
		dst *json.RawMessage
		v   any
	}{{&p.Problems, in.Problems}, {&p.Medications, in.Meds}, {&p.Allergies, in.Allergies}, {&p.Vitals, in.Vitals}, {&p.Labs, in.Labs}} {
		b, err := json.Marshal(f.v)
		if err != nil {
			return p, fmt.Errorf("patient: encode: %w", err)
		}
		if string(b) == "null" {
			b = []byte("[]")
		}
		*f.dst = b
	}
	return p, nil
}

func recordOf(r db.Patient, acc Access) (Record, error) {
	out := Record{ID: r.ID, OwnerID: r.OwnerID, Name: r.Name, BirthDate: r.BirthDate.Time, Sex: r.Sex, MRN: r.Mrn,
		Access: acc, Version: r.Version, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
	for _, f := range []struct {
		src json.RawMessage
		dst any
	}{{r.Problems, &out.Problems}, {r.Medications, &out.Meds}, {r.Allergies, &out.Allergies}, {r.Vitals, &out.Vitals}, {r.Labs, &out.Labs}} {
		if err := json.Unmarshal(f.src, f.dst); err != nil {
			return out, fmt.Errorf("patient: decode %s: %w", r.ID, err)
		}
	}
	out.Problems, out.Meds, out.Allergies = nonNil(out.Problems), nonNil(out.Meds), nonNil(out.Allergies)
	out.Vitals, out.Labs = nonNil(out.Vitals), nonNil(out.Labs)
	return out, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

func (r Record) input() Input {
	return Input{Name: r.Name, BirthDate: r.BirthDate, Sex: r.Sex, MRN: r.MRN, Problems: r.Problems, Meds: r.Meds,
		Allergies: r.Allergies, Vitals: r.Vitals, Labs: r.Labs}
}

// CheckWrite says whether user may write the record (owner, admin, write grant): nil, 404
// when the record is not theirs to see, 403 with a read grant only. It reads no clinical
// content, so it writes no audit row (linking a dictation to a patient, say).
func (s *Service) CheckWrite(ctx context.Context, user audit.Actor, id uuid.UUID) error {
	c, err := callerOf(user)
	if err != nil {
		return err
	}
	row, err := s.q.GetPatientFor(ctx, db.GetPatientForParams{UserID: c.id, ID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return notFound()
	}
	if err != nil {
		return fmt.Errorf("patient: check: %w", err)
	}
	switch acc := c.accessOf(row.Patient.OwnerID, row.GrantAccess); {
	case acc == "":
		return notFound()
	case !acc.canWrite():
		return apierr.Forbidden("A read grant does not allow linking the patient's record")
	}
	return nil
}
