package cache

import (
	"container/list"
	"sync"
	"time"
)

// entry is one L1 value. id is the logical "ns:key" (key in its stored form, see
// storedKey) that Invalidate patterns are matched against.
type entry struct {
	id, ns  string
	gen     int64
	val     []byte
	expires time.Time
}

func (e *entry) size() int64 { return int64(len(e.id) + len(e.val)) }

// lru is the in-process layer: a least-recently-used list bounded by the bytes of
// its keys and values (Go's per-entry overhead is not counted), with per-entry
// expiry. It is safe for concurrent use.
type lru struct {
	mu      sync.Mutex
	max     int64
	bytes   int64
	order   *list.List // of *entry, most recently used first
	items   map[string]*list.Element
	now     func() time.Time
	evicted func(ns string)

	// live says whether entries may be served and stored: with Redis, only while
	// this replica hears invalidations (see Cache.Subscribed).
	live bool
	// epoch changes with every removal and every change of live. A fill records the
	// epoch before it reads its value and is dropped if the epoch moved meanwhile, so
	// a value read just before an invalidation cannot be stored just after it.
	epoch uint64
}

func newLRU(max int64, now func() time.Time, evicted func(ns string)) *lru {
	return &lru{max: max, order: list.New(), items: map[string]*list.Element{}, now: now, evicted: evicted}
}

// begin returns the epoch to pass to set, and whether L1 is in use at all. It is
// safe on a nil (disabled) lru.
func (l *lru) begin() (uint64, bool) {
	if l == nil {
		return 0, false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.epoch, l.live
}

// get returns the value of id if it is live, unexpired and of generation gen.
func (l *lru) get(id string, gen int64) ([]byte, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	el, ok := l.items[id]
	if !ok || !l.live {
		return nil, false
	}
	e := el.Value.(*entry)
	if e.gen != gen || !l.now().Before(e.expires) {
		l.unlink(el)
		return nil, false
	}
	l.order.MoveToFront(el)
	return e.val, true
}

// set stores e (replacing any entry with its id) unless the epoch moved since
// begin, then evicts least recently used entries down to the size bound. An
// entry larger than the whole bound is not stored. It reports whether e was stored.
func (l *lru) set(e *entry, ttl time.Duration, epoch uint64) bool {
	if e.size() > l.max || ttl <= 0 {
		return false
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.live || epoch != l.epoch {
		return false
	}
	e.expires = l.now().Add(ttl)
	if el, ok := l.items[e.id]; ok {
		l.unlink(el)
	}
	l.items[e.id] = l.order.PushFront(e)
	l.bytes += e.size()
	for l.bytes > l.max {
		el := l.order.Back()
		l.unlink(el)
		l.evicted(el.Value.(*entry).ns)
	}
	return true
}

// remove drops every entry for which drop is true and returns how many it dropped.
// It moves the epoch even when nothing matched, to stop racing fills.
func (l *lru) remove(drop func(*entry) bool) int64 {
	if l == nil {
		return 0
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.epoch++
	var n int64
	for el := l.order.Front(); el != nil; {
		next := el.Next()
		if drop(el.Value.(*entry)) {
			l.unlink(el)
			n++
		}
		el = next
	}
	return n
}

// setLive empties the cache and turns it on or off.
func (l *lru) setLive(live bool) {
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.live = live
	l.epoch++
	l.order.Init()
	clear(l.items)
	l.bytes = 0
}

func (l *lru) size() (entries, bytes int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return int64(len(l.items)), l.bytes
}

func (l *lru) unlink(el *list.Element) {
	e := l.order.Remove(el).(*entry)
	delete(l.items, e.id)
	l.bytes -= e.size()
}
