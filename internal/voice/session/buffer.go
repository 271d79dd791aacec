package session

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// entry is one output frame kept for resume: its sequence number, bytes as sent (JSON, or
// a binary audio frame) and whether it ends a turn.
type entry struct {
	seq    uint32
	binary bool
	end    bool
	data   []byte
}

// buffer appends a session's output frames to a Redis stream (ids "0-<seq>") so that a
// client can resume on any replica. Appends never block the session: a writer goroutine
// sends them in batches, and when Redis falls behind by more than the queue, frames are
// dropped (a resume across the hole is refused as truncated rather than replayed with a gap).
// The stream expires ResumeTTL after its last append and keeps at most capBytes, the oldest
// frames going first.
type buffer struct {
	rdb      redis.UniversalClient
	key      string
	ttl      time.Duration
	capBytes int64
	log      *slog.Logger

	ch      chan entry
	flushes chan chan struct{}
	done    chan struct{}

	mu      sync.Mutex // the writer's bookkeeping
	kept    []kept     // the frames in the stream, oldest first
	total   int64      // their bytes
	dropped uint64
}

type kept struct {
	seq  uint32
	size int64
}

func newBuffer(rdb redis.UniversalClient, key string, ttl time.Duration, capBytes int64, log *slog.Logger) *buffer {
	b := &buffer{rdb: rdb, key: key, ttl: ttl, capBytes: capBytes, log: log,
		ch: make(chan entry, 4096), flushes: make(chan chan struct{}), done: make(chan struct{})}
	go b.run()
	return b
}

// add queues a frame without blocking.
func (b *buffer) add(e entry) {
	select {
	case b.ch <- e:
	default:
		b.mu.Lock()
		b.dropped++
		b.mu.Unlock()
	}
}

// flush waits until every frame added before it is written (or the writer stopped).
func (b *buffer) flush() {
	ack := make(chan struct{})
	select {
	case b.flushes <- ack:
		<-ack
	case <-b.done:
	}
}

// close writes what is queued and stops the writer.
func (b *buffer) close() {
	b.flush()
	close(b.ch)
	<-b.done
}

func (b *buffer) run() {
	defer close(b.done)
	batch := make([]entry, 0, 256)
	for {
		select {
		case e, ok := <-b.ch:
			if !ok {
				return
			}
			batch = append(batch[:0], e)
		drain:
			for len(batch) < cap(batch) {
				select {
				case e, ok := <-b.ch:
					if !ok {
						break drain
					}
					batch = append(batch, e)
				default:
					break drain
				}
			}
			b.write(batch)
		case ack := <-b.flushes:
			// Everything added before the flush request is in the channel ahead of nothing
			// else: write it all, then acknowledge.
			for {
				batch = batch[:0]
			more:
				for len(batch) < cap(batch) {
					select {
					case e := <-b.ch:
						batch = append(batch, e)
					default:
						break more
					}
				}
				if len(batch) == 0 {
					break
				}
				b.write(batch)
			}
			close(ack)
		}
	}
}

func (b *buffer) write(batch []entry) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	pipe := b.rdb.Pipeline()
	b.mu.Lock()
	for _, e := range batch {
		flags := "t"
		if e.binary {
			flags = "b"
		}
		if e.end {
			flags += "e"
		}
		pipe.XAdd(ctx, &redis.XAddArgs{Stream: b.key, ID: "0-" + strconv.FormatUint(uint64(e.seq), 10),
			Values: []any{"f", flags, "d", e.data}})
		b.kept = append(b.kept, kept{e.seq, int64(len(e.data))})
		b.total += int64(len(e.data))
	}
	var minID string
	for b.total > b.capBytes && len(b.kept) > 1 {
		b.total -= b.kept[0].size
		b.kept = b.kept[1:]
		minID = "0-" + strconv.FormatUint(uint64(b.kept[0].seq), 10)
	}
	b.mu.Unlock()
	if minID != "" {
		pipe.XTrimMinID(ctx, b.key, minID)
	}
	pipe.Expire(ctx, b.key, b.ttl)
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, context.Canceled) {
		b.log.Warn("voice session: resume buffer write failed", "err", err)
	}
}
