package database_test

import (
	"context"
	"errors"
	"os"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/database"
	"github.com/voiceassist/gateway/internal/dbtest"
)

func TestMain(m *testing.M) { os.Exit(dbtest.Run(m)) }

// pair runs two transactions with InTx at once. Each runs step1, waits until the other has
// run its step1 too (first attempt only: a retry runs alone), then runs step2. It returns
// both results and how many attempts were made in all.
func pair(t *testing.T, pool *pgxpool.Pool, opts pgx.TxOptions, step1, step2 [2]string) ([2]error, int32) {
	t.Helper()
	ctx := t.Context()
	var attempts atomic.Int32
	var both sync.WaitGroup
	both.Add(2)
	var errs [2]error
	var wg sync.WaitGroup
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first := true
			errs[i] = database.InTx(ctx, pool, opts, func(tx pgx.Tx) error {
				attempts.Add(1)
				if _, err := tx.Exec(ctx, step1[i]); err != nil {
					return err
				}
				if first {
					first = false
					both.Done()
					both.Wait()
				}
				_, err := tx.Exec(ctx, step2[i])
				return err
			})
		}()
	}
	wg.Wait()
	return errs, attempts.Load()
}

func table(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	_, err := pool.Exec(t.Context(), `CREATE TABLE tx_test (id int PRIMARY KEY, n int NOT NULL);
		INSERT INTO tx_test VALUES (1, 0), (2, 0)`)
	require.NoError(t, err)
}

// Write skew under SERIALIZABLE: each reads the row the other writes. PostgreSQL aborts
// one with 40001; InTx runs it again and both commit.
func TestInTxRetriesSerializationFailures(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	table(t, pool)
	errs, attempts := pair(t, pool, pgx.TxOptions{IsoLevel: pgx.Serializable},
		[2]string{`SELECT n FROM tx_test WHERE id = 2`, `SELECT n FROM tx_test WHERE id = 1`},
		[2]string{`UPDATE tx_test SET n = n + 1 WHERE id = 1`, `UPDATE tx_test SET n = n + 1 WHERE id = 2`})
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	require.Equal(t, int32(3), attempts, "one of the two ran twice")
	var sum int
	require.NoError(t, pool.QueryRow(t.Context(), `SELECT sum(n) FROM tx_test`).Scan(&sum))
	require.Equal(t, 2, sum)
}

// Two transactions locking the same rows in opposite orders deadlock; PostgreSQL aborts
// one with 40P01 (after deadlock_timeout, 1 s by default) and InTx runs it again.
func TestInTxRetriesDeadlocks(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	table(t, pool)
	errs, attempts := pair(t, pool, pgx.TxOptions{},
		[2]string{`UPDATE tx_test SET n = n + 1 WHERE id = 1`, `UPDATE tx_test SET n = n + 1 WHERE id = 2`},
		[2]string{`UPDATE tx_test SET n = n + 1 WHERE id = 2`, `UPDATE tx_test SET n = n + 1 WHERE id = 1`})
	require.NoError(t, errs[0])
	require.NoError(t, errs[1])
	require.Equal(t, int32(3), attempts)
	var sum int
	require.NoError(t, pool.QueryRow(t.Context(), `SELECT sum(n) FROM tx_test`).Scan(&sum))
	require.Equal(t, 4, sum, "the aborted run left nothing behind")
}

// A conflict that keeps coming is returned after TxAttempts runs, still a 40001.
func TestInTxGivesUp(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	runs := 0
	err := database.InTx(t.Context(), pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		runs++
		_, err := tx.Exec(t.Context(), `DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40001'; END $$`)
		return err
	})
	require.True(t, database.Retryable(err), "%v", err)
	require.Equal(t, database.TxAttempts, runs)
}

// Other errors are not retried.
func TestInTxDoesNotRetryOtherErrors(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	table(t, pool)
	runs := 0
	err := database.InTx(t.Context(), pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		runs++
		_, err := tx.Exec(t.Context(), `INSERT INTO tx_test VALUES (1, 0)`)
		return err
	})
	var pgErr *pgconn.PgError
	require.True(t, errors.As(err, &pgErr))
	require.Equal(t, "23505", pgErr.Code)
	require.Equal(t, 1, runs)

	mine := errors.New("mine")
	runs = 0
	err = database.InTx(t.Context(), pool, pgx.TxOptions{}, func(pgx.Tx) error { runs++; return mine })
	require.ErrorIs(t, err, mine)
	require.Equal(t, 1, runs)
}

// A cancelled context stops the retries.
func TestInTxStopsWhenCancelled(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	ctx, cancel := context.WithCancel(t.Context())
	runs := 0
	err := database.InTx(ctx, pool, pgx.TxOptions{}, func(tx pgx.Tx) error {
		runs++
		_, err := tx.Exec(ctx, `DO $$ BEGIN RAISE EXCEPTION 'conflict' USING ERRCODE = '40P01'; END $$`)
		cancel()
		return err
	})
	require.Error(t, err)
	require.Equal(t, 1, runs)
}
