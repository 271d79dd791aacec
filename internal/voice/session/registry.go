package session

import (
	"context"
	"encoding/json"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
)

// The registry of live voice sockets, shared by replicas through Redis: a sorted set per
// user and one for all (member: connection id, score: expiry in Unix ms) and a hash with what
// each socket is. Entries are renewed at every heartbeat, so a dead replica's sockets
// disappear within registryTTL; the admin panel reads the same keys.
const registryTTL = 90 * time.Second

// LiveSocket describes one entry of the registry.
type LiveSocket struct {
	ConnectionID   uuid.UUID  `json:"connection_id"`
	SessionID      *uuid.UUID `json:"session_id,omitempty"`
	UserID         uuid.UUID  `json:"user_id"`
	Replica        string     `json:"replica"`
	ConversationID *uuid.UUID `json:"conversation_id,omitempty"`
	StartedAt      time.Time  `json:"started_at"`
}

// admitScript adds a socket unless the user already has max live ones.
var admitScript = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[3]) then return 0 end
redis.call('ZADD', KEYS[1], ARGV[2], ARGV[4])
redis.call('PEXPIRE', KEYS[1], ARGV[6])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[4])
redis.call('HSET', KEYS[3], ARGV[4], ARGV[5])
return 1`)

type registry struct {
	rdb    redis.UniversalClient
	prefix string
}

func (r registry) userKey(u uuid.UUID) string { return r.prefix + "voice:live:user:" + u.String() }
func (r registry) allKey() string             { return r.prefix + "voice:live" }
func (r registry) infoKey() string            { return r.prefix + "voice:live:info" }

func ms(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

// admit registers a socket if the user has fewer than max.
func (r registry) admit(ctx context.Context, s LiveSocket, max int) (bool, error) {
	info, _ := json.Marshal(s)
	now := time.Now()
	n, err := admitScript.Run(ctx, r.rdb, []string{r.userKey(s.UserID), r.allKey(), r.infoKey()},
		ms(now), ms(now.Add(registryTTL)), max, s.ConnectionID.String(), info, registryTTL.Milliseconds()).Int()
	return n == 1, err
}

// update renews a socket's entry and rewrites what it is.
func (r registry) update(ctx context.Context, s LiveSocket) error {
	info, _ := json.Marshal(s)
	exp := float64(time.Now().Add(registryTTL).UnixMilli())
	member := s.ConnectionID.String()
	pipe := r.rdb.Pipeline()
	pipe.ZAdd(ctx, r.userKey(s.UserID), redis.Z{Score: exp, Member: member})
	pipe.PExpire(ctx, r.userKey(s.UserID), registryTTL)
	pipe.ZAdd(ctx, r.allKey(), redis.Z{Score: exp, Member: member})
	pipe.HSet(ctx, r.infoKey(), member, info)
	_, err := pipe.Exec(ctx)
	return err
}

// remove drops a socket.
func (r registry) remove(ctx context.Context, user, conn uuid.UUID) error {
	pipe := r.rdb.Pipeline()
	pipe.ZRem(ctx, r.userKey(user), conn.String())
	pipe.ZRem(ctx, r.allKey(), conn.String())
	pipe.HDel(ctx, r.infoKey(), conn.String())
	_, err := pipe.Exec(ctx)
	return err
}

// Live lists up to limit live sockets of all replicas (expired entries are dropped first)
// and how many there are in all.
func (r registry) Live(ctx context.Context, limit int) ([]LiveSocket, int, error) {
	now := ms(time.Now())
	expired, err := r.rdb.ZRangeByScore(ctx, r.allKey(), &redis.ZRangeBy{Min: "-inf", Max: now}).Result()
	if err != nil {
		return nil, 0, err
	}
	if len(expired) > 0 {
		pipe := r.rdb.Pipeline()
		pipe.ZRem(ctx, r.allKey(), anys(expired)...)
		pipe.HDel(ctx, r.infoKey(), expired...)
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, 0, err
		}
	}
	total, err := r.rdb.ZCard(ctx, r.allKey()).Result()
	if err != nil {
		return nil, 0, err
	}
	ids, err := r.rdb.ZRange(ctx, r.allKey(), 0, int64(limit)-1).Result()
	if err != nil || len(ids) == 0 {
		return nil, int(total), err
	}
	infos, err := r.rdb.HMGet(ctx, r.infoKey(), ids...).Result()
	if err != nil {
		return nil, 0, err
	}
	out := make([]LiveSocket, 0, len(infos))
	for _, v := range infos {
		if str, ok := v.(string); ok {
			var s LiveSocket
			if json.Unmarshal([]byte(str), &s) == nil {
				out = append(out, s)
			}
		}
	}
	return out, int(total), nil
}

func anys(ss []string) []any {
	out := make([]any, len(ss))
	for i, s := range ss {
		out[i] = s
	}
	return out
}
