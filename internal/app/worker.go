package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/cache"
	"github.com/voiceassist/gateway/internal/config"
	"github.com/voiceassist/gateway/internal/flagstore"
	"github.com/voiceassist/gateway/internal/health"
	"github.com/voiceassist/gateway/internal/schedule"
)

// RunWorker is `voiceassist worker`: the background jobs of the gateway (document indexing,
// scheduled flag changes, the expired-session janitor) without the HTTP API, until ctx ends.
// It is the seed's Dockerfile.worker: servers then run with JOBS_ENABLED=false, or keep
// their jobs too (every job is safe on any number of processes). Only a liveness listener
// answers, on cfg.WorkerHealthAddr (GET /health), for `voiceassist healthcheck --worker`.
// ready, when not nil, is called once the jobs run, with the health listener's address
// ("" when off) (tests).
func RunWorker(ctx context.Context, cfg *config.Config, log *slog.Logger, ready func(healthAddr string), opts ...Option) error {
	a, err := newWorker(ctx, cfg, log, opts...)
	if err != nil {
		return err
	}
	defer a.Close()
	healthAddr := ""
	if cfg.WorkerHealthAddr != "off" {
		l, err := net.Listen("tcp", cfg.WorkerHealthAddr)
		if err != nil {
			return fmt.Errorf("worker: health listener on %s: %w", cfg.WorkerHealthAddr, err)
		}
		srv := &http.Server{Handler: workerHealth(), ReadHeaderTimeout: 5 * time.Second}
		go func() { _ = srv.Serve(l) }()
		defer srv.Close()
		healthAddr = l.Addr().String()
		log.Info("worker health listening", "addr", healthAddr)
	}
	log.Info("worker running", "index_workers", a.indexWorkers())
	if ready != nil {
		ready(healthAddr)
	}
	<-ctx.Done()
	log.Info("worker stopping")
	return nil
}

// workerHealth answers GET /health like the server's liveness probe.
func workerHealth() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"status":"healthy","mode":"worker"}`))
	})
	return mux
}

// newWorker opens what the jobs need, the same way New does, and starts them.
func newWorker(ctx context.Context, cfg *config.Config, log *slog.Logger, opts ...Option) (*App, error) {
	a := &App{Config: cfg, Log: log, Registry: prometheus.NewRegistry(), Health: &health.Registry{}, now: time.Now, jobs: true}
	for _, o := range opts {
		o(a)
	}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()
	if cfg.KBIndexWorkers == 0 {
		return nil, errors.New("worker: KB_INDEX_WORKERS is 0: a worker must index (set it to 1 or more)")
	}
	if err := a.openStores(ctx, &phases{log: log, last: time.Now()}); err != nil {
		return nil, err
	}
	authSvc, err := auth.NewService(cfg, a.Pool, a.Redis, log, nil)
	if err != nil {
		return nil, err
	}
	a.Auth = authSvc
	flags, err := flagstore.New(ctx, a.Pool, log, cfg.FlagPollInterval, nil)
	if err != nil {
		return nil, err
	}
	a.Flags = flags
	a.Schedule = schedule.New(a.Pool, flags, log, a.Registry, cfg.FlagPollInterval, a.now)
	a.Schedule.SetTracer(a.Tracing.Tracer())
	a.Cache = cache.New(a.Redis, cache.Config{Prefix: cfg.RedisKeyPrefix, Logger: log})
	kbs, err := a.newKB(ctx)
	if err != nil {
		return nil, err
	}
	a.KB = kbs
	a.invalidateSearchOnChange(kbs)

	bg, stop := context.WithCancel(context.Background())
	var workers sync.WaitGroup
	a.closers = append(a.closers, func() {
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		if err := kbs.Close(sctx); err != nil {
			log.Warn("kb: close", "error", err)
		}
		stop()
		workers.Wait()
	})
	if err := kbs.Start(bg); err != nil {
		return nil, err
	}
	a.Cache.Start(bg)
	a.closers = append(a.closers, a.Cache.Close)
	workers.Add(1)
	go func() { defer workers.Done(); flags.Run(bg) }()
	a.runJobs(bg, &workers)
	ok = true
	return a, nil
}
