package realtime

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
)

// Kinds of bus messages.
const (
	kindTyping   = "typing"
	kindPresence = "presence" // "the presence set changed": receivers read it from Redis
)

// busMsg travels on the Redis channel between replicas. A presence message
// carries no user list: each replica reads the set when it gets the message, so
// the last message always leads to the current set whatever order replicas
// wrote in.
type busMsg struct {
	Kind           string    `json:"kind"`
	ConversationID uuid.UUID `json:"conversation_id"`
	UserID         uuid.UUID `json:"user_id"`
	ConnectionID   uuid.UUID `json:"connection_id"` // the typist's connection, which does not get its own typing
	State          string    `json:"state,omitempty"`
}

// presenceKey is a sorted set per conversation: member "user:connection",
// score the entry's expiry in Unix ms.
func (h *Hub) presenceKey(conv uuid.UUID) string {
	return h.cfg.Prefix + "ws:presence:" + conv.String()
}

// presenceTTL survives one missed refresh; a crashed replica's entries are gone
// after it.
func (h *Hub) presenceTTL() time.Duration { return 2 * h.cfg.PingInterval }

func member(c *conn) string { return c.user.UserID.String() + ":" + c.id.String() }

func msString(t time.Time) string { return strconv.FormatInt(t.UnixMilli(), 10) }

func (h *Hub) joinRoom(conv uuid.UUID, c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.rooms[conv] == nil {
		h.rooms[conv] = map[*conn]struct{}{}
	}
	h.rooms[conv][c] = struct{}{}
}

func (h *Hub) leaveRoom(conv uuid.UUID, c *conn) {
	h.mu.Lock()
	defer h.mu.Unlock()
	delete(h.rooms[conv], c)
	if len(h.rooms[conv]) == 0 {
		delete(h.rooms, conv)
	}
}

func (h *Hub) inRoom(conv uuid.UUID, c *conn) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	_, ok := h.rooms[conv][c]
	return ok
}

func (h *Hub) roomConns(conv uuid.UUID) []*conn {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*conn, 0, len(h.rooms[conv]))
	for c := range h.rooms[conv] {
		out = append(out, c)
	}
	return out
}

// Presence and typing are best effort: a Redis failure is logged and the chat
// itself keeps working.

func (h *Hub) presenceAdd(ctx context.Context, conv uuid.UUID, c *conn) {
	key, ttl := h.presenceKey(conv), h.presenceTTL()
	_, err := h.cfg.Redis.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.ZAdd(ctx, key, redis.Z{Score: float64(time.Now().Add(ttl).UnixMilli()), Member: member(c)})
		p.PExpire(ctx, key, ttl)
		return nil
	})
	if err != nil {
		h.log.Warn("realtime: presence add", "conversation_id", conv, "err", err)
		return
	}
	h.publish(ctx, busMsg{Kind: kindPresence, ConversationID: conv})
}

func (h *Hub) presenceRemove(ctx context.Context, conv uuid.UUID, c *conn) {
	if err := h.cfg.Redis.ZRem(ctx, h.presenceKey(conv), member(c)).Err(); err != nil {
		h.log.Warn("realtime: presence remove", "conversation_id", conv, "err", err)
		return
	}
	h.publish(ctx, busMsg{Kind: kindPresence, ConversationID: conv})
}

// presentUsers returns the distinct users with an unexpired entry, sorted.
func (h *Hub) presentUsers(ctx context.Context, conv uuid.UUID) ([]uuid.UUID, error) {
	members, err := h.cfg.Redis.ZRangeByScore(ctx, h.presenceKey(conv),
		&redis.ZRangeBy{Min: "(" + msString(time.Now()), Max: "+inf"}).Result()
	if err != nil {
		return nil, err
	}
	users := []uuid.UUID{}
	for _, m := range members {
		user, _, _ := strings.Cut(m, ":")
		if id, err := uuid.Parse(user); err == nil && !slices.Contains(users, id) {
			users = append(users, id)
		}
	}
	slices.SortFunc(users, func(a, b uuid.UUID) int { return strings.Compare(a.String(), b.String()) })
	return users, nil
}

// refreshPresence pushes back the expiry of this replica's entries and drops
// expired ones; when it drops any (a replica died), it announces the change.
func (h *Hub) refreshPresence(ctx context.Context) {
	type entry struct {
		conv uuid.UUID
		c    *conn
	}
	var entries []entry
	h.mu.Lock()
	for conv, conns := range h.rooms {
		for c := range conns {
			entries = append(entries, entry{conv, c})
		}
	}
	h.mu.Unlock()
	if len(entries) == 0 {
		return
	}

	now, ttl := time.Now(), h.presenceTTL()
	expiry := float64(now.Add(ttl).UnixMilli())
	pruned := map[uuid.UUID]*redis.IntCmd{}
	_, err := h.cfg.Redis.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, e := range entries {
			key := h.presenceKey(e.conv)
			if pruned[e.conv] == nil {
				pruned[e.conv] = p.ZRemRangeByScore(ctx, key, "-inf", msString(now))
			}
			p.ZAdd(ctx, key, redis.Z{Score: expiry, Member: member(e.c)})
			p.PExpire(ctx, key, ttl)
		}
		return nil
	})
	if err != nil {
		h.log.Warn("realtime: presence refresh", "err", err)
	}
	// A connection that left while the pipeline ran had its entry removed and
	// then re-added above; remove it again. (A leave after this check removes
	// its entry after our ZADD, so it needs nothing.)
	for _, e := range entries {
		if !h.inRoom(e.conv, e.c) {
			_ = h.cfg.Redis.ZRem(ctx, h.presenceKey(e.conv), member(e.c)).Err()
		}
	}
	for conv, cmd := range pruned {
		if cmd.Val() > 0 {
			h.publish(ctx, busMsg{Kind: kindPresence, ConversationID: conv})
		}
	}
}

func (h *Hub) publish(ctx context.Context, m busMsg) {
	data, err := json.Marshal(m)
	if err == nil {
		err = h.cfg.Redis.Publish(ctx, h.channel, data).Err()
	}
	if err != nil {
		h.log.Warn("realtime: publish", "kind", m.Kind, "conversation_id", m.ConversationID, "err", err)
	}
}

// listen forwards bus messages to this replica's connections joined to the
// conversation; replicas with none skip the message.
func (h *Hub) listen(ctx context.Context, ch <-chan *redis.Message) {
	for {
		select {
		case <-ctx.Done():
			return
		case msg, ok := <-ch:
			if !ok {
				return
			}
			h.dispatch(ctx, msg.Payload)
		}
	}
}

func (h *Hub) dispatch(ctx context.Context, payload string) {
	var m busMsg
	if err := json.Unmarshal([]byte(payload), &m); err != nil {
		h.log.Warn("realtime: bad bus message", "err", err)
		return
	}
	conns := h.roomConns(m.ConversationID)
	if len(conns) == 0 {
		return
	}
	var ev event
	switch m.Kind {
	case kindTyping:
		ev = typingEvent{head: head{evTyping}, ConversationID: m.ConversationID, UserID: m.UserID, State: m.State}
	case kindPresence:
		users, err := h.presentUsers(ctx, m.ConversationID)
		if err != nil {
			h.log.Warn("realtime: presence read", "conversation_id", m.ConversationID, "err", err)
			return
		}
		ev = presenceEvent{head: head{evPresence}, ConversationID: m.ConversationID, Users: users}
	default:
		return
	}
	data, err := json.Marshal(ev)
	if err != nil {
		return
	}
	for _, c := range conns {
		if m.Kind == kindTyping && c.id == m.ConnectionID {
			continue
		}
		c.enqueue(frame{typ: ev.eventType(), data: data})
	}
}
