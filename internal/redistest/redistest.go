// Package redistest gives tests a client to the test Redis (REDIS_URL, as `make test` exports
// it) and private key prefixes cleaned up when the test ends.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"testing"

	"github.com/redis/go-redis/v9"
)

// DefaultURL is used when REDIS_URL is unset (the machine-wide server of a dev box).
const DefaultURL = "redis://127.0.0.1:6379/0"

// URL is the test Redis.
func URL() string {
	if u := os.Getenv("REDIS_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// Client returns a client to the test Redis, closed when tb ends; dial, if not nil, replaces
// the dialer. It fails tb when Redis does not answer.
func Client(tb testing.TB, dial func(ctx context.Context, network, addr string) (net.Conn, error)) *redis.Client {
	tb.Helper()
	opts, err := redis.ParseURL(URL())
	if err != nil {
		tb.Fatalf("redistest: REDIS_URL: %v", err)
	}
	opts.Dialer = dial
	c := redis.NewClient(opts)
	tb.Cleanup(func() { _ = c.Close() })
	if err := c.Ping(context.Background()).Err(); err != nil {
		tb.Fatalf("redistest: Redis at %s: %v", URL(), err)
	}
	return c
}

// Prefix returns a random key prefix whose keys are deleted when tb ends.
func Prefix(tb testing.TB, c *redis.Client) string {
	tb.Helper()
	var b [8]byte
	_, _ = rand.Read(b[:])
	prefix := "test:" + hex.EncodeToString(b[:]) + ":"
	tb.Cleanup(func() {
		ctx := context.Background()
		iter := c.Scan(ctx, 0, prefix+"*", 100).Iterator()
		for iter.Next(ctx) {
			_ = c.Del(ctx, iter.Val()).Err()
		}
	})
	return prefix
}
