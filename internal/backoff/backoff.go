// Package backoff holds retry timing: server-requested delays (Retry-After), exponential
// backoff with jitter, and a context-aware sleep. The clients of OpenAI-compatible servers
// (chat, embeddings, audio) use it through the retry loop of internal/llm.
package backoff

import (
	"context"
	"math/rand/v2"
	"net/http"
	"strconv"
	"time"
)

// RetryAfter reads Retry-After-Ms (milliseconds, as OpenAI sends) or Retry-After (seconds or
// an HTTP date); -1 if absent or invalid.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	if v := h.Get("Retry-After-Ms"); v != "" {
		if ms, err := strconv.ParseFloat(v, 64); err == nil && ms >= 0 && ms < 1e9 {
			return time.Duration(ms * float64(time.Millisecond))
		}
	}
	if v := h.Get("Retry-After"); v != "" {
		if s, err := strconv.ParseFloat(v, 64); err == nil && s >= 0 && s < 1e6 {
			return time.Duration(s * float64(time.Second))
		}
		if t, err := http.ParseTime(v); err == nil {
			return max(t.Sub(now), 0)
		}
	}
	return -1
}

// Delay is base * 2^attempt with "equal jitter": between half and all of it.
func Delay(base time.Duration, attempt int) time.Duration {
	d := base << min(attempt, 20)
	if d <= 0 {
		d = base
	}
	half := d / 2
	return half + rand.N(half+1)
}

// Sleep waits d or until ctx ends, returning ctx's error then.
func Sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
