package database

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// CreateScratch creates a database named prefix + 12 random hex digits on the PostgreSQL
// server of baseURL and returns its URL. It connects to the server's "postgres" database to
// do so, which needs the CREATEDB privilege. A non-empty template names a database to copy
// (CREATE DATABASE ... TEMPLATE), which fails while anyone is connected to that template.
// Tests (internal/dbtest) and `voiceassist kb eval` use it; DropScratch removes the database.
func CreateScratch(ctx context.Context, baseURL, prefix, template string) (string, error) {
	u, err := url.Parse(baseURL)
	if err != nil {
		return "", fmt.Errorf("database: scratch: parse DATABASE_URL: %w", err)
	}
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := prefix + hex.EncodeToString(b[:])
	stmt := "CREATE DATABASE " + pgx.Identifier{name}.Sanitize()
	if template != "" {
		stmt += " TEMPLATE " + pgx.Identifier{template}.Sanitize()
	}
	if err := Admin(ctx, baseURL, func(conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, stmt)
		return err
	}); err != nil {
		return "", fmt.Errorf("database: create scratch database %s: %w", name, err)
	}
	u.Path = "/" + name
	return u.String(), nil
}

// DropScratch drops the database that dbURL names, closing any connection still open to it.
// It uses its own 30 s timeout so that it also runs after ctx-bearing work was cancelled.
func DropScratch(dbURL string) error {
	u, err := url.Parse(dbURL)
	if err != nil {
		return fmt.Errorf("database: drop scratch: parse URL: %w", err)
	}
	name := strings.TrimPrefix(u.Path, "/")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := Admin(ctx, dbURL, func(conn *pgx.Conn) error {
		_, err := conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
		return err
	}); err != nil {
		return fmt.Errorf("database: drop scratch database %s: %w", name, err)
	}
	return nil
}

// Admin runs fn on a connection to the "postgres" maintenance database of the server that
// anyURL points at (statements such as CREATE DATABASE cannot run in the database they name).
func Admin(ctx context.Context, anyURL string, fn func(*pgx.Conn) error) error {
	u, err := url.Parse(anyURL)
	if err != nil {
		return fmt.Errorf("parse URL: %w", err)
	}
	u.Path = "/postgres"
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		return fmt.Errorf("connect to the postgres database: %w", err)
	}
	defer conn.Close(context.Background())
	return fn(conn)
}
