package stream

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics carries the seed README's thirteen SSE metric names.
type Metrics struct {
	active            prometheus.Gauge
	connections       *prometheus.CounterVec
	Reconnects        *prometheus.CounterVec
	replayed          prometheus.Counter
	dropped           *prometheus.CounterVec
	broadcasts        *prometheus.CounterVec
	flagRate          *prometheus.CounterVec
	notified          prometheus.Histogram
	VersionLag        prometheus.Histogram
	Delivery          *prometheus.HistogramVec
	duration          prometheus.Histogram
	drift             prometheus.Gauge
	historyIncomplete prometheus.Counter
}

// NewMetrics registers the stream metrics.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		active: prometheus.NewGauge(prometheus.GaugeOpts{Name: "voiceassist_sse_connections_active", Help: "Current active SSE connections."}),
		connections: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "voiceassist_sse_connections_total",
			Help: "SSE connections by action (connect, disconnect)."}, []string{"action"}),
		Reconnects: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "voiceassist_sse_reconnects_total",
			Help: "SSE connections by whether they carried Last-Event-ID."}, []string{"with_last_event_id"}),
		replayed: prometheus.NewCounter(prometheus.CounterOpts{Name: "voiceassist_sse_events_replayed_total", Help: "Events replayed on reconnect."}),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "voiceassist_sse_events_dropped_total",
			Help: "Clients dropped because they could not take an event, by reason."}, []string{"reason"}),
		broadcasts: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "voiceassist_sse_flag_updates_broadcast_total",
			Help: "Flag events broadcast, by event type."}, []string{"event_type"}),
		flagRate: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "voiceassist_sse_flag_update_rate_total",
			Help: "Flag events broadcast, by flag (bounded by the number of flags)."}, []string{"flag_name"}),
		notified: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "voiceassist_sse_clients_notified",
			Help: "Clients a broadcast reached.", Buckets: prometheus.ExponentialBuckets(1, 4, 9)}),
		VersionLag: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "voiceassist_sse_version_lag",
			Help: "Events behind on reconnect (current version - Last-Event-ID).", Buckets: prometheus.ExponentialBuckets(1, 4, 9)}),
		Delivery: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "voiceassist_sse_event_delivery_latency_seconds",
			Help:    "From the change's commit time to the write to the client, by event type.",
			Buckets: []float64{.001, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}}, []string{"event_type"}),
		duration: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "voiceassist_sse_connection_duration_seconds",
			Help: "How long SSE connections stayed open.", Buckets: prometheus.ExponentialBuckets(1, 4, 10)}),
		drift: prometheus.NewGauge(prometheus.GaugeOpts{Name: "voiceassist_sse_client_version_drift",
			Help: "Largest gap between the newest event and the newest event queued to a client."}),
		historyIncomplete: prometheus.NewCounter(prometheus.CounterOpts{Name: "voiceassist_sse_history_incomplete_total",
			Help: "Reconnects whose missed events had been pruned."}),
	}
	reg.MustRegister(m.active, m.connections, m.Reconnects, m.replayed, m.dropped, m.broadcasts, m.flagRate,
		m.notified, m.VersionLag, m.Delivery, m.duration, m.drift, m.historyIncomplete)
	m.dropped.WithLabelValues("queue_full")
	m.broadcasts.WithLabelValues(typeUpdate)
	m.broadcasts.WithLabelValues(typeBulk)
	m.connections.WithLabelValues("connect")
	m.connections.WithLabelValues("disconnect")
	return m
}

func (m *Metrics) connect() {
	m.active.Inc()
	m.connections.WithLabelValues("connect").Inc()
}

func (m *Metrics) disconnect(open time.Duration) {
	m.active.Dec()
	m.connections.WithLabelValues("disconnect").Inc()
	m.duration.Observe(open.Seconds())
}

// broadcast counts one broadcast by its real event type (flag_update or flags_bulk_update)
// and every flag it carried.
func (m *Metrics) broadcast(group []Event, eventType string, notified int) {
	m.broadcasts.WithLabelValues(eventType).Inc()
	for _, ev := range group {
		m.flagRate.WithLabelValues(ev.Key).Inc()
	}
	m.notified.Observe(float64(notified))
}
