package ratelimit_test

import (
	"context"
	"github.com/voiceassist/gateway/internal/redistest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/ratelimit"
)

func newLimiter(tb testing.TB) (*ratelimit.Limiter, *redis.Client, string) {
	tb.Helper()
	c := redistest.Client(tb, nil)
	prefix := redistest.Prefix(tb, c)
	return ratelimit.New(c, prefix), c, prefix
}

func TestAllowUpToLimitThenDeny(t *testing.T) {
	t.Parallel()
	l, _, _ := newLimiter(t)
	ctx := t.Context()
	rule := ratelimit.Rule{Name: "login_ip", Limit: 3, Window: time.Minute}

	for i := range 3 {
		res, err := l.Allow(ctx, rule, "10.0.0.1")
		require.NoError(t, err)
		require.True(t, res.Allowed, "hit %d", i+1)
		require.Equal(t, 3, res.Limit)
		require.Equal(t, 3-(i+1), res.Remaining)
		require.Zero(t, res.RetryAfter)
		require.Greater(t, res.Reset, time.Duration(0))
		require.LessOrEqual(t, res.Reset, time.Minute)
	}
	res, err := l.Allow(ctx, rule, "10.0.0.1")
	require.NoError(t, err)
	require.False(t, res.Allowed)
	require.Equal(t, 0, res.Remaining)
	require.Greater(t, res.RetryAfter, time.Duration(0))
	require.LessOrEqual(t, res.RetryAfter, time.Minute)
	require.Equal(t, res.Reset, res.RetryAfter)
}

func TestDeniedHitsDoNotConsume(t *testing.T) {
	t.Parallel()
	l, c, prefix := newLimiter(t)
	ctx := t.Context()
	rule := ratelimit.Rule{Name: "register_ip", Limit: 2, Window: time.Minute}

	for range 2 {
		res, err := l.Allow(ctx, rule, "k")
		require.NoError(t, err)
		require.True(t, res.Allowed)
	}
	for range 10 {
		res, err := l.Allow(ctx, rule, "k")
		require.NoError(t, err)
		require.False(t, res.Allowed)
	}
	n, err := c.ZCard(ctx, prefix+"rl:register_ip:k").Result()
	require.NoError(t, err)
	require.EqualValues(t, 2, n, "denied hits must not be stored")
}

func TestPeekDoesNotCount(t *testing.T) {
	t.Parallel()
	l, _, _ := newLimiter(t)
	ctx := t.Context()
	rule := ratelimit.Rule{Name: "fail_account", Limit: 2, Window: time.Minute}

	res, err := l.Peek(ctx, rule, "alice")
	require.NoError(t, err)
	require.True(t, res.Allowed)
	require.Equal(t, 2, res.Remaining)
	require.Zero(t, res.Reset)
	for range 5 {
		res, err = l.Peek(ctx, rule, "alice")
		require.NoError(t, err)
		require.True(t, res.Allowed)
		require.Equal(t, 2, res.Remaining)
	}

	res, err = l.Allow(ctx, rule, "alice")
	require.NoError(t, err)
	require.True(t, res.Allowed)
	require.Equal(t, 1, res.Remaining)

	res, err = l.Peek(ctx, rule, "alice")
	require.NoError(t, err)
	require.True(t, res.Allowed)
	require.Equal(t, 1, res.Remaining)
	require.Greater(t, res.Reset, time.Duration(0))

	_, err = l.Allow(ctx, rule, "alice")
	require.NoError(t, err)
	res, err = l.Peek(ctx, rule, "alice")
	require.NoError(t, err)
	require.False(t, res.Allowed)
	require.Equal(t, 0, res.Remaining)
	require.Greater(t, res.RetryAfter, time.Duration(0))
}

func TestHitCountsEvenWhenOver(t *testing.T) {
	t.Parallel()
	l, c, prefix := newLimiter(t)
	ctx := t.Context()
	rule := ratelimit.Rule{Name: "fail_account", Limit: 3, Window: time.Minute}

	for i := range 3 {
		res, err := l.Hit(ctx, rule, "bob")
		require.NoError(t, err)
		require.True(t, res.Allowed, "hit %d", i+1)
		require.Equal(t, 3-(i+1), res.Remaining)
	}
	for range 5 {
		res, err := l.Hit(ctx, rule, "bob")
		require.NoError(t, err)
		require.False(t, res.Allowed, "hits past the limit report denied")
		require.Equal(t, 0, res.Remaining)
		require.Greater(t, res.RetryAfter, time.Duration(0))
	}
	res, err := l.Peek(ctx, rule, "bob")
	require.NoError(t, err)
	require.False(t, res.Allowed)
	res, err = l.Allow(ctx, rule, "bob")
	require.NoError(t, err)
	require.False(t, res.Allowed)

	// The set stays bounded by the limit however many hits are recorded.
	n, err := c.ZCard(ctx, prefix+"rl:fail_account:bob").Result()
	require.NoError(t, err)
	require.EqualValues(t, 3, n)
}

// Hits recorded past the limit push the time of the next allowed hit back: it is
// when the newest Limit hits start leaving the window, not the oldest overall.
func TestHitPastLimitExtendsRetryAfter(t *testing.T) {
	t.Parallel()
	l, _, _ := newLimiter(t)
	ctx := t.Context()
	rule := ratelimit.Rule{Name: "fail_account", Limit: 1, Window: 400 * time.Millisecond}

	first, err := l.Hit(ctx, rule, "carol")
	require.NoError(t, err)
	require.True(t, first.Allowed)
	// Wait, on the Redis clock the limiter uses, until 150 ms of the window have passed.
	require.Eventually(t, func() bool {
		p, err := l.Peek(ctx, rule, "carol")
		return err == nil && !p.Allowed && p.RetryAfter <= 250*time.Millisecond
	}, 5*time.Second, 5*time.Millisecond)
	second, err := l.Hit(ctx, rule, "carol")
	require.NoError(t, err)
	require.False(t, second.Allowed)
	// The second hit was just recorded, so it leaves a full window from now
	// (minus the round trip): well after the first one would have.
	require.Greater(t, second.RetryAfter, 300*time.Millisecond)
	require.LessOrEqual(t, second.RetryAfter, 400*time.Millisecond)
}

func TestReset(t *testing.T) {
	t.Parallel()
	l, _, _ := newLimiter(t)
	ctx := t.Context()
	rule := ratelimit.Rule{Name: "fail_account", Limit: 2, Window: time.Minute}

	for range 4 {
		_, err := l.Hit(ctx, rule, "dave")
		require.NoError(t, err)
	}
	res, err := l.Peek(ctx, rule, "dave")
	require.NoError(t, err)
	require.False(t, res.Allowed)

	require.NoError(t, l.Reset(ctx, rule, "dave"))
	res, err = l.Peek(ctx, rule, "dave")
	require.NoError(t, err)
	require.True(t, res.Allowed)
	require.Equal(t, 2, res.Remaining)

	// Resetting a key that has no counter is fine.
	require.NoError(t, l.Reset(ctx, rule, "nobody"))
}

func TestLimitersShareCounters(t *testing.T) {
	t.Parallel()
	c1 := redistest.Client(t, nil)
	c2 := redistest.Client(t, nil)
	prefix := redistest.Prefix(t, c1)
	l1 := ratelimit.New(c1, prefix)
	l2 := ratelimit.New(c2, prefix)
	ctx := t.Context()
	rule := ratelimit.Rule{Name: "refresh_family", Limit: 4, Window: time.Minute}

	for i := range 4 {
		l := l1
		if i%2 == 1 {
			l = l2
		}
		res, err := l.Allow(ctx, rule, "fam-1")
		require.NoError(t, err)
		require.True(t, res.Allowed)
		require.Equal(t, 4-(i+1), res.Remaining)
	}
	res, err := l1.Allow(ctx, rule, "fam-1")
	require.NoError(t, err)
	require.False(t, res.Allowed)
	res, err = l2.Allow(ctx, rule, "fam-1")
	require.NoError(t, err)
	require.False(t, res.Allowed)

	require.NoError(t, l2.Reset(ctx, rule, "fam-1"))
	res, err = l1.Peek(ctx, rule, "fam-1")
	require.NoError(t, err)
	require.True(t, res.Allowed)
}

// Concurrent checks from two replicas never let more than Limit hits through.
func TestConcurrentAllowIsAtomic(t *testing.T) {
	t.Parallel()
	c1 := redistest.Client(t, nil)
	c2 := redistest.Client(t, nil)
	prefix := redistest.Prefix(t, c1)
	ls := []*ratelimit.Limiter{ratelimit.New(c1, prefix), ratelimit.New(c2, prefix)}
	ctx := t.Context()
	rule := ratelimit.Rule{Name: "sse_ip", Limit: 25, Window: time.Minute}

	var allowed atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := range 200 {
		wg.Go(func() {
			res, err := ls[i%2].Allow(ctx, rule, "1.2.3.4")
			if err != nil {
				errs <- err
				return
			}
			if res.Allowed {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.EqualValues(t, 25, allowed.Load())
}

func TestRulesAndKeysAreIndependent(t *testing.T) {
	t.Parallel()
	l, _, _ := newLimiter(t)
	ctx := t.Context()
	a := ratelimit.Rule{Name: "login_ip", Limit: 1, Window: time.Minute}
	b := ratelimit.Rule{Name: "register_ip", Limit: 1, Window: time.Minute}

	res, err := l.Allow(ctx, a, "10.0.0.1")
	require.NoError(t, err)
	require.True(t, res.Allowed)
	res, err = l.Allow(ctx, a, "10.0.0.1")
	require.NoError(t, err)
	require.False(t, res.Allowed)

	res, err = l.Allow(ctx, a, "10.0.0.2")
	require.NoError(t, err)
	require.True(t, res.Allowed, "other key of the same rule")
	res, err = l.Allow(ctx, b, "10.0.0.1")
	require.NoError(t, err)
	require.True(t, res.Allowed, "same key of another rule")

	// Limiters with other prefixes do not see each other either.
	other, _, _ := newLimiter(t)
	res, err = other.Allow(ctx, a, "10.0.0.1")
	require.NoError(t, err)
	require.True(t, res.Allowed, "other prefix")
}

func TestWindowExpiry(t *testing.T) {
	t.Parallel()
	l, _, _ := newLimiter(t)
	ctx := t.Context()
	rule := ratelimit.Rule{Name: "short", Limit: 2, Window: 300 * time.Millisecond}

	for range 2 {
		res, err := l.Allow(ctx, rule, "k")
		require.NoError(t, err)
		require.True(t, res.Allowed)
	}
	res, err := l.Allow(ctx, rule, "k")
	require.NoError(t, err)
	require.False(t, res.Allowed)
	require.Greater(t, res.RetryAfter, time.Duration(0))
	require.LessOrEqual(t, res.RetryAfter, 300*time.Millisecond)

	require.Eventually(t, func() bool {
		res, err = l.Allow(ctx, rule, "k")
		return err == nil && res.Allowed
	}, 3*time.Second, 20*time.Millisecond, "still denied after 3s")
	require.NoError(t, err)
	require.Equal(t, 1, res.Remaining)
}

func TestKeyTTL(t *testing.T) {
	t.Parallel()
	l, c, prefix := newLimiter(t)
	ctx := t.Context()
	rule := ratelimit.Rule{Name: "ttl", Limit: 5, Window: 10 * time.Second}

	_, err := l.Allow(ctx, rule, "k")
	require.NoError(t, err)
	ttl, err := c.PTTL(ctx, prefix+"rl:ttl:k").Result()
	require.NoError(t, err)
	require.Greater(t, ttl, 9*time.Second)
	require.LessOrEqual(t, ttl, 10*time.Second)

	// Peek on an absent key creates nothing.
	_, err = l.Peek(ctx, rule, "absent")
	require.NoError(t, err)
	n, err := c.Exists(ctx, prefix+"rl:ttl:absent").Result()
	require.NoError(t, err)
	require.Zero(t, n)
}

func TestKeys(t *testing.T) {
	t.Parallel()
	l, _, _ := newLimiter(t)
	ctx := t.Context()
	rule := ratelimit.Rule{Name: "login_ip", Limit: 1, Window: time.Minute}

	short := ratelimit.New(nil, "va:")
	require.Equal(t, "va:rl:login_ip:10.0.0.1", short.Key(rule, "10.0.0.1"))
	require.Equal(t, "va:rl:login_ip:", short.Key(rule, ""))
	exact := strings.Repeat("x", ratelimit.MaxKeyLen)
	require.Equal(t, "va:rl:login_ip:"+exact, short.Key(rule, exact))

	long := strings.Repeat("x", ratelimit.MaxKeyLen+1)
	k := short.Key(rule, long)
	require.Len(t, k, len("va:rl:login_ip:#")+64)
	require.True(t, strings.HasPrefix(k, "va:rl:login_ip:#"))
	require.NotEqual(t, k, short.Key(rule, long+"y"))
	// A raw key cannot pose as a hashed one.
	suffix := strings.TrimPrefix(k, "va:rl:login_ip:")
	require.NotEqual(t, k, short.Key(rule, suffix))

	// Long and binary keys work against Redis and stay independent.
	for _, key := range []string{long, long + "y", "\x00\xff\n*?[]", "#x"} {
		res, err := l.Allow(ctx, rule, key)
		require.NoError(t, err)
		require.True(t, res.Allowed, "%q", key)
		res, err = l.Allow(ctx, rule, key)
		require.NoError(t, err)
		require.False(t, res.Allowed, "%q", key)
	}
}

func TestInvalidRule(t *testing.T) {
	t.Parallel()
	l, _, _ := newLimiter(t)
	ctx := t.Context()
	for _, r := range []ratelimit.Rule{
		{Name: "", Limit: 1, Window: time.Second},
		{Name: "a:b", Limit: 1, Window: time.Second},
		{Name: "x", Limit: 0, Window: time.Second},
		{Name: "x", Limit: 1, Window: time.Microsecond},
	} {
		res, err := l.Allow(ctx, r, "k")
		require.Error(t, err, "%+v", r)
		require.False(t, res.Allowed)
		_, err = l.Peek(ctx, r, "k")
		require.Error(t, err)
		_, err = l.Hit(ctx, r, "k")
		require.Error(t, err)
		require.Error(t, l.Reset(ctx, r, "k"))
	}
}

func TestRedisDown(t *testing.T) {
	t.Parallel()
	c := redis.NewClient(&redis.Options{
		Addr:          "127.0.0.1:1",
		DialTimeout:   200 * time.Millisecond,
		MaxRetries:    -1,
		DialerRetries: 1,
	})
	t.Cleanup(func() { _ = c.Close() })
	l := ratelimit.New(c, "va:")
	ctx := t.Context()
	rule := ratelimit.Rule{Name: "login_ip", Limit: 5, Window: time.Minute}

	res, err := l.Allow(ctx, rule, "k")
	require.Error(t, err)
	require.False(t, res.Allowed)
	res, err = l.Peek(ctx, rule, "k")
	require.Error(t, err)
	require.False(t, res.Allowed)
	res, err = l.Hit(ctx, rule, "k")
	require.Error(t, err)
	require.False(t, res.Allowed)
	require.Error(t, l.Reset(ctx, rule, "k"))
}

func TestHeaders(t *testing.T) {
	t.Parallel()
	require.Equal(t, map[string]string{
		"X-RateLimit-Limit":     "10",
		"X-RateLimit-Remaining": "7",
		"X-RateLimit-Reset":     "2",
	}, ratelimit.Result{Allowed: true, Limit: 10, Remaining: 7, Reset: 1500 * time.Millisecond}.Headers())

	require.Equal(t, map[string]string{
		"X-RateLimit-Limit":     "10",
		"X-RateLimit-Remaining": "0",
		"X-RateLimit-Reset":     "60",
		"Retry-After":           "60",
	}, ratelimit.Result{Limit: 10, Reset: time.Minute, RetryAfter: time.Minute}.Headers())

	// Sub-second waits round up to 1; Retry-After is never 0 when denied.
	h := ratelimit.Result{Limit: 1, Reset: time.Millisecond, RetryAfter: time.Millisecond}.Headers()
	require.Equal(t, "1", h["Retry-After"])
	require.Equal(t, "1", h["X-RateLimit-Reset"])
	require.Equal(t, "1", ratelimit.Result{Limit: 1}.Headers()["Retry-After"])

	h = ratelimit.Result{Allowed: true, Limit: 3, Remaining: 3}.Headers()
	require.Equal(t, "0", h["X-RateLimit-Reset"])
	require.NotContains(t, h, "Retry-After")
}

// Headers of a real denied result.
func TestHeadersFromRedis(t *testing.T) {
	t.Parallel()
	l, _, _ := newLimiter(t)
	ctx := t.Context()
	rule := ratelimit.Rule{Name: "login_ip", Limit: 1, Window: 30 * time.Second}

	res, err := l.Allow(ctx, rule, "k")
	require.NoError(t, err)
	h := res.Headers()
	require.Equal(t, "1", h["X-RateLimit-Limit"])
	require.Equal(t, "0", h["X-RateLimit-Remaining"])
	require.Equal(t, "30", h["X-RateLimit-Reset"])
	require.NotContains(t, h, "Retry-After")

	res, err = l.Allow(ctx, rule, "k")
	require.NoError(t, err)
	h = res.Headers()
	require.Equal(t, "30", h["Retry-After"])
	require.Equal(t, "30", h["X-RateLimit-Reset"])
}

// countHook counts commands sent to Redis.
type countHook struct{ n atomic.Int64 }

func (h *countHook) DialHook(next redis.DialHook) redis.DialHook { return next }
func (h *countHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmd)
	}
}
func (h *countHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		h.n.Add(1)
		return next(ctx, cmds)
	}
}

func TestOneRoundTripPerCheck(t *testing.T) {
	t.Parallel()
	l, c, _ := newLimiter(t)
	ctx := t.Context()
	rule := ratelimit.Rule{Name: "rtt", Limit: 100, Window: time.Minute}
	_, err := l.Allow(ctx, rule, "warm") // may load the script (EVALSHA, then EVAL)
	require.NoError(t, err)

	hook := &countHook{}
	c.AddHook(hook)
	for range 10 {
		_, err = l.Allow(ctx, rule, "k")
		require.NoError(t, err)
		_, err = l.Peek(ctx, rule, "k")
		require.NoError(t, err)
		_, err = l.Hit(ctx, rule, "k")
		require.NoError(t, err)
	}
	require.EqualValues(t, 30, hook.n.Load())
}

func BenchmarkAllow(b *testing.B) {
	l, c, _ := newLimiter(b)
	ctx := b.Context()
	rule := ratelimit.Rule{Name: "bench", Limit: 100, Window: time.Minute}
	_, err := l.Allow(ctx, rule, "warm")
	require.NoError(b, err)
	hook := &countHook{}
	c.AddHook(hook)

	keys := make([]string, 1000)
	for i := range keys {
		keys[i] = "10.0." + strconv.Itoa(i/256) + "." + strconv.Itoa(i%256)
	}
	i := 0
	for b.Loop() {
		if _, err := l.Allow(ctx, rule, keys[i%len(keys)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
	b.ReportMetric(float64(hook.n.Load())/float64(i), "roundtrips/op")
}
