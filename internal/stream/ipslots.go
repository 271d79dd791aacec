package stream

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
)

// SlotLease is how long an open stream holds its per-IP slot without a refresh: a replica
// that dies gives its streams' slots back within it.
const SlotLease = 60 * time.Second

// IPSlots counts the open streams of each client IP across replicas
// (SSE_MAX_CONNECTIONS_PER_IP_PER_MINUTE, as the seed counts them): one Redis sorted set per
// IP, a member per open stream, scored with the end of its lease on Redis' clock. An
// accepted stream refreshes its lease while it is open and removes its member when it
// closes; leases of streams whose replica died lapse.
type IPSlots struct {
	rdb    redis.UniversalClient
	prefix string
	limit  int
}

// NewIPSlots counts under prefix+"sse:open:<ip>".
func NewIPSlots(rdb redis.UniversalClient, prefix string, limit int) *IPSlots {
	return &IPSlots{rdb: rdb, prefix: prefix, limit: limit}
}

// acquire: KEYS[1] the set; ARGV limit, lease (ms), member. Returns {1, 0} when taken, else
// {0, ms until the oldest lease ends}.
var acquireScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', string.format('%.0f', now))
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
  return {0, tonumber(first[2]) - now}
end
redis.call('ZADD', KEYS[1], string.format('%.0f', now + lease), ARGV[3])
redis.call('PEXPIRE', KEYS[1], lease)
return {1, 0}
`)

// refresh: KEYS[1] the set; ARGV lease (ms), member. Extends a member that still exists.
var refreshScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local lease = tonumber(ARGV[1])
redis.call('ZADD', KEYS[1], 'XX', string.format('%.0f', now + lease), ARGV[2])
redis.call('PEXPIRE', KEYS[1], lease)
return 1
`)

// Slot is one open stream's place in its IP's count.
type Slot struct {
	s      *IPSlots
	key    string
	member string
	stop   chan struct{}
	once   sync.Once
}

// Acquire takes a slot for ip. Over the limit it returns a nil Slot and how long until the
// oldest lease of that IP ends; an error means Redis could not be asked.
func (s *IPSlots) Acquire(ctx context.Context, ip string) (*Slot, time.Duration, error) {
	key := s.prefix + "sse:open:" + ip
	member := uuid.NewString()
	vals, err := acquireScript.Run(ctx, s.rdb, []string{key}, s.limit, SlotLease.Milliseconds(), member).Int64Slice()
	if err != nil {
		return nil, 0, fmt.Errorf("stream: per-IP slots: %w", err)
	}
	if len(vals) != 2 {
		return nil, 0, fmt.Errorf("stream: per-IP slots: unexpected reply %v", vals)
	}
	if vals[0] == 0 {
		return nil, time.Duration(vals[1]) * time.Millisecond, nil
	}
	sl := &Slot{s: s, key: key, member: member, stop: make(chan struct{})}
	go sl.refresh()
	return sl, 0, nil
}

// refresh renews the lease a few times per lease period; a refresh lost to a Redis outage
// only shortens the lease.
func (sl *Slot) refresh() {
	t := time.NewTicker(SlotLease / 4)
	defer t.Stop()
	for {
		select {
		case <-sl.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = refreshScript.Run(ctx, sl.s.rdb, []string{sl.key}, SlotLease.Milliseconds(), sl.member).Err()
			cancel()
		}
	}
}

// Release gives the slot back (the stream closed). Safe to call more than once.
func (sl *Slot) Release() {
	sl.once.Do(func() {
		close(sl.stop)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = sl.s.rdb.ZRem(ctx, sl.key, sl.member).Err()
	})
}
