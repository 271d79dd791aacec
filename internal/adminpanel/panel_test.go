package adminpanel

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/counter"
	"github.com/voiceassist/gateway/internal/dbtest"
	"github.com/voiceassist/gateway/internal/redistest"
)

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// A replica that stops renewing its state vanishes from Connections once its lease ends; the
// clock is injected, so nothing sleeps.
func TestDeadReplicaVanishes(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	rdb := redistest.Client(t, nil)
	prefix := redistest.Prefix(t, rdb)
	clk := &clock{t: time.Now()}
	ws := Socket{ConnectionID: uuid.New(), UserID: uuid.New(), StartedAt: clk.now()}
	dead := New(Config{Pool: pool, Redis: rdb, Prefix: prefix, Replica: "dead", Now: clk.now, Sources: Sources{
		SSE:        func() map[string]int { return map[string]int{"authenticated": 2} },
		WebSockets: func(int) ([]Socket, int) { return []Socket{ws}, 1 },
	}})
	alive := New(Config{Pool: pool, Redis: rdb, Prefix: prefix, Replica: "alive", Now: clk.now})
	ctx := context.Background()
	dead.publishPresence(ctx)

	c, err := alive.Connections(ctx)
	require.NoError(t, err)
	require.Len(t, c.Replicas, 2)
	require.Equal(t, 2, c.SSEStreams)
	require.Equal(t, 1, c.WebSocket.Total)
	require.Equal(t, ws.ConnectionID, c.WebSocket.Sessions[0].ConnectionID)
	require.Equal(t, "dead", c.WebSocket.Sessions[0].Replica)

	clk.add(presenceTTL + time.Second) // "dead" renews no more
	c, err = alive.Connections(ctx)
	require.NoError(t, err)
	require.Len(t, c.Replicas, 1)
	require.Equal(t, "alive", c.Replicas[0].Replica)
	require.Equal(t, 0, c.SSEStreams)
	require.Equal(t, 0, c.WebSocket.Total)
	require.Empty(t, c.WebSocket.Sessions)
}

// Flush adds each replica's deltas (upsert-add), and deltas that could not be stored are kept.
func TestFlushAddsAndKeepsOnFailure(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	rdb := redistest.Client(t, nil)
	prefix := redistest.Prefix(t, rdb)
	ctx := context.Background()
	a, b := counter.New(nil), counter.New(nil)
	pa := New(Config{Pool: pool, Redis: rdb, Prefix: prefix, Daily: a})
	pb := New(Config{Pool: pool, Redis: rdb, Prefix: prefix, Daily: b})
	a.Add(counter.FlagEvaluations, 3)
	b.Add(counter.FlagEvaluations, 4)
	u := uuid.New()
	a.Active(u)
	b.Active(u)
	require.NoError(t, pa.Flush(ctx))
	require.NoError(t, pb.Flush(ctx))
	m, err := pa.Metrics(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, int64(7), m.Series[0].FlagEvaluations)
	require.Equal(t, int64(1), m.Series[0].ActiveUsers, "one user on two replicas")

	a.Add(counter.Errors, 1)
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	require.Error(t, pa.Flush(cctx))
	require.Equal(t, int64(1), a.Drain().Counts[counter.Key{Day: counter.Day(time.Now()), Name: counter.Errors}], "kept for the next flush")

	_, err = pa.Metrics(ctx, 0)
	require.Error(t, err)
	_, err = pa.Metrics(ctx, 91)
	require.Error(t, err)
}
