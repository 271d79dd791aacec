package adminpanel

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/dbtest"
	"github.com/voiceassist/gateway/internal/redistest"
)

// user_counts (migration 00018) stays equal to a full count of users across single- and
// multi-row inserts, role and state updates, unrelated updates, deletes and truncate. The
// statements are plain SQL on purpose: the triggers must hold whatever code writes users.
func TestUserCountsStayExact(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	rdb := redistest.Client(t, nil)
	s := New(Config{Pool: pool, Redis: rdb, Prefix: redistest.Prefix(t, rdb)})
	ctx := context.Background()

	scan := func() UserCounts {
		t.Helper()
		u := UserCounts{ByRole: map[string]int64{"user": 0, "viewer": 0, "admin": 0, "superadmin": 0}}
		rows, err := pool.Query(ctx, `SELECT role, is_active, count(*) FROM users GROUP BY 1, 2`)
		require.NoError(t, err)
		defer rows.Close()
		for rows.Next() {
			var role string
			var active bool
			var n int64
			require.NoError(t, rows.Scan(&role, &active, &n))
			u.Total += n
			u.ByRole[role] += n
			if active {
				u.Active += n
			}
		}
		require.NoError(t, rows.Err())
		return u
	}
	check := func(step string) {
		t.Helper()
		var got UserCounts
		require.NoError(t, s.userCounts(ctx, time.Now(), &got), step)
		want := scan()
		require.Equal(t, want.Total, got.Total, step)
		require.Equal(t, want.Active, got.Active, step)
		require.Equal(t, want.ByRole, got.ByRole, step)
	}
	exec := func(step, sql string) {
		t.Helper()
		_, err := pool.Exec(ctx, sql)
		require.NoError(t, err, step)
		check(step)
	}

	check("empty")
	exec("insert one", `INSERT INTO users (email, password_hash) VALUES ('one@example.org', 'x')`)
	exec("insert many", `INSERT INTO users (email, password_hash, role, is_active)
		SELECT 'u' || i || '@example.org', 'x', (ARRAY['user','viewer','admin','superadmin'])[1 + i % 4], i % 3 <> 0
		FROM generate_series(1, 200) AS i`)
	exec("role change", `UPDATE users SET role = 'admin' WHERE email = 'one@example.org'`)
	exec("deactivate many", `UPDATE users SET is_active = false WHERE role = 'viewer'`)
	exec("swap roles in one statement", `UPDATE users SET role = CASE role WHEN 'user' THEN 'admin' WHEN 'admin' THEN 'user' ELSE role END`)
	exec("unrelated update", `UPDATE users SET full_name = 'n'`)
	exec("update to same values", `UPDATE users SET role = role, is_active = is_active`)
	exec("delete one", `DELETE FROM users WHERE email = 'one@example.org'`)
	exec("delete many", `DELETE FROM users WHERE is_active`)

	// One transaction rolled back leaves the counts as they were.
	tx, err := pool.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `DELETE FROM users`)
	require.NoError(t, err)
	require.NoError(t, tx.Rollback(ctx))
	check("rolled back")

	// Concurrent writers moving users between roles in opposite directions lock the counter
	// rows in one order: no deadlock, and the counts stay exact.
	exec("seed movers", `INSERT INTO users (email, password_hash, role)
		SELECT 'm' || i || '@example.org', 'x', CASE WHEN i % 2 = 0 THEN 'user' ELSE 'admin' END
		FROM generate_series(1, 8) AS i`)
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for i := 1; i <= 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			email := fmt.Sprintf("m%d@example.org", i)
			for range 20 {
				if _, err := pool.Exec(ctx, `UPDATE users SET role = CASE role WHEN 'user' THEN 'admin' ELSE 'user' END,
					is_active = NOT is_active WHERE email = $1`, email); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	check("concurrent movers")

	exec("truncate", `TRUNCATE users CASCADE`)
	exec("insert after truncate", `INSERT INTO users (email, password_hash, role) VALUES ('two@example.org', 'x', 'viewer')`)
}
