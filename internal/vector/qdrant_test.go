package vector_test

import (
	"context"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/qdrant/go-client/qdrant"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/vector"
	"github.com/voiceassist/gateway/internal/vector/vectortest"
)

// qdrantConfig reads the server from the environment or skips the test.
func qdrantConfig(t *testing.T) vector.QdrantConfig {
	t.Helper()
	host := os.Getenv("QDRANT_HOST")
	if host == "" {
		t.Skip("QDRANT_HOST not set: Qdrant conformance suite skipped (start Qdrant and set QDRANT_HOST=localhost to run it)")
	}
	cfg := vector.QdrantConfig{Host: host, APIKey: os.Getenv("QDRANT_API_KEY")}
	if p := os.Getenv("QDRANT_PORT"); p != "" {
		port, err := strconv.Atoi(p)
		require.NoError(t, err, "QDRANT_PORT")
		cfg.Port = port
	}
	return cfg
}

// openQdrant opens a store on a fresh collection that is dropped at cleanup.
func openQdrant(t *testing.T, cfg vector.QdrantConfig, dim int) *vector.Qdrant {
	t.Helper()
	cfg.Collection = "vectortest_" + strings.ReplaceAll(uuid.NewString(), "-", "")
	cfg.Dim = dim
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := vector.NewQdrant(ctx, cfg)
	require.NoError(t, err)
	t.Cleanup(func() {
		// t.Context() is already cancelled when cleanups run.
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		assert.NoError(t, s.DropCollection(ctx))
		assert.NoError(t, s.Close())
	})
	return s
}

func TestQdrantConformance(t *testing.T) {
	t.Parallel()
	cfg := qdrantConfig(t)
	vectortest.Run(t, func(t *testing.T, dim int) vector.Store { return openQdrant(t, cfg, dim) })
}

// TestQdrantCollection covers what the suite cannot: reopening, a dimension
// clash with an existing collection, Reset, Count and Ping.
func TestQdrantCollection(t *testing.T) {
	t.Parallel()
	cfg := qdrantConfig(t)
	ctx := t.Context()
	s := openQdrant(t, cfg, 3)
	require.NoError(t, s.Ping(ctx))
	require.NoError(t, s.Upsert(ctx, []vector.Item{
		{ID: "a", Vector: []float32{1, 0, 0}},
		{ID: "b", Vector: []float32{0, 1, 0}},
	}))
	n, err := s.Count(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, n)

	// Reopening the same collection keeps its points.
	cfg.Collection, cfg.Dim = s.Collection(), 3
	again, err := vector.NewQdrant(ctx, cfg)
	require.NoError(t, err)
	defer again.Close()
	hs, err := again.Search(ctx, []float32{1, 0, 0}, 10, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b"}, ids(hs))

	// Another dimension is refused, not silently used.
	cfg.Dim = 4
	_, err = vector.NewQdrant(ctx, cfg)
	require.ErrorIs(t, err, vector.ErrDim)
	require.ErrorContains(t, err, "dimension 3, configured 4")

	require.NoError(t, s.Reset(ctx))
	n, err = s.Count(ctx)
	require.NoError(t, err)
	require.Zero(t, n)
	hs, err = s.Search(ctx, []float32{1, 0, 0}, 10, nil)
	require.NoError(t, err)
	require.Empty(t, hs)
	require.NoError(t, s.Upsert(ctx, []vector.Item{{ID: "c", Vector: []float32{1, 0, 0}}}), "usable after Reset")

	// Ping reports a missing collection (e.g. dropped from outside).
	cfg.Collection = "vectortest_missing_" + strings.ReplaceAll(uuid.NewString(), "-", "")
	missing := vector.NewQdrantUnchecked(t, cfg)
	require.ErrorContains(t, missing.Ping(ctx), "does not exist")
}

func ids(hs []vector.Hit) []string {
	var out []string
	for _, h := range hs {
		out = append(out, h.ID)
	}
	return out
}

func TestQdrantPointID(t *testing.T) {
	t.Parallel()
	// Pinned: changing the namespace or hashing would orphan stored points.
	require.Equal(t, "2e1de5ec-4662-5016-92f9-334ad487d57e", vector.PointID("doc-1#0"))

	seen := map[string]string{}
	for _, id := range []string{"", "a", "A", "a ", "doc-1#0", "doc-1#1", "ünïcode", strings.Repeat("x", 10_000)} {
		p := vector.PointID(id)
		require.Equal(t, p, vector.PointID(id), "deterministic")
		u, err := uuid.Parse(p)
		require.NoError(t, err)
		require.Equal(t, uuid.Version(5), u.Version())
		require.NotContains(t, seen, p, "collision between %q and %q", id, seen[p])
		seen[p] = id
	}
}

func TestQdrantPointRoundTrip(t *testing.T) {
	t.Parallel()
	payload := map[string]string{"doc": "7", "a.b": "x"}
	it := vector.Item{ID: "chunk/7#3", Vector: []float32{3, 4}, Payload: payload}
	p := vector.ToPoint(it)

	require.Equal(t, vector.PointID(it.ID), p.GetId().GetUuid())
	require.Equal(t, it.ID, p.GetPayload()[vector.QdrantIDKey].GetStringValue(), "original ID kept in payload")
	require.Equal(t, []float32{0.6, 0.8}, p.GetVectors().GetVector().GetDense().GetData(), "sent normalised")
	require.Equal(t, map[string]string{"doc": "7", "a.b": "x"}, payload, "caller's payload untouched")
	require.Equal(t, []float32{3, 4}, it.Vector, "caller's vector untouched")

	h := vector.ToHit(vector.ScoredPoint(p, 0.5))
	require.Equal(t, vector.Hit{ID: it.ID, Score: 0.5, Payload: payload}, h, "reserved key removed")

	h = vector.ToHit(vector.ScoredPoint(vector.ToPoint(vector.Item{ID: "bare", Vector: []float32{1, 0}}), 1))
	require.Equal(t, "bare", h.ID)
	require.Nil(t, h.Payload, "no payload, as Exact")

	// A point written by someone else: no reserved key, non-string values.
	foreign := &qdrant.ScoredPoint{
		Id:      qdrant.NewIDUUID("0b5e0c2a-9c8e-4a47-9d2e-6f1f3f7c2d10"),
		Payload: map[string]*qdrant.Value{"n": qdrant.NewValueInt(3), "s": qdrant.NewValueString("v")},
	}
	h = vector.ToHit(foreign)
	require.Equal(t, "0b5e0c2a-9c8e-4a47-9d2e-6f1f3f7c2d10", h.ID)
	require.Equal(t, map[string]string{"s": "v"}, h.Payload)
}

func TestQdrantFilterKey(t *testing.T) {
	t.Parallel()
	for k, want := range map[string]string{
		"doc":        "doc",
		"doc_id-2":   "doc_id-2",
		"a.b":        `"a.b"`,
		"tag[]":      `"tag[]"`,
		"with space": `"with space"`,
		"ünï":        `"ünï"`,
		"":           `""`,
	} {
		got, err := vector.FilterKey(k)
		require.NoError(t, err, k)
		require.Equal(t, want, got, k)
	}
	for _, k := range []string{`a"b`, `a\b`} {
		_, err := vector.FilterKey(k)
		require.ErrorContains(t, err, "cannot filter", k)
	}
}

func TestQdrantConfigDefaults(t *testing.T) {
	t.Parallel()
	c := vector.QdrantConfig{Collection: "c", Dim: 3}.WithDefaults()
	require.Equal(t, "localhost", c.Host)
	require.Equal(t, 6334, c.Port)
	c = vector.QdrantConfig{Host: "qdrant", Port: 7000}.WithDefaults()
	require.Equal(t, "qdrant", c.Host)
	require.Equal(t, 7000, c.Port)

	ctx := t.Context()
	_, err := vector.NewQdrant(ctx, vector.QdrantConfig{Dim: 3})
	require.ErrorContains(t, err, "collection name required")
	_, err = vector.NewQdrant(ctx, vector.QdrantConfig{Collection: "c"})
	require.ErrorContains(t, err, "dimension must be positive")
}

// closedPort returns a local port with nothing listening.
func closedPort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	require.NoError(t, l.Close())
	return port
}

func TestNewQdrantUnreachable(t *testing.T) {
	t.Parallel()
	port := closedPort(t)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	start := time.Now()
	_, err := vector.NewQdrant(ctx, vector.QdrantConfig{Host: "127.0.0.1", Port: port, Collection: "c", Dim: 3})
	require.Error(t, err)
	require.Less(t, time.Since(start), 5*time.Second, "a refused connection fails fast")
	require.ErrorContains(t, err, "127.0.0.1:"+strconv.Itoa(port))
	require.ErrorContains(t, err, "connection refused")
}

// A server that accepts TCP but never answers must not hang NewQdrant past
// ctx (the go-client's own version check would wait up to a minute).
func TestNewQdrantSilentServer(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { l.Close() })
	go func() {
		var conns []net.Conn // held open, never read or written
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()

	ctx, cancel := context.WithTimeout(t.Context(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = vector.NewQdrant(ctx, vector.QdrantConfig{Host: "127.0.0.1", Port: l.Addr().(*net.TCPAddr).Port, Collection: "c", Dim: 3})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(start), 3*time.Second)
}

// TestQdrantLocalChecks covers what Qdrant checks before sending anything, so
// it needs no server (the store points at a closed port).
func TestQdrantLocalChecks(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	s := vector.NewQdrantUnchecked(t, vector.QdrantConfig{Host: "127.0.0.1", Port: closedPort(t), Collection: "c", Dim: 3})

	require.ErrorIs(t, s.Upsert(ctx, []vector.Item{{ID: "a", Vector: []float32{1}}}), vector.ErrDim)
	require.ErrorContains(t, s.Upsert(ctx, []vector.Item{{Vector: []float32{1, 0, 0}}}), "without ID")
	require.ErrorContains(t, s.Upsert(ctx, []vector.Item{{ID: "a", Vector: []float32{1, 0, 0}, Payload: map[string]string{vector.QdrantIDKey: "x"}}}), "reserved")
	require.NoError(t, s.Upsert(ctx, nil), "nothing to send")
	require.NoError(t, s.Delete(ctx), "nothing to send")

	_, err := s.Search(ctx, []float32{1, 0}, 5, nil)
	require.ErrorIs(t, err, vector.ErrDim)
	hs, err := s.Search(ctx, []float32{0, 0, 0}, 5, nil)
	require.NoError(t, err, "zero query answered locally")
	require.Empty(t, hs)
	hs, err = s.Search(ctx, []float32{1, 0, 0}, 5, map[string]string{vector.QdrantIDKey: "a"})
	require.NoError(t, err, "reserved key filter matches nothing")
	require.Empty(t, hs)
	_, err = s.Search(ctx, []float32{1, 0, 0}, 5, map[string]string{`a"b`: "x"})
	require.ErrorContains(t, err, "cannot filter")

	// Past the local checks, requests reach the (absent) server and fail.
	_, err = s.Search(ctx, []float32{1, 0, 0}, 5, nil)
	require.ErrorContains(t, err, "search")
	require.ErrorContains(t, s.Ping(ctx), "ping")
}
