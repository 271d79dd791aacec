// Package ratelimit implements sliding-window rate limits shared by every gateway
// replica, stored in Redis.
//
// Each (rule, key) pair is one Redis sorted set whose members are the hits inside
// the current window, scored by the time of the hit in microseconds. Every check is
// one Lua script (EVALSHA, falling back to EVAL once after a Redis restart), so it
// is atomic across replicas and costs a single round trip. The script reads the
// Redis server clock (TIME), never the caller's, so replicas with skewed clocks
// agree on the window.
//
// The window is exact: a hit counts for precisely Rule.Window after it was made.
// The cost is memory proportional to the limit: a key holds at most Rule.Limit
// members (hits beyond the limit recorded with Hit are trimmed oldest-first, which
// changes neither the decision nor RetryAfter). That is meant for small limits,
// up to a few hundred per window, which is what the gateway uses (logins,
// registrations, token refreshes, SSE connections); do not use it for limits of
// many thousands per window.
//
// Keys are prefix+"rl:"+rule.Name+":"+key. The key part may be untrusted (an IP, an
// account name, a token family): Redis keys are binary-safe, so it is used as is,
// except that keys longer than MaxKeyLen bytes, or starting with '#', are replaced
// by "#"+hex(sha256(key)) so that key length stays bounded and hashed keys never
// collide with raw ones.
package ratelimit

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/redis/go-redis/v9"

	"github.com/voiceassist/gateway/internal/apierr"
)

// MaxKeyLen is the longest key part used verbatim; longer ones are hashed.
const MaxKeyLen = 200

// Rule is a named limit: at most Limit hits per Window.
type Rule struct {
	Name   string        // part of the Redis key; non-empty, no ':'
	Limit  int           // ≥ 1
	Window time.Duration // ≥ 1ms
}

// Validate reports whether r can be used.
func (r Rule) Validate() error {
	switch {
	case r.Name == "" || strings.Contains(r.Name, ":"):
		return fmt.Errorf("ratelimit: rule name %q must be non-empty and contain no ':'", r.Name)
	case r.Limit < 1:
		return fmt.Errorf("ratelimit: rule %q: limit %d must be ≥ 1", r.Name, r.Limit)
	case r.Window < time.Millisecond:
		return fmt.Errorf("ratelimit: rule %q: window %v must be ≥ 1ms", r.Name, r.Window)
	}
	return nil
}

// Result of one check.
type Result struct {
	Allowed bool
	Limit   int
	// Remaining is the number of hits left in the current window after this one
	// (never negative).
	Remaining int
	// Reset is the time until the window frees capacity again, i.e. until the
	// oldest counted hit leaves it; 0 when no hit is counted.
	Reset time.Duration
	// RetryAfter is 0 when allowed; otherwise how long until one more hit is
	// allowed (the oldest hit in the window leaving it).
	RetryAfter time.Duration
}

// Headers returns X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset
// (seconds, rounded up) and, when denied, Retry-After (seconds, rounded up, ≥ 1).
func (r Result) Headers() map[string]string {
	h := map[string]string{
		"X-RateLimit-Limit":     strconv.Itoa(r.Limit),
		"X-RateLimit-Remaining": strconv.Itoa(max(r.Remaining, 0)),
		"X-RateLimit-Reset":     strconv.FormatInt(ceilSeconds(r.Reset), 10),
	}
	if !r.Allowed {
		h["Retry-After"] = strconv.FormatInt(max(ceilSeconds(r.RetryAfter), 1), 10)
	}
	return h
}

func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// Limiter checks rules against counters in Redis. It is safe for concurrent use.
type Limiter struct {
	rdb    redis.UniversalClient
	prefix string
	nonce  string        // random per Limiter, makes zset members unique across replicas
	seq    atomic.Uint64 // makes them unique within this Limiter
}

// New returns a Limiter storing its keys under prefix+"rl:" (prefix e.g. "va:").
func New(rdb redis.UniversalClient, prefix string) *Limiter {
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails (crypto/rand panics rather than returning an error)
	return &Limiter{rdb: rdb, prefix: prefix, nonce: hex.EncodeToString(b[:])}
}

// Allow counts one hit if the rule allows it. A denied hit consumes no capacity.
func (l *Limiter) Allow(ctx context.Context, r Rule, key string) (Result, error) {
	return l.run(ctx, r, key, modeAllow)
}

// Peek reports the state without counting: Allowed tells whether a hit now would
// be allowed. Use it with Hit to limit failures only (check before verifying a
// password, Hit only when it was wrong).
func (l *Limiter) Peek(ctx context.Context, r Rule, key string) (Result, error) {
	return l.run(ctx, r, key, modePeek)
}

// Hit counts one hit regardless of the limit (e.g. to record a failure). The
// result is what Allow would have said about it: Allowed is false when this hit
// went over the limit.
func (l *Limiter) Hit(ctx context.Context, r Rule, key string) (Result, error) {
	return l.run(ctx, r, key, modeHit)
}

// Reset clears the counter of key (e.g. after a successful login).
func (l *Limiter) Reset(ctx context.Context, r Rule, key string) error {
	if err := r.Validate(); err != nil {
		return err
	}
	if err := l.rdb.Del(ctx, l.Key(r, key)).Err(); err != nil {
		return fmt.Errorf("ratelimit: reset %s: %w", r.Name, err)
	}
	return nil
}

// Key returns the Redis key holding the counter of key under rule r.
func (l *Limiter) Key(r Rule, key string) string {
	if len(key) > MaxKeyLen || strings.HasPrefix(key, "#") {
		sum := sha256.Sum256([]byte(key))
		key = "#" + hex.EncodeToString(sum[:])
	}
	return l.prefix + "rl:" + r.Name + ":" + key
}

const (
	modeAllow = "allow"
	modePeek  = "peek"
	modeHit   = "hit"
)

// script: KEYS[1] the zset; ARGV: limit, window (µs), mode, unique member.
// Returns {allowed (0/1), count in window after this check, µs until the oldest
// counted hit leaves the window (0 if none)}.
//
// Numbers passed to redis.call are formatted with %.0f: Lua's default number to
// string conversion keeps only 14 significant digits, too few for µs timestamps.
var script = redis.NewScript(`
local key = KEYS[1]
local limit = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local mode = ARGV[3]

local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])

redis.call('ZREMRANGEBYSCORE', key, '-inf', string.format('%.0f', now - window))
local count = redis.call('ZCARD', key)

local allowed
if mode == 'peek' then
  allowed = count < limit
elseif mode == 'allow' and count >= limit then
  allowed = false
else
  redis.call('ZADD', key, string.format('%.0f', now), ARGV[4])
  redis.call('PEXPIRE', key, math.ceil(window / 1000))
  count = count + 1
  allowed = count <= limit
end

-- Keep only the newest 'limit' hits: whether a hit is allowed, and when, depends
-- on nothing else, and this bounds the set when Hit records past the limit.
if count > limit then
  redis.call('ZREMRANGEBYRANK', key, 0, count - limit - 1)
  count = limit
end

local reset = 0
local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
if oldest[2] then
  reset = tonumber(oldest[2]) + window - now
  if reset < 0 then reset = 0 end
end

return {allowed and 1 or 0, count, reset}
`)

func (l *Limiter) run(ctx context.Context, r Rule, key, mode string) (Result, error) {
	if err := r.Validate(); err != nil {
		return Result{}, err
	}
	member := ""
	if mode != modePeek {
		member = l.nonce + ":" + strconv.FormatUint(l.seq.Add(1), 36)
	}
	vals, err := script.Run(ctx, l.rdb, []string{l.Key(r, key)},
		r.Limit, r.Window.Microseconds(), mode, member).Int64Slice()
	if err != nil {
		return Result{}, fmt.Errorf("ratelimit: %s %s: %w", mode, r.Name, err)
	}
	if len(vals) != 3 {
		return Result{}, errors.New("ratelimit: unexpected script reply")
	}
	res := Result{
		Allowed:   vals[0] == 1,
		Limit:     r.Limit,
		Remaining: max(r.Limit-int(vals[1]), 0),
		Reset:     time.Duration(vals[2]) * time.Microsecond,
	}
	if !res.Allowed {
		// Denied means the window holds exactly Limit hits (after trimming), so one
		// more is allowed when the oldest of them leaves.
		res.Remaining = 0
		res.RetryAfter = max(res.Reset, time.Microsecond)
	}
	return res, nil
}

// Check counts one hit (count) or only looks (Peek) and turns the outcome into the API's
// answer: nil when allowed, 429 with Retry-After and X-RateLimit-* when not, 503 when Redis
// cannot be asked (callers fail closed).
func (l *Limiter) Check(ctx context.Context, r Rule, key string, count bool, message string) error {
	var res Result
	var err error
	if count {
		res, err = l.Allow(ctx, r, key)
	} else {
		res, err = l.Peek(ctx, r, key)
	}
	if err != nil {
		return apierr.Unavailable("Rate limiting is unavailable; try again shortly", err)
	}
	if res.Allowed {
		return nil
	}
	e := apierr.New(http.StatusTooManyRequests, "RATE_LIMIT_EXCEEDED", message)
	for k, v := range res.Headers() {
		e = e.WithHeader(k, v)
	}
	return e
}

// Bypassed counts requests let through unlimited because Redis could not be asked, by rule
// (voiceassist_ratelimit_bypassed_total). Only limits that protect capacity, not accounts
// or money, fail open this way (CheckOpen); register it with the app's registry.
var Bypassed = prometheus.NewCounterVec(prometheus.CounterOpts{
	Name: "voiceassist_ratelimit_bypassed_total",
	Help: "Requests admitted without their rate limit because Redis was unreachable, by rule.",
}, []string{"rule"})

// CheckOpen is Check for limits that must not take a service down with Redis (the anonymous
// stream and evaluation limits): when Redis cannot be asked the request is admitted,
// logged and counted in Bypassed instead of refused.
func (l *Limiter) CheckOpen(ctx context.Context, log *slog.Logger, r Rule, key, message string) error {
	err := l.Check(ctx, r, key, true, message)
	var ae *apierr.Error
	if errors.As(err, &ae) && ae.Status == http.StatusServiceUnavailable {
		Bypassed.WithLabelValues(r.Name).Inc()
		log.WarnContext(ctx, "rate limit unavailable; admitted without it", "rule", r.Name, "error", err)
		return nil
	}
	return err
}
