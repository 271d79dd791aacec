package fault

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// TestFaultKillDuringScheduledChanges: a replica applying a run of due scheduled changes is
// killed with SIGKILL; another replica takes the rest over and every change is applied
// exactly once (one flag version per change, each applied version distinct).
func TestFaultKillDuringScheduledChanges(t *testing.T) {
	c := newCluster(t, nil)
	r1 := c.start(nil)
	ctx := context.Background()
	admin, _ := r1.login(t, adminEmail, adminPassword)
	status, body, err := do(ctx, http.MethodPost, r1.URL+"/api/admin/feature-flags", admin, map[string]any{
		"key": "experiment.kill_fault", "type": "multivariate", "enabled": true, "visibility": "public", "default_value": "control",
		"variants": []map[string]any{{"id": "control", "value": "control", "weight": 50}, {"id": "variant_a", "value": "a", "weight": 25}, {"id": "variant_b", "value": "b", "weight": 25}},
	})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, status, "%s", body)

	const n = 60
	due := time.Now().UTC().Add(8 * time.Second).Truncate(time.Second)
	for i := 0; i < n; i++ {
		w := map[string]any{"control": 40, "variant_a": 35}
		if i%2 == 1 {
			w = map[string]any{"control": 50, "variant_a": 25}
		}
		at := due.Add(time.Duration(i) * time.Millisecond).Format("2006-01-02T15:04:05.000Z07:00")
		status, body, err := do(ctx, http.MethodPost, r1.URL+"/api/admin/feature-flags/experiment.kill_fault/scheduled-changes", admin,
			map[string]any{"scheduled_at": at, "changes": w})
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, status, "%s", body)
	}
	require.True(t, time.Now().Before(due), "creating the changes took too long for the test to mean anything")

	conn, err := pgx.Connect(ctx, c.dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	applied := func() int {
		var k int
		_ = conn.QueryRow(ctx, `SELECT count(*) FROM scheduled_changes WHERE status <> 'pending'`).Scan(&k)
		return k
	}
	// r1 is applying (some done, some left): kill it in the middle of the run.
	eventually(t, 30*time.Second, func() error {
		if k := applied(); k == 0 || k >= n {
			return fmt.Errorf("%d of %d applied", k, n)
		}
		return nil
	})
	r1.kill()
	before := applied()
	c.start(nil)
	eventually(t, 30*time.Second, func() error {
		if k := applied(); k < n {
			return fmt.Errorf("%d of %d applied", k, n)
		}
		return nil
	})
	var version, distinct, ok int64
	require.NoError(t, conn.QueryRow(ctx, `SELECT version FROM feature_flags WHERE key = 'experiment.kill_fault'`).Scan(&version))
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(DISTINCT applied_version), count(*) FILTER (WHERE status = 'applied') FROM scheduled_changes`).Scan(&distinct, &ok))
	require.EqualValues(t, n, ok, "every change applied")
	require.EqualValues(t, n, distinct, "each change applied as its own flag version")
	require.EqualValues(t, 1+n, version, "exactly one flag write per change")
	var audits int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'flags.scheduled_change_applied'`).Scan(&audits))
	require.Equal(t, n, audits)
	t.Logf("killed r1 after %d of %d changes; the other replica applied the rest", before, n)
}
