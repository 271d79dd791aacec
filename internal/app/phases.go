package app

import (
	"log/slog"
	"time"
)

// phases logs how long each start-up step took, at debug level (LOG_LEVEL=debug): the trace
// behind docs/benchmarks.md § "Start-up and idle memory".
type phases struct {
	log  *slog.Logger
	last time.Time
}

func (p *phases) done(name string) {
	now := time.Now()
	p.log.Debug("start-up phase", "phase", name, "ms", float64(now.Sub(p.last).Microseconds())/1000)
	p.last = now
}
