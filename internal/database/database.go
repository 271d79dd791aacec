// Package database opens the PostgreSQL pool and applies the embedded migrations.
package database

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"

	"github.com/voiceassist/gateway/internal/telemetry"
	"github.com/voiceassist/gateway/schema"
)

// Open connects a pool and checks the server answers.
func Open(ctx context.Context, url string, maxConns int) (*pgxpool.Pool, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("database: parse DATABASE_URL: %w", err)
	}
	if maxConns > 0 {
		cfg.MaxConns = int32(maxConns)
	}
	cfg.ConnConfig.Tracer = telemetry.PgxTracer{} // spans only inside a traced request or job
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("database: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("database: ping: %w", err)
	}
	return pool, nil
}

// Migrate runs a goose command ("up", "down", "status") with the embedded migrations.
// Goose takes a session advisory lock, so replicas starting together migrate once.
func Migrate(ctx context.Context, pool *pgxpool.Pool, command string, out io.Writer) error {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return fmt.Errorf("database: migration lock: %w", err)
	}
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	provider, err := goose.NewProvider(goose.DialectPostgres, db, schema.FS, goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("database: migrations: %w", err)
	}
	switch command {
	case "up":
		// Nearly every start finds nothing to apply: ask first, without goose's lock or River's
		// migrator transaction, which cost a start about 30 ms (issue 17).
		if current, err := upToDate(ctx, provider, pool); err == nil && current {
			return nil
		}
		res, err := provider.Up(ctx)
		for _, r := range res {
			fmt.Fprintf(out, "applied %s (%s)\n", r.Source.Path, r.Duration)
		}
		if err != nil {
			return fmt.Errorf("database: migrate up: %w", err)
		}
		if err := migrateRiver(ctx, pool, out); err != nil {
			return err
		}
	case "down":
		r, err := provider.Down(ctx)
		if r != nil {
			fmt.Fprintf(out, "rolled back %s\n", r.Source.Path)
		}
		if err != nil {
			return fmt.Errorf("database: migrate down: %w", err)
		}
	case "status":
		st, err := provider.Status(ctx)
		if err != nil {
			return fmt.Errorf("database: migrate status: %w", err)
		}
		for _, s := range st {
			applied := "pending"
			if s.State == goose.StateApplied {
				applied = "applied " + s.AppliedAt.UTC().Format("2006-01-02T15:04:05Z")
			}
			fmt.Fprintf(out, "%-40s %s\n", s.Source.Path, applied)
		}
	default:
		return fmt.Errorf("database: unknown migrate command %q (want up, down or status)", command)
	}
	return nil
}

// Version is the newest applied migration.
func Version(ctx context.Context, pool *pgxpool.Pool) (int64, error) {
	db := stdlib.OpenDBFromPool(pool)
	defer db.Close()
	provider, err := goose.NewProvider(goose.DialectPostgres, db, schema.FS)
	if err != nil {
		return 0, err
	}
	return provider.GetDBVersion(ctx)
}

// upToDate reports whether goose and River both have nothing left to apply.
func upToDate(ctx context.Context, provider *goose.Provider, pool *pgxpool.Pool) (bool, error) {
	pending, err := provider.HasPending(ctx)
	if err != nil || pending {
		return false, err
	}
	// Its logger stays quiet: "unapplied migrations" is the answer, not news.
	m, err := rivermigrate.New(riverpgxv5.New(pool), &rivermigrate.Config{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return false, err
	}
	res, err := m.Validate(ctx, nil)
	if err != nil {
		return false, err
	}
	return res.OK, nil
}

// migrateRiver applies River's own migrations (the job queue of knowledge-base indexing).
// River versions its schema itself; goose's "down" leaves it in place.
func migrateRiver(ctx context.Context, pool *pgxpool.Pool, out io.Writer) error {
	m, err := rivermigrate.New(riverpgxv5.New(pool), nil)
	if err != nil {
		return fmt.Errorf("database: river migrator: %w", err)
	}
	res, err := m.Migrate(ctx, rivermigrate.DirectionUp, nil)
	if err != nil {
		return fmt.Errorf("database: river migrations: %w", err)
	}
	for _, v := range res.Versions {
		fmt.Fprintf(out, "applied river migration %d (%s)\n", v.Version, v.Duration)
	}
	return nil
}
