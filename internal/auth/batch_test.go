package auth

import (
	"context"
	"errors"
	"strconv"
	"sync"
	"testing"

	"github.com/voiceassist/gateway/internal/redistest"
)

// Concurrent reads batched into pipelines each get their own keys' values.
func TestReadBatchAnswersEachCaller(t *testing.T) {
	c := redistest.Client(t, nil)
	p := redistest.Prefix(t, c)
	ctx := context.Background()
	for i := 0; i < 200; i++ {
		if i%3 != 0 {
			if err := c.Set(ctx, p+strconv.Itoa(i), "v"+strconv.Itoa(i), 0).Err(); err != nil {
				t.Fatal(err)
			}
		}
	}
	b := &readBatch{rdb: c}
	var wg sync.WaitGroup
	errs := make(chan error, 200)
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			vals, err := b.mget(ctx, p+strconv.Itoa(i), p+"missing")
			switch {
			case err != nil:
				errs <- err
			case len(vals) != 2 || vals[1] != nil:
				errs <- errors.New("wrong shape for " + strconv.Itoa(i))
			case i%3 == 0 && vals[0] != nil, i%3 != 0 && vals[0] != "v"+strconv.Itoa(i):
				errs <- errors.New("wrong value for " + strconv.Itoa(i))
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.running || len(b.queue) != 0 {
		t.Fatalf("batch left running=%v with %d queued", b.running, len(b.queue))
	}
}

// A client that cannot reach Redis fails every caller of the batch (the gateway answers 503),
// and a caller's own deadline still ends its wait.
func TestReadBatchFailsWithRedis(t *testing.T) {
	down := redistest.Client(t, nil)
	_ = down.Close()
	b := &readBatch{rdb: down}
	if _, err := b.mget(context.Background(), "a", "b"); err == nil {
		t.Fatal("a closed client must fail the read")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	b2 := &readBatch{rdb: redistest.Client(t, nil)}
	b2.running = true // a batch in flight: the caller waits, and gives up with its context
	if _, err := b2.mget(ctx, "a"); !errors.Is(err, context.Canceled) {
		t.Fatalf("want context.Canceled, got %v", err)
	}
}
