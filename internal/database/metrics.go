package database

import (
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
)

// PoolCollector exposes pgxpool statistics; it reads pool.Stat() at scrape time.
type PoolCollector struct {
	pool  *pgxpool.Pool
	descs map[string]*prometheus.Desc
}

func NewPoolCollector(pool *pgxpool.Pool) *PoolCollector {
	d := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc("voiceassist_db_pool_"+name, help, nil, nil)
	}
	return &PoolCollector{pool: pool, descs: map[string]*prometheus.Desc{
		"max":          d("max_connections", "Maximum size of the pool."),
		"total":        d("connections", "Connections open (idle, in use and being built)."),
		"acquired":     d("acquired_connections", "Connections in use."),
		"idle":         d("idle_connections", "Idle connections."),
		"acquires":     d("acquires_total", "Successful acquires."),
		"empty":        d("empty_acquires_total", "Acquires that had to wait for a connection."),
		"wait_seconds": d("acquire_wait_seconds_total", "Time spent waiting for a connection."),
		"canceled":     d("canceled_acquires_total", "Acquires canceled by their context."),
	}}
}

func (c *PoolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range c.descs {
		ch <- d
	}
}

func (c *PoolCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.pool.Stat()
	g := func(k string, v float64) { ch <- prometheus.MustNewConstMetric(c.descs[k], prometheus.GaugeValue, v) }
	n := func(k string, v float64) { ch <- prometheus.MustNewConstMetric(c.descs[k], prometheus.CounterValue, v) }
	g("max", float64(s.MaxConns()))
	g("total", float64(s.TotalConns()))
	g("acquired", float64(s.AcquiredConns()))
	g("idle", float64(s.IdleConns()))
	n("acquires", float64(s.AcquireCount()))
	n("empty", float64(s.EmptyAcquireCount()))
	n("wait_seconds", s.AcquireDuration().Seconds())
	n("canceled", float64(s.CanceledAcquireCount()))
}
