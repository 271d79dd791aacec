package schedule

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel/trace"
	"go.opentelemetry.io/otel/trace/noop"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/flageval"
	"github.com/voiceassist/gateway/internal/flagstore"
	"github.com/voiceassist/gateway/internal/page"
)

// Service stores scheduled changes and applies them when due.
type Service struct {
	pool    *pgxpool.Pool
	q       *db.Queries
	flags   *flagstore.Store
	log     *slog.Logger
	now     func() time.Time
	poll    time.Duration
	metrics *metrics
	tracer  trace.Tracer
}

type metrics struct {
	total   *prometheus.CounterVec
	pending prometheus.Gauge
	lag     prometheus.Histogram
}

// SetTracer traces each applied change as a span of its own (with its queries below it).
func (s *Service) SetTracer(t trace.Tracer) { s.tracer = t }

// New makes the service; now is the clock (tests inject one so they never wait).
func New(pool *pgxpool.Pool, flags *flagstore.Store, log *slog.Logger, reg prometheus.Registerer, poll time.Duration, now func() time.Time) *Service {
	if now == nil {
		now = time.Now
	}
	m := &metrics{
		total: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "voiceassist_flag_scheduled_changes_total",
			Help: "Scheduled variant changes by outcome (created, applied, failed, cancelled, deleted)."}, []string{"status"}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{Name: "voiceassist_flag_scheduled_changes_pending", Help: "Scheduled changes waiting to apply."}),
		lag: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "voiceassist_flag_scheduled_change_apply_lag_seconds",
			Help: "From a change's scheduled time to its application.", Buckets: []float64{.01, .05, .1, .25, .5, 1, 2.5, 5, 30, 300, 3600}}),
	}
	reg.MustRegister(m.total, m.pending, m.lag)
	return &Service{pool: pool, q: db.New(pool), flags: flags, log: log, now: now, poll: poll, metrics: m,
		tracer: noop.NewTracerProvider().Tracer("")}
}

// Change is a stored scheduled change of a flag's variant weights.
type Change struct {
	ID              uuid.UUID
	FlagKey         string
	ScheduledAt     time.Time
	TimezoneID      string             // the IANA zone the author scheduled in
	Weights         map[string]float64 // variant id -> new weight
	Description     string
	Status          string // pending, applied, failed, cancelled
	CreatedBy       *uuid.UUID
	CreatedByEmail  string
	ModifiedBy      *uuid.UUID
	ModifiedByEmail string
	CancelledBy     *uuid.UUID
	CreatedAt       time.Time
	UpdatedAt       time.Time
	CancelledAt     *time.Time
	AppliedAt       *time.Time
	AppliedVersion  *int64 // the flag version the change produced
	LatenessMs      *int64 // how late it applied (or failed)
	FailureReason   string
}

func decode(r db.ScheduledChange) Change {
	c := Change{
		ID: r.ID, FlagKey: r.FlagKey, ScheduledAt: r.ScheduledAt, TimezoneID: r.TimezoneID, Weights: map[string]float64{},
		Description: r.Description, Status: r.Status, CreatedBy: r.CreatedBy, CreatedByEmail: r.CreatedByEmail,
		ModifiedBy: r.ModifiedBy, ModifiedByEmail: r.ModifiedByEmail, CancelledBy: r.CancelledBy, CreatedAt: r.CreatedAt,
		UpdatedAt: r.UpdatedAt, CancelledAt: r.CancelledAt, AppliedAt: r.AppliedAt, AppliedVersion: r.AppliedVersion,
		LatenessMs: r.LatenessMs, FailureReason: r.FailureReason,
	}
	_ = json.Unmarshal(r.Changes, &c.Weights)
	return c
}

// Input is a new change, or the fields of a patch (nil = unchanged).
type Input struct {
	ScheduledAt *string
	TimezoneID  *string
	Changes     map[string]float64
	Description *string
}

// validate resolves the time and checks the weights against the flag's current variants.
func (s *Service) validate(f *flageval.Flag, when, zone string, weights map[string]float64) (time.Time, error) {
	var fes []apierr.FieldError
	at := time.Time{}
	if _, err := LoadZone(zone); err != nil {
		fes = append(fes, apierr.FieldError{Field: "timezone_id", Message: err.Error()})
	} else if t, err := ParseWhen(when, zone); err != nil {
		fes = append(fes, apierr.FieldError{Field: "scheduled_at", Message: err.Error()})
	} else if !t.After(s.now()) {
		fes = append(fes, apierr.FieldError{Field: "scheduled_at", Message: "must be in the future (it is " + t.Format(time.RFC3339) + ")"})
	} else {
		at = t
	}
	if f.Type != flageval.TypeMultivariate {
		fes = append(fes, apierr.FieldError{Field: "flag", Message: "only multivariate flags have variant weights to schedule"})
		return at, apierr.Validation(http.StatusUnprocessableEntity, fes...)
	}
	if len(weights) == 0 {
		fes = append(fes, apierr.FieldError{Field: "changes", Message: "must name at least one variant and its new weight"})
	}
	known := map[string]bool{}
	for _, v := range f.Variants {
		known[v.ID] = true
	}
	for _, id := range slices.Sorted(maps.Keys(weights)) {
		w := weights[id]
		if !known[id] {
			fes = append(fes, apierr.FieldError{Field: "changes." + id, Message: "is not a variant of this flag"})
		} else if _, ok := flageval.Thousandths(w); !ok || w < 0 || w > 100 {
			fes = append(fes, apierr.FieldError{Field: "changes." + id, Message: "must be a weight from 0 to 100 with at most 3 decimals"})
		}
	}
	if len(fes) == 0 {
		var sum int64
		for _, v := range Apply(f.Variants, weights) {
			t, _ := flageval.Thousandths(v.Weight)
			sum += t
		}
		if sum != flageval.Buckets {
			fes = append(fes, apierr.FieldError{Field: "changes", Message: fmt.Sprintf("the resulting weights sum to %s, not 100", trim(float64(sum)/1000))})
		}
	}
	if len(fes) > 0 {
		return at, apierr.Validation(http.StatusUnprocessableEntity, fes...)
	}
	return at, nil
}

func trim(f float64) string {
	return strings.TrimRight(strings.TrimRight(fmt.Sprintf("%.3f", f), "0"), ".")
}

func (s *Service) currentFlag(ctx context.Context, key string) (*flageval.Flag, error) {
	rec, err := s.flags.Get(ctx, key)
	if err != nil {
		return nil, err
	}
	return &rec.Flag, nil
}

func conflictOrErr(err error) error {
	if apierr.From(err).Status == http.StatusConflict {
		return apierr.Conflict("SCHEDULE_CONFLICT", "Another pending change of this flag is scheduled for the same instant").WithField("scheduled_at")
	}
	return err
}

// Create schedules a change.
func (s *Service) Create(ctx context.Context, actor audit.Actor, key string, in Input) (Change, error) {
	f, err := s.currentFlag(ctx, key)
	if err != nil {
		return Change{}, err
	}
	zone := "UTC"
	if in.TimezoneID != nil && *in.TimezoneID != "" {
		zone = *in.TimezoneID
	}
	when := ""
	if in.ScheduledAt != nil {
		when = *in.ScheduledAt
	}
	at, err := s.validate(f, when, zone, in.Changes)
	if err != nil {
		return Change{}, err
	}
	raw, _ := json.Marshal(in.Changes)
	desc := ""
	if in.Description != nil {
		desc = strings.TrimSpace(*in.Description)
	}
	var out Change
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		row, err := db.New(tx).InsertScheduledChange(ctx, db.InsertScheduledChangeParams{
			FlagKey: key, ScheduledAt: at, TimezoneID: zone, Changes: raw, Description: desc, CreatedBy: actor.ID, CreatedByEmail: actor.Email,
		})
		if err != nil {
			return conflictOrErr(err)
		}
		out = decode(row)
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "flags.scheduled_change_created", ResourceType: "scheduled_change",
			ResourceID: row.ID.String(), Success: true, Details: map[string]any{"flag": key, "scheduled_at": at, "timezone_id": zone, "changes": in.Changes}})
	})
	if err == nil {
		s.metrics.total.WithLabelValues("created").Inc()
	}
	return out, err
}

var errNotPending = func(status string) error {
	return apierr.Conflict("NOT_PENDING", "The change is "+status+"; only pending changes can be changed or cancelled")
}

func (s *Service) lock(ctx context.Context, q *db.Queries, key string, id uuid.UUID) (db.ScheduledChange, error) {
	row, err := q.GetScheduledChangeForUpdate(ctx, db.GetScheduledChangeForUpdateParams{ID: id, FlagKey: key})
	if errors.Is(err, pgx.ErrNoRows) {
		return row, apierr.NotFound("Scheduled change")
	}
	return row, err
}

// lockPending is lock for changing or cancelling: only a pending change may be.
func (s *Service) lockPending(ctx context.Context, q *db.Queries, key string, id uuid.UUID) (db.ScheduledChange, error) {
	row, err := s.lock(ctx, q, key, id)
	if err == nil && row.Status != "pending" {
		return row, errNotPending(row.Status)
	}
	return row, err
}

// Update changes a pending change.
func (s *Service) Update(ctx context.Context, actor audit.Actor, key string, id uuid.UUID, in Input) (Change, error) {
	f, err := s.currentFlag(ctx, key)
	if err != nil {
		return Change{}, err
	}
	var out Change
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		row, err := s.lockPending(ctx, q, key, id)
		if err != nil {
			return err
		}
		cur := decode(row)
		zone, when, weights, desc := row.TimezoneID, row.ScheduledAt.Format(time.RFC3339Nano), cur.Weights, row.Description
		if in.TimezoneID != nil {
			zone = *in.TimezoneID
		}
		if in.ScheduledAt != nil {
			when = *in.ScheduledAt
		}
		if in.Changes != nil {
			weights = in.Changes
		}
		if in.Description != nil {
			desc = strings.TrimSpace(*in.Description)
		}
		at, err := s.validate(f, when, zone, weights)
		if err != nil {
			return err
		}
		raw, _ := json.Marshal(weights)
		row, err = q.UpdateScheduledChange(ctx, db.UpdateScheduledChangeParams{ID: id, ScheduledAt: at, TimezoneID: zone, Changes: raw,
			Description: desc, ModifiedBy: actor.ID, ModifiedByEmail: actor.Email})
		if err != nil {
			return conflictOrErr(err)
		}
		out = decode(row)
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "flags.scheduled_change_updated", ResourceType: "scheduled_change",
			ResourceID: id.String(), Success: true, Details: map[string]any{"flag": key, "before": cur.Weights, "after": weights, "scheduled_at": at}})
	})
	return out, err
}

// Cancel marks a pending change cancelled (the record stays).
func (s *Service) Cancel(ctx context.Context, actor audit.Actor, key string, id uuid.UUID) (Change, error) {
	var out Change
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		row, err := s.lockPending(ctx, q, key, id)
		if err != nil {
			return err
		}
		if row, err = q.CancelScheduledChange(ctx, db.CancelScheduledChangeParams{ID: id, CancelledBy: actor.ID}); err != nil {
			return err
		}
		out = decode(row)
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "flags.scheduled_change_cancelled", ResourceType: "scheduled_change",
			ResourceID: id.String(), Success: true, Details: map[string]any{"flag": key}})
	})
	if err == nil {
		s.metrics.total.WithLabelValues("cancelled").Inc()
	}
	return out, err
}

// Delete removes a change that was not applied (applied ones stay for the audit trail).
func (s *Service) Delete(ctx context.Context, actor audit.Actor, key string, id uuid.UUID) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		row, err := s.lock(ctx, q, key, id)
		if err != nil {
			return err
		}
		if row.Status == "applied" {
			return apierr.Conflict("ALREADY_APPLIED", "An applied change stays for the audit trail; it cannot be deleted")
		}
		if _, err := q.DeleteScheduledChange(ctx, id); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "flags.scheduled_change_deleted", ResourceType: "scheduled_change",
			ResourceID: id.String(), Success: true, Details: map[string]any{"flag": key, "status": row.Status}})
	})
	if err == nil {
		s.metrics.total.WithLabelValues("deleted").Inc()
	}
	return err
}

// Get returns one change of a flag.
func (s *Service) Get(ctx context.Context, key string, id uuid.UUID) (Change, error) {
	row, err := s.q.GetScheduledChange(ctx, db.GetScheduledChangeParams{ID: id, FlagKey: key})
	if errors.Is(err, pgx.ErrNoRows) {
		return Change{}, apierr.NotFound("Scheduled change")
	}
	return decode(row), err
}

// ListForFlag returns a flag's changes in time order.
func (s *Service) ListForFlag(ctx context.Context, key string, status *string) ([]Change, error) {
	if _, err := s.flags.Get(ctx, key); err != nil && apierr.From(err).Status == http.StatusNotFound {
		return nil, err
	}
	rows, err := s.q.ListScheduledChangesOfFlag(ctx, db.ListScheduledChangesOfFlagParams{FlagKey: key, Status: status})
	if err != nil {
		return nil, err
	}
	out := make([]Change, len(rows))
	for i, r := range rows {
		out[i] = decode(r)
	}
	return out, nil
}

// Filter selects changes across flags.
type Filter struct {
	Status, FlagKey *string
	From, To        *time.Time
	Cursor          string // the previous page's next cursor; "" for the first page
	Limit           int
}

// List returns changes across flags in time order and the cursor of the next page ("" at
// the end). A cursor List did not issue is page.BadCursor.
func (s *Service) List(ctx context.Context, f Filter) ([]Change, string, error) {
	p := db.ListScheduledChangesParams{Status: f.Status, FlagKey: f.FlagKey, FromAt: f.From, ToAt: f.To, Lim: page.Limit(f.Limit)}
	return page.KeysetList(page.LayoutAt, f.Cursor, f.Limit, func(after *page.Keyset) ([]db.ScheduledChange, error) {
		if after != nil {
			p.AfterAt, p.AfterID = &after.At, &after.ID
		}
		return s.q.ListScheduledChanges(ctx, p)
	}, decode, func(c Change) page.Keyset { return page.Keyset{At: c.ScheduledAt, ID: c.ID} })
}

// VariantPreview is one variant's weight before and after.
type VariantPreview struct {
	ID                 string
	Current, New, Diff float64
}

// Preview is the impact of a change on the flag as it is now.
type Preview struct {
	Change      Change
	FlagEnabled bool
	Variants    []VariantPreview
	// MovedShare is the exact share of users (within the rollout) whose variant changes,
	// from the bucket layout: variants take consecutive ranges in their stored order.
	MovedShare float64
}

// Preview computes the impact against the flag's current weights.
func (s *Service) Preview(ctx context.Context, key string, id uuid.UUID) (Preview, error) {
	ch, err := s.Get(ctx, key, id)
	if err != nil {
		return Preview{}, err
	}
	f, err := s.currentFlag(ctx, key)
	if err != nil {
		return Preview{}, err
	}
	after := Apply(f.Variants, ch.Weights)
	p := Preview{Change: ch, FlagEnabled: f.Enabled, MovedShare: float64(MovedBuckets(f.Variants, after)) / flageval.Buckets}
	for i, v := range f.Variants {
		p.Variants = append(p.Variants, VariantPreview{ID: v.ID, Current: v.Weight, New: after[i].Weight, Diff: round3(after[i].Weight - v.Weight)})
	}
	return p, nil
}

func round3(f float64) float64 { return math.Round(f*1000) / 1000 }
