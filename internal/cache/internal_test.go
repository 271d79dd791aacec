package cache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"
)

// match must agree with Redis's MATCH, which removes the L2 side of Invalidate.
func TestMatchAgreesWithRedis(t *testing.T) {
	t.Parallel()
	url := os.Getenv("REDIS_URL")
	if url == "" {
		url = "redis://127.0.0.1:6379/0"
	}
	opts, err := redis.ParseURL(url)
	require.NoError(t, err)
	rdb := redis.NewClient(opts)
	t.Cleanup(func() { _ = rdb.Close() })
	ctx := t.Context()
	var b [8]byte
	_, _ = rand.Read(b[:])
	prefix := "test:" + hex.EncodeToString(b[:]) + ":" // no special characters

	subjects := []string{
		"kb.search:q:1", "kb.search:q:12", "kb.search:", "embed:x", "embed:x:y", "a", "ab", "abc", "b",
		"a*b", `a\b`, "a]b", "a-b", "a^b", "a?b", "[x]", "x]", "aXb", "a\x00b", "a\nb",
	}
	for _, s := range subjects {
		require.NoError(t, rdb.Set(ctx, prefix+s, "1", time.Minute).Err())
	}
	t.Cleanup(func() {
		for _, s := range subjects {
			_ = rdb.Del(context.Background(), prefix+s).Err()
		}
	})

	patterns := []string{
		"*", "**", "kb.search:*", "*:q:?", "*:q:*", "kb.search:q:[0-9]", "kb.search:q:[^2]*", "*:x*",
		"a?b", "a*", "*b", "a*b", "a**b", "?", "??", "a\\*b", "a[*]b", `a[\]]b`, "a[]]b", "a[-]b",
		"a[b-a]?", "a[a-c]", "a[^a-c]", "a[^]b", "a[]b", "a[b", "a[", "a\\", `a\\b`, "a[\\", "[[]x]",
		"[x]", "x]", "a[\x00]b", "a?b*", "*a*", "*?", "a^b", "a[\\^]b", "kb.search:",
	}
	for _, p := range patterns {
		var want []string
		iter := rdb.Scan(ctx, 0, escapeGlob(prefix)+p, 1000).Iterator()
		for iter.Next(ctx) {
			want = append(want, iter.Val()[len(prefix):])
		}
		require.NoError(t, iter.Err())
		var got []string
		for _, s := range subjects {
			if match(p, s) {
				got = append(got, s)
			}
		}
		require.ElementsMatch(t, want, got, "pattern %q", p)
	}
}

func TestEscapeGlob(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"va:", `a*b?c[d]e\f`, ""} {
		require.True(t, match(escapeGlob(s), s), s)
		require.False(t, match(escapeGlob(s), s+"x"), s)
	}
	require.Equal(t, "kb.search:q:", literalPrefix("kb.search:q:*"))
	require.Equal(t, "", literalPrefix("*:x"))
	require.Equal(t, "a", literalPrefix(`a\*`))
}

// A fill that began before an invalidation is discarded, so a value read just
// before it cannot be stored just after it.
func TestFillRacingInvalidationIsDropped(t *testing.T) {
	t.Parallel()
	l := newLRU(1<<20, time.Now, func(string) {})
	l.live = true
	epoch, ok := l.begin()
	require.True(t, ok)
	l.remove(func(*entry) bool { return false }) // an invalidation that matched nothing yet
	require.False(t, l.set(&entry{id: "ns:k", ns: "ns", val: []byte("stale")}, time.Minute, epoch))
	_, found := l.get("ns:k", 0)
	require.False(t, found)

	epoch, _ = l.begin()
	require.True(t, l.set(&entry{id: "ns:k", ns: "ns", val: []byte("fresh")}, time.Minute, epoch))
	v, found := l.get("ns:k", 0)
	require.True(t, found)
	require.Equal(t, "fresh", string(v))

	// An entry of another generation is not served.
	_, found = l.get("ns:k", 1)
	require.False(t, found)

	// Turning L1 off (lost subscription) empties it and discards fills in flight.
	epoch, _ = l.begin()
	l.setLive(false)
	require.False(t, l.set(&entry{id: "ns:k", ns: "ns", val: []byte("x")}, time.Minute, epoch))
	epoch, ok = l.begin()
	require.False(t, ok)
	require.False(t, l.set(&entry{id: "ns:k", ns: "ns", val: []byte("x")}, time.Minute, epoch))
	n, _ := l.size()
	require.Zero(t, n)
}

func TestLogicalID(t *testing.T) {
	t.Parallel()
	id, ok := logicalID("kb.search:12:q:1")
	require.True(t, ok)
	require.Equal(t, "kb.search:q:1", id)
	_, ok = logicalID("kb.search:12")
	require.False(t, ok)
	id, ok = logicalID("embed:0:")
	require.True(t, ok)
	require.Equal(t, "embed:", id)
}

func TestMessagesFromOtherReplicas(t *testing.T) {
	t.Parallel()
	c := New(nil, Config{})
	ctx := t.Context()
	c.Set(ctx, "kb.search", "q", []byte("1"), 0)
	c.Set(ctx, "embed", "q", []byte("2"), 0)
	c.Set(ctx, "embed", "r", []byte("3"), 0)

	c.apply(opInvalidate + " " + c.id + " embed:*") // our own: already applied
	require.Equal(t, int64(3), c.Stats()[0].Entries)
	c.apply(opInvalidate + " other embed:q")
	require.Equal(t, int64(2), c.Stats()[0].Entries)
	c.apply(opBump + " other kb.search 7")
	require.Equal(t, int64(1), c.Stats()[0].Entries)
	gen, err := c.generation(ctx, "kb.search")
	require.NoError(t, err)
	require.EqualValues(t, 7, gen)
	c.apply(opBump + " other kb.search 3") // generations never go back
	gen, _ = c.generation(ctx, "kb.search")
	require.EqualValues(t, 7, gen)
	c.Set(ctx, "kb.search", "q", []byte("1"), 0)
	c.apply(opClear + " other ")
	require.Equal(t, int64(0), c.Stats()[0].Entries)

	c.Set(ctx, "embed", "q", []byte("2"), 0)
	c.apply("garbage") // not understood: drop everything, to be safe
	require.Equal(t, int64(0), c.Stats()[0].Entries)
}
