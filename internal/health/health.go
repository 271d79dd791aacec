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
}

// Check returns every dependency's status and whether all enabled ones are up.
func (c *Checker) Check(ctx context.Context) (map[string]Status, bool) {
	out := make(map[string]Status, len(c.Probes))
	var mu sync.Mutex
	var wg sync.WaitGroup
	for name, probe := range c.Probes {
		if probe == nil {
			out[name] = Status{State: "disabled"}
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
	ok := true
	for _, s := range out {
		if s.State == "down" {
			ok = false
		}
	}
	return out, ok
}

// describe says why a probe failed without leaking addresses or credentials.
func describe(ctx context.Context, err error) string {
	if ctx.Err() == context.DeadlineExceeded {
		return "timed out"
	}
	return "unreachable"
}
