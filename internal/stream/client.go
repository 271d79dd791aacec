package stream

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/voiceassist/gateway/internal/flageval"
)

// Client is one open stream. The hub offers it frames; its own goroutine writes them.
type Client struct {
	ID    string
	level int
	ip    string
	keys  map[string]bool // nil: every flag
	ofrep bool            // OFREP change notifications instead of flag events
	since time.Time

	mu        sync.Mutex
	pending   []Item // frames not yet written; grows on demand up to max
	max       int
	wake      chan struct{} // capacity 1: "pending is not empty"
	done      chan struct{}
	closeOnce sync.Once
	reason    atomic.Pointer[string]
	// seen is the newest event id the hub handled for this client (queued, or skipped as not
	// visible to it); delivered the newest it has been sent, every event up to it written or
	// skipped. Their gap to the hub's version is the client's version drift.
	seen, delivered atomic.Int64

	raw *rawStream // set (under mu) once the stream is hijacked (raw.go)
}

func newClient(id string, level int, ip string, keys map[string]bool, queue int) *Client {
	return &Client{ID: id, level: level, ip: ip, keys: keys, since: time.Now(),
		max: queue, wake: make(chan struct{}, 1), done: make(chan struct{})}
}

func (c *Client) wants(key string) bool { return c.keys == nil || c.keys[key] }

// Item is one queued frame; At is when the change it carries was committed (zero for
// heartbeats) and Type its event name, for the delivery-latency metric.
type Item struct {
	Frame []byte
	At    time.Time
	Type  string
	ID    int64 // the event id (0 for heartbeats)
}

// push appends a frame unless the queue is full. An idle client holds no buffer: the
// slice grows only while frames wait.
func (c *Client) push(it Item) bool {
	c.mu.Lock()
	if len(c.pending) >= c.max {
		c.mu.Unlock()
		return false
	}
	c.pending = append(c.pending, it)
	if r := c.raw; r != nil {
		sched := r.scheduleLocked()
		c.mu.Unlock()
		if sched {
			r.loop.add(c)
		}
		return true
	}
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	return true
}

// offer queues a frame; false when the queue is full.
func (c *Client) offer(it Item) bool {
	if !c.push(it) {
		return false
	}
	c.seen.Store(it.ID)
	return true
}

// skip records event id as handled without a frame (not visible to this client): an idle
// client is then current.
func (c *Client) skip(id int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.seen.Store(id)
	if len(c.pending) == 0 {
		c.delivered.Store(id)
	}
}

// Written records that frames up to event id last (0: none carried an event) were written:
// with nothing left waiting, the client is current up to the last event handled for it.
func (c *Client) Written(last int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pending) == 0 {
		c.delivered.Store(c.seen.Load())
	} else if last > 0 {
		c.delivered.Store(last)
	}
}

// offerHeartbeat queues a heartbeat unless the queue is full (it carries no change).
func (c *Client) offerHeartbeat(it Item) { c.push(it) }

// Drain moves every waiting frame into buf (reused between calls) and returns it.
func (c *Client) Drain(buf []Item) []Item {
	c.mu.Lock()
	buf = drainLocked(c, buf[:0])
	c.mu.Unlock()
	return buf
}

// kill ends the stream with reason, sent as a final error event.
func (c *Client) kill(reason string) {
	c.closeOnce.Do(func() {
		c.reason.Store(&reason)
		close(c.done)
		c.mu.Lock()
		r := c.raw
		sched := r != nil && r.scheduleLocked()
		c.mu.Unlock()
		if sched {
			r.loop.add(c) // its loop writes the final event and closes
		}
	})
}

// Wake signals waiting frames (Drain them); Done is closed when the hub ends the stream.
func (c *Client) Wake() <-chan struct{} { return c.wake }
func (c *Client) Done() <-chan struct{} { return c.done }
func (c *Client) Level() int            { return c.level }

// Reason is why the hub ended the stream ("" if it did not).
func (c *Client) Reason() string {
	if r := c.reason.Load(); r != nil {
		return *r
	}
	return ""
}

func levelOf(v string) int { return flageval.Visibility(v).Level() }

func levelName(l int) string {
	for _, v := range []flageval.Visibility{flageval.VisibilityPublic, flageval.VisibilityAuthenticated, flageval.VisibilityAdmin, flageval.VisibilityInternal} {
		if v.Level() == l {
			return string(v)
		}
	}
	return "unknown"
}
