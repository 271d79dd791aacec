package audit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/dbtest"
	"github.com/voiceassist/gateway/internal/logging"
)

func entry(action string, n int) audit.Entry {
	return audit.Entry{
		Action:       action,
		ResourceType: "feature_flag",
		ResourceID:   fmt.Sprintf("ui.flag_%d", n),
		Success:      true,
		Details:      map[string]any{"n": n, "before": map[string]any{"enabled": false}, "after": map[string]any{"enabled": true}},
	}
}

// recordN appends n entries, each in its own transaction, and returns their ids (oldest first).
func recordN(t *testing.T, pool *pgxpool.Pool, n int) []int64 {
	t.Helper()
	ctx := context.Background()
	for i := range n {
		require.NoError(t, audit.RecordNow(ctx, pool, entry("flags.updated", i)))
	}
	return ids(t, pool)
}

func ids(t *testing.T, pool *pgxpool.Pool) []int64 {
	t.Helper()
	rows, err := pool.Query(context.Background(), "SELECT id FROM audit_log ORDER BY id")
	require.NoError(t, err)
	out, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err)
	return out
}

// tamper runs stmt with the append-only trigger disabled, as an operator with owner rights could.
func tamper(t *testing.T, pool *pgxpool.Pool, stmt string, args ...any) {
	t.Helper()
	ctx := context.Background()
	_, err := pool.Exec(ctx, "ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
	require.NoError(t, err)
	tag, err := pool.Exec(ctx, stmt, args...)
	require.NoError(t, err)
	require.EqualValues(t, 1, tag.RowsAffected(), stmt)
	_, err = pool.Exec(ctx, "ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_append_only")
	require.NoError(t, err)
}

func requireValid(t *testing.T, pool *pgxpool.Pool, checked int64) audit.Verification {
	t.Helper()
	v, err := audit.Verify(context.Background(), pool)
	require.NoError(t, err)
	require.True(t, v.Valid, "chain broken at %v: %s", v.FirstBrokenID, v.Reason)
	require.Nil(t, v.FirstBrokenID)
	require.Empty(t, v.Reason)
	require.Equal(t, checked, v.Checked)
	return v
}

func requireBrokenAt(t *testing.T, pool *pgxpool.Pool, id int64) audit.Verification {
	t.Helper()
	v, err := audit.Verify(context.Background(), pool)
	require.NoError(t, err)
	require.False(t, v.Valid)
	require.NotNil(t, v.FirstBrokenID)
	require.Equal(t, id, *v.FirstBrokenID, v.Reason)
	require.NotEmpty(t, v.Reason)
	return v
}

func TestVerifyEmpty(t *testing.T) {
	t.Parallel()
	v := requireValid(t, dbtest.New(t), 0)
	require.Zero(t, v.HeadID)
	require.Empty(t, v.HeadHash)
}

func TestChainVerifies(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	actor := uuid.New()
	recordN(t, pool, 3)
	// Two entries in the transaction of "the change", plus one failure without actor.
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		e := entry("users.role_changed", 10)
		e.Actor = audit.Actor{ID: &actor, Email: "admin@example.com", Role: "superadmin"}
		if err := audit.Record(ctx, tx, e); err != nil {
			return err
		}
		return audit.Record(ctx, tx, entry("users.updated", 11))
	})
	require.NoError(t, err)
	require.NoError(t, audit.RecordNow(ctx, pool, audit.Entry{
		Action: "auth.login_failed", Details: map[string]any{"email": "nobody@example.com", "reason": "unknown_account"},
	}))

	v := requireValid(t, pool, 6)
	all := ids(t, pool)
	require.Len(t, all, 6)
	require.Equal(t, all[5], v.HeadID)
	require.Len(t, v.HeadHash, 64)

	// The stored links: the first prev_hash is zero, every other one is the previous hash.
	rows, err := pool.Query(ctx, "SELECT prev_hash, hash FROM audit_log ORDER BY id")
	require.NoError(t, err)
	type link struct{ Prev, Hash []byte }
	links, err := pgx.CollectRows(rows, pgx.RowToStructByPos[link])
	require.NoError(t, err)
	require.Equal(t, make([]byte, 32), links[0].Prev)
	for i := 1; i < len(links); i++ {
		require.Equal(t, links[i-1].Hash, links[i].Prev)
		require.Len(t, links[i].Hash, 32)
	}
}

func TestConcurrentRecordStaysLinear(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	const workers, each = 8, 15
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
					return audit.Record(ctx, tx, entry("flags.updated", w*100+i))
				})
				if err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	requireValid(t, pool, workers*each)

	// Ids are drawn under the lock: strictly increasing in chain order, and occurred_at follows.
	rows, err := pool.Query(ctx, "SELECT id, occurred_at FROM audit_log ORDER BY id")
	require.NoError(t, err)
	type rec struct {
		ID int64
		At time.Time
	}
	recs, err := pgx.CollectRows(rows, pgx.RowToStructByPos[rec])
	require.NoError(t, err)
	require.Len(t, recs, workers*each)
	for i := 1; i < len(recs); i++ {
		require.Equal(t, recs[i-1].ID+1, recs[i].ID, "no gaps without rollbacks")
		require.False(t, recs[i].At.Before(recs[i-1].At))
	}
}

func TestTamperingIsReportedAtTheRow(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		stmt string
	}{
		{"details", `UPDATE audit_log SET details = '{"n": 999}' WHERE id = $1`},
		{"details key added", `UPDATE audit_log SET details = details || '{"x": 1}' WHERE id = $1`},
		{"action", `UPDATE audit_log SET action = 'flags.viewed' WHERE id = $1`},
		{"success", `UPDATE audit_log SET success = NOT success WHERE id = $1`},
		{"occurred_at", `UPDATE audit_log SET occurred_at = occurred_at - interval '1 microsecond' WHERE id = $1`},
		{"actor set", `UPDATE audit_log SET actor_id = gen_random_uuid() WHERE id = $1`},
		{"user agent", `UPDATE audit_log SET user_agent = 'other' WHERE id = $1`},
		{"hash", `UPDATE audit_log SET hash = sha256(hash) WHERE id = $1`},
		{"prev_hash", `UPDATE audit_log SET prev_hash = sha256(prev_hash) WHERE id = $1`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			pool := dbtest.New(t)
			all := recordN(t, pool, 5)
			requireValid(t, pool, 5)
			tamper(t, pool, tc.stmt, all[2])
			v := requireBrokenAt(t, pool, all[2])
			require.EqualValues(t, 3, v.Checked)
			require.Equal(t, all[1], v.HeadID)
		})
	}
}

func TestTamperingFirstAndLastRow(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	all := recordN(t, pool, 3)
	tamper(t, pool, `UPDATE audit_log SET resource_id = 'x' WHERE id = $1`, all[2])
	requireBrokenAt(t, pool, all[2])
	tamper(t, pool, `UPDATE audit_log SET resource_id = 'x' WHERE id = $1`, all[0])
	requireBrokenAt(t, pool, all[0])
}

func TestRenumberingIsDetected(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	all := recordN(t, pool, 3)
	tamper(t, pool, `UPDATE audit_log SET id = id + 1000 WHERE id = $1`, all[2])
	requireBrokenAt(t, pool, all[2]+1000)
}

func TestDeletedRowIsReportedAtTheNextRow(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	all := recordN(t, pool, 5)
	tamper(t, pool, `DELETE FROM audit_log WHERE id = $1`, all[2])
	v := requireBrokenAt(t, pool, all[3])
	require.Contains(t, v.Reason, "prev_hash")
}

func TestRelinkedDeletionIsDetected(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	all := recordN(t, pool, 5)
	// Delete row 3 and point row 4 at row 2, without being able to recompute row 4's hash
	// consistently (its hash covers prev_hash and its own id).
	tamper(t, pool, `DELETE FROM audit_log WHERE id = $1`, all[2])
	tamper(t, pool, `UPDATE audit_log SET prev_hash = (SELECT hash FROM audit_log WHERE id = $2) WHERE id = $1`, all[3], all[1])
	v := requireBrokenAt(t, pool, all[3])
	require.Contains(t, v.Reason, "hash does not match")
}

func TestAppendOnlyTrigger(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	all := recordN(t, pool, 3)
	for _, stmt := range []string{
		`UPDATE audit_log SET action = 'x.y' WHERE id = $1`,
		`DELETE FROM audit_log WHERE id = $1`,
	} {
		_, err := pool.Exec(ctx, stmt, all[1])
		require.ErrorContains(t, err, "append-only", stmt)
	}
	_, err := pool.Exec(ctx, `TRUNCATE audit_log`)
	require.ErrorContains(t, err, "append-only")
	// session_replication_role = replica skips ordinary triggers, not ENABLE ALWAYS ones.
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SET LOCAL session_replication_role = replica"); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM audit_log WHERE id = $1`, all[1])
		return err
	})
	require.ErrorContains(t, err, "append-only")
	requireValid(t, pool, 3)
}

func TestRolledBackRecordLeavesNoRow(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	before := recordN(t, pool, 2)

	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	require.NoError(t, audit.Record(ctx, tx, entry("flags.deleted", 5)))
	require.NoError(t, tx.Rollback(ctx))
	require.Equal(t, before, ids(t, pool))

	errBoom := errors.New("boom")
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if err := audit.Record(ctx, tx, entry("flags.deleted", 6)); err != nil {
			return err
		}
		return errBoom
	})
	require.ErrorIs(t, err, errBoom)
	require.Equal(t, before, ids(t, pool))

	require.NoError(t, audit.RecordNow(ctx, pool, entry("flags.created", 7)))
	after := ids(t, pool)
	require.Len(t, after, 3)
	require.Greater(t, after[2], before[1]+1, "rolled-back appends leave id gaps")
	requireValid(t, pool, 3)
}

func TestRequestFieldsStored(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := audit.WithRequest(context.Background(), audit.Request{ID: "req-123", IP: "198.51.100.7", UserAgent: "Mozilla/5.0"})
	require.NoError(t, audit.RecordNow(ctx, pool, entry("auth.login_success", 1)))

	// The request id falls back to the logging context.
	ctx2 := logging.WithRequestID(context.Background(), "log-req-9")
	require.NoError(t, audit.RecordNow(ctx2, pool, entry("auth.logout_success", 2)))

	// Client-supplied text that PostgreSQL could not store is cleaned, not rejected.
	ctx3 := audit.WithRequest(context.Background(), audit.Request{UserAgent: "bad\xff\x00agent"})
	require.NoError(t, audit.RecordNow(ctx3, pool, entry("auth.login_failed", 3)))

	rows, _, err := audit.List(context.Background(), pool, audit.Filter{})
	require.NoError(t, err)
	require.Len(t, rows, 3)
	require.Equal(t, "bad\uFFFD\uFFFDagent", rows[0].UserAgent)
	require.Equal(t, "log-req-9", rows[1].RequestID)
	require.Empty(t, rows[1].IP)
	require.Equal(t, "req-123", rows[2].RequestID)
	require.Equal(t, "198.51.100.7", rows[2].IP)
	require.Equal(t, "Mozilla/5.0", rows[2].UserAgent)
	requireValid(t, pool, 3)

	require.Equal(t, "req-123", audit.RequestFrom(ctx).ID)
	require.Equal(t, "log-req-9", audit.RequestFrom(ctx2).ID)
	require.Equal(t, audit.Request{}, audit.RequestFrom(context.Background()))
}

func TestDetailsRoundTrip(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	type change struct {
		Field string `json:"field"`
		Old   any    `json:"old"`
		New   any    `json:"new"`
	}
	details := map[string]any{
		"big":     uint64(18446744073709551615),
		"tiny":    1e-7,
		"huge":    1e21,
		"ratio":   0.1,
		"text":    "<script>&\"quoted\"\n\u2028 ünï €",
		"nul":     "a\x00b",
		"list":    []any{3, "two", nil, true, map[string]any{"z": 1, "a": 2}},
		"changes": []change{{Field: "rollout_percentage", Old: 10, New: 25.5}},
		"empty":   map[string]any{},
	}
	require.NoError(t, audit.RecordNow(ctx, pool, audit.Entry{Action: "flags.updated", Success: true, Details: details}))
	requireValid(t, pool, 1)

	rows, _, err := audit.List(ctx, pool, audit.Filter{})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	d := rows[0].Details
	require.Equal(t, json.Number("18446744073709551615"), d["big"])
	require.Equal(t, json.Number("0.0000001"), d["tiny"]) // as jsonb prints it
	require.Equal(t, json.Number("1000000000000000000000"), d["huge"])
	require.Equal(t, "<script>&\"quoted\"\n\u2028 ünï €", d["text"])
	require.Equal(t, "a\uFFFDb", d["nul"])
	require.Equal(t, []any{map[string]any{"field": "rollout_percentage", "old": json.Number("10"), "new": json.Number("25.5")}}, d["changes"])
	require.Equal(t, map[string]any{}, d["empty"])
}

func TestRecordValidation(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	for _, action := range []string{"", "login", "Auth.login", "auth.", "auth..x", "auth.login failed"} {
		require.Error(t, audit.RecordNow(ctx, pool, audit.Entry{Action: action}), action)
	}
	require.Error(t, audit.RecordNow(ctx, pool, audit.Entry{Action: "a.b", Details: map[string]any{"f": make(chan int)}}))

	// A snapshot older than the lock could fork the chain: refused.
	err := pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead}, func(tx pgx.Tx) error {
		return audit.Record(ctx, tx, entry("flags.updated", 1))
	})
	require.ErrorIs(t, err, audit.ErrIsolation)
	requireValid(t, pool, 0)
}

func TestListFiltersAndPagination(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	alice, bob := uuid.New(), uuid.New()
	type spec struct {
		actor  *uuid.UUID
		action string
		rtype  string
		rid    string
	}
	specs := []spec{
		{&alice, "auth.login_success", "user", alice.String()},
		{&bob, "auth.login_success", "user", bob.String()},
		{&alice, "flags.updated", "feature_flag", "ui.dark_mode"},
		{&alice, "flags.updated", "feature_flag", "ui.beta"},
		{nil, "auth.login_failed", "", ""},
		{&bob, "flags.updated", "feature_flag", "ui.dark_mode"},
		{&alice, "users.role_changed", "user", bob.String()},
	}
	for _, s := range specs {
		require.NoError(t, audit.RecordNow(ctx, pool, audit.Entry{
			Actor: audit.Actor{ID: s.actor}, Action: s.action, ResourceType: s.rtype, ResourceID: s.rid, Success: true,
		}))
	}
	all := ids(t, pool)

	list := func(f audit.Filter) ([]int64, int64) {
		t.Helper()
		rows, next, err := audit.List(ctx, pool, f)
		require.NoError(t, err)
		got := make([]int64, len(rows))
		for i, r := range rows {
			got[i] = r.ID
		}
		return got, next
	}

	got, next := list(audit.Filter{})
	require.Equal(t, []int64{all[6], all[5], all[4], all[3], all[2], all[1], all[0]}, got)
	require.Zero(t, next)

	got, _ = list(audit.Filter{ActorID: &alice})
	require.Equal(t, []int64{all[6], all[3], all[2], all[0]}, got)
	got, _ = list(audit.Filter{Action: "flags.updated"})
	require.Equal(t, []int64{all[5], all[3], all[2]}, got)
	got, _ = list(audit.Filter{ResourceType: "feature_flag", ResourceID: "ui.dark_mode"})
	require.Equal(t, []int64{all[5], all[2]}, got)
	got, _ = list(audit.Filter{ResourceType: "user"})
	require.Equal(t, []int64{all[6], all[1], all[0]}, got)
	got, _ = list(audit.Filter{ActorID: &bob, Action: "flags.updated"})
	require.Equal(t, []int64{all[5]}, got)
	got, _ = list(audit.Filter{Action: "nothing.matches"})
	require.Empty(t, got)

	rows, _, err := audit.List(ctx, pool, audit.Filter{Action: "auth.login_failed"})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	require.Nil(t, rows[0].Actor.ID)
	require.Equal(t, map[string]any{}, rows[0].Details)

	// Time window: from <= occurred_at < to.
	rows, _, err = audit.List(ctx, pool, audit.Filter{})
	require.NoError(t, err)
	at := func(id int64) time.Time {
		for _, r := range rows {
			if r.ID == id {
				return r.OccurredAt
			}
		}
		t.Fatalf("no row %d", id)
		return time.Time{}
	}
	from, to := at(all[2]), at(all[5])
	got, _ = list(audit.Filter{From: &from, To: &to})
	require.Subset(t, got, []int64{all[4], all[3], all[2]})
	require.NotContains(t, got, all[5])
	for _, id := range got {
		require.False(t, at(id).Before(from))
		require.True(t, at(id).Before(to))
	}
	got, _ = list(audit.Filter{From: &to})
	require.Contains(t, got, all[5])
	require.NotContains(t, got, all[0])

	// Cursor pagination, newest first, with and without a filter.
	var pages [][]int64
	cursor := int64(0)
	for {
		page, next := list(audit.Filter{Limit: 3, BeforeID: cursor})
		pages = append(pages, page)
		if next == 0 {
			break
		}
		require.Equal(t, page[len(page)-1], next)
		cursor = next
	}
	require.Equal(t, [][]int64{{all[6], all[5], all[4]}, {all[3], all[2], all[1]}, {all[0]}}, pages)

	page, next := list(audit.Filter{ActorID: &alice, Limit: 2})
	require.Equal(t, []int64{all[6], all[3]}, page)
	page, next = list(audit.Filter{ActorID: &alice, Limit: 2, BeforeID: next})
	require.Equal(t, []int64{all[2], all[0]}, page)
	require.Zero(t, next, "an exactly full last page has no next cursor")

	page, next = list(audit.Filter{Limit: 7})
	require.Len(t, page, 7)
	require.Zero(t, next)

	for _, bad := range []audit.Filter{{Limit: -1}, {Limit: 201}, {BeforeID: -5}} {
		_, _, err := audit.List(ctx, pool, bad)
		var ae *apierr.Error
		require.ErrorAs(t, err, &ae)
		require.Equal(t, 422, ae.Status)
	}
	_, _, err = audit.List(ctx, pool, audit.Filter{Limit: 200})
	require.NoError(t, err)
}

func TestVerifyAcrossBatches(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx := context.Background()
	const n = 2345 // more than two verify batches
	err := pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		for i := range n {
			if err := audit.Record(ctx, tx, entry("flags.updated", i)); err != nil {
				return err
			}
		}
		return nil
	})
	require.NoError(t, err)
	requireValid(t, pool, n)

	all := ids(t, pool)
	tamper(t, pool, `UPDATE audit_log SET details = '{}' WHERE id = $1`, all[2100])
	v := requireBrokenAt(t, pool, all[2100])
	require.EqualValues(t, 2101, v.Checked)
}
