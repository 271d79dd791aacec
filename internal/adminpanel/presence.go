package adminpanel

import (
	"context"
	"encoding/json"
	"sort"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
)

// Every replica publishes what it serves (flag streams, /ws and admin sockets) to Redis every
// presenceEvery with a lease of presenceTTL: a replica that dies vanishes from the panel
// within the lease. Voice sockets have their own registry (internal/voice/session).
const (
	presenceEvery = 10 * time.Second
	presenceTTL   = 30 * time.Second
	// MaxListed caps each list of sockets in Connections.
	MaxListed = 100
)

// Socket is one live WebSocket.
type Socket struct {
	Kind           string     `json:"kind"` // websocket, voice, admin
	ConnectionID   uuid.UUID  `json:"connection_id"`
	UserID         uuid.UUID  `json:"user_id"`
	Replica        string     `json:"replica"`
	StartedAt      time.Time  `json:"started_at"`
	SessionID      *uuid.UUID `json:"session_id,omitempty"`
	ConversationID *uuid.UUID `json:"conversation_id,omitempty"`
}

// ReplicaState is what one replica serves.
type ReplicaState struct {
	Replica    string         `json:"replica"`
	SeenAt     time.Time      `json:"seen_at"`
	SSEByType  map[string]int `json:"sse_by_type"`
	WSTotal    int            `json:"ws_total"`
	WSSessions []Socket       `json:"ws_sessions"`
	AdminTotal int            `json:"admin_total"`
	AdminConns []Socket       `json:"admin_sessions"`
	SSEStreams int            `json:"sse_streams"`
}

// SocketList is a capped list and the total.
type SocketList struct {
	Total    int
	Sessions []Socket
}

// Connections is the answer of GET /api/admin/panel/connections.
type Connections struct {
	GeneratedAt time.Time
	Replicas    []ReplicaState
	SSEStreams  int
	WebSocket   SocketList
	Voice       SocketList
	Admin       SocketList
}

func (s *Service) replicasKey() string        { return s.key("replicas") }
func (s *Service) replicaKey(r string) string { return s.key("replica", r) }

// localState is what this replica serves now.
func (s *Service) localState() ReplicaState {
	st := ReplicaState{Replica: s.cfg.Replica, SeenAt: s.now().UTC(), SSEByType: map[string]int{}}
	if f := s.cfg.Sources.SSE; f != nil {
		st.SSEByType = f()
		for _, n := range st.SSEByType {
			st.SSEStreams += n
		}
	}
	if f := s.cfg.Sources.WebSockets; f != nil {
		st.WSSessions, st.WSTotal = f(MaxListed)
		for i := range st.WSSessions {
			st.WSSessions[i].Kind, st.WSSessions[i].Replica = "websocket", s.cfg.Replica
		}
	}
	st.AdminConns, st.AdminTotal = s.events.sockets(MaxListed)
	return st
}

// publishPresence writes this replica's state with its lease.
func (s *Service) publishPresence(ctx context.Context) {
	st := s.localState()
	raw, err := json.Marshal(st)
	if err != nil {
		return
	}
	exp := s.now().Add(presenceTTL).UnixMilli()
	pipe := s.cfg.Redis.Pipeline()
	pipe.Set(ctx, s.replicaKey(st.Replica), raw, presenceTTL)
	pipe.ZAdd(ctx, s.replicasKey(), redis.Z{Score: float64(exp), Member: st.Replica})
	if _, err := pipe.Exec(ctx); err != nil && ctx.Err() == nil {
		s.log.Warn("adminpanel: publish replica state", "error", err)
	}
}

func (s *Service) removePresence(ctx context.Context) {
	pipe := s.cfg.Redis.Pipeline()
	pipe.Del(ctx, s.replicaKey(s.cfg.Replica))
	pipe.ZRem(ctx, s.replicasKey(), s.cfg.Replica)
	_, _ = pipe.Exec(ctx)
}

// replicaStates reads every live replica's state; this replica's is taken fresh.
func (s *Service) replicaStates(ctx context.Context) ([]ReplicaState, error) {
	s.publishPresence(ctx)
	now := strconv.FormatInt(s.now().UnixMilli(), 10)
	if err := s.cfg.Redis.ZRemRangeByScore(ctx, s.replicasKey(), "-inf", now).Err(); err != nil {
		return nil, wrap("expire replicas", err)
	}
	names, err := s.cfg.Redis.ZRange(ctx, s.replicasKey(), 0, -1).Result()
	if err != nil {
		return nil, wrap("list replicas", err)
	}
	sort.Strings(names)
	out := make([]ReplicaState, 0, len(names))
	if len(names) == 0 {
		return out, nil
	}
	keys := make([]string, len(names))
	for i, n := range names {
		keys[i] = s.replicaKey(n)
	}
	vals, err := s.cfg.Redis.MGet(ctx, keys...).Result()
	if err != nil {
		return nil, wrap("read replicas", err)
	}
	for _, v := range vals {
		str, ok := v.(string)
		if !ok {
			continue // its lease ended between the two reads
		}
		var st ReplicaState
		if json.Unmarshal([]byte(str), &st) == nil {
			out = append(out, st)
		}
	}
	return out, nil
}

// Connections lists the live connections of every replica.
func (s *Service) Connections(ctx context.Context) (Connections, error) {
	reps, err := s.replicaStates(ctx)
	if err != nil {
		return Connections{}, err
	}
	c := Connections{GeneratedAt: s.now().UTC(), Replicas: reps}
	for _, r := range reps {
		c.SSEStreams += r.SSEStreams
		c.WebSocket.Total += r.WSTotal
		c.Admin.Total += r.AdminTotal
		c.WebSocket.Sessions = appendCapped(c.WebSocket.Sessions, r.WSSessions)
		c.Admin.Sessions = appendCapped(c.Admin.Sessions, r.AdminConns)
	}
	if f := s.cfg.Sources.Voice; f != nil {
		socks, total, err := f(ctx, MaxListed)
		if err != nil {
			return Connections{}, wrap("voice sockets", err)
		}
		for i := range socks {
			socks[i].Kind = "voice"
		}
		c.Voice = SocketList{Total: total, Sessions: socks}
	}
	for _, l := range []*SocketList{&c.WebSocket, &c.Voice, &c.Admin} {
		if l.Sessions == nil {
			l.Sessions = []Socket{}
		}
	}
	return c, nil
}

func appendCapped(dst, src []Socket) []Socket {
	if room := MaxListed - len(dst); room < len(src) {
		src = src[:max(room, 0)]
	}
	return append(dst, src...)
}
