// Package config loads the gateway configuration from environment variables.
//
// Every variable is declared once, in the specs table below. That table drives
// parsing, defaults, validation, [Vars] (used for documentation and to check
// .env.example) and [Config.Redacted].
//
// An empty variable is treated as unset and takes its default. [Load] reports
// every bad variable at once: the returned error is an [errors.Join] of
// [*VarError] values, one per variable, in table order.
package config

import (
	"crypto/rand"
	"errors"
	"fmt"
	"math"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Environments accepted by ENVIRONMENT.
const (
	EnvDevelopment = "development"
	EnvTest        = "test"
	EnvStaging     = "staging"
	EnvProduction  = "production"
)

var environments = []string{EnvDevelopment, EnvTest, EnvStaging, EnvProduction}

// MinJWTSecretBytes is the minimum length of JWT_SECRET_KEY.
const MinJWTSecretBytes = 32

// Config is the parsed and validated gateway configuration.
type Config struct {
	// Server
	Environment     string
	Host            string
	Port            int
	RequestTimeout  time.Duration
	ShutdownTimeout time.Duration
	MaxBodyBytes    int64
	MaxUploadBytes  int64
	DataDir         string
	// JobsEnabled runs the background jobs (indexing, scheduled flag changes, cleanup) in
	// serve; WorkerHealthAddr is the liveness listener of `voiceassist worker`.
	JobsEnabled      bool
	WorkerHealthAddr string

	// Logging and observability
	LogLevel       string
	LogFormat      string
	MetricsEnabled bool
	DocsEnabled    bool
	OTLPEndpoint   string
	// OTLPProtocol is grpc or http/protobuf; OTelSampler an OTEL_TRACES_SAMPLER name.
	OTLPProtocol    string
	OTelServiceName string
	OTelSampler     string
	OTelSamplerArg  float64
	PprofAddr       string
	MetricsAddr     string
	MetricsToken    string

	// Database
	DatabaseURL         string
	DatabaseMaxConns    int
	DatabaseAutoMigrate bool

	// Redis
	RedisURL       string
	RedisKeyPrefix string

	// Qdrant (empty QdrantHost = disabled)
	QdrantHost   string
	QdrantPort   int
	QdrantAPIKey string

	// OpenAI-compatible provider (empty OpenAIAPIKey = offline providers)
	OpenAIAPIKey         string
	OpenAIBaseURL        string
	OpenAIChatModel      string
	OpenAIEmbeddingModel string
	// ChatProvider and EmbeddingProvider are "auto" (OpenAI when a key or base URL is set),
	// "offline" or "openai".
	ChatProvider      string
	EmbeddingProvider string
	// EmbeddingDim is the vector size: of the offline embedder, or the "dimensions" sent to
	// OpenAI (0 = the model's own).
	EmbeddingDim int

	// Knowledge base
	KBChunkTokens   int
	KBChunkOverlap  int
	KBFusion        string
	KBRRFK          int
	KBKeywordWeight float64
	KBVectorWeight  float64
	KBIndexWorkers  int
	// KBMaxConcurrentUploads bounds the multipart uploads this process reads at once.
	KBMaxConcurrentUploads  int
	KBJobMaxAttempts        int
	KBJobTimeout            time.Duration
	KBExtractMaxBytes       int64
	KBExtractMaxStreamBytes int64
	KBExtractTimeout        time.Duration

	// Voice. VoiceSTTProviders and VoiceTTSProviders are the providers in the order they are
	// tried ("auto" resolves to openai,offline with an OpenAI key or base URL, else offline).
	VoiceSTTProviders    []string
	VoiceTTSProviders    []string
	VoiceMaxAudioBytes   int64
	VoiceMaxAudioSeconds int
	VoiceSTTTimeout      time.Duration
	VoiceTTSTimeout      time.Duration

	VoiceMaxSessions        int
	VoiceMaxSessionsPerUser int
	VoiceMaxFrameBytes      int64
	VoiceMaxSession         time.Duration
	VoiceResumeBufferBytes  int64
	VoiceResumeLease        time.Duration
	VoiceSTTWorkers         int
	VoiceSTTVocabulary      string // clinical or clinical+drugs
	VoiceAllowCloud         bool
	ProvidersTrusted        bool
	OpenAISTTModel          string
	OpenAITTSModel          string
	VoiceRelayPerMinute     int
	ChatPerMinute           int // RATE_LIMIT_CHAT_PER_MINUTE
	ChatMaxStreamsPerUser   int
	ChatDailyTokenQuota     int // 0 = none
	KBSearchPerMinute       int // RATE_LIMIT_KB_SEARCH_PER_MINUTE
	MaxConversationsPerUser int
	MaxAPIKeysPerUser       int
	PHIPerMinute            int    // RATE_LIMIT_PHI_PER_MINUTE
	PHIPolicy               string // redact, block or allow
	VoiceFlagsCreate        bool   // VOICE_FLAGS_CREATE: create missing backend.voice_* flags at start-up
	VoiceEmotionProvider    string // VOICE_EMOTION_PROVIDER: offline

	// Medical AI (/api/medical-ai)
	MedicalAIPerMinute   int    // RATE_LIMIT_MEDICAL_AI_PER_MINUTE
	NERVocabDir          string // NER_VOCAB_DIR: replaces the embedded vocabularies; "" = embedded
	MedicalAIModelAssist bool   // MEDICAL_AI_MODEL_ASSIST: the chat provider may add entities

	// JWT
	JWTSecret []byte
	// JWTSecretGenerated is true when JWT_SECRET_KEY was empty and Load
	// generated a random key (development and test only). Tokens signed with
	// it do not survive a restart; main should log a warning.
	JWTSecretGenerated bool
	JWTAlgorithm       string
	JWTPrivateKeyFile  string
	JWTIssuer          string
	JWTAudience        string
	AccessTokenTTL     time.Duration
	RefreshTokenTTL    time.Duration

	// Bootstrap superadmin (both or neither)
	AdminEmail    string
	AdminPassword string

	// HTTP edge
	AllowedOrigins   []string
	TrustedProxies   []netip.Prefix
	RateLimitEnabled bool
	LoginPerMinute   int
	LoginFailures    int
	RegisterPerHour  int
	RefreshPerMinute int

	// LoginAccountFailures failures of one account (all IPs) start slowing its logins, by
	// up to LoginMaxDelay each; they never refuse them.
	LoginAccountFailures int
	LoginMaxDelay        time.Duration

	// User administration (admin panel): invitation and reset-token lifetimes, admin
	// actions per admin and action per 5 minutes, token redemptions per client IP per hour.
	InvitationTTL      time.Duration
	PasswordResetTTL   time.Duration
	AdminUserActions   int
	TokenRedeemPerHour int

	// Server-sent events and feature-flag events
	SSEHeartbeat                    time.Duration
	SSEMaxConnectionsPerIPPerMinute int
	SSEClientQueue                  int
	SSEMaxStreams                   int
	SSEMaxStreamsPerIP              int
	FlagEventRetentionCount         int
	FlagEventRetention              time.Duration
	FlagEvalAnonymousPerMinute      int // RATE_LIMIT_FLAG_EVAL_ANONYMOUS_PER_MINUTE
	FlagPollInterval                time.Duration
}

// Var describes one environment variable.
type Var struct {
	Name        string
	Default     string
	Description string
	Secret      bool
	// Group is a section heading, for generated docs and .env.example.
	Group string
}

// VarError is a problem with one variable. Load and Validate return these
// joined with errors.Join; use errors.As or walk Unwrap() []error to inspect.
type VarError struct {
	Name   string
	Reason string
}

func (e *VarError) Error() string { return "config: " + e.Name + ": " + e.Reason }

// Load reads every variable through getenv (os.Getenv in main, a map lookup in
// tests), applies defaults and validates the result. On error it returns nil
// and all problems joined.
func Load(getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	c := &Config{}
	parseErrs := map[string]error{}
	explicit := map[string]bool{}
	for _, s := range specs {
		raw := strings.TrimSpace(getenv(s.Name))
		explicit[s.Name] = raw != ""
		if raw == "" {
			raw = s.Default
		}
		if err := s.parse(c, raw); err != nil {
			parseErrs[s.Name] = &VarError{Name: s.Name, Reason: err.Error()}
			// Keep the default so dependent checks see a sane value.
			if err := s.parse(c, s.Default); err != nil {
				panic(fmt.Sprintf("config: default of %s does not parse: %v", s.Name, err))
			}
		}
	}
	if c.Environment == EnvProduction {
		for _, s := range specs {
			if s.prodRequired && !explicit[s.Name] {
				_ = s.parse(c, "") // drop the development default; the check reports it
			}
		}
	}
	if len(c.JWTSecret) == 0 && (c.Environment == EnvDevelopment || c.Environment == EnvTest) {
		c.JWTSecret = make([]byte, MinJWTSecretBytes)
		_, _ = rand.Read(c.JWTSecret) // never fails (crypto/rand, Go ≥ 1.24)
		c.JWTSecretGenerated = true
	}
	if err := c.validate(parseErrs); err != nil {
		return nil, err
	}
	return c, nil
}

// Validate checks every rule and returns all problems joined, or nil.
func (c *Config) Validate() error { return c.validate(nil) }

func (c *Config) validate(parseErrs map[string]error) error {
	var errs []error
	for _, s := range specs {
		if err, ok := parseErrs[s.Name]; ok {
			errs = append(errs, err)
			continue
		}
		if s.check == nil {
			continue
		}
		if err := s.check(c); err != nil {
			errs = append(errs, &VarError{Name: s.Name, Reason: err.Error()})
		}
	}
	return errors.Join(errs...)
}

// Vars returns every variable in a stable order.
func Vars() []Var {
	vars := make([]Var, len(specs))
	for i, s := range specs {
		vars[i] = s.Var
	}
	return vars
}

// Default is the default of the variable name ("" for an unknown name).
func Default(name string) string {
	for _, s := range specs {
		if s.Name == name {
			return s.Default
		}
	}
	return ""
}

// Addr is the listen address, host:port.
func (c *Config) Addr() string { return net.JoinHostPort(c.Host, strconv.Itoa(c.Port)) }

// IsProduction reports whether ENVIRONMENT=production.
func (c *Config) IsProduction() bool { return c.Environment == EnvProduction }

// IsDevelopment reports whether ENVIRONMENT=development.
func (c *Config) IsDevelopment() bool { return c.Environment == EnvDevelopment }

// Redacted returns every variable's effective value for a startup log line.
// Secrets that are set show as "***"; passwords inside URLs are masked.
func (c *Config) Redacted() map[string]string {
	m := make(map[string]string, len(specs))
	for _, s := range specs {
		v := s.show(c)
		if s.Secret && v != "" {
			v = "***"
		}
		m[s.Name] = v
	}
	return m
}

// ---------------------------------------------------------------------------
// The table.

const (
	gServer   = "Server"
	gLog      = "Logging and observability"
	gDB       = "Database"
	gRedis    = "Redis"
	gQdrant   = "Qdrant vector store"
	gOpenAI   = "OpenAI-compatible model provider"
	gJWT      = "Authentication (JWT)"
	gAdmin    = "Bootstrap superadmin"
	gEdge     = "HTTP edge: CORS, proxies, rate limiting"
	gStreams  = "Server-sent events and feature-flag events"
	gKB       = "Knowledge base"
	gVoice    = "Voice"
	gMedAI    = "Medical AI"
	minute    = time.Minute
	second    = time.Second
	hour      = time.Hour
	kib       = 1 << 10
	mib       = 1 << 20
	gib       = 1 << 30
	yearInMin = 365 * 24 * 60
)

var specs = []spec{
	// Server
	enumVar(gServer, "ENVIRONMENT", EnvDevelopment, "Deployment environment: development, test, staging or production.",
		func(c *Config) *string { return &c.Environment }, environments...),
	stringVar(gServer, "HOST", "0.0.0.0", "Interface the HTTP server listens on.",
		func(c *Config) *string { return &c.Host }),
	intVar(gServer, "PORT", "8000", "TCP port the HTTP server listens on (1-65535).",
		func(c *Config) *int { return &c.Port }, 1, 65535),
	durationVar(gServer, "REQUEST_TIMEOUT_SECONDS", "30", "Time a request body may take to arrive (408 when slower) and a non-streaming request to start its answer (504 'TIMEOUT' when slower), in seconds (1-600). Streams and WebSocket sessions are not cut by it.",
		func(c *Config) *time.Duration { return &c.RequestTimeout }, second, 1, 600),
	durationVar(gServer, "SHUTDOWN_TIMEOUT_SECONDS", "20", "Grace period for in-flight requests on shutdown, in seconds (1-600).",
		func(c *Config) *time.Duration { return &c.ShutdownTimeout }, second, 1, 600),
	int64Var(gServer, "MAX_BODY_BYTES", "1048576", "Maximum request body size in bytes (1 KiB to 1 GiB).",
		func(c *Config) *int64 { return &c.MaxBodyBytes }, kib, gib),
	int64Var(gServer, "MAX_UPLOAD_BYTES", "26214400", "Maximum knowledge-base upload size in bytes (at least MAX_BODY_BYTES).",
		func(c *Config) *int64 { return &c.MaxUploadBytes }, math.MinInt64, math.MaxInt64).
		withCheck(func(c *Config) error {
			if c.MaxUploadBytes < c.MaxBodyBytes {
				return fmt.Errorf("must be at least MAX_BODY_BYTES (%d), got %d", c.MaxBodyBytes, c.MaxUploadBytes)
			}
			return nil
		}),
	stringVar(gServer, "DATA_DIR", ".data", "Directory for local on-disk state such as the search index.",
		func(c *Config) *string { return &c.DataDir }).required(),
	boolVar(gServer, "JOBS_ENABLED", "true", "Run the background jobs (document indexing, scheduled flag changes, expired-session cleanup) in `serve`; false leaves them to `voiceassist worker` processes.",
		func(c *Config) *bool { return &c.JobsEnabled }),
	stringVar(gServer, "WORKER_HEALTH_ADDR", "127.0.0.1:8001", "Address of the /health listener of `voiceassist worker` (what `voiceassist healthcheck --worker` asks); `off` disables it.",
		func(c *Config) *string { return &c.WorkerHealthAddr }).
		withCheck(func(c *Config) error { return checkListenAddr(c.WorkerHealthAddr) }),

	// Logging and observability
	enumVar(gLog, "LOG_LEVEL", "info", "Log level: debug, info, warn or error.",
		func(c *Config) *string { return &c.LogLevel }, "debug", "info", "warn", "error"),
	enumVar(gLog, "LOG_FORMAT", "json", "Log format: json or text.",
		func(c *Config) *string { return &c.LogFormat }, "json", "text"),
	boolVar(gLog, "METRICS_ENABLED", "true", "Expose Prometheus metrics.",
		func(c *Config) *bool { return &c.MetricsEnabled }),
	boolVar(gLog, "DOCS_ENABLED", "true", "Serve the API docs at /docs and /redoc.",
		func(c *Config) *bool { return &c.DocsEnabled }),
	stringVar(gLog, "PPROF_ADDR", "", "Address of an opt-in net/http/pprof listener for profiling, e.g. 127.0.0.1:6060; empty disables it. Never expose it publicly.",
		func(c *Config) *string { return &c.PprofAddr }),
	stringVar(gLog, "METRICS_ADDR", "", "Address of a separate listener for /metrics, e.g. 127.0.0.1:9090; when set, the API listener does not serve /metrics.",
		func(c *Config) *string { return &c.MetricsAddr }),
	stringVar(gLog, "METRICS_TOKEN", "", "Bearer token a scraper must send for /metrics on the API listener; empty: public outside production, not served there in production (use METRICS_ADDR or this token).",
		func(c *Config) *string { return &c.MetricsToken }).secret(),
	stringVar(gLog, "OTEL_EXPORTER_OTLP_ENDPOINT", "", "OTLP endpoint URL for tracing, e.g. http://localhost:4317; empty disables tracing.",
		func(c *Config) *string { return &c.OTLPEndpoint }).
		withCheck(func(c *Config) error { return checkHTTPURL(c.OTLPEndpoint) }),
	enumVar(gLog, "OTEL_EXPORTER_OTLP_PROTOCOL", "grpc", "OTLP transport of the traces: grpc or http/protobuf (the endpoint is then a base URL; /v1/traces is appended).",
		func(c *Config) *string { return &c.OTLPProtocol }, "grpc", "http/protobuf"),
	stringVar(gLog, "OTEL_SERVICE_NAME", "voiceassist-gateway", "service.name of the exported traces.",
		func(c *Config) *string { return &c.OTelServiceName }).required(),
	enumVar(gLog, "OTEL_TRACES_SAMPLER", "parentbased_always_on", "Trace sampler: always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio.",
		func(c *Config) *string { return &c.OTelSampler }, "always_on", "always_off", "traceidratio", "parentbased_always_on", "parentbased_always_off", "parentbased_traceidratio"),
	floatVar(gLog, "OTEL_TRACES_SAMPLER_ARG", "1", "Sampling ratio of the traceidratio samplers (0-1).",
		func(c *Config) *float64 { return &c.OTelSamplerArg }, 0, 1),

	// Database
	stringVar(gDB, "DATABASE_URL", "postgres://postgres@127.0.0.1:5432/voiceassist?sslmode=disable",
		"PostgreSQL connection URL (postgres:// or postgresql://); must be set explicitly in production.",
		func(c *Config) *string { return &c.DatabaseURL }).
		requiredInProduction().
		withShow(func(c *Config) string { return redactURL(c.DatabaseURL) }).
		withCheck(func(c *Config) error {
			if c.DatabaseURL == "" && c.Environment == EnvProduction {
				return errors.New("required when ENVIRONMENT=production (the local default is not used)")
			}
			return checkURL(c.DatabaseURL, "postgres", "postgresql")
		}),
	intVar(gDB, "DATABASE_MAX_CONNS", "20", "Maximum open database connections (1-1000).",
		func(c *Config) *int { return &c.DatabaseMaxConns }, 1, 1000),
	boolVar(gDB, "DATABASE_AUTO_MIGRATE", "true", "Apply database migrations when the server starts.",
		func(c *Config) *bool { return &c.DatabaseAutoMigrate }),

	// Redis
	stringVar(gRedis, "REDIS_URL", "redis://127.0.0.1:6379/0", "Redis connection URL (redis:// or rediss://).",
		func(c *Config) *string { return &c.RedisURL }).
		withShow(func(c *Config) string { return redactURL(c.RedisURL) }).
		withCheck(func(c *Config) error { return checkURL(c.RedisURL, "redis", "rediss") }),
	stringVar(gRedis, "REDIS_KEY_PREFIX", "va:", "Prefix for every Redis key, so tests and tenants can share a server.",
		func(c *Config) *string { return &c.RedisKeyPrefix }),

	// Qdrant
	stringVar(gQdrant, "QDRANT_HOST", "", "Qdrant host name (no scheme or port); empty disables Qdrant and uses in-process vector search.",
		func(c *Config) *string { return &c.QdrantHost }).
		withCheck(func(c *Config) error { return checkHostOnly(c.QdrantHost) }),
	intVar(gQdrant, "QDRANT_PORT", "6334", "Qdrant gRPC port; the gateway uses the gRPC client (6334), not the REST port 6333.",
		func(c *Config) *int { return &c.QdrantPort }, 1, 65535),
	stringVar(gQdrant, "QDRANT_API_KEY", "", "Qdrant API key.",
		func(c *Config) *string { return &c.QdrantAPIKey }).secret(),

	// OpenAI
	stringVar(gOpenAI, "OPENAI_API_KEY", "", "OpenAI API key; empty uses the offline providers.",
		func(c *Config) *string { return &c.OpenAIAPIKey }).secret(),
	stringVar(gOpenAI, "OPENAI_BASE_URL", "", "Base URL of an OpenAI-compatible server (e.g. Ollama at http://localhost:11434/v1); empty uses api.openai.com.",
		func(c *Config) *string { return &c.OpenAIBaseURL }).
		withCheck(func(c *Config) error { return checkHTTPURL(c.OpenAIBaseURL) }),
	stringVar(gOpenAI, "OPENAI_CHAT_MODEL", "gpt-4o-mini", "Chat completion model.",
		func(c *Config) *string { return &c.OpenAIChatModel }).required(),
	stringVar(gOpenAI, "OPENAI_EMBEDDING_MODEL", "text-embedding-3-small", "Embedding model.",
		func(c *Config) *string { return &c.OpenAIEmbeddingModel }).required(),
	enumVar(gOpenAI, "CHAT_PROVIDER", "auto", "Chat model: auto (OpenAI-compatible when OPENAI_API_KEY or OPENAI_BASE_URL is set, else offline), offline (extractive answers) or openai.",
		func(c *Config) *string { return &c.ChatProvider }, "auto", "offline", "openai"),
	enumVar(gOpenAI, "EMBEDDING_PROVIDER", "auto", "Embedder: auto (OpenAI-compatible when OPENAI_API_KEY or OPENAI_BASE_URL is set, else offline), offline (hashing) or openai.",
		func(c *Config) *string { return &c.EmbeddingProvider }, "auto", "offline", "openai"),
	intVar(gOpenAI, "EMBEDDING_DIM", "0", "Embedding size: 0 means 512 for the offline embedder and the model's own size for OpenAI (0-8192).",
		func(c *Config) *int { return &c.EmbeddingDim }, 0, 8192),

	// Knowledge base
	intVar(gKB, "KB_CHUNK_TOKENS", "200", "Target chunk size in tokens (32-2000).",
		func(c *Config) *int { return &c.KBChunkTokens }, 32, 2000),
	intVar(gKB, "KB_CHUNK_OVERLAP", "40", "Tokens repeated from the previous chunk of a section (0-500, below KB_CHUNK_TOKENS).",
		func(c *Config) *int { return &c.KBChunkOverlap }, 0, 500).
		withCheck(func(c *Config) error {
			if c.KBChunkOverlap >= c.KBChunkTokens {
				return fmt.Errorf("must be below KB_CHUNK_TOKENS (%d), got %d", c.KBChunkTokens, c.KBChunkOverlap)
			}
			return nil
		}),
	enumVar(gKB, "KB_FUSION", "auto", "Hybrid search fusion: rrf (weighted Reciprocal Rank Fusion), weighted (min-max normalised scores), or auto: rrf for an OpenAI-compatible embedder, weighted with vector weight 0.1 for the offline one (tuned on SciFact train; docs/benchmarks.md).",
		func(c *Config) *string { return &c.KBFusion }, "auto", "rrf", "weighted"),
	intVar(gKB, "KB_RRF_K", "60", "RRF constant k (1-1000).",
		func(c *Config) *int { return &c.KBRRFK }, 1, 1000),
	floatVar(gKB, "KB_KEYWORD_WEIGHT", "1", "Weight of the keyword (BM25) list in fusion when KB_FUSION is rrf or weighted (0-10).",
		func(c *Config) *float64 { return &c.KBKeywordWeight }, 0, 10),
	floatVar(gKB, "KB_VECTOR_WEIGHT", "1", "Weight of the vector list in fusion when KB_FUSION is rrf or weighted (0-10).",
		func(c *Config) *float64 { return &c.KBVectorWeight }, 0, 10),
	intVar(gKB, "KB_INDEX_WORKERS", "2", "Indexing jobs run at once by this process (0 = none: another process indexes) (0-64).",
		func(c *Config) *int { return &c.KBIndexWorkers }, 0, 64),
	intVar(gKB, "KB_MAX_CONCURRENT_UPLOADS", "4", "Knowledge-base file uploads this process reads and checks at once; one more is answered 503 with Retry-After (each may hold up to MAX_UPLOAD_BYTES in memory) (1-256).",
		func(c *Config) *int { return &c.KBMaxConcurrentUploads }, 1, 256),
	durationVar(gKB, "KB_JOB_TIMEOUT_SECONDS", "600", "Longest one indexing attempt may run, in seconds; a job still running this long plus as much again (at most 5 minutes more) is taken over by another process, e.g. after a crash (1-86400).",
		func(c *Config) *time.Duration { return &c.KBJobTimeout }, second, 1, 86400),
	int64Var(gKB, "KB_EXTRACT_MAX_BYTES", "67108864", "Most one document may expand to when read (decompressed PDF streams, each time a page uses one; an HTML page's element tree, about 160 bytes per element; plus the text and headings extracted), in bytes; a document over it is refused at upload (413) or fails indexing (1 MiB to 4 GiB).",
		func(c *Config) *int64 { return &c.KBExtractMaxBytes }, mib, 4*gib),
	int64Var(gKB, "KB_EXTRACT_MAX_STREAM_BYTES", "8388608", "Most one decompressed PDF stream may hold, in bytes; a page's memory while read is up to about 64 times its content stream (64 KiB to 1 GiB, at most KB_EXTRACT_MAX_BYTES).",
		func(c *Config) *int64 { return &c.KBExtractMaxStreamBytes }, 64*kib, gib).
		withCheck(func(c *Config) error {
			if c.KBExtractMaxStreamBytes > c.KBExtractMaxBytes {
				return fmt.Errorf("must be at most KB_EXTRACT_MAX_BYTES (%d), got %d", c.KBExtractMaxBytes, c.KBExtractMaxStreamBytes)
			}
			return nil
		}),
	durationVar(gKB, "KB_EXTRACT_TIMEOUT_SECONDS", "60", "Longest reading one document may take, in seconds, at upload and at indexing; a document still being read is refused (422) or fails indexing; at most half of KB_JOB_TIMEOUT_SECONDS applies (1-3600).",
		func(c *Config) *time.Duration { return &c.KBExtractTimeout }, second, 1, 3600),
	intVar(gKB, "KB_JOB_MAX_ATTEMPTS", "5", "Attempts of an indexing job before the document is marked failed (1-25).",
		func(c *Config) *int { return &c.KBJobMaxAttempts }, 1, 25),

	// Voice
	listVar(gVoice, "VOICE_STT_PROVIDER", "auto", "Speech-to-text providers in the order they are tried, comma-separated: openai, offline; auto means openai,offline when OPENAI_API_KEY or OPENAI_BASE_URL is set, else offline.",
		func(c *Config) *[]string { return &c.VoiceSTTProviders }).
		withCheck(func(c *Config) error { return checkProviders(c.VoiceSTTProviders) }),
	listVar(gVoice, "VOICE_TTS_PROVIDER", "auto", "Text-to-speech providers in the order they are tried, comma-separated: openai, offline; auto as for VOICE_STT_PROVIDER.",
		func(c *Config) *[]string { return &c.VoiceTTSProviders }).
		withCheck(func(c *Config) error { return checkProviders(c.VoiceTTSProviders) }),
	enumVar(gVoice, "PHI_POLICY", "redact", "What happens to protected health information in text sent to an external chat provider (not a PROVIDERS_TRUSTED endpoint): redact (replaced by [TYPE]), block (422 PHI_BLOCKED naming the types) or allow (sent as is). Knowledge-base text is never changed.",
		func(c *Config) *string { return &c.PHIPolicy }, "redact", "block", "allow"),
	intVar(gVoice, "RATE_LIMIT_PHI_PER_MINUTE", "120", "PHI detection and redaction requests (/api/phi/detect, /api/phi/redact) per user per minute (1-100000).",
		func(c *Config) *int { return &c.PHIPerMinute }, 1, 100000),
	int64Var(gVoice, "VOICE_MAX_AUDIO_BYTES", "26214400", "Largest audio upload to /api/voice/transcribe, in bytes (1 KiB to 1 GiB).",
		func(c *Config) *int64 { return &c.VoiceMaxAudioBytes }, kib, gib),
	intVar(gVoice, "VOICE_MAX_AUDIO_SECONDS", "600", "Longest audio accepted for transcription, in seconds (1-7200).",
		func(c *Config) *int { return &c.VoiceMaxAudioSeconds }, 1, 7200),
	durationVar(gVoice, "VOICE_STT_TIMEOUT_SECONDS", "120", "Longest one transcription may take, in seconds (1-3600).",
		func(c *Config) *time.Duration { return &c.VoiceSTTTimeout }, second, 1, 3600),
	durationVar(gVoice, "VOICE_TTS_TIMEOUT_SECONDS", "30", "Longest one synthesis (or one sentence of a stream) may take, in seconds (1-600).",
		func(c *Config) *time.Duration { return &c.VoiceTTSTimeout }, second, 1, 600),
	intVar(gVoice, "VOICE_MAX_SESSIONS", "200", "Voice WebSocket sessions (/api/voice/pipeline-ws) one replica serves at once (1-100000).",
		func(c *Config) *int { return &c.VoiceMaxSessions }, 1, 100000),
	intVar(gVoice, "VOICE_MAX_SESSIONS_PER_USER", "3", "Voice WebSocket sessions one user may have open at once, across all replicas (1-100).",
		func(c *Config) *int { return &c.VoiceMaxSessionsPerUser }, 1, 100),
	int64Var(gVoice, "VOICE_MAX_FRAME_BYTES", "262144", "Largest frame a voice WebSocket client may send, in bytes (1 KiB to 16 MiB); a larger one closes the socket with 1009.",
		func(c *Config) *int64 { return &c.VoiceMaxFrameBytes }, kib, 16*mib),
	durationVar(gVoice, "VOICE_MAX_SESSION_SECONDS", "3600", "Longest voice WebSocket session, in seconds (60-86400).",
		func(c *Config) *time.Duration { return &c.VoiceMaxSession }, second, 60, 86400),
	int64Var(gVoice, "VOICE_RESUME_BUFFER_BYTES", "8388608", "Output of a voice session kept in Redis for resume (600 s after its last frame), in bytes (64 KiB to 256 MiB); the oldest frames go first.",
		func(c *Config) *int64 { return &c.VoiceResumeBufferBytes }, 64*kib, 256*mib),
	durationVar(gVoice, "VOICE_RESUME_LEASE_SECONDS", "10", "How long a replica's claim on the answer it is producing lasts without renewal (renewed every third of it); a client resuming elsewhere after it lapses is told the answer is incomplete (1-120).",
		func(c *Config) *time.Duration { return &c.VoiceResumeLease }, second, 1, 120),
	intVar(gVoice, "VOICE_STT_WORKERS", "2", "Offline speech decoders per process (about 100 MB each, loaded on first use) (1-64).",
		func(c *Config) *int { return &c.VoiceSTTWorkers }, 1, 64),
	enumVar(gVoice, "VOICE_STT_VOCABULARY", "clinical", "Words the offline recogniser adds to its dictionary and language model: clinical (the clinical term list) or clinical+drugs (also about 1,700 generic drug names; about twice the memory per decoder).",
		func(c *Config) *string { return &c.VoiceSTTVocabulary }, "clinical", "clinical+drugs"),
	boolVar(gVoice, "VOICE_ALLOW_CLOUD", "true", "Allow audio to be sent to external speech providers (an OpenAI-compatible endpoint not declared trusted by PROVIDERS_TRUSTED).",
		func(c *Config) *bool { return &c.VoiceAllowCloud }),
	boolVar(gVoice, "VOICE_FLAGS_CREATE", "true", "Create the missing backend.voice_* feature flags (disabled, internal) at start-up; existing flags are never changed.",
		func(c *Config) *bool { return &c.VoiceFlagsCreate }),
	enumVar(gVoice, "VOICE_EMOTION_PROVIDER", "offline", "Emotion estimator of voice turns with backend.voice_emotion on: offline (energy, speaking rate and wording, in process; no cloud provider is built in).",
		func(c *Config) *string { return &c.VoiceEmotionProvider }, "offline"),
	boolVar(gVoice, "PROVIDERS_TRUSTED", "false", "Declare the OpenAI-compatible endpoint self-hosted (inside the deployment), so audio sent to it does not count as leaving it.",
		func(c *Config) *bool { return &c.ProvidersTrusted }),
	stringVar(gVoice, "OPENAI_STT_MODEL", "whisper-1", "Speech-to-text model of the OpenAI-compatible provider.",
		func(c *Config) *string { return &c.OpenAISTTModel }).required(),
	stringVar(gVoice, "OPENAI_TTS_MODEL", "tts-1", "Text-to-speech model of the OpenAI-compatible provider.",
		func(c *Config) *string { return &c.OpenAITTSModel }).required(),
	intVar(gVoice, "RATE_LIMIT_VOICE_RELAY_PER_MINUTE", "30", "Voice relay requests (/api/voice/relay) per user per minute (1-10000).",
		func(c *Config) *int { return &c.VoiceRelayPerMinute }, 1, 10000),
	intVar(gVoice, "RATE_LIMIT_CHAT_PER_MINUTE", "20", "Chat answers (send, stream, regenerate) per user per minute (1-10000).",
		func(c *Config) *int { return &c.ChatPerMinute }, 1, 10000),
	intVar(gVoice, "CHAT_MAX_STREAMS_PER_USER", "3", "Concurrent streamed chat answers (REST) per user (1-100).",
		func(c *Config) *int { return &c.ChatMaxStreamsPerUser }, 1, 100),
	intVar(gVoice, "CHAT_DAILY_TOKEN_QUOTA", "0", "Estimated model tokens (question, history and answer) per user per UTC day when a paid (OpenAI-compatible) model answers; 0 = no quota (0-100000000).",
		func(c *Config) *int { return &c.ChatDailyTokenQuota }, 0, 100000000),
	intVar(gVoice, "RATE_LIMIT_KB_SEARCH_PER_MINUTE", "60", "Knowledge-base searches (POST /api/kb/search) per user per minute (1-10000).",
		func(c *Config) *int { return &c.KBSearchPerMinute }, 1, 10000),
	intVar(gVoice, "MAX_CONVERSATIONS_PER_USER", "5000", "Conversations one user may keep (1-1000000).",
		func(c *Config) *int { return &c.MaxConversationsPerUser }, 1, 1000000),
	intVar(gVoice, "MAX_API_KEYS_PER_USER", "20", "Usable API keys (neither revoked nor expired) one user may hold (1-1000).",
		func(c *Config) *int { return &c.MaxAPIKeysPerUser }, 1, 1000),

	// Medical AI
	intVar(gMedAI, "RATE_LIMIT_MEDICAL_AI_PER_MINUTE", "60", "Requests to /api/medical-ai (every operation but health, counted together) per user per minute (1-100000).",
		func(c *Config) *int { return &c.MedicalAIPerMinute }, 1, 100000),
	stringVar(gMedAI, "NER_VOCAB_DIR", "", "Directory whose entity-extraction data files replace the embedded ones of the same name (docs/medical-ai.md); empty uses the embedded vocabularies.",
		func(c *Config) *string { return &c.NERVocabDir }),
	boolVar(gMedAI, "MEDICAL_AI_MODEL_ASSIST", "false", "Let the chat provider (when one is configured) add entities to /api/medical-ai/extract-entities; dictionary hits are never removed or moved.",
		func(c *Config) *bool { return &c.MedicalAIModelAssist }),

	// JWT
	{
		Var: Var{Group: gJWT, Name: "JWT_SECRET_KEY", Secret: true,
			Description: "HMAC key, at least 32 bytes; required outside development/test, where an empty value generates a per-process key."},
		parse: func(c *Config, raw string) error { c.JWTSecret = []byte(raw); return nil },
		show:  func(c *Config) string { return string(c.JWTSecret) },
		check: func(c *Config) error {
			switch n := len(c.JWTSecret); {
			case n == 0 && !slices.Contains(environments, c.Environment):
				return nil // the ENVIRONMENT error says it all
			case n == 0:
				return fmt.Errorf("required when ENVIRONMENT=%s", c.Environment)
			case n < MinJWTSecretBytes:
				return fmt.Errorf("must be at least %d bytes, got %d", MinJWTSecretBytes, n)
			}
			return nil
		},
	},
	enumVar(gJWT, "JWT_ALGORITHM", "HS256", "Token signing algorithm: HS256, EdDSA or RS256.",
		func(c *Config) *string { return &c.JWTAlgorithm }, "HS256", "EdDSA", "RS256"),
	stringVar(gJWT, "JWT_PRIVATE_KEY_FILE", "", "PEM private key file; required when JWT_ALGORITHM is EdDSA or RS256.",
		func(c *Config) *string { return &c.JWTPrivateKeyFile }).
		withCheck(checkPrivateKeyFile),
	stringVar(gJWT, "JWT_ISSUER", "voiceassist", "Token issuer (iss claim).",
		func(c *Config) *string { return &c.JWTIssuer }).required(),
	stringVar(gJWT, "JWT_AUDIENCE", "voiceassist-api", "Token audience (aud claim).",
		func(c *Config) *string { return &c.JWTAudience }).required(),
	durationVar(gJWT, "JWT_ACCESS_TOKEN_EXPIRE_MINUTES", "5", "Access token lifetime in minutes (1-1440).",
		func(c *Config) *time.Duration { return &c.AccessTokenTTL }, minute, 1, 1440),
	durationVar(gJWT, "JWT_REFRESH_TOKEN_EXPIRE_MINUTES", "60", "Refresh token lifetime in minutes; must exceed the access token lifetime (at most 525600, one year).",
		func(c *Config) *time.Duration { return &c.RefreshTokenTTL }, minute, 1, yearInMin).
		withCheck(func(c *Config) error {
			if c.RefreshTokenTTL <= c.AccessTokenTTL {
				return fmt.Errorf("must be greater than JWT_ACCESS_TOKEN_EXPIRE_MINUTES (%d), got %d",
					c.AccessTokenTTL/minute, c.RefreshTokenTTL/minute)
			}
			return nil
		}),

	// Bootstrap admin
	stringVar(gAdmin, "ADMIN_EMAIL", "", "Email of the superadmin created on first start; set together with ADMIN_PASSWORD or not at all.",
		func(c *Config) *string { return &c.AdminEmail }).
		withCheck(func(c *Config) error {
			if c.AdminEmail == "" {
				if c.AdminPassword != "" {
					return errors.New("required when ADMIN_PASSWORD is set")
				}
				return nil
			}
			if a, err := mail.ParseAddress(c.AdminEmail); err != nil || a.Address != c.AdminEmail {
				return fmt.Errorf("must be a plain email address, got %q", c.AdminEmail)
			}
			return nil
		}),
	stringVar(gAdmin, "ADMIN_PASSWORD", "", "Password of the bootstrap superadmin.",
		func(c *Config) *string { return &c.AdminPassword }).secret().
		withCheck(func(c *Config) error {
			if c.AdminPassword == "" && c.AdminEmail != "" {
				return errors.New("required when ADMIN_EMAIL is set")
			}
			return nil
		}),

	// HTTP edge
	listVar(gEdge, "ALLOWED_ORIGINS", "http://localhost:3000,http://localhost:5173",
		"Comma-separated CORS origins (scheme://host[:port]); * is allowed only in development.",
		func(c *Config) *[]string { return &c.AllowedOrigins }).
		withCheck(checkOrigins),
	{
		Var: Var{Group: gEdge, Name: "TRUSTED_PROXIES",
			Description: "Comma-separated CIDRs or IPs whose X-Forwarded-For is trusted; empty trusts none."},
		parse: func(c *Config, raw string) error {
			p, err := parsePrefixes(raw)
			c.TrustedProxies = p
			return err
		},
		show: func(c *Config) string {
			s := make([]string, len(c.TrustedProxies))
			for i, p := range c.TrustedProxies {
				s[i] = p.String()
			}
			return strings.Join(s, ",")
		},
	},
	boolVar(gEdge, "RATE_LIMIT_ENABLED", "true", "Enable per-client rate limiting.",
		func(c *Config) *bool { return &c.RateLimitEnabled }),
	intVar(gEdge, "RATE_LIMIT_LOGIN_PER_MINUTE", "10", "Login attempts per client IP per minute (1-10000).",
		func(c *Config) *int { return &c.LoginPerMinute }, 1, 10000),
	intVar(gEdge, "RATE_LIMIT_LOGIN_FAILURES", "5", "Failed logins per account and client IP per 15 minutes before that account is refused from that IP (429) (1-1000).",
		func(c *Config) *int { return &c.LoginFailures }, 1, 1000),
	intVar(gEdge, "RATE_LIMIT_LOGIN_ACCOUNT_FAILURES", "100", "Failed logins per account from all IPs per 15 minutes after which every login attempt for it is delayed, longer with each further failure, but never refused (1-1000).",
		func(c *Config) *int { return &c.LoginAccountFailures }, 1, 1000),
	durationVar(gEdge, "RATE_LIMIT_LOGIN_MAX_DELAY_SECONDS", "10", "Longest delay of a login attempt for an account past RATE_LIMIT_LOGIN_ACCOUNT_FAILURES, in seconds (1-60).",
		func(c *Config) *time.Duration { return &c.LoginMaxDelay }, second, 1, 60),
	intVar(gEdge, "RATE_LIMIT_REGISTER_PER_HOUR", "5", "Registrations per client IP per hour (1-10000).",
		func(c *Config) *int { return &c.RegisterPerHour }, 1, 10000),
	intVar(gEdge, "RATE_LIMIT_REFRESH_PER_MINUTE", "30", "Token refreshes per session (refresh-token family) per minute (1-10000).",
		func(c *Config) *int { return &c.RefreshPerMinute }, 1, 10000),
	intVar(gEdge, "RATE_LIMIT_ADMIN_USER_ACTIONS", "20", "Admin user actions (invite, invitation resend/revoke, password reset, bulk, permanent delete) per admin and action per 5 minutes (1-10000).",
		func(c *Config) *int { return &c.AdminUserActions }, 1, 10000),
	intVar(gEdge, "RATE_LIMIT_TOKEN_REDEEM_PER_HOUR", "10", "Invitation acceptances and password-reset token redemptions per client IP per hour (1-10000).",
		func(c *Config) *int { return &c.TokenRedeemPerHour }, 1, 10000),
	durationVar(gEdge, "INVITATION_TTL_HOURS", "72", "Lifetime of an invitation token, in hours (1-720).",
		func(c *Config) *time.Duration { return &c.InvitationTTL }, hour, 1, 720),
	durationVar(gEdge, "PASSWORD_RESET_TTL_MINUTES", "60", "Lifetime of an admin-issued password reset token, in minutes (5-10080).",
		func(c *Config) *time.Duration { return &c.PasswordResetTTL }, minute, 5, 10080),

	// SSE and flag events
	durationVar(gStreams, "FLAG_POLL_INTERVAL_MS", "1000", "Safety poll of the flag event log behind LISTEN/NOTIFY, in milliseconds (50-60000).",
		func(c *Config) *time.Duration { return &c.FlagPollInterval }, time.Millisecond, 50, 60000),
	durationVar(gStreams, "SSE_HEARTBEAT_SECONDS", "30", "Interval between SSE keep-alive comments, in seconds (1-3600).",
		func(c *Config) *time.Duration { return &c.SSEHeartbeat }, second, 1, 3600),
	intVar(gStreams, "SSE_CLIENT_QUEUE", "1024", "Events an SSE client may fall behind before it is disconnected (it resumes with Last-Event-ID) (1-100000).",
		func(c *Config) *int { return &c.SSEClientQueue }, 1, 100000),
	intVar(gStreams, "SSE_MAX_CONNECTIONS_PER_IP_PER_MINUTE", "10", "Open SSE streams allowed per client IP across all replicas (counted in Redis; each open stream holds its slot for a 60 s window it refreshes, a closed stream gives it back; over it 429 with Retry-After; without Redis streams are admitted unlimited and counted) (1-10000).",
		func(c *Config) *int { return &c.SSEMaxConnectionsPerIPPerMinute }, 1, 10000),
	intVar(gStreams, "SSE_MAX_STREAMS", "20000", "Maximum concurrent SSE streams per process (1-1000000).",
		func(c *Config) *int { return &c.SSEMaxStreams }, 1, 1_000_000),
	intVar(gStreams, "SSE_MAX_STREAMS_PER_IP", "100", "Maximum concurrent SSE streams per client IP on one process (503 over it) (1 to SSE_MAX_STREAMS).",
		func(c *Config) *int { return &c.SSEMaxStreamsPerIP }, 1, 1_000_000).
		withCheck(func(c *Config) error {
			if c.SSEMaxStreams >= 1 && c.SSEMaxStreamsPerIP > c.SSEMaxStreams { // else SSE_MAX_STREAMS is reported
				return fmt.Errorf("must not exceed SSE_MAX_STREAMS (%d), got %d", c.SSEMaxStreams, c.SSEMaxStreamsPerIP)
			}
			return nil
		}),
	intVar(gStreams, "FLAG_EVENT_RETENTION_COUNT", "10000", "Feature-flag change events kept for replay (1-10000000).",
		func(c *Config) *int { return &c.FlagEventRetentionCount }, 1, 10_000_000),
	durationVar(gStreams, "FLAG_EVENT_RETENTION_HOURS", "168", "Maximum age of kept feature-flag events, in hours (1-8760).",
		func(c *Config) *time.Duration { return &c.FlagEventRetention }, hour, 1, 8760),
	intVar(gStreams, "RATE_LIMIT_FLAG_EVAL_ANONYMOUS_PER_MINUTE", "3000", "Anonymous flag evaluations (/api/flags/evaluate and OFREP) per client IP per minute (1-1000000).",
		func(c *Config) *int { return &c.FlagEvalAnonymousPerMinute }, 1, 1_000_000),
}

// ---------------------------------------------------------------------------
// Spec machinery.

type spec struct {
	Var
	prodRequired bool
	// parse converts the raw string (never empty unless the default is) into
	// the field; it only checks syntax.
	parse func(c *Config, raw string) error
	// show renders the field back for Redacted.
	show func(c *Config) string
	// check validates the field's value (ranges, enums, cross-field rules).
	check func(c *Config) error
}

func (s spec) secret() spec { s.Secret = true; return s }

func (s spec) requiredInProduction() spec { s.prodRequired = true; return s }

func (s spec) withShow(f func(*Config) string) spec { s.show = f; return s }

// withCheck adds a check that runs after any existing one.
func (s spec) withCheck(f func(*Config) error) spec {
	prev := s.check
	s.check = func(c *Config) error {
		if prev != nil {
			if err := prev(c); err != nil {
				return err
			}
		}
		return f(c)
	}
	return s
}

// required rejects an empty value (only reachable through Validate on a
// hand-built Config, since Load substitutes the default).
func (s spec) required() spec {
	show := s.show
	return s.withCheck(func(c *Config) error {
		if show(c) == "" {
			return errors.New("must not be empty")
		}
		return nil
	})
}

func newSpec[T any](group, name, def, desc string, field func(*Config) *T,
	parse func(string) (T, error), show func(T) string) spec {
	return spec{
		Var: Var{Group: group, Name: name, Default: def, Description: desc},
		parse: func(c *Config, raw string) error {
			v, err := parse(raw)
			if err != nil {
				return err
			}
			*field(c) = v
			return nil
		},
		show: func(c *Config) string { return show(*field(c)) },
	}
}

func stringVar(group, name, def, desc string, field func(*Config) *string) spec {
	id := func(s string) string { return s }
	return newSpec(group, name, def, desc, field, func(s string) (string, error) { return s, nil }, id)
}

func enumVar(group, name, def, desc string, field func(*Config) *string, allowed ...string) spec {
	return stringVar(group, name, def, desc, field).withCheck(func(c *Config) error {
		if v := *field(c); !slices.Contains(allowed, v) {
			return fmt.Errorf("must be one of %s, got %q", strings.Join(allowed, ", "), v)
		}
		return nil
	})
}

func boolVar(group, name, def, desc string, field func(*Config) *bool) spec {
	return newSpec(group, name, def, desc, field, parseBool, strconv.FormatBool)
}

func intVar(group, name, def, desc string, field func(*Config) *int, lo, hi int) spec {
	return newSpec(group, name, def, desc, field, parseInt, strconv.Itoa).
		withCheck(func(c *Config) error { return checkRange(int64(*field(c)), int64(lo), int64(hi)) })
}

func int64Var(group, name, def, desc string, field func(*Config) *int64, lo, hi int64) spec {
	parse := func(s string) (int64, error) {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("must be a positive integer, got %q", s)
		}
		return n, nil
	}
	show := func(n int64) string { return strconv.FormatInt(n, 10) }
	return newSpec(group, name, def, desc, field, parse, show).
		withCheck(func(c *Config) error { return checkRange(*field(c), lo, hi) })
}

// durationVar reads an integer count of unit (the unit is in the name, e.g.
// _MINUTES) into a time.Duration.
func durationVar(group, name, def, desc string, field func(*Config) *time.Duration, unit time.Duration, lo, hi int) spec {
	parse := func(s string) (time.Duration, error) {
		n, err := parseInt(s)
		if err != nil {
			return 0, err
		}
		if int64(n) > int64(1<<62)/int64(unit) || int64(n) < -int64(1<<62)/int64(unit) {
			return 0, fmt.Errorf("must be between %d and %d, got %d", lo, hi, n)
		}
		return time.Duration(n) * unit, nil
	}
	show := func(d time.Duration) string { return strconv.FormatInt(int64(d/unit), 10) }
	return newSpec(group, name, def, desc, field, parse, show).
		withCheck(func(c *Config) error {
			return checkRange(int64(*field(c)/unit), int64(lo), int64(hi))
		})
}

func floatVar(group, name, def, desc string, field func(*Config) *float64, lo, hi float64) spec {
	parse := func(s string) (float64, error) {
		f, err := strconv.ParseFloat(s, 64)
		if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, fmt.Errorf("must be a number, got %q", s)
		}
		return f, nil
	}
	show := func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
	return newSpec(group, name, def, desc, field, parse, show).
		withCheck(func(c *Config) error {
			if f := *field(c); f < lo || f > hi {
				return fmt.Errorf("must be between %g and %g, got %g", lo, hi, f)
			}
			return nil
		})
}

func listVar(group, name, def, desc string, field func(*Config) *[]string) spec {
	return newSpec(group, name, def, desc, field,
		func(s string) ([]string, error) { return splitList(s), nil },
		func(v []string) string { return strings.Join(v, ",") })
}

// UseOpenAI says whether a provider setting selects the OpenAI-compatible provider.
func (c *Config) UseOpenAI(provider string) bool {
	switch provider {
	case "openai":
		return true
	case "offline":
		return false
	}
	return c.OpenAIAPIKey != "" || c.OpenAIBaseURL != ""
}

// VoiceProviders resolves a provider list: "auto" becomes openai,offline when an OpenAI key or
// base URL is set, else offline.
func (c *Config) VoiceProviders(list []string) []string {
	if len(list) == 1 && list[0] == "auto" {
		if c.UseOpenAI("auto") {
			return []string{"openai", "offline"}
		}
		return []string{"offline"}
	}
	return list
}

func checkProviders(list []string) error {
	if len(list) == 0 {
		return errors.New("must name at least one provider")
	}
	if len(list) == 1 && list[0] == "auto" {
		return nil
	}
	seen := map[string]bool{}
	for _, p := range list {
		if p != "openai" && p != "offline" {
			return fmt.Errorf("must be auto or a list of openai and offline, got %q", p)
		}
		if seen[p] {
			return fmt.Errorf("names %q twice", p)
		}
		seen[p] = true
	}
	return nil
}

// ---------------------------------------------------------------------------
// Parsers and checks.

func parseInt(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, fmt.Errorf("must be a positive integer, got %q", s)
	}
	return n, nil
}

func parseBool(s string) (bool, error) {
	switch strings.ToLower(s) {
	case "true", "1":
		return true, nil
	case "false", "0":
		return false, nil
	}
	return false, fmt.Errorf("must be true, false, 1 or 0, got %q", s)
}

func splitList(s string) []string {
	var out []string
	for part := range strings.SplitSeq(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}

// parsePrefixes parses CIDRs and bare IPs; a bare IP becomes a /32 or /128.
func parsePrefixes(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, item := range splitList(s) {
		if strings.Contains(item, "/") {
			p, err := netip.ParsePrefix(item)
			if err != nil {
				return nil, fmt.Errorf("must be CIDRs or IPs, got %q", item)
			}
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(item)
		if err != nil || a.Zone() != "" {
			return nil, fmt.Errorf("must be CIDRs or IPs, got %q", item)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

func checkRange(n, lo, hi int64) error {
	if n < lo || n > hi {
		return fmt.Errorf("must be between %d and %d, got %d", lo, hi, n)
	}
	return nil
}

// checkURL requires a URL with one of the schemes. It never echoes the whole
// value, which may carry a password.
func checkURL(raw string, schemes ...string) error {
	if raw == "" {
		return errors.New("must not be empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("must be a %s:// URL (value does not parse)", strings.Join(schemes, ":// or "))
	}
	if !slices.Contains(schemes, u.Scheme) {
		return fmt.Errorf("must be a %s:// URL, got scheme %q", strings.Join(schemes, ":// or "), u.Scheme)
	}
	return nil
}

// checkHTTPURL accepts empty or an absolute http(s) URL with a host.
func checkHTTPURL(raw string) error {
	if raw == "" {
		return nil
	}
	if u, err := url.Parse(raw); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("must be an absolute http:// or https:// URL, got %q", raw)
	}
	return nil
}

func checkHostOnly(h string) error {
	if h == "" {
		return nil
	}
	if strings.ContainsAny(h, "/ ") {
		return fmt.Errorf("must be a host name without scheme or path, got %q", h)
	}
	if _, _, err := net.SplitHostPort(h); err == nil {
		return fmt.Errorf("must be a host name without port (set QDRANT_PORT), got %q", h)
	}
	return nil
}

func checkOrigins(c *Config) error {
	for _, o := range c.AllowedOrigins {
		if o == "*" {
			if c.Environment != EnvDevelopment {
				return fmt.Errorf(`"*" is only allowed when ENVIRONMENT=development, not %s`, c.Environment)
			}
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
			u.User != nil || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.ForceQuery {
			return fmt.Errorf("each entry must be an http(s) origin like https://app.example.com[:port] without path, got %q", o)
		}
	}
	return nil
}

func checkPrivateKeyFile(c *Config) error {
	path := c.JWTPrivateKeyFile
	if path == "" {
		if c.JWTAlgorithm == "EdDSA" || c.JWTAlgorithm == "RS256" {
			return fmt.Errorf("required when JWT_ALGORITHM=%s", c.JWTAlgorithm)
		}
		return nil
	}
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("cannot stat %q: %v", path, errors.Unwrap(err))
	}
	if !fi.Mode().IsRegular() {
		return fmt.Errorf("%q is not a regular file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("cannot read %q: %v", path, errors.Unwrap(err))
	}
	_ = f.Close()
	return nil
}

func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		if raw == "" {
			return ""
		}
		return "***" // unparsable; may contain a password
	}
	return u.Redacted()
}

// checkListenAddr accepts "", "off" or host:port with a port number (host may be empty: every
// interface).
func checkListenAddr(addr string) error {
	if addr == "" || addr == "off" {
		return nil
	}
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("must be host:port, got %q", addr)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("port must be a number from 0 to 65535, got %q", port)
	}
	return nil
}
