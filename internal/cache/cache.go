// Package cache is a two-level cache for values that are expensive to compute
// (knowledge-base searches, embeddings): a size-bounded in-process LRU (L1) in
// front of Redis (L2), which every gateway replica shares.
//
// Entries live in namespaces, short identifiers fixed by code ("kb.search",
// "embed", matching [a-z0-9._-]{1,64}) that group them for Clear, Bump and metrics.
// Keys are arbitrary strings. A key longer than MaxKeyLen bytes is stored as its
// first MaxKeyLen bytes, '#' and the hex SHA-256 of the whole key, which bounds
// Redis key length and cannot collide with a shorter key.
//
// Redis layout (prefix is Config.Prefix, gen the namespace's generation):
//
//	prefix+"cache:"+ns+":"+gen+":"+key  value, with its TTL
//	prefix+"cachegen:"+ns               generation of ns (no TTL, one key per namespace)
//	prefix+"cache:invalidate"           pub/sub channel of invalidations
//
// # Invalidation patterns
//
// Invalidate takes a glob over the logical "ns:key", with Redis MATCH rules (* ? [...] \),
// applied identically to both layers. A long key is matched in its stored form: a
// pattern anchored at the start of the key ("kb.search:user42:*") still matches it,
// one anchored at its end does not. Removal uses SCAN and UNLINK, never KEYS; a
// pattern beginning with a literal namespace ("kb.search:...") scans only that
// namespace, any other pattern scans the whole cache.
//
// # Coherence between replicas
//
// Redis is the shared truth; each replica's L1 is a copy of part of it. Clear,
// Invalidate and Bump change Redis first, then publish a message that every
// started Cache (Start) applies to its own L1. With Redis configured, L1 is used
// only while this Cache's subscription is confirmed (Subscribed): when it drops, L1
// is emptied and bypassed until Redis confirms the subscription again, so messages
// lost in between cannot leave stale entries behind. An L1 fill that races with an
// invalidation is discarded, so a value read just before it is not stored just
// after it. So L1 lags Redis by the pub/sub delivery time, except when the
// subscription connection dies without an error: a ping after 5s of silence
// notices that within 10s.
//
// Bump increments a namespace's generation, which is part of every key, so all
// older entries of the namespace become unreachable in both layers at once without
// being deleted (they linger in Redis until their TTL). Each Cache remembers
// generations for Config.GenRefresh (default 5s) and takes new ones from Bump
// messages immediately; a Cache that is not subscribed (not started, or Redis
// trouble) can read an older generation's entries from Redis for up to GenRefresh
// after a Bump elsewhere.
//
// Clear and Invalidate are not atomic: an entry Set concurrently (on any replica)
// may survive them. Bump is a single INCR: whatever was written under the old
// generation, by racing Sets too, is unreachable once a replica knows the new one.
// A value computed from old data but Set after that is still stored: the cache
// cannot know what a value was computed from.
//
// Redis errors never fail Get or Set: they count as misses (LayerStats.Errors,
// voiceassist_cache_errors_total). How long a broken Redis delays a call is set by
// the client's dial and read timeouts. SCAN-based removal assumes one Redis (or a
// primary with replicas), not Redis Cluster.
package cache

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// MaxKeyLen is the longest key stored verbatim; longer ones are shortened (see the
// package documentation).
const MaxKeyLen = 200

// scanCount is the COUNT hint of SCAN and the size of each UNLINK batch.
const scanCount = 500

// Config configures a Cache. The zero value uses the defaults.
type Config struct {
	// L1MaxBytes bounds the in-process layer by the bytes of its keys and values.
	// 0 means 32 MiB; negative disables L1.
	L1MaxBytes int64
	// DefaultTTL applies to Set calls with ttl ≤ 0. 0 means 10 minutes.
	DefaultTTL time.Duration
	// Prefix starts every Redis key and the channel, e.g. "voiceassist:" (the app's
	// REDIS_KEY_PREFIX).
	Prefix string
	// GenRefresh is how long a namespace's generation read from Redis is trusted
	// without a Bump message. 0 means 5 seconds.
	GenRefresh time.Duration
	// Now is the clock of L1 expiry and GenRefresh; nil means time.Now.
	Now func() time.Time
	// Logger receives subscription problems; nil discards them.
	Logger *slog.Logger
}

// ErrInvalidNamespace is returned for a namespace not matching [a-z0-9._-]{1,64}.
var ErrInvalidNamespace = errors.New("cache: namespace must match [a-z0-9._-]{1,64}")

var namespaceRE = regexp.MustCompile(`^[a-z0-9._-]{1,64}$`)

// ValidateNamespace reports whether ns can be used as a namespace.
func ValidateNamespace(ns string) error {
	if !namespaceRE.MatchString(ns) {
		return fmt.Errorf("%w: %q", ErrInvalidNamespace, ns)
	}
	return nil
}

// Cache is safe for concurrent use.
type Cache struct {
	rdb     redis.UniversalClient // nil: L1 only
	cfg     Config
	log     *slog.Logger
	id      string // marks this Cache's own messages
	channel string
	l1      *lru // nil when disabled
	stats   stats

	genMu    sync.Mutex
	gens     map[string]generation
	genEpoch uint64 // changes with the subscription state (setLive)

	startOnce sync.Once
	cancel    context.CancelFunc
	done      chan struct{}
}

// New returns a Cache over rdb; with a nil rdb it is an L1-only, single-process
// cache. With Redis, call Start to use L1 (see the package documentation).
func New(rdb redis.UniversalClient, cfg Config) *Cache {
	if cfg.L1MaxBytes == 0 {
		cfg.L1MaxBytes = 32 << 20
	}
	if cfg.DefaultTTL <= 0 {
		cfg.DefaultTTL = 10 * time.Minute
	}
	if cfg.GenRefresh <= 0 {
		cfg.GenRefresh = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	var b [8]byte
	_, _ = rand.Read(b[:]) // never fails
	c := &Cache{rdb: rdb, cfg: cfg, log: cfg.Logger, id: hex.EncodeToString(b[:]),
		channel: cfg.Prefix + "cache:invalidate", stats: stats{byNS: map[string]*nsCounters{}},
		gens: map[string]generation{}}
	if cfg.L1MaxBytes > 0 {
		c.l1 = newLRU(cfg.L1MaxBytes, cfg.Now, func(ns string) { c.stats.ns(ns).l1.evictions.Add(1) })
		// Without Redis there is no other replica to hear from.
		c.l1.live = rdb == nil
	}
	return c
}

// Get returns the value of key in ns from L1, else from Redis (storing it in L1
// for the rest of its Redis TTL). An invalid namespace or a Redis error is a miss.
func (c *Cache) Get(ctx context.Context, ns, key string) ([]byte, bool) {
	v, ok := c.get(ctx, ns, key)
	return bytes.Clone(v), ok // L1's copy must stay intact
}

// get is Get without the copy: the result must not be modified.
func (c *Cache) get(ctx context.Context, ns, key string) ([]byte, bool) {
	if !c.validNS(ns) {
		return nil, false
	}
	st := c.stats.ns(ns)
	sk := storedKey(key)
	epoch, useL1 := c.l1.begin()
	gen, err := c.generation(ctx, ns)
	if err != nil {
		if useL1 {
			st.l1.misses.Add(1)
		}
		st.l2.misses.Add(1)
		return nil, false
	}
	if useL1 {
		if v, ok := c.l1.get(ns+":"+sk, gen); ok {
			st.l1.hits.Add(1)
			return v, true
		}
		st.l1.misses.Add(1)
	}
	if c.rdb == nil {
		return nil, false
	}

	k := c.redisKey(ns, gen, sk)
	pipe := c.rdb.Pipeline()
	get := pipe.Get(ctx, k)
	pttl := pipe.PTTL(ctx, k)
	if _, err := pipe.Exec(ctx); err != nil {
		if !errors.Is(err, redis.Nil) {
			c.l2Error("get", err)
		}
		st.l2.misses.Add(1)
		return nil, false
	}
	st.l2.hits.Add(1)
	v, _ := get.Bytes()
	ttl := pttl.Val()
	if ttl == -1 { // no expiry: not written by Set, but keep L1 bounded anyway
		ttl = c.cfg.DefaultTTL
	}
	if useL1 && c.l1.set(&entry{id: ns + ":" + sk, ns: ns, gen: gen, val: v}, ttl, epoch) {
		st.l1.sets.Add(1)
	}
	return v, true
}

// Set stores val under key in ns in both layers for ttl (≤ 0: Config.DefaultTTL).
// It never fails the caller: an invalid namespace is logged and ignored, a Redis
// error is counted in Stats.
func (c *Cache) Set(ctx context.Context, ns, key string, val []byte, ttl time.Duration) {
	if !c.validNS(ns) {
		return
	}
	if ttl <= 0 {
		ttl = c.cfg.DefaultTTL
	}
	st := c.stats.ns(ns)
	sk := storedKey(key)
	epoch, useL1 := c.l1.begin()
	gen, err := c.generation(ctx, ns)
	if err != nil {
		return // Redis is unreachable and the generation unknown
	}
	if c.rdb != nil {
		if err := c.rdb.Set(ctx, c.redisKey(ns, gen, sk), val, ttl).Err(); err != nil {
			c.l2Error("set", err)
		} else {
			st.l2.sets.Add(1)
		}
	}
	if useL1 && c.l1.set(&entry{id: ns + ":" + sk, ns: ns, gen: gen, val: bytes.Clone(val)}, ttl, epoch) {
		st.l1.sets.Add(1)
	}
}

// GetJSON is Get decoding JSON into a T. A value that does not decode is a miss
// (Stats has already counted it as a hit).
func GetJSON[T any](ctx context.Context, c *Cache, ns, key string) (T, bool) {
	var v T
	b, ok := c.get(ctx, ns, key)
	if !ok || json.Unmarshal(b, &v) != nil {
		var zero T
		return zero, false
	}
	return v, true
}

// SetJSON is Set encoding v as JSON. It fails only when v does not encode or ns is
// invalid.
func SetJSON(ctx context.Context, c *Cache, ns, key string, v any, ttl time.Duration) error {
	if err := ValidateNamespace(ns); err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("cache: encode %s value: %w", ns, err)
	}
	c.Set(ctx, ns, key, b, ttl)
	return nil
}

// Clear removes every entry of ns, or of all namespaces when ns is "", from Redis
// and from the L1 of every subscribed replica. It returns how many entries it
// removed from Redis (from L1 when there is no Redis).
func (c *Cache) Clear(ctx context.Context, ns string) (int64, error) {
	match := "*"
	if ns != "" {
		if err := ValidateNamespace(ns); err != nil {
			return 0, err
		}
		match = ns + ":*"
	}
	inScope := func(e *entry) bool { return ns == "" || e.ns == ns }
	if c.rdb == nil {
		return c.l1.remove(inScope), nil
	}
	n, err := c.unlink(ctx, escapeGlob(c.cfg.Prefix+"cache:")+match, nil)
	c.l1.remove(inScope) // after Redis: a racing fill reads the new state or is discarded
	return n, errors.Join(err, c.publish(ctx, opClear, ns))
}

// Invalidate removes the entries whose "ns:key" matches pattern (see the package
// documentation) from Redis and from the L1 of every subscribed replica. It
// returns how many entries it removed from Redis (from L1 when there is no Redis),
// entries of older generations included.
func (c *Cache) Invalidate(ctx context.Context, pattern string) (int64, error) {
	if pattern == "" {
		return 0, errors.New("cache: empty pattern")
	}
	matches := func(e *entry) bool { return match(pattern, e.id) }
	if c.rdb == nil {
		return c.l1.remove(matches), nil
	}
	root := c.cfg.Prefix + "cache:"
	scan := "*"
	if ns, _, ok := strings.Cut(literalPrefix(pattern), ":"); ok && namespaceRE.MatchString(ns) {
		scan = ns + ":*"
	}
	n, err := c.unlink(ctx, escapeGlob(root)+scan, func(k string) bool {
		id, ok := logicalID(strings.TrimPrefix(k, root))
		return ok && match(pattern, id)
	})
	c.l1.remove(matches)
	return n, errors.Join(err, c.publish(ctx, opInvalidate, pattern))
}

// Bump moves ns to a new generation, making all its current entries unreachable
// on every replica (immediately here, on others when the message arrives or within
// Config.GenRefresh). It returns the new generation.
func (c *Cache) Bump(ctx context.Context, ns string) (int64, error) {
	if err := ValidateNamespace(ns); err != nil {
		return 0, err
	}
	var gen int64
	if c.rdb == nil {
		c.genMu.Lock()
		gen = c.gens[ns].gen + 1
		c.gens[ns] = generation{gen: gen}
		c.genMu.Unlock()
	} else {
		var err error
		if gen, err = c.rdb.Incr(ctx, c.cfg.Prefix+"cachegen:"+ns).Result(); err != nil {
			return 0, fmt.Errorf("cache: bump %s: %w", ns, err)
		}
		c.raiseGen(ns, gen)
	}
	c.l1.remove(func(e *entry) bool { return e.ns == ns }) // unreachable now; free the memory
	if c.rdb == nil {
		return gen, nil
	}
	return gen, c.publish(ctx, opBump, ns+" "+strconv.FormatInt(gen, 10))
}

// unlink deletes the keys matching the MATCH pattern for which keep (if not nil) is
// true, and returns how many it deleted.
func (c *Cache) unlink(ctx context.Context, match string, keep func(string) bool) (int64, error) {
	var n int64
	batch := make([]string, 0, scanCount)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		k, err := c.rdb.Unlink(ctx, batch...).Result()
		n += k
		batch = batch[:0]
		return err
	}
	iter := c.rdb.Scan(ctx, 0, match, scanCount).Iterator()
	for iter.Next(ctx) {
		if keep != nil && !keep(iter.Val()) {
			continue
		}
		if batch = append(batch, iter.Val()); len(batch) == scanCount {
			if err := flush(); err != nil {
				return n, fmt.Errorf("cache: unlink: %w", err)
			}
		}
	}
	if err := errors.Join(iter.Err(), flush()); err != nil {
		return n, fmt.Errorf("cache: scan %q: %w", match, err)
	}
	return n, nil
}

func (c *Cache) redisKey(ns string, gen int64, sk string) string {
	return c.cfg.Prefix + "cache:" + ns + ":" + strconv.FormatInt(gen, 10) + ":" + sk
}

// logicalID turns the part of a Redis key after prefix+"cache:" back into "ns:key".
func logicalID(rest string) (string, bool) {
	ns, rest, ok1 := strings.Cut(rest, ":")
	_, sk, ok2 := strings.Cut(rest, ":") // drop the generation
	return ns + ":" + sk, ok1 && ok2
}

// storedKey is key, or for a key longer than MaxKeyLen its first MaxKeyLen bytes,
// '#' and its SHA-256: longer than any verbatim key, so the two never collide.
func storedKey(key string) string {
	if len(key) <= MaxKeyLen {
		return key
	}
	sum := sha256.Sum256([]byte(key))
	return key[:MaxKeyLen] + "#" + hex.EncodeToString(sum[:])
}

func (c *Cache) validNS(ns string) bool {
	if err := ValidateNamespace(ns); err != nil {
		c.log.Error("cache: invalid namespace ignored", "namespace", ns)
		return false
	}
	return true
}

func (c *Cache) l2Error(op string, err error) {
	c.stats.l2Errors.Add(1)
	c.log.Debug("cache: redis "+op+" failed", "err", err)
}
