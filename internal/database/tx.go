package database

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/voiceassist/gateway/internal/backoff"
)

// TxAttempts is how many times InTx runs a transaction that keeps failing with a
// serialization failure or a deadlock; TxRetryBase is the first retry's delay (doubled per
// retry, with jitter so the two sides of a conflict do not meet again).
const (
	TxAttempts  = 4
	TxRetryBase = 5 * time.Millisecond
)

// Beginner starts transactions: a pool, a connection, or a transaction (a savepoint).
type Beginner interface {
	BeginTx(ctx context.Context, opts pgx.TxOptions) (pgx.Tx, error)
}

// InTx runs fn in a transaction with opts and commits it, as pgx.BeginTxFunc does, and runs
// it again from the start (at most TxAttempts times in all) when PostgreSQL aborts it with a
// serialization failure (40001) or a deadlock (40P01): such a transaction did nothing, and
// the same work usually succeeds once the other transaction is gone. fn must therefore do
// nothing outside the transaction that a second run would repeat (no sends, no
// notifications; results go to variables it overwrites). Other errors are returned at once;
// the last conflict is returned when the attempts are used up (apierr answers it 409).
func InTx(ctx context.Context, db Beginner, opts pgx.TxOptions, fn func(pgx.Tx) error) error {
	for attempt := 0; ; attempt++ {
		err := pgx.BeginTxFunc(ctx, db, opts, fn)
		if err == nil || !Retryable(err) || attempt+1 >= TxAttempts {
			return err
		}
		if serr := backoff.Sleep(ctx, backoff.Delay(TxRetryBase, attempt)); serr != nil {
			return err
		}
	}
}

// Retryable reports whether err is a serialization failure or a deadlock: the transaction
// was rolled back and may simply be run again.
func Retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40001" || pgErr.Code == "40P01")
}
