package cache_test

import (
	"context"
	"fmt"
	"github.com/voiceassist/gateway/internal/redistest"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/cache"
	"github.com/voiceassist/gateway/internal/clock"
)

// started returns a started Cache, once its subscription is confirmed.
func started(t *testing.T, rdb redis.UniversalClient, cfg cache.Config) *cache.Cache {
	t.Helper()
	c := cache.New(rdb, cfg)
	c.Start(t.Context())
	t.Cleanup(c.Close)
	waitFor(t, "subscription", c.Subscribed)
	return c
}

// waitFor polls cond until it holds, failing after 5s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		require.True(t, time.Now().Before(deadline), "timed out waiting for %s", what)
		time.Sleep(5 * time.Millisecond)
	}
}

func newClock() *clock.Fake { return clock.NewFake(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)) }

func layer(t *testing.T, c *cache.Cache, name string) cache.LayerStats {
	t.Helper()
	for _, ls := range c.Stats() {
		if ls.Layer == name {
			return ls
		}
	}
	t.Fatalf("no layer %s", name)
	return cache.LayerStats{}
}

func requireHit(t *testing.T, c *cache.Cache, ns, key, want string) {
	t.Helper()
	v, ok := c.Get(t.Context(), ns, key)
	require.True(t, ok, "%s:%s should hit", ns, key)
	require.Equal(t, want, string(v))
}

func requireMiss(t *testing.T, c *cache.Cache, ns, key string) {
	t.Helper()
	v, ok := c.Get(t.Context(), ns, key)
	require.False(t, ok, "%s:%s should miss, got %q", ns, key, v)
	require.Nil(t, v)
}

// redisKeys lists the cache's data keys under prefix, sorted.
func redisKeys(t *testing.T, rdb *redis.Client, prefix string) []string {
	t.Helper()
	keys, err := rdb.Keys(t.Context(), prefix+"cache:*").Result() // test keyspace is tiny
	require.NoError(t, err)
	slices.Sort(keys)
	return keys
}

func TestL1EvictsLeastRecentlyUsedByBytes(t *testing.T) {
	t.Parallel()
	c := cache.New(nil, cache.Config{L1MaxBytes: 100})
	ctx := t.Context()
	val := strings.Repeat("v", 22) // with id "embed:kN" (8 bytes): 30 bytes an entry

	for _, k := range []string{"k1", "k2", "k3"} {
		c.Set(ctx, "embed", k, []byte(val), time.Minute)
	}
	l1 := layer(t, c, "l1")
	require.EqualValues(t, 3, l1.Entries)
	require.EqualValues(t, 90, l1.Bytes)

	requireHit(t, c, "embed", "k1", val) // k2 is now the least recently used
	c.Set(ctx, "embed", "k4", []byte(val), time.Minute)
	requireMiss(t, c, "embed", "k2")
	for _, k := range []string{"k1", "k3", "k4"} {
		requireHit(t, c, "embed", k, val)
	}
	l1 = layer(t, c, "l1")
	require.EqualValues(t, 3, l1.Entries)
	require.EqualValues(t, 90, l1.Bytes)
	require.EqualValues(t, 1, l1.Evictions)
	require.EqualValues(t, 1, l1.Namespaces["embed"].Evictions)

	// Replacing an entry accounts for its new size.
	c.Set(ctx, "embed", "k4", []byte("short"), time.Minute)
	require.EqualValues(t, 60+8+5, layer(t, c, "l1").Bytes)

	// A value bigger than the whole layer is not stored and evicts nothing.
	c.Set(ctx, "embed", "big", make([]byte, 100), time.Minute)
	requireMiss(t, c, "embed", "big")
	require.EqualValues(t, 3, layer(t, c, "l1").Entries)
	require.EqualValues(t, 1, layer(t, c, "l1").Evictions)
}

func TestL1ExpiryWithFakeClock(t *testing.T) {
	t.Parallel()
	clock := newClock()
	c := cache.New(nil, cache.Config{DefaultTTL: 10 * time.Minute, Now: clock.Now})
	ctx := t.Context()

	c.Set(ctx, "kb.search", "explicit", []byte("a"), time.Minute)
	c.Set(ctx, "kb.search", "default", []byte("b"), 0)
	clock.Advance(time.Minute - time.Nanosecond)
	requireHit(t, c, "kb.search", "explicit", "a")
	clock.Advance(time.Nanosecond)
	requireMiss(t, c, "kb.search", "explicit")
	require.EqualValues(t, 1, layer(t, c, "l1").Entries, "the expired entry is dropped")

	clock.Advance(9*time.Minute - time.Nanosecond)
	requireHit(t, c, "kb.search", "default", "b")
	clock.Advance(time.Nanosecond)
	requireMiss(t, c, "kb.search", "default")
}

func TestL1OnlyWithoutRedis(t *testing.T) {
	t.Parallel()
	c := cache.New(nil, cache.Config{})
	ctx := t.Context()
	c.Start(ctx) // no-op
	defer c.Close()
	require.True(t, c.Subscribed())

	requireMiss(t, c, "embed", "k")
	c.Set(ctx, "embed", "k", []byte("v"), 0)
	c.Set(ctx, "embed", "k2", []byte("v2"), 0)
	c.Set(ctx, "kb.search", "k", []byte("s"), 0)
	requireHit(t, c, "embed", "k", "v")

	// The returned slice is a copy.
	v, _ := c.Get(ctx, "embed", "k")
	v[0] = 'X'
	requireHit(t, c, "embed", "k", "v")

	n, err := c.Invalidate(ctx, "embed:k2")
	require.NoError(t, err)
	require.EqualValues(t, 1, n)
	requireMiss(t, c, "embed", "k2")

	gen, err := c.Bump(ctx, "embed")
	require.NoError(t, err)
	require.EqualValues(t, 1, gen)
	requireMiss(t, c, "embed", "k")
	c.Set(ctx, "embed", "k", []byte("v3"), 0)
	requireHit(t, c, "embed", "k", "v3")

	n, err = c.Clear(ctx, "")
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
	requireMiss(t, c, "kb.search", "k")

	stats := c.Stats()
	require.Len(t, stats, 1)
	require.Equal(t, "l1", stats[0].Layer)
}

func TestStatsCountExactly(t *testing.T) {
	t.Parallel()
	rdb := redistest.Client(t, nil)
	cfg := cache.Config{Prefix: redistest.Prefix(t, rdb)}
	a := started(t, rdb, cfg)
	b := started(t, rdb, cfg)
	ctx := t.Context()

	a.Set(ctx, "embed", "k", []byte("v"), 0)
	requireHit(t, b, "embed", "k", "v") // l1 miss, l2 hit, l1 filled
	requireHit(t, b, "embed", "k", "v") // l1 hit
	requireMiss(t, b, "embed", "absent")
	requireMiss(t, b, "kb.search", "absent")

	l1, l2 := layer(t, b, "l1"), layer(t, b, "l2")
	require.Equal(t, cache.LayerStats{Layer: "l1", Hits: 1, Misses: 3, Sets: 1, Entries: 1, Bytes: int64(len("embed:k") + 1),
		HitRate: 0.25, Namespaces: map[string]cache.NamespaceStats{
			"embed":     {Hits: 1, Misses: 2, Sets: 1},
			"kb.search": {Misses: 1},
		}}, l1)
	require.Equal(t, cache.LayerStats{Layer: "l2", Hits: 1, Misses: 2, HitRate: 1.0 / 3, Namespaces: map[string]cache.NamespaceStats{
		"embed":     {Hits: 1, Misses: 1},
		"kb.search": {Misses: 1},
	}}, l2)

	l1, l2 = layer(t, a, "l1"), layer(t, a, "l2")
	require.EqualValues(t, 1, l1.Sets)
	require.EqualValues(t, 1, l2.Sets)
	require.Zero(t, l1.Hits+l1.Misses+l2.Hits+l2.Misses)
}

func TestL2FillThrough(t *testing.T) {
	t.Parallel()
	rdb := redistest.Client(t, nil)
	prefix := redistest.Prefix(t, rdb)
	a := started(t, rdb, cache.Config{Prefix: prefix})
	clock := newClock()
	b := started(t, rdb, cache.Config{Prefix: prefix, Now: clock.Now})
	ctx := t.Context()

	a.Set(ctx, "kb.search", "q", []byte("answer"), time.Minute)
	require.Equal(t, []string{prefix + "cache:kb.search:0:q"}, redisKeys(t, rdb, prefix))

	requireHit(t, b, "kb.search", "q", "answer")
	require.EqualValues(t, 1, layer(t, b, "l2").Hits)
	require.EqualValues(t, 1, layer(t, b, "l1").Entries)
	requireHit(t, b, "kb.search", "q", "answer")
	require.EqualValues(t, 1, layer(t, b, "l1").Hits)
	require.EqualValues(t, 1, layer(t, b, "l2").Hits, "second Get served by L1")

	// The L1 copy lives no longer than the Redis entry had left (≤ 1m).
	clock.Advance(time.Minute + time.Second)
	requireHit(t, b, "kb.search", "q", "answer")
	require.EqualValues(t, 2, layer(t, b, "l2").Hits, "L1 copy expired, Redis still has it")
}

func TestRedisTTL(t *testing.T) {
	t.Parallel()
	rdb := redistest.Client(t, nil)
	prefix := redistest.Prefix(t, rdb)
	c := started(t, rdb, cache.Config{Prefix: prefix, DefaultTTL: time.Hour})
	ctx := t.Context()

	c.Set(ctx, "embed", "explicit", []byte("v"), 90*time.Second)
	c.Set(ctx, "embed", "default", []byte("v"), 0)
	ttl, err := rdb.TTL(ctx, prefix+"cache:embed:0:explicit").Result()
	require.NoError(t, err)
	require.Greater(t, ttl, time.Duration(0))
	require.LessOrEqual(t, ttl, 90*time.Second)
	ttl, err = rdb.TTL(ctx, prefix+"cache:embed:0:default").Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 90*time.Second)
	require.LessOrEqual(t, ttl, time.Hour)
}

func TestClearNamespaceInBothLayers(t *testing.T) {
	t.Parallel()
	rdb := redistest.Client(t, nil)
	prefix := redistest.Prefix(t, rdb)
	c := started(t, rdb, cache.Config{Prefix: prefix})
	ctx := t.Context()

	c.Set(ctx, "kb.search", "a", []byte("1"), 0)
	c.Set(ctx, "kb.search", "b", []byte("2"), 0)
	c.Set(ctx, "kb", "a", []byte("3"), 0) // a namespace that is a prefix of the other
	c.Set(ctx, "embed", "a", []byte("4"), 0)
	require.EqualValues(t, 4, layer(t, c, "l1").Entries)

	n, err := c.Clear(ctx, "kb.search")
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
	require.EqualValues(t, 2, layer(t, c, "l1").Entries)
	require.Equal(t, []string{prefix + "cache:embed:0:a", prefix + "cache:kb:0:a"}, redisKeys(t, rdb, prefix))
	requireMiss(t, c, "kb.search", "a")
	requireHit(t, c, "kb", "a", "3")
	requireHit(t, c, "embed", "a", "4")
	require.EqualValues(t, 2, layer(t, c, "l1").Hits, "untouched entries still in L1")

	n, err = c.Clear(ctx, "")
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
	require.Empty(t, redisKeys(t, rdb, prefix))
	require.EqualValues(t, 0, layer(t, c, "l1").Entries)
	requireMiss(t, c, "kb", "a")
	requireMiss(t, c, "embed", "a")
}

func TestInvalidatePattern(t *testing.T) {
	t.Parallel()
	rdb := redistest.Client(t, nil)
	prefix := redistest.Prefix(t, rdb)
	c := started(t, rdb, cache.Config{Prefix: prefix})
	ctx := t.Context()
	set := func(ns, key string) { c.Set(ctx, ns, key, []byte(ns+":"+key), 0) }
	set("kb.search", "q:1")
	set("kb.search", "q:2")
	set("kb.search", "x:1")
	set("embed", "q:1")
	set("embed", "a*b") // special characters in keys are literal data

	for _, tc := range []struct {
		pattern string
		removed int64
		gone    []string // "ns key"
	}{
		{"kb.search:q:*", 2, []string{"kb.search q:1", "kb.search q:2"}},
		{"kb.search:q:*", 0, nil},
		{"*:q:1", 1, []string{"embed q:1"}}, // no literal namespace: scans the whole cache
		{`embed:a\*b`, 1, []string{"embed a*b"}},
		{"kb.search:[xy]:?", 1, []string{"kb.search x:1"}},
	} {
		n, err := c.Invalidate(ctx, tc.pattern)
		require.NoError(t, err, tc.pattern)
		require.Equal(t, tc.removed, n, tc.pattern)
		for _, g := range tc.gone {
			ns, key, _ := strings.Cut(g, " ")
			requireMiss(t, c, ns, key)
		}
	}
	require.Empty(t, redisKeys(t, rdb, prefix))
	require.EqualValues(t, 0, layer(t, c, "l1").Entries)

	_, err := c.Invalidate(ctx, "")
	require.Error(t, err)
}

func TestLongKeys(t *testing.T) {
	t.Parallel()
	rdb := redistest.Client(t, nil)
	prefix := redistest.Prefix(t, rdb)
	c := started(t, rdb, cache.Config{Prefix: prefix})
	ctx := t.Context()
	head := strings.Repeat("h", cache.MaxKeyLen)
	k1, k2 := head+"-one-tail", head+"-two-tail"

	c.Set(ctx, "kb.search", k1, []byte("1"), 0)
	c.Set(ctx, "kb.search", k2, []byte("2"), 0)
	keys := redisKeys(t, rdb, prefix)
	require.Len(t, keys, 2)
	for _, k := range keys {
		require.Len(t, k, len(prefix+"cache:kb.search:0:")+cache.MaxKeyLen+1+64)
	}

	// Fill-through on another replica finds them by their full keys.
	b := started(t, rdb, cache.Config{Prefix: prefix})
	requireHit(t, b, "kb.search", k1, "1")
	requireHit(t, b, "kb.search", k2, "2")

	// Patterns see the stored form: the start of the key, not its end.
	n, err := c.Invalidate(ctx, "kb.search:*tail")
	require.NoError(t, err)
	require.Zero(t, n)
	requireHit(t, c, "kb.search", k1, "1")
	n, err = c.Invalidate(ctx, "kb.search:hhh*")
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
	requireMiss(t, c, "kb.search", k1)
	waitFor(t, "invalidation on the other replica", func() bool { return layer(t, b, "l1").Entries == 0 })
}

// Invalidations reach the L1 of other replicas through pub/sub.
func TestInvalidateReachesOtherReplicas(t *testing.T) {
	t.Parallel()
	rdb := redistest.Client(t, nil)
	cfg := cache.Config{Prefix: redistest.Prefix(t, rdb)}
	a := started(t, rdb, cfg)
	b := started(t, rdb, cfg)
	ctx := t.Context()

	for _, k := range []string{"q:1", "q:2", "x:1"} {
		a.Set(ctx, "kb.search", k, []byte(k), 0)
		requireHit(t, b, "kb.search", k, k) // fills b's L1
	}
	a.Set(ctx, "embed", "e", []byte("e"), 0)
	requireHit(t, b, "embed", "e", "e")
	require.EqualValues(t, 4, layer(t, b, "l1").Entries)

	_, err := a.Invalidate(ctx, "kb.search:q:*")
	require.NoError(t, err)
	// Redis no longer has them, so only b's L1 could still answer.
	waitFor(t, "invalidate on b", func() bool { return layer(t, b, "l1").Entries == 2 })
	requireMiss(t, b, "kb.search", "q:1")
	requireMiss(t, b, "kb.search", "q:2")
	hits := layer(t, b, "l1").Hits
	requireHit(t, b, "kb.search", "x:1", "x:1")
	requireHit(t, b, "embed", "e", "e")
	require.Equal(t, hits+2, layer(t, b, "l1").Hits, "unmatched entries stay in b's L1")

	_, err = a.Clear(ctx, "kb.search")
	require.NoError(t, err)
	waitFor(t, "clear(ns) on b", func() bool { return layer(t, b, "l1").Entries == 1 })
	requireMiss(t, b, "kb.search", "x:1")

	_, err = a.Clear(ctx, "")
	require.NoError(t, err)
	waitFor(t, "clear(all) on b", func() bool { return layer(t, b, "l1").Entries == 0 })
	requireMiss(t, b, "embed", "e")
}

func TestBumpMakesOldEntriesUnreachable(t *testing.T) {
	t.Parallel()
	rdb := redistest.Client(t, nil)
	prefix := redistest.Prefix(t, rdb)
	a := started(t, rdb, cache.Config{Prefix: prefix})
	b := started(t, rdb, cache.Config{Prefix: prefix})
	// c never subscribes, as if it had missed the message: only GenRefresh saves it.
	clock := newClock()
	c := cache.New(rdb, cache.Config{Prefix: prefix, Now: clock.Now, GenRefresh: 5 * time.Second})
	ctx := t.Context()

	a.Set(ctx, "kb.search", "q", []byte("old"), 0)
	a.Set(ctx, "embed", "q", []byte("other ns"), 0)
	requireHit(t, b, "kb.search", "q", "old") // in b's L1 now
	requireHit(t, c, "kb.search", "q", "old")

	gen, err := a.Bump(ctx, "kb.search")
	require.NoError(t, err)
	require.EqualValues(t, 1, gen)
	requireMiss(t, a, "kb.search", "q")
	waitFor(t, "bump on b", func() bool { _, ok := b.Get(ctx, "kb.search", "q"); return !ok })
	requireHit(t, b, "embed", "q", "other ns")

	requireHit(t, c, "kb.search", "q", "old") // bounded staleness: generation remembered
	clock.Advance(5 * time.Second)
	requireMiss(t, c, "kb.search", "q")

	a.Set(ctx, "kb.search", "q", []byte("new"), 0)
	requireHit(t, b, "kb.search", "q", "new")
	requireHit(t, c, "kb.search", "q", "new")

	// Old entries are unreachable, not deleted: they expire with their TTL.
	require.Equal(t, []string{prefix + "cache:embed:0:q", prefix + "cache:kb.search:0:q", prefix + "cache:kb.search:1:q"},
		redisKeys(t, rdb, prefix))
	g, err := rdb.Get(ctx, prefix+"cachegen:kb.search").Result()
	require.NoError(t, err)
	require.Equal(t, "1", g)

	// Clear and Invalidate reach every generation.
	n, err := a.Invalidate(ctx, "kb.search:*")
	require.NoError(t, err)
	require.EqualValues(t, 2, n)
}

// When the subscription drops, L1 is emptied and bypassed until Redis confirms it
// again: invalidations published meanwhile are never heard.
func TestSubscriptionLossEmptiesL1(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var conns []net.Conn
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		cn, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			mu.Lock()
			conns = append(conns, cn)
			mu.Unlock()
		}
		return cn, err
	}
	rdb := redistest.Client(t, dial)
	prefix := redistest.Prefix(t, rdb)
	c := started(t, rdb, cache.Config{Prefix: prefix})
	ctx := t.Context()

	c.Set(ctx, "embed", "k", []byte("v"), 0)
	require.EqualValues(t, 1, layer(t, c, "l1").Entries)

	mu.Lock()
	for _, cn := range conns {
		_ = cn.Close()
	}
	mu.Unlock()
	waitFor(t, "L1 emptied", func() bool { return layer(t, c, "l1").Entries == 0 })
	waitFor(t, "resubscribed", c.Subscribed)

	requireHit(t, c, "embed", "k", "v") // from Redis, refilling L1
	require.EqualValues(t, 1, layer(t, c, "l1").Entries)
	requireHit(t, c, "embed", "k", "v")
	require.EqualValues(t, 1, layer(t, c, "l1").Hits)
}

func TestRedisDown(t *testing.T) {
	t.Parallel()
	rdb := redis.NewClient(&redis.Options{
		Addr:          "127.0.0.1:1",
		DialTimeout:   200 * time.Millisecond,
		MaxRetries:    -1,
		DialerRetries: 1,
	})
	t.Cleanup(func() { _ = rdb.Close() })
	c := cache.New(rdb, cache.Config{Prefix: "va:"})
	ctx := t.Context()
	c.Start(ctx)
	defer c.Close()

	c.Set(ctx, "embed", "k", []byte("v"), 0)
	require.NoError(t, cache.SetJSON(ctx, c, "embed", "j", 1, 0))
	requireMiss(t, c, "embed", "k")
	_, ok := cache.GetJSON[int](ctx, c, "embed", "j")
	require.False(t, ok)
	require.False(t, c.Subscribed())

	l2 := layer(t, c, "l2")
	require.GreaterOrEqual(t, l2.Errors, int64(4))
	require.EqualValues(t, 2, l2.Misses)
	require.Zero(t, l2.Sets)

	_, err := c.Clear(ctx, "embed")
	require.Error(t, err)
	_, err = c.Invalidate(ctx, "embed:*")
	require.Error(t, err)
	_, err = c.Bump(ctx, "embed")
	require.Error(t, err)
}

func TestL1Disabled(t *testing.T) {
	t.Parallel()
	rdb := redistest.Client(t, nil)
	prefix := redistest.Prefix(t, rdb)
	c := cache.New(rdb, cache.Config{Prefix: prefix, L1MaxBytes: -1})
	ctx := t.Context()
	c.Start(ctx)
	defer c.Close()

	c.Set(ctx, "embed", "k", []byte("v"), 0)
	requireHit(t, c, "embed", "k", "v")
	stats := c.Stats()
	require.Len(t, stats, 1)
	require.Equal(t, "l2", stats[0].Layer)
	require.EqualValues(t, 1, stats[0].Hits)
}

func TestNamespaceValidation(t *testing.T) {
	t.Parallel()
	for _, ns := range []string{"kb.search", "embed", "a", "x-y_z.0", strings.Repeat("a", 64)} {
		require.NoError(t, cache.ValidateNamespace(ns), ns)
	}
	for _, ns := range []string{"", "KB", "a:b", "a b", "a*", "é", strings.Repeat("a", 65)} {
		require.ErrorIs(t, cache.ValidateNamespace(ns), cache.ErrInvalidNamespace, ns)
	}

	c := cache.New(nil, cache.Config{})
	ctx := t.Context()
	c.Set(ctx, "Bad:ns", "k", []byte("v"), 0)
	requireMiss(t, c, "Bad:ns", "k")
	require.Empty(t, layer(t, c, "l1").Namespaces, "invalid namespaces are not counted")
	require.EqualValues(t, 0, layer(t, c, "l1").Entries)
	require.ErrorIs(t, cache.SetJSON(ctx, c, "Bad:ns", "k", 1, 0), cache.ErrInvalidNamespace)
	_, err := c.Clear(ctx, "Bad:ns")
	require.ErrorIs(t, err, cache.ErrInvalidNamespace)
	_, err = c.Bump(ctx, "Bad:ns")
	require.ErrorIs(t, err, cache.ErrInvalidNamespace)
}

func TestJSON(t *testing.T) {
	t.Parallel()
	type doc struct {
		Title string   `json:"title"`
		Tags  []string `json:"tags"`
	}
	c := cache.New(nil, cache.Config{})
	ctx := t.Context()

	require.NoError(t, cache.SetJSON(ctx, c, "kb.search", "d", doc{Title: "t", Tags: []string{"a"}}, 0))
	got, ok := cache.GetJSON[doc](ctx, c, "kb.search", "d")
	require.True(t, ok)
	require.Equal(t, doc{Title: "t", Tags: []string{"a"}}, got)

	_, ok = cache.GetJSON[doc](ctx, c, "kb.search", "absent")
	require.False(t, ok)
	c.Set(ctx, "kb.search", "raw", []byte("not json"), 0)
	_, ok = cache.GetJSON[doc](ctx, c, "kb.search", "raw")
	require.False(t, ok)
	require.Error(t, cache.SetJSON(ctx, c, "kb.search", "bad", make(chan int), 0))
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	c := cache.New(nil, cache.Config{})
	ctx := t.Context()
	c.Set(ctx, "embed", "k", []byte("v"), 0)
	requireHit(t, c, "embed", "k", "v")
	requireMiss(t, c, "embed", "x")
	requireMiss(t, c, "kb.search", "x")

	reg := prometheus.NewRegistry()
	reg.MustRegister(c.Collectors()...)
	mfs, err := reg.Gather()
	require.NoError(t, err)
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			name := mf.GetName()
			for _, l := range m.GetLabel() {
				name += fmt.Sprintf(" %s=%s", l.GetName(), l.GetValue())
			}
			got[name] = m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	require.Equal(t, map[string]float64{
		"voiceassist_cache_hits_total layer=l1 namespace=embed":          1,
		"voiceassist_cache_hits_total layer=l1 namespace=kb.search":      0,
		"voiceassist_cache_misses_total layer=l1 namespace=embed":        1,
		"voiceassist_cache_misses_total layer=l1 namespace=kb.search":    1,
		"voiceassist_cache_sets_total layer=l1 namespace=embed":          1,
		"voiceassist_cache_sets_total layer=l1 namespace=kb.search":      0,
		"voiceassist_cache_evictions_total layer=l1 namespace=embed":     0,
		"voiceassist_cache_evictions_total layer=l1 namespace=kb.search": 0,
		"voiceassist_cache_entries layer=l1":                             1,
		"voiceassist_cache_bytes layer=l1":                               float64(len("embed:k") + 1),
	}, got)
}

// Concurrent use keeps L1 within its bound (run with -race).
func TestConcurrentL1(t *testing.T) {
	t.Parallel()
	c := cache.New(nil, cache.Config{L1MaxBytes: 4 << 10})
	ctx := t.Context()
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for i := range 2000 {
				key := fmt.Sprintf("k%d", (i*7+w)%64)
				switch i % 50 {
				case 0:
					_, _ = c.Invalidate(ctx, "embed:k1*")
				case 1:
					if w == 0 {
						_, _ = c.Clear(ctx, "embed")
					}
				default:
					c.Set(ctx, "embed", key, make([]byte, 100), 0)
					c.Get(ctx, "embed", key)
				}
			}
		})
	}
	wg.Wait()
	l1 := layer(t, c, "l1")
	require.LessOrEqual(t, l1.Bytes, int64(4<<10))
	require.Positive(t, l1.Sets)
}
