// Package dbtest gives tests a throwaway PostgreSQL database, migrated from schema/ and
// dropped at cleanup. It reads DATABASE_URL (as `make test` exports it) for the server.
//
// Migrating a database takes far longer than copying one, so the first test of a process
// builds a migrated template database named after a hash of the migrations
// (va_tpl_<12 hex>), once per server and schema, and every test database is a copy of it.
// The template is never connected to after it is built: PostgreSQL refuses to copy a
// database that has connections.
package dbtest

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/url"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/voiceassist/gateway/internal/database"
	"github.com/voiceassist/gateway/schema"
)

// DefaultURL is used when DATABASE_URL is unset (the machine-wide server of a dev box).
const DefaultURL = "postgres://postgres@127.0.0.1:5432/voiceassist?sslmode=disable"

// NewURL creates a database with every migration applied and returns its URL; it is
// dropped when t ends.
func NewURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("DATABASE_URL")
	if base == "" {
		base = DefaultURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	tpl, err := templateFor(ctx, base)
	if err != nil {
		t.Fatalf("dbtest: template database (run `make test`, which starts PostgreSQL): %v", err)
	}
	// The creation time in the name lets a later run sweep what an interrupted one left.
	u, err := database.CreateScratch(ctx, base, fmt.Sprintf("va_test_%d_", time.Now().Unix()), tpl)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(func() {
		if !background.Load() {
			_ = database.DropScratch(u)
			return
		}
		drops.Add(1)
		go func() {
			defer drops.Done()
			_ = database.DropScratch(u)
		}()
	})
	return u
}

var (
	background atomic.Bool
	drops      sync.WaitGroup
)

// Run runs a package's tests (from TestMain: os.Exit(dbtest.Run(m))) with the test
// databases dropped in the background: DROP DATABASE waits for a checkpoint, which a test
// then does not wait for (and concurrent drops share). It returns once every drop is done.
// A drop cut off by a killed process is swept by a later run.
func Run(m *testing.M) int {
	background.Store(true)
	code := m.Run()
	drops.Wait()
	return code
}

// New returns a pool on a fresh database with every migration applied.
func New(t testing.TB) *pgxpool.Pool {
	t.Helper()
	pool, err := database.Open(context.Background(), NewURL(t), 10)
	if err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// templates remembers, per server URL, the template this process built or found.
var templates struct {
	sync.Mutex
	name map[string]string
}

func templateFor(ctx context.Context, base string) (string, error) {
	templates.Lock()
	defer templates.Unlock() // one builder per process; other processes wait on the advisory lock
	if name, ok := templates.name[base]; ok {
		return name, nil
	}
	name := "va_tpl_" + schemaHash()
	if err := ensureTemplate(ctx, base, name); err != nil {
		return "", err
	}
	sweep(ctx, base)
	if templates.name == nil {
		templates.name = map[string]string{}
	}
	templates.name[base] = name
	return name, nil
}

// ensureTemplate builds the template unless it exists. Test packages run as parallel
// processes, so the build holds an advisory lock on the maintenance connection, and it
// migrates a database of a temporary name that is renamed only when complete: a
// half-built template (say, of a killed process) is never copied.
func ensureTemplate(ctx context.Context, base, name string) error {
	return database.Admin(ctx, base, func(conn *pgx.Conn) error {
		exists := func() (bool, error) {
			var ok bool
			err := conn.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)", name).Scan(&ok)
			return ok, err
		}
		if ok, err := exists(); err != nil || ok {
			return err
		}
		h := sha256.Sum256([]byte("dbtest template " + name))
		key := int64(binary.BigEndian.Uint64(h[:8]))
		if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", key); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		defer func() { _, _ = conn.Exec(context.Background(), "SELECT pg_advisory_unlock($1)", key) }()
		if ok, err := exists(); err != nil || ok {
			return err // built by another process while we waited
		}
		tmpURL, err := database.CreateScratch(ctx, base, name+"_build_", "")
		if err != nil {
			return err
		}
		if err := migrate(ctx, tmpURL); err != nil {
			_ = database.DropScratch(tmpURL)
			return err
		}
		u, err := url.Parse(tmpURL)
		if err != nil {
			return err
		}
		tmp := strings.TrimPrefix(u.Path, "/")
		if _, err := conn.Exec(ctx, "ALTER DATABASE "+pgx.Identifier{tmp}.Sanitize()+" RENAME TO "+pgx.Identifier{name}.Sanitize()); err != nil {
			_ = database.DropScratch(tmpURL)
			return fmt.Errorf("rename the built template: %w", err)
		}
		return nil
	})
}

// migrate applies every migration to the database of dbURL and closes every connection
// to it before returning.
func migrate(ctx context.Context, dbURL string) error {
	pool, err := database.Open(ctx, dbURL, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	return database.Migrate(ctx, pool, "up", io.Discard)
}

// schemaHash identifies the schema a template holds: the migrations' contents and the
// version of River, whose own migrations run too.
func schemaHash() string {
	h := sha256.New()
	names, _ := fs.Glob(schema.FS, "*.sql")
	for _, n := range names { // fs.Glob sorts
		b, err := fs.ReadFile(schema.FS, n)
		if err != nil {
			panic(err) // embedded: cannot fail
		}
		fmt.Fprintf(h, "%s %d\n", n, len(b))
		h.Write(b)
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/riverqueue/river" {
				fmt.Fprintf(h, "river %s\n", d.Version)
			}
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// sweep drops the test databases older than an hour that an interrupted run left behind
// (once per process). A database still in use is not dropped (no FORCE): the error is ignored.
func sweep(ctx context.Context, base string) {
	cutoff := time.Now().Add(-time.Hour).Unix()
	_ = database.Admin(ctx, base, func(conn *pgx.Conn) error {
		rows, err := conn.Query(ctx, `SELECT datname FROM pg_database WHERE datname ~ '^va_test_[0-9]+_[0-9a-f]+$'`)
		if err != nil {
			return err
		}
		names, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		for _, n := range names {
			var ts int64
			if _, err := fmt.Sscanf(n, "va_test_%d_", &ts); err != nil || ts >= cutoff {
				continue
			}
			_, _ = conn.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{n}.Sanitize())
		}
		return nil
	})
}
