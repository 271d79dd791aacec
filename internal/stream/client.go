package stream

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/voiceassist/gateway/internal/flag"
)

// Client is one open stream. The hub offers it frames; its own goroutine writes them.
type Client struct {
	ID    string
	level int
	ip    string
	keys  map[string]bool // nil: every flag
	since time.Time

	queue     chan Item
	done      chan struct{}
	closeOnce sync.Once
	reason    atomic.Pointer[string]
	delivered atomic.Int64 // newest event id queued to this client
}

func newClient(id string, level int, ip string, keys map[string]bool, queue int) *Client {
	return &Client{ID: id, level: level, ip: ip, keys: keys, since: time.Now(),
		queue: make(chan Item, queue), done: make(chan struct{})}
}

func (c *Client) wants(key string) bool { return c.keys == nil || c.keys[key] }

// Item is one queued frame; At is when the change it carries was committed (zero for
// heartbeats) and Type its event name, for the delivery-latency metric.
type Item struct {
	Frame []byte
	At    time.Time
	Type  string
}

// offer queues a frame; false when the queue is full.
func (c *Client) offer(it Item, id int64) bool {
	select {
	case c.queue <- it:
		c.delivered.Store(id)
		return true
	default:
		return false
	}
}

func (c *Client) offerHeartbeat(it Item) {
	select {
	case c.queue <- it:
	default:
	}
}

// kill ends the stream with reason, sent as a final error event.
func (c *Client) kill(reason string) {
	c.closeOnce.Do(func() {
		c.reason.Store(&reason)
		close(c.done)
	})
}

// Queue delivers frames in order; Done is closed when the hub ends the stream.
func (c *Client) Queue() <-chan Item    { return c.queue }
func (c *Client) Done() <-chan struct{} { return c.done }
func (c *Client) Level() int            { return c.level }

// Reason is why the hub ended the stream ("" if it did not).
func (c *Client) Reason() string {
	if r := c.reason.Load(); r != nil {
		return *r
	}
	return ""
}

func levelOf(v string) int { return flag.Visibility(v).Level() }

func levelName(l int) string {
	for _, v := range []flag.Visibility{flag.VisibilityPublic, flag.VisibilityAuthenticated, flag.VisibilityAdmin, flag.VisibilityInternal} {
		if v.Level() == l {
			return string(v)
		}
	}
	return "unknown"
}
