// Package health runs the readiness probes of the gateway's dependencies.
package health

import (
	"context"
	"sync"
	"time"
)

// Probe checks one dependency; nil means up.
type Probe func(ctx context.Context) error

// Status of one dependency.
type Status struct {
	State   string // "up", "down" or "disabled"
	Latency time.Duration
	Err     string
}

// Checker runs every probe concurrently, each bounded by Timeout.
type Checker struct {
	Probes  map[string]Probe // a nil probe reports "disabled"
	Timeout time.Duration
	// Optional names dependencies the gateway answers without (voice providers, the vector
	// store behind keyword fallback): one down makes the gateway degraded, not unready.
	Optional map[string]bool

	mu     sync.Mutex // guards last and lastAt
	last   map[string]Status
	lastAt time.Time
	once   sync.Mutex // one probe round at a time in Recent
}

// Verdicts of Check.
const (
	Ready    = "ready"
	Degraded = "degraded" // every required dependency is up, an optional one is down
	NotReady = "not_ready"
)

// Check returns every dependency's status and whether all enabled required ones are up.
func (c *Checker) Check(ctx context.Context) (map[string]Status, bool) {
	statuses, verdict := c.Verdict(ctx)
	return statuses, verdict != NotReady
}

// Verdict returns every dependency's status and the overall verdict.
func (c *Checker) Verdict(ctx context.Context) (map[string]Status, string) {
	out := make(map[string]Status, len(c.Probes))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, probe := range c.Probes {
		if probe == nil {
			// Probes started earlier in this loop are already writing to out.
			mu.Lock()
			out[name] = Status{State: "disabled"}
			mu.Unlock()
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			pctx, cancel := context.WithTimeout(ctx, c.Timeout)
			defer cancel()
			start := time.Now()
			err := probe(pctx)
			s := Status{State: "up", Latency: time.Since(start)}
			if err != nil {
				s.State = "down"
				s.Err = describe(pctx, err)
			}
			mu.Lock()
			out[name] = s
			mu.Unlock()
		}()
	}
	wg.Wait()
	c.mu.Lock()
	c.last, c.lastAt = out, time.Now()
	c.mu.Unlock()
	verdict := Ready
	for name, s := range out {
		switch {
		case s.State != "down":
		case c.Optional[name]:
			if verdict == Ready {
				verdict = Degraded
			}
		default:
			verdict = NotReady
		}
	}
	return out, verdict
}

// Recent returns the newest probe round (from Verdict, /ready or Refresh) and when it ran,
// probing only when there is none younger than maxAge; concurrent callers share that round.
// Readers such as the admin summary thus pay no probe latency while Refresh keeps it fresh.
func (c *Checker) Recent(ctx context.Context, maxAge time.Duration) (map[string]Status, time.Time) {
	if st, at, ok := c.fresh(maxAge); ok {
		return st, at
	}
	c.once.Lock()
	defer c.once.Unlock()
	if st, at, ok := c.fresh(maxAge); ok { // probed while we waited
		return st, at
	}
	st, _ := c.Verdict(ctx)
	c.mu.Lock()
	defer c.mu.Unlock()
	return st, c.lastAt
}

func (c *Checker) fresh(maxAge time.Duration) (map[string]Status, time.Time, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.last == nil || time.Since(c.lastAt) > maxAge {
		return nil, time.Time{}, false
	}
	// Verdict replaces the map rather than writing into it, so sharing it is safe.
	return c.last, c.lastAt, true
}

// describe says why a probe failed without leaking addresses or credentials.
func describe(ctx context.Context, err error) string {
	if ctx.Err() == context.DeadlineExceeded {
		return "timed out"
	}
	return "unreachable"
}
