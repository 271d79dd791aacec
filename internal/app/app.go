// Package app wires configuration, storage, services and the HTTP server together. The
// binary and the black-box tests build the gateway through the same New, so what is tested
// is what runs.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/redis/go-redis/v9"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/handlers"
	"github.com/voiceassist/gateway/internal/adminpanel"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/buildinfo"
	"github.com/voiceassist/gateway/internal/cache"
	"github.com/voiceassist/gateway/internal/chat"
	"github.com/voiceassist/gateway/internal/config"
	"github.com/voiceassist/gateway/internal/conversation"
	"github.com/voiceassist/gateway/internal/counter"
	"github.com/voiceassist/gateway/internal/database"
	"github.com/voiceassist/gateway/internal/demo"
	"github.com/voiceassist/gateway/internal/docs"
	"github.com/voiceassist/gateway/internal/embed"
	"github.com/voiceassist/gateway/internal/flagstore"
	"github.com/voiceassist/gateway/internal/health"
	"github.com/voiceassist/gateway/internal/httpserver"
	"github.com/voiceassist/gateway/internal/kb"
	"github.com/voiceassist/gateway/internal/ner"
	"github.com/voiceassist/gateway/internal/patient"
	"github.com/voiceassist/gateway/internal/phi"
	"github.com/voiceassist/gateway/internal/ratelimit"
	"github.com/voiceassist/gateway/internal/realtime"
	"github.com/voiceassist/gateway/internal/schedule"
	"github.com/voiceassist/gateway/internal/stream"
	"github.com/voiceassist/gateway/internal/telemetry"
	"github.com/voiceassist/gateway/internal/voice"
	"github.com/voiceassist/gateway/internal/voice/session"
	"github.com/voiceassist/gateway/openapi"
)

// App is one running gateway instance.
type App struct {
	Config   *config.Config
	Log      *slog.Logger
	Pool     *pgxpool.Pool
	Redis    *redis.Client
	Echo     *echo.Echo
	Registry *prometheus.Registry
	Auth     *auth.Service
	Flags    *flagstore.Store
	Stream   *stream.Hub
	Schedule *schedule.Service
	KB       *kb.Service
	Cache    *cache.Cache

	Conversations *conversation.Service
	Realtime      *realtime.Hub
	Voice         *voice.Service
	VoiceSessions *session.Hub
	Patients      *patient.Service
	// Panel is the admin panel: dashboard, daily counters (Panel.Flush stores them now) and
	// the admin event socket.
	Panel *adminpanel.Service
	// Health holds what real calls said of providers that are not probed (voice, models);
	// /ready, /api/voice/status and the admin summary read it.
	Health *health.Registry
	// Tracing is the OpenTelemetry tracer provider (a no-op one without an OTLP endpoint).
	Tracing *telemetry.Tracing
	// MetricsAddr is where the separate metrics listener answers (METRICS_ADDR), if any.
	MetricsAddr string

	jobs       bool             // this process runs the background jobs (JOBS_ENABLED, or a worker)
	now        func() time.Time // the clock of scheduled changes (tests inject one)
	voiceClock session.Clock    // the clock of voice session timers (tests inject one)
	embedder   embed.Embedder   // replaces the configured one when set (tests)
	kbRetry    time.Duration

	server  *http.Server
	closeMu sync.Mutex
	closers []func()

	// stopStreams ends the chat answers still streaming at shutdown, with an error event.
	stopStreams context.CancelFunc
	// extractor finds clinical entities (medical AI and knowledge-base chunks).
	extractor *ner.Extractor
}

// New connects to PostgreSQL (and migrates when configured), prepares Redis (connected
// lazily: the gateway starts while Redis is down and reports it in /ready) and builds the
// HTTP handler.
func New(ctx context.Context, cfg *config.Config, log *slog.Logger, opts ...Option) (*App, error) {
	ph := &phases{log: log, last: time.Now()}
	a := &App{Config: cfg, Log: log, Registry: prometheus.NewRegistry(), Health: &health.Registry{}, now: time.Now}
	for _, o := range opts {
		o(a)
	}
	// The embedded contract takes tens of milliseconds to parse (openapi.Load): do it while the
	// database and Redis are being set up (start-up time, issue 17). The channel is buffered,
	// so an early return leaks nothing.
	specc := make(chan specResult, 1)
	go func() {
		start := time.Now()
		s, err := openapi.Load()
		log.Debug("start-up phase", "phase", "contract (beside the stores)", "ms", float64(time.Since(start).Microseconds())/1000)
		specc <- specResult{s, err}
	}()
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()

	a.jobs = cfg.JobsEnabled
	if err := a.openStores(ctx, ph); err != nil {
		return nil, err
	}
	ph.done("stores and migrations")
	pool := a.Pool

	probes := map[string]health.Probe{
		"postgres": pool.Ping,
		"redis":    func(ctx context.Context) error { return a.Redis.Ping(ctx).Err() },
		"qdrant":   nil,
	}

	a.Registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		database.NewPoolCollector(pool),
		ratelimit.Bypassed,
	)

	authSvc, err := auth.NewService(cfg, pool, a.Redis, log, nil)
	if err != nil {
		return nil, err
	}
	a.Auth = authSvc
	ph.done("auth")
	biz := telemetry.NewBusiness(a.Registry)
	// Per-day counts for the admin panel, bumped where the business metrics are and stored by
	// the panel every few seconds.
	daily := counter.New(nil)
	biz.Daily = daily
	authSvc.Metrics = biz
	// Requests reload revocations themselves when Redis lost them; this only warms it.
	if err := authSvc.LoadRevocations(ctx); err != nil {
		log.Warn("load revocations into redis (retried on the first authenticated request)", "error", err)
	}
	ph.done("revocations")
	if cfg.AdminEmail != "" {
		created, err := authSvc.Bootstrap(ctx, cfg.AdminEmail, cfg.AdminPassword)
		if err != nil {
			return nil, fmt.Errorf("app: bootstrap superadmin ADMIN_EMAIL: %w", err)
		}
		if created {
			log.Info("created the bootstrap superadmin", "email", auth.NormalizeEmail(cfg.AdminEmail))
		}
	}
	ph.done("bootstrap admin")

	flags, err := flagstore.New(ctx, pool, log, cfg.FlagPollInterval, nil)
	if err != nil {
		return nil, err
	}
	a.Flags = flags
	ph.done("flag snapshot")
	if cfg.VoiceFlagsCreate {
		if n, err := voice.EnsureFlags(ctx, flags, audit.Actor{Email: "system"}); err != nil {
			return nil, fmt.Errorf("app: voice flags: %w", err)
		} else if n > 0 {
			log.Info("created the missing voice feature flags (disabled)", "count", n)
		}
	}
	ph.done("voice flags")

	hub, err := stream.New(ctx, pool, flags, log, stream.NewMetrics(a.Registry), stream.Options{
		Heartbeat: cfg.SSEHeartbeat, Poll: cfg.FlagPollInterval,
		RetentionCount: cfg.FlagEventRetentionCount, RetentionMaxAge: cfg.FlagEventRetention,
		MaxStreams: cfg.SSEMaxStreams, MaxStreamsPerIP: cfg.SSEMaxStreamsPerIP, QueueSize: cfg.SSEClientQueue,
	})
	if err != nil {
		return nil, err
	}
	a.Stream = hub
	ph.done("stream")

	sched := schedule.New(pool, flags, log, a.Registry, cfg.FlagPollInterval, a.now)
	sched.SetTracer(a.Tracing.Tracer())
	a.Schedule = sched

	a.Cache = cache.New(a.Redis, cache.Config{Prefix: cfg.RedisKeyPrefix, Logger: log})
	a.Registry.MustRegister(a.Cache.Collectors()...)
	if a.extractor, err = newExtractor(cfg); err != nil {
		return nil, err
	}
	ph.done("extractor")
	kbs, err := a.newKB(ctx)
	if err != nil {
		return nil, err
	}
	a.KB = kbs
	ph.done("knowledge base")
	kbs.SetMetrics(biz)
	telemetry.KBGauges(a.Registry, kbs.CountByStatus, 5*time.Second, log)
	if cfg.QdrantHost != "" {
		probes["qdrant"] = kbs.Ping
	}
	probes["search_index"] = kbs.IndexReady
	a.invalidateSearchOnChange(kbs)
	model, err := newChatModel(cfg)
	if err != nil {
		return nil, err
	}
	retriever := newRetriever(kbs, a.Cache)
	a.Conversations = conversation.New(pool, chat.NewPipeline(model, retriever, chat.Options{Stage: biz.Stage, Observe: a.observeModel}))
	a.Conversations.Metrics = biz
	a.Realtime = a.newRealtime()
	a.Registry.MustRegister(a.Realtime.Collectors()...)
	ph.done("chat and realtime")

	bg, stop := context.WithCancel(context.Background())
	var workers sync.WaitGroup
	// The knowledge base's jobs start beside serving: River's Start pings, initialises its
	// driver and starts its notifier and producers, ~50 ms that flags need not wait for
	// (issue 17). Should it fail, indexing waits for a restart or a worker, as with
	// JOBS_ENABLED=false, and the log says why (a database failure shows in /ready too).
	kbStarted := make(chan struct{})
	go func() {
		defer close(kbStarted)
		if err := kbs.Start(bg); err != nil {
			log.Error("kb: start the indexing jobs (documents stay queued until a restart or a worker)", "error", err)
		}
	}()
	a.closers = append(a.closers, func() {
		hub.Close()
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		<-kbStarted // stopping River before its Start returned would leave it running
		if err := kbs.Close(sctx); err != nil {
			log.Warn("kb: close", "error", err)
		}
		stop()
		workers.Wait()
	}) // before the pools close
	a.Cache.Start(bg)
	a.closers = append(a.closers, a.Cache.Close)
	a.Realtime.Start(bg)
	workers.Add(2)
	go func() { defer workers.Done(); flags.Run(bg) }()
	go func() { defer workers.Done(); hub.Run(bg) }()
	if a.jobs {
		a.runJobs(bg, &workers)
	} else {
		log.Info("background jobs are off (JOBS_ENABLED=false): a `voiceassist worker` runs indexing and scheduled changes")
	}
	ph.done("background work")

	sr := <-specc
	if sr.err != nil {
		return nil, fmt.Errorf("app: load embedded spec: %w", sr.err)
	}
	spec := sr.spec
	ph.done("contract")
	specJSON := sync.OnceValues(func() ([]byte, error) { return json.Marshal(spec) })
	flagM := flagstore.NewMetrics(a.Registry)
	flagM.Daily = daily
	stopping, stopStreams := context.WithCancel(context.Background())
	a.stopStreams = stopStreams
	h := &handlers.Server{
		Stopping: stopping,
		Config:   cfg,
		Log:      log,
		Pool:     pool,
		Redis:    a.Redis,
		Auth:     authSvc,
		Flags:    flags,
		FlagM:    flagM,
		Stream:   hub,
		Schedule: sched,
		KB:       kbs,
		Cache:    a.Cache,
		Chats:    a.Conversations,
		Realtime: a.Realtime,
		Limiter:  ratelimit.New(a.Redis, cfg.RedisKeyPrefix),
		Ready:    &health.Checker{Probes: probes, Timeout: 2 * time.Second},
		Gatherer: a.Registry,
		SpecJSON: specJSON,
		SpecYAML: openapi.YAML,
		Title:    spec.Info.Title,

		APIVersion: spec.Info.Version,
	}
	h.CacheAdmin = cache.NewAdmin(a.Cache, pool)
	a.Voice = newVoice(cfg, pool, h.Limiter, a.Conversations, a.Registry, a.Health, log)
	h.Voice = a.Voice
	a.Patients = newPatients(pool)
	h.Patients = a.Patients
	h.PHI = phi.NewService(h.Limiter, cfg.PHIPerMinute)
	// Feedback comments are stored, so PHI_POLICY applies whatever the providers are.
	switches := &voice.Switches{Flags: flags, Metrics: flagM}
	h.VoiceFeedback = &voice.FeedbackService{Q: db.New(pool), Switches: switches, Guard: phi.NewGuard(cfg.PHIPolicy), Now: a.now}
	h.VoiceMemory = &voice.MemoryService{Pool: pool, Q: db.New(pool), Switches: switches, NER: a.extractor, Redis: a.Redis}
	h.VoiceAnalytics = &voice.AnalyticsService{Q: db.New(pool), Redis: a.Redis, Prefix: cfg.RedisKeyPrefix, Now: a.now}
	h.MedAI = newMedAI(cfg, h.Limiter, a.extractor, kbs, retriever, model)
	// Quotas on what costs money (issue 21 #4, #15); the token quota applies only to a paid model.
	chatLimits := conversation.Limits{Limiter: h.Limiter, Redis: a.Redis, Prefix: cfg.RedisKeyPrefix,
		AnswersPerMinute: cfg.ChatPerMinute, MaxStreams: cfg.ChatMaxStreamsPerUser, MaxConversations: cfg.MaxConversationsPerUser}
	if cfg.UseOpenAI(cfg.ChatProvider) {
		chatLimits.DailyTokens = cfg.ChatDailyTokenQuota
	}
	a.Conversations.SetLimits(chatLimits)
	kbs.SetSearchLimit(h.Limiter, cfg.KBSearchPerMinute)
	probes["voice"] = a.Voice.Probe
	h.Dictation = newDictation(pool, a.Voice, a.Conversations, a.Patients)
	a.VoiceSessions = a.newVoiceSessions(h.Dictation, h.VoiceMemory, switches, h.VoiceAnalytics)
	h.VoiceMemory.BufferKey = a.VoiceSessions.BufferKey
	a.Registry.MustRegister(a.VoiceSessions.Collectors()...)
	h.VoiceSessions = a.VoiceSessions
	h.Ready.Optional = map[string]bool{"qdrant": true, "voice": true}
	a.Panel = a.newPanel(daily, h.Ready)
	h.Panel = a.Panel
	workers.Add(1)
	go func() { defer workers.Done(); a.Panel.Run(bg) }()
	ph.done("services")
	a.Echo = httpserver.New(httpserver.Options{
		Config:   cfg,
		Logger:   log,
		Spec:     spec,
		Registry: a.Registry,
		DocsCSP:  docs.CSP,
		Demo:     httpserver.DemoPage{Path: demo.PagePath, CSP: demo.CSP, PermissionsPolicy: demo.PermissionsPolicy},
		Register: h.Mount,
		Tracing:  a.Tracing,
		WithClient: func(ctx context.Context, id, ip, ua string) context.Context {
			return audit.WithRequest(ctx, audit.Request{ID: id, IP: ip, UserAgent: ua})
		},
		Authenticate: authSvc.Authenticate,
		WithPrincipal: func(ctx context.Context, p any) context.Context {
			if pr, ok := p.(*auth.Principal); ok {
				daily.Active(pr.UserID) // daily active users
			}
			return auth.WithPrincipal(ctx, p)
		},
		Daily: daily,
	})
	ph.done("http server")
	if cfg.MetricsEnabled && cfg.MetricsAddr != "" {
		if err := a.serveMetrics(cfg.MetricsAddr); err != nil {
			return nil, err
		}
	}
	ok = true
	return a, nil
}

// openStores connects to PostgreSQL (migrating when configured) and prepares Redis.
func (a *App) openStores(ctx context.Context, ph *phases) error {
	cfg := a.Config
	tracing, err := telemetry.New(ctx, telemetry.Settings{Endpoint: cfg.OTLPEndpoint, Protocol: cfg.OTLPProtocol,
		ServiceName: cfg.OTelServiceName, ServiceVersion: buildinfo.Version, Sampler: cfg.OTelSampler, SamplerArg: cfg.OTelSamplerArg})
	if err != nil {
		return err
	}
	a.Tracing = tracing
	log := a.Log
	a.closers = append(a.closers, func() { // closed last: flushes the spans of the shutdown too
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := tracing.Shutdown(sctx); err != nil {
			log.Warn("telemetry: flush traces", "error", err)
		}
	})

	ph.done("tracing")
	pool, err := database.Open(ctx, cfg.DatabaseURL, cfg.DatabaseMaxConns)
	if err != nil {
		return err
	}
	ph.done("database pool")
	a.Pool = pool
	a.closers = append(a.closers, pool.Close)
	if cfg.DatabaseAutoMigrate {
		if err := database.Migrate(ctx, pool, "up", io.Discard); err != nil {
			return err
		}
		ph.done("migrations")
	}
	ropts, err := redis.ParseURL(cfg.RedisURL)
	if err != nil {
		return fmt.Errorf("app: REDIS_URL: %w", err)
	}
	ropts.DialTimeout, ropts.ReadTimeout, ropts.WriteTimeout = 2*time.Second, 2*time.Second, 2*time.Second
	redis.SetLogger(redisLogger{a.Log})
	a.Redis = redis.NewClient(ropts)
	a.Redis.AddHook(telemetry.RedisHook{})
	a.closers = append(a.closers, func() { _ = a.Redis.Close() })
	return nil
}

// runJobs starts the background jobs that are not part of serving requests: scheduled flag
// changes and the expired-session janitor. (Indexing runs in the knowledge base's own
// workers, which exist only when a.jobs is set: see indexWorkers.) Each is safe on any
// number of processes at once: the scheduler claims rows, the janitor deletes idempotently.
func (a *App) runJobs(bg context.Context, workers *sync.WaitGroup) {
	workers.Add(2)
	go func() { defer workers.Done(); a.Schedule.Run(bg) }()
	go func() { defer workers.Done(); a.Auth.RunJanitor(bg, auth.JanitorInterval) }()
}

// indexWorkers is how many indexing jobs this process runs at once: none when jobs are off
// (its knowledge base only queues them).
func (a *App) indexWorkers() int {
	if !a.jobs {
		return 0
	}
	return a.Config.KBIndexWorkers
}

// invalidateSearchOnChange makes every replica drop cached search results when the process
// that indexed or deleted a document (a server or a worker) commits it.
func (a *App) invalidateSearchOnChange(kbs *kb.Service) {
	kbs.OnChange(func(ctx context.Context) {
		if _, err := a.Cache.Bump(ctx, nsSearch); err != nil {
			a.Log.Warn("cache: invalidate search results after a knowledge-base change", "error", err)
		}
	})
}

type specResult struct {
	spec *openapi3.T
	err  error
}

// Option adjusts an App before it starts.
type Option func(*App)

// WithClock sets the clock scheduled changes are due by (tests move it instead of waiting).
func WithClock(now func() time.Time) Option { return func(a *App) { a.now = now } }

// serveMetrics starts the separate /metrics listener (METRICS_ADDR); Close stops it.
func (a *App) serveMetrics(addr string) error {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("app: metrics listener on %s: %w", addr, err)
	}
	a.MetricsAddr = l.Addr().String()
	srv := httpserver.MetricsServer(a.Registry, a.Log)
	go func() { _ = srv.Serve(l) }()
	a.closers = append(a.closers, func() { _ = srv.Close() })
	a.Log.Info("metrics listening", "addr", a.MetricsAddr)
	return nil
}

// Serve answers on l until Shutdown.
func (a *App) Serve(l net.Listener) error {
	a.server = httpserver.HTTPServer(a.Echo, a.Log)
	err := a.server.Serve(l)
	if errors.Is(err, http.ErrServerClosed) {
		return nil
	}
	return err
}

// streamStopMargin is how long before the shutdown grace ends running chat answers are
// stopped: time to write their error event and return.
const streamStopMargin = 2 * time.Second

// Shutdown stops accepting connections and waits for requests in flight, then closes
// the pools.
func (a *App) Shutdown(ctx context.Context) error {
	var err error
	if a.Stream != nil {
		a.Stream.Close() // streams never end on their own: end them first, with a final event
	}
	if a.Realtime != nil {
		a.Realtime.Close() // hijacked WebSockets are not tracked by http.Server.Shutdown
	}
	if a.VoiceSessions != nil {
		a.VoiceSessions.Close() // running turns store what they said
	}
	if a.stopStreams != nil {
		// Chat answers may finish during the grace period; those still running shortly before
		// it ends are stopped, so that their clients get an error event rather than a cut.
		wait := time.Duration(0)
		if dl, ok := ctx.Deadline(); ok {
			wait = max(time.Until(dl)-streamStopMargin, 0)
		}
		t := time.AfterFunc(wait, a.stopStreams)
		defer t.Stop()
	}
	if a.server != nil {
		err = a.server.Shutdown(ctx)
	}
	a.Close()
	return err
}

// Close releases connections; safe to call more than once.
func (a *App) Close() {
	a.closeMu.Lock()
	defer a.closeMu.Unlock()
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
	a.closers = nil
}

// redisLogger sends go-redis's internal messages (dial retries while Redis is down) to the
// structured log instead of stderr.
type redisLogger struct{ log *slog.Logger }

func (l redisLogger) Printf(ctx context.Context, format string, v ...any) {
	l.log.DebugContext(ctx, "redis: "+fmt.Sprintf(format, v...))
}

// observeModel records how a chat model call went in the health registry ("model": the admin
// panel's dependency list). A refusal before the call (the PHI policy, a quota) says nothing
// about the model and is not recorded; the reason is generic, never the provider's message.
func (a *App) observeModel(latency time.Duration, err error) {
	var ae *apierr.Error
	if errors.As(err, &ae) && ae.Status < 500 {
		return
	}
	reason := ""
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		reason = "timeout"
	case err != nil:
		reason = "error"
	}
	a.Health.Observe("model", latency, reason)
}
