package health

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

func TestCheck(t *testing.T) {
	t.Parallel()
	c := &Checker{Timeout: 50 * time.Millisecond, Probes: map[string]Probe{
		"up":       func(context.Context) error { return nil },
		"down":     func(context.Context) error { return errors.New("dial tcp 10.0.0.1:5432: password=secret") },
		"slow":     func(ctx context.Context) error { <-ctx.Done(); return ctx.Err() },
		"disabled": nil,
	}}
	got, ok := c.Check(context.Background())
	if ok {
		t.Fatal("ready with a dependency down")
	}
	want := map[string]string{"up": "up", "down": "down", "slow": "down", "disabled": "disabled"}
	for name, state := range want {
		if got[name].State != state {
			t.Errorf("%s: state %q, want %q", name, got[name].State, state)
		}
	}
	if got["down"].Err != "unreachable" || got["slow"].Err != "timed out" {
		t.Errorf("errors must be generic, got %q and %q", got["down"].Err, got["slow"].Err)
	}
	only := &Checker{Timeout: time.Second, Probes: map[string]Probe{"a": func(context.Context) error { return nil }, "q": nil}}
	if _, ok := only.Check(context.Background()); !ok {
		t.Fatal("not ready although every enabled dependency is up")
	}
}

func TestOptionalDependencyDegrades(t *testing.T) {
	t.Parallel()
	down := func(context.Context) error { return errors.New("down") }
	up := func(context.Context) error { return nil }
	c := &Checker{Timeout: time.Second, Optional: map[string]bool{"voice": true},
		Probes: map[string]Probe{"postgres": up, "voice": down}}
	got, verdict := c.Verdict(context.Background())
	if verdict != Degraded || got["voice"].State != "down" {
		t.Fatalf("verdict %q, voice %q; want degraded with voice down", verdict, got["voice"].State)
	}
	if _, ok := c.Check(context.Background()); !ok {
		t.Fatal("an optional dependency down must not make the gateway unready")
	}
	c.Probes["postgres"] = down
	if _, verdict := c.Verdict(context.Background()); verdict != NotReady {
		t.Fatalf("verdict %q with a required dependency down, want not_ready", verdict)
	}
}

// Issue 21 #17: disabled dependencies are recorded while enabled probes are already
// answering; run with -race (CI does), and without it the runtime's map check may still fire.
func TestCheckDisabledWhileProbing(t *testing.T) {
	t.Parallel()
	probes := map[string]Probe{}
	for i := range 64 {
		name := string(rune('a'+i%26)) + string(rune('A'+i/26))
		if i%2 == 0 {
			probes[name] = nil
		} else {
			probes[name] = func(context.Context) error { return nil }
		}
	}
	c := &Checker{Timeout: time.Second, Probes: probes}
	for range 50 {
		got, ok := c.Check(context.Background())
		if !ok || len(got) != len(probes) {
			t.Fatalf("ready %v with %d statuses, want ready with %d", ok, len(got), len(probes))
		}
	}
}

// Recent reuses the newest round (whoever ran it) while it is young enough and probes
// again only when it is older than maxAge.
func TestRecentReusesLastRound(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	c := &Checker{Timeout: time.Second, Probes: map[string]Probe{
		"postgres": func(context.Context) error { calls.Add(1); return nil },
	}}
	ctx := context.Background()
	st, at := c.Recent(ctx, time.Hour)
	if calls.Load() != 1 || st["postgres"].State != "up" || at.IsZero() {
		t.Fatalf("first Recent: %d probes, %+v at %v", calls.Load(), st, at)
	}
	st2, at2 := c.Recent(ctx, time.Hour)
	if calls.Load() != 1 || !at2.Equal(at) || st2["postgres"].State != "up" {
		t.Fatalf("young round not reused: %d probes", calls.Load())
	}
	c.Verdict(ctx) // /ready's round is reused too
	if _, at3 := c.Recent(ctx, time.Hour); calls.Load() != 2 || !at3.After(at) && !at3.Equal(at) {
		t.Fatalf("Verdict's round not recorded: %d probes", calls.Load())
	}
	if c.Recent(ctx, -1); calls.Load() != 3 {
		t.Fatalf("stale round not re-probed: %d probes", calls.Load())
	}
}
