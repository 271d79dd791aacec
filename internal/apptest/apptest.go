// Package apptest starts a real gateway in-process for tests and benchmarks: a fresh
// PostgreSQL database, a private Redis key prefix, a random port, logs captured.
package apptest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/voiceassist/gateway/internal/app"
	"github.com/voiceassist/gateway/internal/config"
	"github.com/voiceassist/gateway/internal/dbtest"
	"github.com/voiceassist/gateway/internal/logging"
)

// DefaultRedisURL is used when REDIS_URL is unset.
const DefaultRedisURL = "redis://127.0.0.1:6379/0"

// Server is one running gateway.
type Server struct {
	URL  string
	App  *app.App
	Env  map[string]string
	logs *LogBuffer
}

// Logs returns everything the server has logged so far.
func (s *Server) Logs() string { return s.logs.String() }

// RandomID is a short random hex string for unique names.
func RandomID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Start runs a gateway until t ends. env overrides configuration; DATABASE_URL unset means
// a fresh database (pass another server's Env["DATABASE_URL"] to share one).
func Start(t testing.TB, env map[string]string, opts ...app.Option) *Server {
	t.Helper()
	redisURL := os.Getenv("REDIS_URL")
	if redisURL == "" {
		redisURL = DefaultRedisURL
	}
	vars := map[string]string{
		"ENVIRONMENT":      "test",
		"REDIS_URL":        redisURL,
		"REDIS_KEY_PREFIX": "test:" + RandomID() + ":",
		"LOG_LEVEL":        "debug",
		"JWT_SECRET_KEY":   "test-secret-key-that-is-long-enough-0123456789",
		"DATA_DIR":         t.TempDir(),
		// Tests count the flags they create; voice flag tests turn this on.
		"VOICE_FLAGS_CREATE": "false",
	}
	for k, v := range env {
		vars[k] = v
	}
	if vars["DATABASE_URL"] == "" {
		vars["DATABASE_URL"] = dbtest.NewURL(t)
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	if err != nil {
		t.Fatalf("apptest: config: %v", err)
	}
	logs := &LogBuffer{}
	log := logging.New(logs, "json", vars["LOG_LEVEL"])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, err := app.New(ctx, cfg, log, opts...)
	if err != nil {
		t.Fatalf("apptest: start: %v", err)
	}
	// Tests start from a ready server: the search index fills beside serving (issue 17).
	if err := a.KB.WaitFilled(ctx); err != nil {
		t.Fatalf("apptest: search index: %v", err)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("apptest: listen: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(l) }()
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Shutdown(sctx)
		<-done
		if t.Failed() {
			t.Logf("server logs (last 60 lines):\n%s", tail(logs.String(), 60))
		}
	})
	return &Server{URL: "http://" + l.Addr().String(), App: a, Env: vars, logs: logs}
}

func tail(s string, lines int) string {
	parts := strings.Split(s, "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}

// LogBuffer collects a server's log output; safe for concurrent writes.
type LogBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *LogBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *LogBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}
