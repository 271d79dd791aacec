package cache

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
)

const (
	// healthEvery is how long the subscription may stay silent before it is pinged;
	// no answer for as long again and it is considered dead.
	healthEvery = 5 * time.Second
	// retryEvery spaces attempts to subscribe again after a failure.
	retryEvery = time.Second
)

// Invalidation messages are "op from arg" with from the sender's Cache.id; a text
// format keeps patterns binary-safe.
const (
	opClear      = "clear"      // arg: namespace, "" for all
	opInvalidate = "invalidate" // arg: pattern
	opBump       = "bump"       // arg: namespace, space, new generation
)

// generation is a namespace's generation and when it was read from Redis.
type generation struct {
	gen  int64
	read time.Time
}

// generation returns the current generation of ns, reading Redis when the
// remembered one is older than GenRefresh.
func (c *Cache) generation(ctx context.Context, ns string) (int64, error) {
	c.genMu.Lock()
	g, ok := c.gens[ns]
	epoch := c.genEpoch
	c.genMu.Unlock()
	if c.rdb == nil || ok && c.cfg.Now().Sub(g.read) < c.cfg.GenRefresh {
		return g.gen, nil
	}
	gen, err := c.rdb.Get(ctx, c.cfg.Prefix+"cachegen:"+ns).Int64()
	if errors.Is(err, redis.Nil) {
		gen, err = 0, nil
	}
	if err != nil {
		c.l2Error("generation", err)
		return 0, err
	}
	c.genMu.Lock()
	defer c.genMu.Unlock()
	if epoch != c.genEpoch {
		// The subscription changed state during the read, which may predate a Bump
		// we did not hear about: use the value, but do not trust it for later.
		return gen, nil
	}
	return c.raiseGenLocked(ns, gen), nil
}

// raiseGen records gen as current unless a newer one is known: generations only
// grow, and a Bump message may overtake a read of the older value.
func (c *Cache) raiseGen(ns string, gen int64) int64 {
	c.genMu.Lock()
	defer c.genMu.Unlock()
	return c.raiseGenLocked(ns, gen)
}

func (c *Cache) raiseGenLocked(ns string, gen int64) int64 {
	g := generation{gen: max(c.gens[ns].gen, gen), read: c.cfg.Now()}
	c.gens[ns] = g
	return g.gen
}

// Start subscribes to invalidations in the background until ctx ends or Close.
// Until Redis confirms the subscription (Subscribed), L1 stays off. Without Redis,
// or when called again, it does nothing.
func (c *Cache) Start(ctx context.Context) {
	if c.rdb == nil {
		return
	}
	c.startOnce.Do(func() {
		ctx, c.cancel = context.WithCancel(ctx)
		c.done = make(chan struct{})
		go c.subscribe(ctx)
	})
}

// Close stops the subscription (turning L1 off) and waits for it to end.
func (c *Cache) Close() {
	if c.cancel != nil {
		c.cancel()
		<-c.done
	}
}

// Subscribed reports whether L1 is in use: always without Redis, otherwise while
// the invalidation subscription is confirmed.
func (c *Cache) Subscribed() bool {
	_, live := c.l1.begin()
	return live
}

func (c *Cache) subscribe(ctx context.Context) {
	defer close(c.done)
	for {
		err := c.listen(ctx)
		c.setLive(false)
		if ctx.Err() != nil {
			return
		}
		c.log.Warn("cache: invalidation subscription lost; L1 off until resubscribed", "err", err)
		select {
		case <-ctx.Done():
			return
		case <-time.After(retryEvery):
		}
	}
}

// listen runs one subscription until it fails.
func (c *Cache) listen(ctx context.Context) error {
	ps := c.rdb.Subscribe(ctx, c.channel)
	defer ps.Close()
	stop := context.AfterFunc(ctx, func() { _ = ps.Close() }) // unblocks ReceiveTimeout
	defer stop()
	pinged := false
	for {
		msg, err := ps.ReceiveTimeout(ctx, healthEvery)
		if err != nil {
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() && !pinged {
				pinged = true
				if err := ps.Ping(ctx); err != nil {
					return err
				}
				continue
			}
			return err
		}
		pinged = false // any traffic shows the connection is alive
		switch m := msg.(type) {
		case *redis.Subscription:
			if m.Kind == "subscribe" {
				// From here on every invalidation reaches us; whatever was published
				// before may have been missed, which setLive accounts for.
				c.setLive(true)
			}
		case *redis.Message:
			c.apply(m.Payload)
		}
	}
}

// setLive empties L1 and turns it on or off, and forgets generations, which may
// have changed unheard.
func (c *Cache) setLive(live bool) {
	c.l1.setLive(live)
	c.genMu.Lock()
	clear(c.gens)
	c.genEpoch++
	c.genMu.Unlock()
}

func (c *Cache) publish(ctx context.Context, op, arg string) error {
	if err := c.rdb.Publish(ctx, c.channel, op+" "+c.id+" "+arg).Err(); err != nil {
		return fmt.Errorf("cache: publish %s: %w", op, err)
	}
	return nil
}

// apply applies another replica's invalidation to L1.
func (c *Cache) apply(payload string) {
	parts := strings.SplitN(payload, " ", 3)
	if len(parts) != 3 {
		c.malformed(payload)
		return
	}
	op, from, arg := parts[0], parts[1], parts[2]
	if from == c.id {
		return // already applied locally
	}
	switch op {
	case opClear:
		c.l1.remove(func(e *entry) bool { return arg == "" || e.ns == arg })
	case opInvalidate:
		c.l1.remove(func(e *entry) bool { return match(arg, e.id) })
	case opBump:
		ns, g, _ := strings.Cut(arg, " ")
		gen, err := strconv.ParseInt(g, 10, 64)
		if err != nil {
			c.malformed(payload)
			return
		}
		c.raiseGen(ns, gen)
		c.l1.remove(func(e *entry) bool { return e.ns == ns })
	default:
		c.malformed(payload)
	}
}

// malformed drops all of L1: whatever the message meant, that covers it.
func (c *Cache) malformed(payload string) {
	c.log.Warn("cache: malformed invalidation message; L1 emptied", "payload", payload)
	c.l1.remove(func(*entry) bool { return true })
}
