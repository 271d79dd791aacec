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

// describe says why a probe failed without leaking addresses or credentials.
func describe(ctx context.Context, err error) string {
	if ctx.Err() == context.DeadlineExceeded {
		return "timed out"
	}
	return "unreachable"
}
