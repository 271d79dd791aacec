package fault

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"
)

// TestFaultPostgresRestart restarts PostgreSQL (an immediate stop, like a crash) under
// write load on two replicas: /ready turns 503 and back to 200 by itself, every write that
// was acknowledged (2xx) is in the database afterwards, and a flag stream client that
// reconnects with Last-Event-ID across both replicas receives every flag event exactly once.
func TestFaultPostgresRestart(t *testing.T) {
	c := newCluster(t, map[string]string{"SSE_HEARTBEAT_SECONDS": "1", "SSE_MAX_CONNECTIONS_PER_IP_PER_MINUTE": "1000"})
	r1 := c.start(nil)
	r2 := c.start(nil)
	replicas := []*replica{r1, r2}
	ctx := context.Background()
	admin, _ := r1.login(t, adminEmail, adminPassword)
	status, body, err := do(ctx, http.MethodPost, r1.URL+"/api/admin/feature-flags", admin,
		map[string]any{"key": "ui.pg_fault", "type": "boolean", "enabled": true, "visibility": "public"})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, status, "%s", body)

	// The stream client: reads, and on every end reconnects (to the other replica) with
	// the last id it saw.
	sub := &resumer{}
	stopSub := make(chan struct{})
	subDone := make(chan struct{})
	go func() { defer close(subDone); sub.run(t, replicas, stopSub) }()
	eventually(t, 20*time.Second, func() error {
		if sub.lastID() == 0 && sub.greetings() == 0 {
			return fmt.Errorf("stream not connected yet")
		}
		return nil
	})

	// Load: conversations created (acknowledged ids kept) and flag toggles (stream events).
	var acked sync.Map
	var ok2xx, failed atomic.Int64
	statuses := sync.Map{}
	stopLoad := make(chan struct{})
	var load sync.WaitGroup
	for w := 0; w < 4; w++ {
		load.Add(1)
		go func(w int) {
			defer load.Done()
			r := replicas[w%2]
			for i := 0; ; i++ {
				select {
				case <-stopLoad:
					return
				default:
				}
				rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
				var st int
				var b []byte
				var err error
				if w == 0 {
					st, b, err = do(rctx, http.MethodPost, r.URL+"/api/admin/feature-flags/ui.pg_fault/toggle", admin, nil)
				} else {
					st, b, err = do(rctx, http.MethodPost, r.URL+"/conversations", admin, map[string]any{"title": fmt.Sprintf("w%d-%d", w, i)})
				}
				cancel()
				if err != nil {
					failed.Add(1)
					time.Sleep(20 * time.Millisecond)
					continue
				}
				n, _ := statuses.LoadOrStore(st, new(atomic.Int64))
				n.(*atomic.Int64).Add(1)
				if st/100 != 2 {
					time.Sleep(20 * time.Millisecond)
					continue
				}
				ok2xx.Add(1)
				if w != 0 {
					var env struct {
						Data struct{ ID string } `json:"data"`
					}
					require.NoError(t, json.Unmarshal(b, &env))
					acked.Store(env.Data.ID, true)
				}
			}
		}(w)
	}
	authed := openStream(t, r1, map[string]string{"Authorization": "Bearer " + admin})
	require.Equal(t, http.StatusOK, authed.Status, authed.Body)
	time.Sleep(time.Second)
	require.NoError(t, env.pg.stop("immediate"))
	// An authenticated stream whose credentials cannot be checked is told to come back, not
	// that they were revoked (issue 21 #21).
	for {
		ev, ok := authed.next(t, 15*time.Second)
		require.True(t, ok, "the authenticated stream ended without an error event")
		if ev.Name == "error" {
			require.Contains(t, ev.Data["message"], "temporarily unavailable")
			break
		}
	}
	for _, r := range replicas {
		eventually(t, 15*time.Second, func() error { return readyIs(r, http.StatusServiceUnavailable) })
	}
	time.Sleep(time.Second)
	require.NoError(t, env.pg.start())
	for _, r := range replicas {
		eventually(t, 30*time.Second, func() error { return readyIs(r, http.StatusOK) })
	}
	time.Sleep(2 * time.Second) // load goes on after the restart
	close(stopLoad)
	load.Wait()

	// Every acknowledged conversation is stored.
	conn, err := pgx.Connect(ctx, c.dbURL)
	require.NoError(t, err)
	defer conn.Close(ctx)
	var ids []string
	acked.Range(func(k, _ any) bool { ids = append(ids, k.(string)); return true })
	var stored int
	require.NoError(t, conn.QueryRow(ctx, `SELECT count(*) FROM conversations WHERE id::text = ANY($1)`, ids).Scan(&stored))
	require.Equal(t, len(ids), stored, "acknowledged conversations lost")
	require.NotEmpty(t, ids)

	// The subscriber catches up with the log: every event after its first greeting, once.
	var head int64
	require.NoError(t, conn.QueryRow(ctx, `SELECT coalesce(max(id), 0) FROM flag_events`).Scan(&head))
	eventually(t, 30*time.Second, func() error {
		if got := sub.lastID(); got < head {
			return fmt.Errorf("subscriber at %d, log at %d", got, head)
		}
		return nil
	})
	close(stopSub)
	<-subDone
	rows, err := conn.Query(ctx, `SELECT id FROM flag_events WHERE id > $1 ORDER BY id`, sub.startVersion())
	require.NoError(t, err)
	want, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	require.NoError(t, err)
	got, dups := sub.received()
	require.Empty(t, dups, "events delivered twice")
	require.Equal(t, want, got, "events missing from the stream")
	require.Zero(t, sub.staleGreetings(), "a resumed stream was greeted with a fresh snapshot")
	var dist []string
	statuses.Range(func(k, v any) bool {
		dist = append(dist, fmt.Sprintf("%d:%d", k, v.(*atomic.Int64).Load()))
		return true
	})
	sort.Strings(dist)
	for _, r := range replicas { // 500s while the database is down are worth a look: show them
		for _, l := range strings.Split(r.logs.String(), "\n") {
			if strings.Contains(l, `"msg":"request failed","status":500`) {
				t.Logf("%s: %.400s", r.name, l)
			}
		}
	}
	_, got500 := statuses.Load(http.StatusInternalServerError)
	require.False(t, got500, "a lost database connection must answer 503, not 500")
	t.Logf("writes acknowledged %d (conversations %d), transport errors %d, statuses %v; stream events %d, reconnects %d",
		ok2xx.Load(), len(ids), failed.Load(), dist, len(got), sub.reconnects())
}

func readyIs(r *replica, want int) error {
	res, err := http.Get(r.URL + "/ready")
	if err != nil {
		return err
	}
	res.Body.Close()
	if res.StatusCode != want {
		return fmt.Errorf("%s /ready %d, want %d", r.name, res.StatusCode, want)
	}
	return nil
}

// resumer is an SSE client that survives anything by reconnecting with Last-Event-ID,
// alternating replicas, and keeps every flag_update id it receives.
type resumer struct {
	mu        sync.Mutex
	last      int64
	start     int64
	ids       []int64
	seen      map[int64]int
	greet     int // connected events
	stale     int // connected events on a resumed stream (a snapshot instead of a replay)
	reconnect int
}

func (s *resumer) lastID() int64       { s.mu.Lock(); defer s.mu.Unlock(); return s.last }
func (s *resumer) startVersion() int64 { s.mu.Lock(); defer s.mu.Unlock(); return s.start }
func (s *resumer) greetings() int      { s.mu.Lock(); defer s.mu.Unlock(); return s.greet }
func (s *resumer) staleGreetings() int { s.mu.Lock(); defer s.mu.Unlock(); return s.stale }
func (s *resumer) reconnects() int     { s.mu.Lock(); defer s.mu.Unlock(); return s.reconnect }

func (s *resumer) received() ([]int64, []int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var dups []int64
	for id, n := range s.seen {
		if n > 1 {
			dups = append(dups, id)
		}
	}
	out := append([]int64(nil), s.ids...)
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out, dups
}

func (s *resumer) run(t *testing.T, replicas []*replica, stop chan struct{}) {
	s.seen = map[int64]int{}
	for n := 0; ; n++ {
		select {
		case <-stop:
			return
		default:
		}
		r := replicas[n%len(replicas)]
		h := map[string]string{"X-Forwarded-For": "203.0.113.9"}
		s.mu.Lock()
		resumed := s.greet > 0
		if resumed {
			h["Last-Event-ID"] = strconv.FormatInt(s.last, 10)
			s.reconnect++
		}
		s.mu.Unlock()
		st := openStreamQuiet(r, h)
		if st == nil {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		// Switch replicas now and then even when nothing breaks.
		switchAt := time.After(400 * time.Millisecond)
	read:
		for {
			select {
			case <-stop:
				st.Close()
				return
			case <-switchAt:
				st.Close()
				break read
			case ev, ok := <-st.Events:
				if !ok {
					break read
				}
				id, _ := strconv.ParseInt(ev.ID, 10, 64)
				s.mu.Lock()
				switch ev.Name {
				case "connected":
					if s.greet > 0 {
						s.stale++
					} else {
						s.start, s.last = id, id
					}
					s.greet++
				case "flag_update":
					s.seen[id]++
					s.ids = append(s.ids, id)
					s.last = id
				}
				s.mu.Unlock()
			}
		}
		st.Close()
	}
}
