package auth

import (
	"context"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// readBatch sends the revocation reads of concurrent requests to Redis together: every read
// that arrives while a round trip is in flight waits for it to end and then goes out with the
// others in one pipeline (one write, the replies read back to back), instead of a round trip
// each (issue 17: on the Bearer path that round trip was the cost). A lone read goes out at
// once, so nothing waits for company.
type readBatch struct {
	rdb     redis.UniversalClient
	mu      sync.Mutex
	queue   []*batchedRead
	running bool
}

type batchedRead struct {
	keys []string
	cmd  *redis.SliceCmd // its own error too: a failed round trip fails every command of it
	done chan struct{}
}

// batchTimeout bounds one pipeline, whose callers may have different deadlines.
const batchTimeout = 5 * time.Second

// mget is MGET keys, possibly batched with other requests' reads.
func (b *readBatch) mget(ctx context.Context, keys ...string) ([]any, error) {
	r := &batchedRead{keys: keys, done: make(chan struct{})}
	b.mu.Lock()
	b.queue = append(b.queue, r)
	lead := !b.running
	b.running = true
	b.mu.Unlock()
	if lead {
		b.run()
	}
	select {
	case <-r.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return r.cmd.Result()
}

// run sends what is queued as one pipeline; while more arrived meanwhile, the next batch goes
// out from a goroutine of its own, so the caller that led this one is not held by others.
func (b *readBatch) run() {
	b.mu.Lock()
	q := b.queue
	b.queue = nil
	b.mu.Unlock()

	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	pipe := b.rdb.Pipeline()
	for _, r := range q {
		r.cmd = pipe.MGet(ctx, r.keys...)
	}
	_, _ = pipe.Exec(ctx) // each command carries its own result or error
	cancel()
	for _, r := range q {
		close(r.done)
	}

	b.mu.Lock()
	more := len(b.queue) > 0
	b.running = more
	b.mu.Unlock()
	if more {
		go b.run()
	}
}
