package flagstore

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/flageval"
	"github.com/voiceassist/gateway/internal/page"
)

// OverrideRecord is a stored override.
type OverrideRecord struct {
	flageval.Override
	Reason               string
	CreatedAt, UpdatedAt time.Time
}

func overrideRecord(o db.FlagOverride) OverrideRecord {
	return OverrideRecord{Override: overrideFromRow(o), Reason: o.Reason, CreatedAt: o.CreatedAt, UpdatedAt: o.UpdatedAt}
}

// checkOverride verifies the override fits the flag: a known variant for multivariate flags,
// a value of the flag's type otherwise.
func checkOverride(f flageval.Flag, o flageval.Override, now time.Time) error {
	if o.ExpiresAt != nil && !o.ExpiresAt.After(now) {
		return apierr.Invalid("expires_at", "must be in the future")
	}
	if f.Type == flageval.TypeMultivariate {
		if o.Value != nil {
			return apierr.Invalid("value", "a multivariate flag is overridden with a variant, not a value")
		}
		for _, v := range f.Variants {
			if v.ID == o.Variant {
				return nil
			}
		}
		return apierr.Invalid("variant", "must be one of the flag's variant ids")
	}
	if o.Variant != "" {
		return apierr.Invalid("variant", "only multivariate flags have variants")
	}
	probe := cloneFlag(f)
	probe.Value = o.Value
	for _, e := range flageval.Validate(&probe) {
		if e.Field == "value" {
			return apierr.Invalid("value", e.Message)
		}
	}
	if o.Value == nil {
		return apierr.Invalid("value", "is required")
	}
	return nil
}

// PutOverride creates or replaces the override of one targeting key.
func (s *Store) PutOverride(ctx context.Context, actor audit.Actor, o flageval.Override, reason string) (OverrideRecord, error) {
	var rec OverrideRecord
	err := s.write(ctx, func(q *db.Queries, tx pgx.Tx) error {
		cur, err := lock(ctx, q, o.FlagKey)
		if err != nil {
			return err
		}
		f := cur.Flag
		if err := checkOverride(f, o, s.now()); err != nil {
			return err
		}
		saved, err := q.UpsertOverride(ctx, db.UpsertOverrideParams{
			FlagKey: o.FlagKey, TargetingKey: o.TargetingKey, Value: encodeJSON(o.Value), Variant: o.Variant,
			Reason: strings.TrimSpace(reason), ExpiresAt: o.ExpiresAt, CreatedBy: actor.ID,
		})
		if err != nil {
			return err
		}
		rec = overrideRecord(saved)
		if err := s.event(ctx, q, "override_set", f, map[string]any{"targeting_key": o.TargetingKey}); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "flags.override_set", ResourceType: "feature_flag", ResourceID: o.FlagKey,
			Success: true, Details: map[string]any{"targeting_key": o.TargetingKey, "variant": o.Variant, "value": o.Value, "expires_at": o.ExpiresAt}})
	})
	return rec, err
}

// DeleteOverride removes the override of one targeting key.
func (s *Store) DeleteOverride(ctx context.Context, actor audit.Actor, key, targetingKey string) error {
	return s.write(ctx, func(q *db.Queries, tx pgx.Tx) error {
		cur, err := lock(ctx, q, key)
		if err != nil {
			return err
		}
		if _, err := q.DeleteOverride(ctx, db.DeleteOverrideParams{FlagKey: key, TargetingKey: targetingKey}); errors.Is(err, pgx.ErrNoRows) {
			return apierr.NotFound("Override")
		} else if err != nil {
			return err
		}
		if err := s.event(ctx, q, "override_deleted", cur.Flag, map[string]any{"targeting_key": targetingKey}); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "flags.override_deleted", ResourceType: "feature_flag", ResourceID: key,
			Success: true, Details: map[string]any{"targeting_key": targetingKey}})
	})
}

// ListOverrides pages through a flag's overrides by targeting key.
func (s *Store) ListOverrides(ctx context.Context, key, after string, limit int) ([]OverrideRecord, string, error) {
	if _, err := s.Get(ctx, key); err != nil {
		return nil, "", err
	}
	p := db.ListOverridesParams{FlagKey: key, Lim: page.Limit(limit)}
	if after != "" {
		p.AfterKey = &after
	}
	rows, err := s.q.ListOverrides(ctx, p)
	if err != nil {
		return nil, "", err
	}
	out, next := page.Map(rows, limit, overrideRecord, func(o OverrideRecord) string { return o.TargetingKey })
	return out, next, nil
}

// Export returns every flag with its overrides.
func (s *Store) Export(ctx context.Context) ([]Doc, error) {
	rows, err := s.q.AllFlags(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Doc, 0, len(rows))
	for _, r := range rows {
		d := ToDoc(fromRow(r).Flag)
		ovs, err := s.q.OverridesOfFlag(ctx, r.Key)
		if err != nil {
			return nil, err
		}
		for _, o := range ovs {
			d.Overrides = append(d.Overrides, OverrideDoc{TargetingKey: o.TargetingKey, Value: decodeJSON(o.Value), Variant: o.Variant, Reason: o.Reason, ExpiresAt: o.ExpiresAt})
		}
		out = append(out, d)
	}
	return out, nil
}

// ImportResult says what an import did (or would do).
type ImportResult struct {
	Created, Updated, Unchanged []string
}

// Import creates or updates every flag of docs (and upserts their overrides) in one
// transaction. Any invalid flag fails the whole import with 422 naming flags[i].field.
func (s *Store) Import(ctx context.Context, actor audit.Actor, docs []Doc, dryRun bool) (ImportResult, error) {
	res := ImportResult{Created: []string{}, Updated: []string{}, Unchanged: []string{}}
	var fieldErrs []apierr.FieldError
	seen := map[string]bool{}
	flags := make([]flageval.Flag, len(docs))
	for i, d := range docs {
		f := FromDoc(d)
		normalise(&f)
		prefix := "flags[" + strconv.Itoa(i) + "]."
		for _, e := range flageval.Validate(&f) {
			fieldErrs = append(fieldErrs, apierr.FieldError{Field: prefix + e.Field, Message: e.Message})
		}
		if seen[f.Key] {
			fieldErrs = append(fieldErrs, apierr.FieldError{Field: prefix + "key", Message: "appears twice in the import"})
		}
		seen[f.Key] = true
		for j, o := range d.Overrides {
			ov := flageval.Override{FlagKey: f.Key, TargetingKey: o.TargetingKey, Value: o.Value, Variant: o.Variant, ExpiresAt: o.ExpiresAt}
			if err := checkOverride(f, ov, s.now()); err != nil {
				var ae *apierr.Error
				if errors.As(err, &ae) {
					fieldErrs = append(fieldErrs, apierr.FieldError{Field: prefix + "overrides[" + strconv.Itoa(j) + "]." + ae.Field, Message: ae.Message})
				}
			}
		}
		flags[i] = f
	}
	if len(fieldErrs) > 0 {
		return res, apierr.Validation(http.StatusUnprocessableEntity, fieldErrs...)
	}
	errDryRun := errors.New("dry run")
	// Every event of the import carries the same batch: streams deliver the batch as one
	// flags_bulk_update (the seed's event for a multi-flag change), not one event per flag.
	batch := map[string]any{BatchKey: Batch{ID: uuid.NewString(), Reason: "import"}}
	err := s.write(ctx, func(q *db.Queries, tx pgx.Tx) error {
		for i, f := range flags {
			// kind and save say what this flag needs: created, updated, or nothing (unchanged).
			var kind string
			var save func() (db.FeatureFlag, error)
			row, err := q.GetFlagForUpdate(ctx, f.Key)
			switch {
			case errors.Is(err, pgx.ErrNoRows):
				res.Created = append(res.Created, f.Key)
				kind, save = "created", func() (db.FeatureFlag, error) { return q.InsertFlag(ctx, insertParams(f, actor.ID)) }
			case err != nil:
				return err
			default:
				before := fromRow(row)
				f.Version = before.Version
				if sameContent(before.Flag, f) {
					res.Unchanged = append(res.Unchanged, f.Key)
				} else {
					res.Updated = append(res.Updated, f.Key)
					kind, save = "updated", func() (db.FeatureFlag, error) { return q.UpdateFlag(ctx, updateParams(f, actor.ID)) }
				}
			}
			if dryRun {
				continue
			}
			if save != nil {
				row, err := save()
				if err != nil {
					return err
				}
				if err := s.event(ctx, q, kind, fromRow(row).Flag, batch); err != nil {
					return err
				}
			}
			for _, o := range docs[i].Overrides {
				if _, err := q.UpsertOverride(ctx, db.UpsertOverrideParams{FlagKey: f.Key, TargetingKey: o.TargetingKey,
					Value: encodeJSON(o.Value), Variant: o.Variant, Reason: o.Reason, ExpiresAt: o.ExpiresAt, CreatedBy: actor.ID}); err != nil {
					return err
				}
			}
		}
		if dryRun {
			return errDryRun // roll back
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "flags.imported", ResourceType: "feature_flag", Success: true,
			Details: map[string]any{"created": res.Created, "updated": res.Updated, "unchanged": len(res.Unchanged)}})
	})
	if errors.Is(err, errDryRun) {
		err = nil
	}
	return res, err
}

// Invalidate makes every replica reload the flag now (an "invalidated" event, which stream
// clients also see as a cue to refetch). It returns the new revision.
func (s *Store) Invalidate(ctx context.Context, actor audit.Actor, key string) (int64, error) {
	var rev int64
	err := s.write(ctx, func(q *db.Queries, tx pgx.Tx) error {
		cur, err := lock(ctx, q, key)
		if err != nil {
			return err
		}
		if err := s.event(ctx, q, "invalidated", cur.Flag, nil); err != nil {
			return err
		}
		if rev, err = q.FlagRevision(ctx); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "flags.cache_invalidated", ResourceType: "feature_flag", ResourceID: key, Success: true})
	})
	return rev, err
}
