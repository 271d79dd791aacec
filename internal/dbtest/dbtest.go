// Package dbtest gives tests a throwaway PostgreSQL database, migrated from schema/ and
// dropped at cleanup. It reads DATABASE_URL (as `make test` exports it) for the server.
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/voiceassist/gateway/internal/database"
)

// DefaultURL is used when DATABASE_URL is unset (the machine-wide server of a dev box).
const DefaultURL = "postgres://postgres@127.0.0.1:5432/voiceassist?sslmode=disable"

// NewURL creates an empty database and returns its URL; it is dropped when t ends.
func NewURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("DATABASE_URL")
	if base == "" {
		base = DefaultURL
	}
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("dbtest: DATABASE_URL: %v", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "va_test_" + hex.EncodeToString(b[:])
	admin := *u
	admin.Path = "/postgres"
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, admin.String())
	if err != nil {
		t.Fatalf("dbtest: connect to PostgreSQL (run `make test`, which starts one): %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("dbtest: create database: %v", err)
	}
	t.Cleanup(func() {
		c, err := pgx.Connect(context.Background(), admin.String())
		if err != nil {
			return
		}
		defer c.Close(context.Background())
		_, _ = c.Exec(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
	})
	u.Path = "/" + name
	return u.String()
}

// New returns a pool on a fresh database with every migration applied.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	ctx := context.Background()
	pool, err := database.Open(ctx, NewURL(t), 10)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(pool.Close)
	if err := database.Migrate(ctx, pool, "up", io.Discard); err != nil {
		t.Fatalf("dbtest: migrate: %v", err)
	}
	return pool
}
