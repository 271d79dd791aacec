package cache

import (
	"maps"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// LayerStats are the counters of one layer since New.
type LayerStats struct {
	Layer     string // "l1" or "l2"
	Hits      int64
	Misses    int64 // including lookups that failed on a Redis error
	Sets      int64
	Evictions int64 // l1 only: entries pushed out by the size bound (Redis evicts on its own)
	Errors    int64 // l2 only: failed Redis commands, none of which failed a caller
	Entries   int64 // l1 only: Redis is shared and counting it would take a SCAN
	Bytes     int64 // l1 only: bytes of keys and values
	HitRate   float64
	// Namespaces breaks Hits, Misses, Sets and Evictions down by namespace.
	Namespaces map[string]NamespaceStats
}

// NamespaceStats are one namespace's counters in one layer.
type NamespaceStats struct {
	Hits, Misses, Sets, Evictions int64
}

type counters struct{ hits, misses, sets, evictions atomic.Int64 }

func (c *counters) load() NamespaceStats {
	return NamespaceStats{Hits: c.hits.Load(), Misses: c.misses.Load(), Sets: c.sets.Load(), Evictions: c.evictions.Load()}
}

type nsCounters struct{ l1, l2 counters }

type stats struct {
	mu       sync.RWMutex
	byNS     map[string]*nsCounters // keys are valid namespaces, which code fixes
	l2Errors atomic.Int64
}

func (s *stats) ns(ns string) *nsCounters {
	s.mu.RLock()
	c := s.byNS[ns]
	s.mu.RUnlock()
	if c != nil {
		return c
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if c = s.byNS[ns]; c == nil {
		c = &nsCounters{}
		s.byNS[ns] = c
	}
	return c
}

func (s *stats) layer(name string, pick func(*nsCounters) *counters) LayerStats {
	s.mu.RLock()
	defer s.mu.RUnlock()
	ls := LayerStats{Layer: name, Namespaces: make(map[string]NamespaceStats, len(s.byNS))}
	for ns, c := range s.byNS {
		n := pick(c).load()
		ls.Namespaces[ns] = n
		ls.Hits += n.Hits
		ls.Misses += n.Misses
		ls.Sets += n.Sets
		ls.Evictions += n.Evictions
	}
	if ls.Hits+ls.Misses > 0 {
		ls.HitRate = float64(ls.Hits) / float64(ls.Hits+ls.Misses)
	}
	return ls
}

// Stats returns the counters of each layer in use: "l1" unless disabled, "l2" when
// there is Redis.
func (c *Cache) Stats() []LayerStats {
	var out []LayerStats
	if c.l1 != nil {
		ls := c.stats.layer("l1", func(n *nsCounters) *counters { return &n.l1 })
		ls.Entries, ls.Bytes = c.l1.size()
		out = append(out, ls)
	}
	if c.rdb != nil {
		ls := c.stats.layer("l2", func(n *nsCounters) *counters { return &n.l2 })
		ls.Errors = c.stats.l2Errors.Load()
		out = append(out, ls)
	}
	return out
}

// Collectors returns the cache's Prometheus metrics, read from Stats at scrape time:
// voiceassist_cache_{hits,misses,sets}_total{layer,namespace},
// voiceassist_cache_evictions_total{layer,namespace} (l1),
// voiceassist_cache_errors_total{layer} (l2) and voiceassist_cache_{entries,bytes}{layer} (l1).
// Namespaces are fixed by code, which bounds the label values. Register them once
// per registry (one Cache per process).
func (c *Cache) Collectors() []prometheus.Collector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc("voiceassist_cache_"+name, help, labels, nil)
	}
	return []prometheus.Collector{&collector{c: c,
		hits:      d("hits_total", "Cache lookups answered by the layer.", "layer", "namespace"),
		misses:    d("misses_total", "Cache lookups the layer could not answer (Redis errors included).", "layer", "namespace"),
		sets:      d("sets_total", "Values stored in the layer.", "layer", "namespace"),
		evictions: d("evictions_total", "Entries evicted from the in-process layer by its size bound.", "layer", "namespace"),
		errors:    d("errors_total", "Failed Redis commands (the cache degrades to a miss).", "layer"),
		entries:   d("entries", "Entries in the in-process layer.", "layer"),
		bytes:     d("bytes", "Bytes of keys and values in the in-process layer.", "layer"),
	}}
}

type collector struct {
	c                                                     *Cache
	hits, misses, sets, evictions, errors, entries, bytes *prometheus.Desc
}

func (m *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{m.hits, m.misses, m.sets, m.evictions, m.errors, m.entries, m.bytes} {
		ch <- d
	}
}

func (m *collector) Collect(ch chan<- prometheus.Metric) {
	metric := func(d *prometheus.Desc, t prometheus.ValueType, v int64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, t, float64(v), labels...)
	}
	for _, ls := range m.c.Stats() {
		for _, ns := range slices.Sorted(maps.Keys(ls.Namespaces)) {
			n := ls.Namespaces[ns]
			metric(m.hits, prometheus.CounterValue, n.Hits, ls.Layer, ns)
			metric(m.misses, prometheus.CounterValue, n.Misses, ls.Layer, ns)
			metric(m.sets, prometheus.CounterValue, n.Sets, ls.Layer, ns)
			if ls.Layer == "l1" {
				metric(m.evictions, prometheus.CounterValue, n.Evictions, ls.Layer, ns)
			}
		}
		if ls.Layer == "l1" {
			metric(m.entries, prometheus.GaugeValue, ls.Entries, ls.Layer)
			metric(m.bytes, prometheus.GaugeValue, ls.Bytes, ls.Layer)
		} else {
			metric(m.errors, prometheus.CounterValue, ls.Errors, ls.Layer)
		}
	}
}
