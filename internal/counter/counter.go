// Package counter keeps per-day business counts in memory between flushes: the call sites of
// the business Prometheus counters bump a Set (a map increment under a mutex, never I/O), and
// a flusher drains it every few seconds into durable storage (daily_counters, Redis).
package counter

import (
	"sync"
	"time"

	"github.com/google/uuid"
)

// Names of the daily counters.
const (
	FlagEvaluations  = "flag_evaluations"
	RAGWithCitations = "rag_with_citations"
	RAGWithout       = "rag_without_citations"
	Requests         = "requests"
	Errors           = "errors"
	Messages         = "messages" // chat messages stored (questions and answers)
)

// maxUsersPerDay bounds the distinct users held between two flushes (memory, not accuracy:
// past it, new users of that day wait for the next flush window to be seen again).
const maxUsersPerDay = 200_000

// Key names one counter on one UTC day.
type Key struct {
	Day  time.Time // midnight UTC
	Name string
}

// Drained is what a Set held since the last Drain.
type Drained struct {
	Counts map[Key]int64
	Users  map[time.Time][]uuid.UUID // distinct active users per day
}

// Empty reports whether there is nothing to store.
func (d Drained) Empty() bool { return len(d.Counts) == 0 && len(d.Users) == 0 }

// Set holds per-day deltas since the last Drain. Every method is safe for concurrent use and
// on a nil *Set (a service built without daily counters).
type Set struct {
	now func() time.Time

	mu     sync.Mutex
	counts map[Key]int64
	users  map[time.Time]map[uuid.UUID]struct{}
}

// New returns an empty Set reading the time from now (time.Now when nil).
func New(now func() time.Time) *Set {
	if now == nil {
		now = time.Now
	}
	return &Set{now: now, counts: map[Key]int64{}, users: map[time.Time]map[uuid.UUID]struct{}{}}
}

// Day is the UTC day of t, as the counters key it.
func Day(t time.Time) time.Time {
	y, m, d := t.UTC().Date()
	return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
}

// Add adds n to today's counter name.
func (s *Set) Add(name string, n int64) {
	if s == nil || n == 0 {
		return
	}
	k := Key{Day: Day(s.now()), Name: name}
	s.mu.Lock()
	s.counts[k] += n
	s.mu.Unlock()
}

// Active marks a user as active today.
func (s *Set) Active(user uuid.UUID) {
	if s == nil || user == uuid.Nil {
		return
	}
	day := Day(s.now())
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.users[day]
	if m == nil {
		m = map[uuid.UUID]struct{}{}
		s.users[day] = m
	}
	if len(m) < maxUsersPerDay {
		m[user] = struct{}{}
	}
}

// Drain returns and forgets everything held.
func (s *Set) Drain() Drained {
	if s == nil {
		return Drained{}
	}
	s.mu.Lock()
	counts, users := s.counts, s.users
	s.counts, s.users = map[Key]int64{}, map[time.Time]map[uuid.UUID]struct{}{}
	s.mu.Unlock()
	d := Drained{Counts: counts, Users: make(map[time.Time][]uuid.UUID, len(users))}
	for day, m := range users {
		ids := make([]uuid.UUID, 0, len(m))
		for id := range m {
			ids = append(ids, id)
		}
		d.Users[day] = ids
	}
	return d
}

// Restore puts back what a failed flush could not store, so it is retried with the next.
func (s *Set) Restore(d Drained) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for k, n := range d.Counts {
		s.counts[k] += n
	}
	for day, ids := range d.Users {
		m := s.users[day]
		if m == nil {
			m = map[uuid.UUID]struct{}{}
			s.users[day] = m
		}
		for _, id := range ids {
			m[id] = struct{}{}
		}
	}
}
