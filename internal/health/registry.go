package health

import (
	"sync"
	"time"
)

// Observation is the last outcome seen of a component that is not probed actively (model and
// voice providers): their health is what their last real call said.
type Observation struct {
	OK      bool
	Latency time.Duration
	Err     string // generic reason, never a provider's message (it may echo input)
	At      time.Time
}

// Registry holds the latest observation per component. /ready, /api/voice/status and the
// admin summary read the same registry, so they never disagree. Safe for concurrent use.
type Registry struct {
	mu sync.Mutex
	m  map[string]Observation
}

// Observe records the outcome of one call; reason is empty on success.
func (r *Registry) Observe(name string, latency time.Duration, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]Observation{}
	}
	r.m[name] = Observation{OK: reason == "", Latency: latency, Err: reason, At: time.Now()}
}

// Get returns the last observation of name, if any.
func (r *Registry) Get(name string) (Observation, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	o, ok := r.m[name]
	return o, ok
}
