package schedule

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/database"
	"github.com/voiceassist/gateway/internal/flageval"
	"github.com/voiceassist/gateway/internal/flagstore"
)

var schedulerActor = audit.Actor{Email: "scheduler", Role: "system"}

// Run applies due changes until ctx ends. It wakes at the next due time, on a LISTEN
// notification that a change was created or edited, and every poll interval (which also
// covers an injected clock in tests). Changes missed while every replica was down are due
// at start and apply at once, with their lateness recorded.
func (s *Service) Run(ctx context.Context) {
	wake := make(chan struct{}, 1)
	go database.Listen(ctx, s.pool, "scheduled_changes", wake, s.log)
	for ctx.Err() == nil {
		for {
			applied, err := s.ApplyOne(ctx)
			if err != nil {
				if ctx.Err() == nil {
					s.log.Warn("schedule: apply due change", "error", err)
				}
				break
			}
			if !applied {
				break
			}
		}
		if n, err := s.q.CountPendingScheduled(ctx); err == nil {
			s.metrics.pending.Set(float64(n))
		}
		wait := s.poll
		if next, err := s.q.NextDueAt(ctx); err == nil {
			if d := next.Sub(s.now()); d < wait {
				wait = max(d, time.Millisecond)
			}
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-wake:
		case <-t.C:
		}
		t.Stop()
	}
}

// ApplyOne claims the oldest due change and applies it in one flag-write transaction: the
// new weights (flag version + 1), the change marked applied, the audit row and the flag
// event commit together. A replica that dies mid-way rolls back and another applies it; a
// claimed row is skipped by the others, and an applied one is never claimed again. A change
// that cannot apply (flag deleted, variants gone) is marked failed with the reason.
func (s *Service) ApplyOne(ctx context.Context) (bool, error) {
	now := s.now().UTC()
	applied := false
	var outcome string
	var lateness time.Duration
	var span trace.Span // started once a change is claimed: idle polls make no trace
	defer func() {
		if span != nil {
			span.End()
		}
	}()
	err := s.flags.Write(ctx, func(q *db.Queries, tx pgx.Tx) error {
		row, err := q.ClaimDueChange(ctx, now)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		applied = true
		if span == nil {
			ctx, span = s.tracer.Start(ctx, "schedule.apply_change", trace.WithAttributes(
				attribute.String("flag.key", row.FlagKey), attribute.String("scheduled_change.id", row.ID.String())))
		}
		ch := decode(row)
		lateness = now.Sub(row.ScheduledAt)
		ms := lateness.Milliseconds()
		// The flag write runs in a savepoint so a failure can still be recorded in this tx.
		sp, err := tx.Begin(ctx)
		if err != nil {
			return err
		}
		rec, err := s.flags.UpdateInTx(ctx, db.New(sp), sp, schedulerActor, row.FlagKey, flagstore.Precondition{}, "flags.scheduled_change_applied",
			func(f *flageval.Flag) error {
				if f.Type != flageval.TypeMultivariate {
					return apierr.Invalid("flag", "is no longer multivariate")
				}
				known := map[string]bool{}
				for _, v := range f.Variants {
					known[v.ID] = true
				}
				for id := range ch.Weights {
					if !known[id] {
						return apierr.Invalid("changes."+id, "variant "+id+" no longer exists")
					}
				}
				f.Variants = Apply(f.Variants, ch.Weights)
				return nil
			}, map[string]any{"scheduled_change_id": row.ID.String(), "lateness_ms": ms})
		if err != nil {
			_ = sp.Rollback(ctx)
			ae := apierr.From(err)
			if ae.Status >= http.StatusInternalServerError {
				return err // a real failure: retried on the next tick
			}
			outcome = "failed"
			reason := ae.Message
			if err := q.MarkScheduledFailed(ctx, db.MarkScheduledFailedParams{ID: row.ID, AppliedAt: &now, FailureReason: reason, LatenessMs: &ms}); err != nil {
				return err
			}
			return audit.Record(ctx, tx, audit.Entry{Actor: schedulerActor, Action: "flags.scheduled_change_failed", ResourceType: "scheduled_change",
				ResourceID: row.ID.String(), Success: false, Details: map[string]any{"flag": row.FlagKey, "reason": reason}})
		}
		if err := sp.Commit(ctx); err != nil {
			return err
		}
		outcome = "applied"
		return q.MarkScheduledApplied(ctx, db.MarkScheduledAppliedParams{ID: row.ID, AppliedAt: &now, AppliedVersion: &rec.Version, LatenessMs: &ms})
	})
	if err != nil {
		if span != nil {
			span.SetStatus(codes.Error, "apply failed")
		}
		return false, err
	}
	if applied {
		s.metrics.total.WithLabelValues(outcome).Inc()
		if outcome == "applied" {
			s.metrics.lag.Observe(lateness.Seconds())
		}
	}
	return applied, nil
}
