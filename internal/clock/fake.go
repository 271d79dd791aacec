// Package clock holds the fake clock of tests. Production code takes the time as a
// `now func() time.Time` option; tests pass a Fake's Now and move time by hand.
package clock

import (
	"sync"
	"time"
)

// Fake is a clock that moves only when told to; safe for concurrent use (replicas in a
// test may share one).
type Fake struct {
	mu      sync.Mutex
	t       time.Time
	waiters []waiter
}

type waiter struct {
	at time.Time
	ch chan time.Time
}

// NewFake returns a clock that reads t until moved.
func NewFake(t time.Time) *Fake { return &Fake{t: t} }

// Now reads the clock.
func (c *Fake) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward by d and fires the waiters whose time has come.
func (c *Fake) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	kept := c.waiters[:0]
	for _, w := range c.waiters {
		if w.at.After(c.t) {
			kept = append(kept, w)
			continue
		}
		w.ch <- c.t
	}
	c.waiters = kept
}

// After returns a channel that receives the clock's time once it has advanced by d or
// more (at once when d <= 0), like time.After on the fake time.
func (c *Fake) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	if d <= 0 {
		ch <- c.t
		return ch
	}
	c.waiters = append(c.waiters, waiter{at: c.t.Add(d), ch: ch})
	return ch
}
