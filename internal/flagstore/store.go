// Package flagstore keeps feature flags in PostgreSQL and serves evaluations from an
// in-process snapshot. Every change is one transaction that writes the flag (version + 1),
// an audit row and a flag_events row (the outbox); replicas learn of it by LISTEN/NOTIFY and
// a safety poll, reload, and swap their snapshot atomically.
package flagstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/database"
	"github.com/voiceassist/gateway/internal/flageval"
	"github.com/voiceassist/gateway/internal/page"
)

// Store is the flag service of one replica.
type Store struct {
	pool *pgxpool.Pool
	q    *db.Queries
	log  *slog.Logger
	now  func() time.Time
	poll time.Duration

	snap     atomic.Pointer[flageval.Snapshot]
	reloadMu sync.Mutex
	changed  chan struct{} // closed and replaced on every snapshot swap
	moved    chan struct{} // closed and replaced when the event log may have moved (chMu)
	chMu     sync.Mutex
}

// New loads the first snapshot. poll is the safety-poll interval behind LISTEN/NOTIFY.
func New(ctx context.Context, pool *pgxpool.Pool, log *slog.Logger, poll time.Duration, now func() time.Time) (*Store, error) {
	if now == nil {
		now = time.Now
	}
	s := &Store{pool: pool, q: db.New(pool), log: log, now: now, poll: poll, changed: make(chan struct{}), moved: make(chan struct{})}
	if err := s.reload(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

// Snapshot is the current immutable view used for evaluation.
func (s *Store) Snapshot() *flageval.Snapshot { return s.snap.Load() }

// Changed returns a channel closed at the next snapshot swap.
func (s *Store) Changed() <-chan struct{} {
	s.chMu.Lock()
	defer s.chMu.Unlock()
	return s.changed
}

// Moved returns a channel closed as soon as the event log may have moved: after a local
// commit, or on a NOTIFY, before the snapshot is reloaded (the flag stream tails the log
// itself and need not wait for the reload: issue 17).
func (s *Store) Moved() <-chan struct{} {
	s.chMu.Lock()
	defer s.chMu.Unlock()
	return s.moved
}

func (s *Store) signalMoved() {
	s.chMu.Lock()
	close(s.moved)
	s.moved = make(chan struct{})
	s.chMu.Unlock()
}

// Refresh reloads when the event log moved past the snapshot's revision.
func (s *Store) Refresh(ctx context.Context) error {
	rev, err := s.q.FlagRevision(ctx)
	if err != nil {
		return err
	}
	if cur := s.snap.Load(); cur != nil && cur.Revision() >= rev {
		return nil
	}
	return s.reload(ctx)
}

func (s *Store) reload(ctx context.Context) error {
	s.reloadMu.Lock()
	defer s.reloadMu.Unlock()
	// Revision first: a change committed while we read the rows makes the next Refresh
	// reload again, never the other way round.
	rev, err := s.q.FlagRevision(ctx)
	if err != nil {
		return fmt.Errorf("flagstore: revision: %w", err)
	}
	if cur := s.snap.Load(); cur != nil && cur.Revision() >= rev {
		return nil
	}
	rows, err := s.q.AllFlags(ctx)
	if err != nil {
		return fmt.Errorf("flagstore: load flags: %w", err)
	}
	ovs, err := s.q.AllOverrides(ctx)
	if err != nil {
		return fmt.Errorf("flagstore: load overrides: %w", err)
	}
	flags := make([]flageval.Flag, 0, len(rows))
	for _, r := range rows {
		flags = append(flags, fromRow(r).Flag)
	}
	overrides := make([]flageval.Override, 0, len(ovs))
	for _, o := range ovs {
		overrides = append(overrides, overrideFromRow(o))
	}
	snap, err := flageval.NewSnapshot(flags, overrides, rev, s.now)
	if err != nil {
		return fmt.Errorf("flagstore: build snapshot: %w", err)
	}
	for _, sk := range snap.Skipped() {
		s.log.Warn("flag override no longer fits its flag; ignored", "flag", sk.Key, "targeting_key", sk.TargetingKey, "error", sk.Error())
	}
	s.snap.Store(snap)
	s.chMu.Lock()
	close(s.changed)
	s.changed = make(chan struct{})
	s.chMu.Unlock()
	return nil
}

// Run keeps the snapshot current until ctx ends: it LISTENs on flag_events and polls every
// s.poll in case a notification was missed (a dropped connection, a restart).
func (s *Store) Run(ctx context.Context) {
	wake := make(chan struct{}, 1)
	go database.Listen(ctx, s.pool, "flag_events", wake, s.log)
	t := time.NewTicker(s.poll)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wake:
			s.signalMoved()
		case <-t.C:
		}
		if err := s.Refresh(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("flag snapshot refresh", "error", err)
		}
	}
}

// write runs one flag mutation: the advisory lock that orders flag_events, the change, its
// event and its audit row, in one transaction; then the local snapshot catches up at once
// (read-your-writes on this replica; others follow via NOTIFY).
func (s *Store) write(ctx context.Context, change func(q *db.Queries, tx pgx.Tx) error) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := db.New(tx)
		if err := q.LockFlagWrites(ctx); err != nil {
			return err
		}
		return change(q, tx)
	})
	if err != nil {
		return err
	}
	s.signalMoved()
	if err := s.Refresh(ctx); err != nil {
		s.log.WarnContext(ctx, "flag snapshot refresh after write", "error", err)
	}
	return nil
}

func (s *Store) event(ctx context.Context, q *db.Queries, kind string, f flageval.Flag, extra map[string]any) error {
	doc := ToDoc(f)
	payload := map[string]any{"flag": doc}
	for k, v := range extra {
		payload[k] = v
	}
	raw, err := json.Marshal(payload)
	if err != nil {
		return err
	}
	_, err = q.InsertFlagEvent(ctx, db.InsertFlagEventParams{
		FlagKey: f.Key, Kind: kind, Version: f.Version, Visibility: string(f.Visibility), Payload: raw,
	})
	return err
}

func validate(f *flageval.Flag) error {
	if errs := flageval.Validate(f); len(errs) > 0 {
		return apierr.Validation(http.StatusUnprocessableEntity, errs...)
	}
	return nil
}

func notFound(key string) error { return apierr.NotFound("Flag " + key) }

// lock reads a flag FOR UPDATE inside a write; a missing flag is a 404.
func lock(ctx context.Context, q *db.Queries, key string) (Record, error) {
	row, err := q.GetFlagForUpdate(ctx, key)
	if errors.Is(err, pgx.ErrNoRows) {
		return Record{}, notFound(key)
	}
	if err != nil {
		return Record{}, err
	}
	return fromRow(row), nil
}

func actorID(a audit.Actor) *uuid.UUID { return a.ID }

// Create stores a new flag at version 1. A boolean flag given without values serves true
// when on and false otherwise.
func (s *Store) Create(ctx context.Context, actor audit.Actor, f flageval.Flag) (Record, error) {
	normalise(&f)
	if f.Type == flageval.TypeBoolean {
		if f.Value == nil {
			f.Value = true
		}
		if f.DefaultValue == nil {
			f.DefaultValue = false
		}
	}
	if err := validate(&f); err != nil {
		return Record{}, err
	}
	var rec Record
	err := s.write(ctx, func(q *db.Queries, tx pgx.Tx) error {
		row, err := q.InsertFlag(ctx, insertParams(f, actorID(actor)))
		if err != nil {
			if apierr.From(err).Status == http.StatusConflict {
				return apierr.Conflict("FLAG_EXISTS", "A flag with key "+f.Key+" already exists").WithField("key")
			}
			return err
		}
		rec = fromRow(row)
		if err := s.event(ctx, q, "created", rec.Flag, nil); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "flags.created", ResourceType: "feature_flag",
			ResourceID: f.Key, Success: true, Details: map[string]any{"after": ToDoc(rec.Flag)}})
	})
	return rec, err
}

// Precondition is the optimistic-concurrency expectation of an update.
type Precondition struct {
	IfMatch     *int64 // from the If-Match header: 412 on mismatch
	BodyVersion *int64 // from the request body: 409 on mismatch
}

// Update applies change to the stored flag and writes it as the next version. An update
// that changes nothing is not written (no version bump, no event).
func (s *Store) Update(ctx context.Context, actor audit.Actor, key string, pre Precondition, action string, change func(*flageval.Flag) error) (Record, error) {
	var rec Record
	err := s.Write(ctx, func(q *db.Queries, tx pgx.Tx) error {
		var err error
		rec, err = s.UpdateInTx(ctx, q, tx, actor, key, pre, action, change, nil)
		return err
	})
	return rec, err
}

// Write runs fn in one flag-write transaction (the advisory lock that orders flag events is
// held), then refreshes this replica's snapshot. Other packages use it to make their own
// rows part of a flag change.
func (s *Store) Write(ctx context.Context, fn func(q *db.Queries, tx pgx.Tx) error) error {
	return s.write(ctx, fn)
}

// UpdateInTx is Update inside a transaction opened by Write. details are added to the audit
// row (e.g. the scheduled change that caused it).
func (s *Store) UpdateInTx(ctx context.Context, q *db.Queries, tx pgx.Tx, actor audit.Actor, key string, pre Precondition, action string, change func(*flageval.Flag) error, details map[string]any) (Record, error) {
	before, err := lock(ctx, q, key)
	if err != nil {
		return Record{}, err
	}
	if pre.IfMatch != nil && *pre.IfMatch != before.Version {
		return Record{}, apierr.New(http.StatusPreconditionFailed, "PRECONDITION_FAILED",
			fmt.Sprintf("The flag is at version %d, not %d", before.Version, *pre.IfMatch)).WithField("If-Match")
	}
	if pre.BodyVersion != nil && *pre.BodyVersion != before.Version {
		return Record{}, apierr.Conflict("VERSION_CONFLICT", fmt.Sprintf("The flag is at version %d, not %d", before.Version, *pre.BodyVersion)).WithField("version")
	}
	after := cloneFlag(before.Flag)
	if err := change(&after); err != nil {
		return Record{}, err
	}
	after.Key = key
	normalise(&after)
	if err := validate(&after); err != nil {
		return Record{}, err
	}
	if sameContent(before.Flag, after) {
		return before, nil
	}
	row, err := q.UpdateFlag(ctx, updateParams(after, actorID(actor)))
	if err != nil {
		return Record{}, err
	}
	rec := fromRow(row)
	if err := s.event(ctx, q, "updated", rec.Flag, map[string]any{"prev_visibility": before.Visibility}); err != nil {
		return Record{}, err
	}
	d := map[string]any{"before": ToDoc(before.Flag), "after": ToDoc(rec.Flag)}
	for k, v := range details {
		d[k] = v
	}
	return rec, audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: action, ResourceType: "feature_flag", ResourceID: key, Success: true, Details: d})
}

// Delete removes a flag and its overrides.
func (s *Store) Delete(ctx context.Context, actor audit.Actor, key string) error {
	return s.write(ctx, func(q *db.Queries, tx pgx.Tx) error {
		cur, err := lock(ctx, q, key)
		if err != nil {
			return err
		}
		if _, err := q.DeleteFlag(ctx, key); err != nil {
			return err
		}
		gone := cur.Flag
		gone.Version++
		if err := s.event(ctx, q, "deleted", gone, nil); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "flags.deleted", ResourceType: "feature_flag", ResourceID: key,
			Success: true, Details: map[string]any{"before": ToDoc(cur.Flag)}})
	})
}

// Get reads one flag from the database (admin reads see archived flags too).
func (s *Store) Get(ctx context.Context, key string) (Record, error) {
	row, err := s.q.GetFlag(ctx, key)
	if errors.Is(err, pgx.ErrNoRows) {
		return Record{}, notFound(key)
	}
	if err != nil {
		return Record{}, err
	}
	return fromRow(row), nil
}

// Filter selects flags for the admin list.
type Filter struct {
	Category, Visibility, Q *string
	Enabled                 *bool
	Archived                bool
	After                   string
	Limit                   int
}

// List returns a page ordered by key and the key to continue after ("" at the end).
func (s *Store) List(ctx context.Context, f Filter) ([]Record, string, error) {
	p := db.ListFlagsParams{Category: f.Category, Visibility: f.Visibility, Enabled: f.Enabled,
		Archived: f.Archived, Lim: page.Limit(f.Limit)}
	if f.Q != nil {
		esc := database.EscapeLike(*f.Q)
		p.Q = &esc
	}
	if f.After != "" {
		p.AfterKey = &f.After
	}
	rows, err := s.q.ListFlags(ctx, p)
	if err != nil {
		return nil, "", err
	}
	out, next := page.Map(rows, f.Limit, fromRow, func(r Record) string { return r.Key })
	return out, next, nil
}

func normalise(f *flageval.Flag) {
	if f.Visibility == "" {
		f.Visibility = flageval.VisibilityAuthenticated
	}
	if f.Tags == nil {
		f.Tags = []string{}
	}
	f.Description = strings.TrimSpace(f.Description)
	f.Owner = strings.TrimSpace(f.Owner)
}

func cloneFlag(f flageval.Flag) flageval.Flag {
	raw, _ := json.Marshal(ToDoc(f))
	var d Doc
	_ = json.Unmarshal(raw, &d)
	c := FromDoc(d)
	c.Version = f.Version
	return c
}

func sameContent(a, b flageval.Flag) bool {
	da, db := ToDoc(a), ToDoc(b)
	da.Version, db.Version = 0, 0
	ja, _ := json.Marshal(da)
	jb, _ := json.Marshal(db)
	return reflect.DeepEqual(ja, jb)
}

func insertParams(f flageval.Flag, by *uuid.UUID) db.InsertFlagParams {
	d := ToDoc(f)
	return db.InsertFlagParams{
		Key: f.Key, Description: f.Description, Type: string(f.Type), Enabled: f.Enabled,
		Value: encodeJSON(f.Value), DefaultValue: encodeJSON(f.DefaultValue),
		Variants: encodeJSON(d.Variants), Rules: encodeJSON(d.Rules), RolloutPercentage: f.RolloutPercentage,
		Salt: f.Salt, Visibility: string(f.Visibility), Owner: f.Owner, Tags: f.Tags, Archived: f.Archived, CreatedBy: by,
	}
}

func updateParams(f flageval.Flag, by *uuid.UUID) db.UpdateFlagParams {
	d := ToDoc(f)
	return db.UpdateFlagParams{
		Key: f.Key, Description: f.Description, Type: string(f.Type), Enabled: f.Enabled,
		Value: encodeJSON(f.Value), DefaultValue: encodeJSON(f.DefaultValue),
		Variants: encodeJSON(d.Variants), Rules: encodeJSON(d.Rules), RolloutPercentage: f.RolloutPercentage,
		Salt: f.Salt, Visibility: string(f.Visibility), Owner: f.Owner, Tags: f.Tags, Archived: f.Archived, UpdatedBy: by,
	}
}
