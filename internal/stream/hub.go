// Package stream fans flag changes out to Server-Sent Event clients. Each replica tails the
// durable flag_events log (woken by the flag store's LISTEN/NOTIFY, with a safety poll), so
// an event id means the same change on every replica and any replica can replay from any
// Last-Event-ID. The broadcaster never blocks: each client has one writer goroutine and a
// bounded queue, and a client whose queue overflows is disconnected (it resumes losslessly
// by reconnecting with Last-Event-ID).
package stream

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/database"
	"github.com/voiceassist/gateway/internal/flagstore"
)

// Options configure a Hub.
type Options struct {
	Heartbeat       time.Duration
	Poll            time.Duration
	RingSize        int // recent events kept in memory for replay
	QueueSize       int // per-client queue of frames; a client this far behind is dropped
	RetentionCount  int
	RetentionMaxAge time.Duration
	MaxStreams      int
	MaxStreamsPerIP int
}

// Hub is one replica's broadcaster.
type Hub struct {
	opts    Options
	pool    *pgxpool.Pool
	q       *db.Queries
	flags   *flagstore.Store
	log     *slog.Logger
	metrics *Metrics

	mu       sync.Mutex
	clients  map[*Client]struct{}
	perIP    map[string]int
	state    map[string]State // latest state of every flag, at version
	version  int64            // newest event id applied
	ring     []Event          // circular buffer of the newest events, oldest at ringHead
	ringHead int
	closed   bool

	connects, disconnects, drops int64

	// Hijacked streams (raw.go): their write loops, started with the first, and a count of
	// those still open, which Close waits for.
	loopsOnce sync.Once
	loops     []*writeLoop
	nextLoop  atomic.Uint32
	raws      sync.WaitGroup
}

// New loads the current flag state and version consistently (one snapshot).
func New(ctx context.Context, pool *pgxpool.Pool, flags *flagstore.Store, log *slog.Logger, m *Metrics, opts Options) (*Hub, error) {
	if opts.RingSize <= 0 {
		opts.RingSize = 4096
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 1024
	}
	h := &Hub{opts: opts, pool: pool, q: db.New(pool), flags: flags, log: log, metrics: m,
		clients: map[*Client]struct{}{}, perIP: map[string]int{}, state: map[string]State{}}
	err := database.InTx(ctx, pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		clear(h.state) // a retry starts over
		q := db.New(tx)
		rev, err := q.FlagRevision(ctx)
		if err != nil {
			return err
		}
		rows, err := q.AllFlags(ctx)
		if err != nil {
			return err
		}
		h.version = rev
		for _, r := range rows {
			rec, err := flagstore.Decode(r)
			if err != nil {
				return err
			}
			h.state[r.Key] = stateOf(rec.Flag, false)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("stream: load state: %w", err)
	}
	return h, nil
}

// Version is the newest event id this replica has applied.
func (h *Hub) Version() int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.version
}

// Run tails the event log, sends heartbeats and prunes old events until ctx ends.
func (h *Hub) Run(ctx context.Context) {
	poll := time.NewTicker(h.opts.Poll)
	defer poll.Stop()
	beat := time.NewTicker(h.opts.Heartbeat)
	defer beat.Stop()
	prune := time.NewTicker(time.Minute)
	defer prune.Stop()
	for {
		changed := h.flags.Moved() // the log, not the snapshot: no wait for the reload
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-poll.C:
		case <-beat.C:
			h.heartbeat()
			continue
		case <-prune.C:
			h.prune(ctx)
			continue
		}
		if err := h.tail(ctx); err != nil && ctx.Err() == nil {
			h.log.Warn("stream: tail flag events", "error", err)
		}
	}
}

// tail applies and broadcasts every event after the current version, in id order.
func (h *Hub) tail(ctx context.Context) error {
	h.mu.Lock()
	after := h.version
	h.mu.Unlock()
	// A batch (one multi-flag change) is committed at once, so only a full page can cut one:
	// its events on that page wait for the next page and go out together, as one event.
	var carry []Event
	for {
		rows, err := h.q.FlagEventsAfter(ctx, db.FlagEventsAfterParams{ID: after, Lim: 500})
		if err != nil {
			return err
		}
		evs := carry
		for _, r := range rows {
			evs = append(evs, eventOf(r))
		}
		full := len(rows) == 500
		carry = nil
		if full {
			after = rows[len(rows)-1].ID
			evs, carry = splitOpenBatch(evs)
		}
		for _, g := range groups(evs) {
			h.broadcast(g)
		}
		if !full {
			return nil
		}
	}
}

// broadcast applies a group of events (one event, or one batch) and offers it to every
// eligible client without blocking.
func (h *Hub) broadcast(group []Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for len(group) > 0 && group[0].ID <= h.version {
		group = group[1:] // already applied (two tails raced)
	}
	if len(group) == 0 {
		return
	}
	for _, ev := range group {
		h.applyLocked(ev)
	}
	last := group[len(group)-1]
	typ := eventType(group)
	notified := 0
	for c := range h.clients {
		fr := frameForGroup(group, c, false)
		if fr == nil {
			c.skip(last.ID)
			continue
		}
		if !c.offer(Item{Frame: fr, At: last.At, Type: typ, ID: last.ID}) {
			h.dropLocked(c, "queue_full")
			continue
		}
		notified++
	}
	h.metrics.broadcast(group, typ, notified)
}

func (h *Hub) applyLocked(ev Event) {
	h.version = ev.ID
	if ev.State.Deleted {
		delete(h.state, ev.Key)
	} else {
		h.state[ev.Key] = ev.State
	}
	if len(h.ring) < h.opts.RingSize {
		h.ring = append(h.ring, ev)
	} else {
		h.ring[h.ringHead] = ev
		h.ringHead = (h.ringHead + 1) % len(h.ring)
	}
}

func (h *Hub) heartbeat() {
	h.mu.Lock()
	defer h.mu.Unlock()
	fr := frame(h.version, "heartbeat", heartbeatData{Timestamp: time.Now().UTC(), Version: h.version})
	comment := []byte(": heartbeat\n\n")
	var maxDrift int64
	for c := range h.clients {
		it := Item{Frame: fr, Type: "heartbeat"}
		if c.ofrep {
			it.Frame = comment
		}
		c.offerHeartbeat(it) // a full queue skips a heartbeat: it carries no change
		if d := h.version - c.delivered.Load(); d > maxDrift {
			maxDrift = d
		}
	}
	h.metrics.drift.Set(float64(maxDrift))
}

type heartbeatData struct {
	Timestamp time.Time `json:"timestamp"`
	Version   int64     `json:"version"`
}

func (h *Hub) prune(ctx context.Context) {
	n, err := h.q.PruneFlagEvents(ctx, db.PruneFlagEventsParams{
		RetainCount: int64(h.opts.RetentionCount),
		MaxAge:      pgtype.Interval{Microseconds: h.opts.RetentionMaxAge.Microseconds(), Valid: true},
	})
	if err != nil {
		if ctx.Err() == nil {
			h.log.Warn("stream: prune flag events", "error", err)
		}
		return
	}
	if n > 0 {
		h.log.Info("stream: pruned flag events", "count", n)
	}
}

// Errors of Subscribe.
var (
	ErrTooManyStreams = errors.New("too many concurrent streams")
	ErrTooManyFromIP  = errors.New("too many concurrent streams from this address")
	ErrClosed         = errors.New("server is shutting down")
)

// Subscribe registers a client. It returns the client (already receiving live events
// after version) and the state to greet it with, both taken atomically.
func (h *Hub) Subscribe(level int, ip string, keys map[string]bool, ofrep bool) (*Client, map[string]State, int64, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	switch {
	case h.closed:
		return nil, nil, 0, ErrClosed
	case h.opts.MaxStreams > 0 && len(h.clients) >= h.opts.MaxStreams:
		return nil, nil, 0, ErrTooManyStreams
	case h.opts.MaxStreamsPerIP > 0 && h.perIP[ip] >= h.opts.MaxStreamsPerIP:
		return nil, nil, 0, ErrTooManyFromIP
	}
	c := newClient(uuid.NewString(), level, ip, keys, h.opts.QueueSize)
	c.ofrep = ofrep
	c.seen.Store(h.version)
	c.delivered.Store(h.version)
	h.clients[c] = struct{}{}
	h.perIP[ip]++
	h.connects++
	h.metrics.connect()
	return c, h.visibleStateLocked(c), h.version, nil
}

func (h *Hub) visibleStateLocked(c *Client) map[string]State {
	out := make(map[string]State, len(h.state))
	for k, st := range h.state {
		if st.Archived || !c.wants(k) || levelOf(st.Visibility) > c.level {
			continue
		}
		out[k] = st
	}
	return out
}

// VisibleState is the current state for a level (for bulk updates and /changes).
func (h *Hub) VisibleState(level int) (map[string]State, int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.visibleStateLocked(&Client{level: level}), h.version
}

// Unsubscribe removes a client (its handler returned).
func (h *Hub) Unsubscribe(c *Client) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.removeLocked(c)
}

func (h *Hub) removeLocked(c *Client) {
	if _, ok := h.clients[c]; !ok {
		return
	}
	delete(h.clients, c)
	if h.perIP[c.ip]--; h.perIP[c.ip] <= 0 {
		delete(h.perIP, c.ip)
	}
	h.disconnects++
	h.metrics.disconnect(time.Since(c.since))
}

func (h *Hub) dropLocked(c *Client, reason string) {
	h.removeLocked(c)
	h.drops++
	h.metrics.dropped.WithLabelValues(reason).Inc()
	c.kill("your connection could not keep up and was closed; reconnect with Last-Event-ID to resume")
}

// closeWait bounds how long Close waits for hijacked streams to get their final event
// (http.Server.Shutdown does not track hijacked connections).
const closeWait = 3 * time.Second

// Close ends every stream with a final error event; new subscriptions are refused.
func (h *Hub) Close() {
	h.mu.Lock()
	h.closed = true
	for c := range h.clients {
		h.removeLocked(c)
		c.kill("the server is shutting down; reconnect with Last-Event-ID to resume")
	}
	h.mu.Unlock()
	done := make(chan struct{})
	go func() { h.raws.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(closeWait):
	}
}

// Stats of this replica.
type Stats struct {
	Active                       int
	ByLevel                      map[string]int
	Connects, Disconnects, Drops int64
}

// Stats reports connection counts.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	st := Stats{Active: len(h.clients), ByLevel: map[string]int{}, Connects: h.connects, Disconnects: h.disconnects, Drops: h.drops}
	for c := range h.clients {
		st.ByLevel[levelName(c.level)]++
	}
	return st
}

// RingStats reports what the in-memory ring holds.
func (h *Hub) RingStats() (size, capacity int, oldest int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.ring) > 0 {
		oldest = h.ring[h.ringHead].ID
	}
	return len(h.ring), h.opts.RingSize, oldest
}

// Metrics exposes the stream metrics to the HTTP layer.
func (h *Hub) Metrics() *Metrics { return h.metrics }

// Changes is the answer to "what changed since version N".
type Changes struct {
	Version  int64
	Complete bool
	States   []State // one per flag, current state, ordered by key
}

// ChangesSince lists the current state of every flag a caller at level may see that changed
// after since (deleted ones as deleted). When those events were pruned, every visible flag.
func (h *Hub) ChangesSince(ctx context.Context, since int64, level int) (Changes, error) {
	cur, version := h.VisibleState(level)
	complete, err := h.historyComplete(ctx, since, version)
	if err != nil {
		return Changes{}, err
	}
	out := Changes{Version: version, Complete: complete}
	keys := map[string]bool{}
	types := map[string]string{} // the last known type of each changed flag
	if !complete {
		for k := range cur {
			keys[k] = true
		}
	} else {
		events, _ := h.eventsBetween(ctx, since, version)
		for _, ev := range events {
			if ev.Level <= level || ev.PrevLevel <= level {
				keys[ev.Key] = true
				types[ev.Key] = ev.State.Type
			}
		}
	}
	for _, k := range slices.Sorted(maps.Keys(keys)) {
		if st, ok := cur[k]; ok {
			out.States = append(out.States, st)
		} else {
			out.States = append(out.States, hidden(k, types[k], version))
		}
	}
	return out, nil
}

// eventsBetween returns the events in (after, upto] from the ring or the log.
func (h *Hub) eventsBetween(ctx context.Context, after, upto int64) ([]Event, error) {
	if evs, ok := h.fromRing(after, upto); ok {
		return evs, nil
	}
	var out []Event
	for cur := after; cur < upto; {
		rows, err := h.q.FlagEventsAfter(ctx, db.FlagEventsAfterParams{ID: cur, Lim: 500})
		if err != nil || len(rows) == 0 {
			return out, err
		}
		for _, r := range rows {
			if r.ID > upto {
				return out, nil
			}
			out = append(out, eventOf(r))
			cur = r.ID
		}
	}
	return out, nil
}

// HistoryStats describes what replay can serve.
type HistoryStats struct {
	Version                int64
	RingSize, RingCapacity int
	RingOldest, LogOldest  int64
	LogEvents              int64
}

// HistoryStats reports the ring and the retained log.
func (h *Hub) HistoryStats(ctx context.Context) (HistoryStats, error) {
	st, err := h.q.FlagEventLogStats(ctx)
	if err != nil {
		return HistoryStats{}, err
	}
	size, capacity, oldest := h.RingStats()
	return HistoryStats{Version: h.Version(), RingSize: size, RingCapacity: capacity, RingOldest: oldest, LogOldest: st.OldestID, LogEvents: st.Events}, nil
}

// historyComplete reports whether every event in (after, upto] is still retained.
func (h *Hub) historyComplete(ctx context.Context, after, upto int64) (bool, error) {
	if after >= upto {
		return true, nil
	}
	if _, ok := h.fromRing(after, upto); ok {
		return true, nil
	}
	st, err := h.q.FlagEventLogStats(ctx)
	if err != nil {
		return false, err
	}
	return st.Events > 0 && st.OldestID <= after+1, nil
}
