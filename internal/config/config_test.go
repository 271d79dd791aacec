package config

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite ../../.env.example from Vars()")

const envExamplePath = "../../.env.example"

const goodSecret = "0123456789abcdef0123456789abcdef" // 32 bytes

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

// errNames returns the variable names of every *VarError in err, in order.
func errNames(t *testing.T, err error) []string {
	t.Helper()
	if err == nil {
		return nil
	}
	var errs []error
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		errs = j.Unwrap()
	} else {
		errs = []error{err}
	}
	names := make([]string, 0, len(errs))
	for _, e := range errs {
		var ve *VarError
		if !errors.As(e, &ve) {
			t.Fatalf("error %v is not a *VarError", e)
		}
		if !strings.HasPrefix(e.Error(), "config: "+ve.Name+": ") {
			t.Errorf("error %q does not start with %q", e.Error(), "config: "+ve.Name+": ")
		}
		names = append(names, ve.Name)
	}
	return names
}

func mustLoad(t *testing.T, kv map[string]string) *Config {
	t.Helper()
	c, err := Load(env(kv))
	if err != nil {
		t.Fatalf("Load: unexpected error:\n%v", err)
	}
	return c
}

func TestLoadDefaults(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, nil)
	if err := c.Validate(); err != nil {
		t.Fatalf("Validate after Load: %v", err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"Environment", c.Environment, "development"},
		{"Addr", c.Addr(), "0.0.0.0:8000"},
		{"DatabaseURL", c.DatabaseURL, "postgres://postgres@127.0.0.1:5432/voiceassist?sslmode=disable"},
		{"DatabaseMaxConns", c.DatabaseMaxConns, 20},
		{"DatabaseAutoMigrate", c.DatabaseAutoMigrate, true},
		{"RedisURL", c.RedisURL, "redis://127.0.0.1:6379/0"},
		{"RedisKeyPrefix", c.RedisKeyPrefix, "va:"},
		{"QdrantHost", c.QdrantHost, ""},
		{"QdrantPort", c.QdrantPort, 6334},
		{"OpenAIChatModel", c.OpenAIChatModel, "gpt-4o-mini"},
		{"OpenAIEmbeddingModel", c.OpenAIEmbeddingModel, "text-embedding-3-small"},
		{"JWTAlgorithm", c.JWTAlgorithm, "HS256"},
		{"JWTIssuer", c.JWTIssuer, "voiceassist"},
		{"JWTAudience", c.JWTAudience, "voiceassist-api"},
		{"AccessTokenTTL", c.AccessTokenTTL, 5 * time.Minute},
		{"RefreshTokenTTL", c.RefreshTokenTTL, time.Hour},
		{"AllowedOrigins", strings.Join(c.AllowedOrigins, " "), "http://localhost:3000 http://localhost:5173"},
		{"TrustedProxies", len(c.TrustedProxies), 0},
		{"MaxBodyBytes", c.MaxBodyBytes, int64(1 << 20)},
		{"MaxUploadBytes", c.MaxUploadBytes, int64(25 << 20)},
		{"KBMaxConcurrentUploads", c.KBMaxConcurrentUploads, 4},
		{"RequestTimeout", c.RequestTimeout, 30 * time.Second},
		{"ShutdownTimeout", c.ShutdownTimeout, 20 * time.Second},
		{"LogLevel", c.LogLevel, "info"},
		{"LogFormat", c.LogFormat, "json"},
		{"MetricsEnabled", c.MetricsEnabled, true},
		{"DocsEnabled", c.DocsEnabled, true},
		{"RateLimitEnabled", c.RateLimitEnabled, true},
		{"SSEHeartbeat", c.SSEHeartbeat, 30 * time.Second},
		{"SSEMaxConnectionsPerIPPerMinute", c.SSEMaxConnectionsPerIPPerMinute, 10},
		{"SSEMaxStreams", c.SSEMaxStreams, 20000},
		{"SSEMaxStreamsPerIP", c.SSEMaxStreamsPerIP, 100},
		{"FlagEventRetentionCount", c.FlagEventRetentionCount, 10000},
		{"FlagEventRetention", c.FlagEventRetention, 168 * time.Hour},
		{"OTLPEndpoint", c.OTLPEndpoint, ""},
		{"OTLPProtocol", c.OTLPProtocol, "grpc"},
		{"OTelServiceName", c.OTelServiceName, "voiceassist-gateway"},
		{"OTelSampler", c.OTelSampler, "parentbased_always_on"},
		{"OTelSamplerArg", c.OTelSamplerArg, 1.0},
		{"DataDir", c.DataDir, ".data"},
		{"JobsEnabled", c.JobsEnabled, true},
		{"WorkerHealthAddr", c.WorkerHealthAddr, "127.0.0.1:8001"},
		{"JWTSecretGenerated", c.JWTSecretGenerated, true},
		{"len(JWTSecret)", len(c.JWTSecret), 32},
		{"IsDevelopment", c.IsDevelopment(), true},
		{"IsProduction", c.IsProduction(), false},
	}
	for _, tc := range checks {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
}

func TestLoadOverrides(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, map[string]string{
		"HOST":                             "::1",
		"PORT":                             " 9000 ",
		"DATABASE_AUTO_MIGRATE":            "0",
		"METRICS_ENABLED":                  "FALSE",
		"DOCS_ENABLED":                     "false",
		"RATE_LIMIT_ENABLED":               "1",
		"ALLOWED_ORIGINS":                  " https://a.example.com , http://b.example.com:8080,, ",
		"JWT_SECRET_KEY":                   goodSecret,
		"JWT_ACCESS_TOKEN_EXPIRE_MINUTES":  "15",
		"JWT_REFRESH_TOKEN_EXPIRE_MINUTES": "10080",
		"FLAG_EVENT_RETENTION_HOURS":       "24",
		"QDRANT_HOST":                      "qdrant.internal",
		"OPENAI_BASE_URL":                  "http://localhost:11434/v1",
		"ADMIN_EMAIL":                      "root@example.com",
		"ADMIN_PASSWORD":                   "hunter2hunter2",
		"JOBS_ENABLED":                     "false",
		"WORKER_HEALTH_ADDR":               ":9101",
	})
	if c.JobsEnabled || c.WorkerHealthAddr != ":9101" {
		t.Errorf("jobs: enabled=%v worker health addr=%q", c.JobsEnabled, c.WorkerHealthAddr)
	}
	if got, want := c.Addr(), "[::1]:9000"; got != want {
		t.Errorf("Addr() = %q, want %q", got, want)
	}
	if c.DatabaseAutoMigrate || c.MetricsEnabled || c.DocsEnabled || !c.RateLimitEnabled {
		t.Errorf("booleans: migrate=%v metrics=%v docs=%v ratelimit=%v", c.DatabaseAutoMigrate, c.MetricsEnabled, c.DocsEnabled, c.RateLimitEnabled)
	}
	if want := []string{"https://a.example.com", "http://b.example.com:8080"}; !slices.Equal(c.AllowedOrigins, want) {
		t.Errorf("AllowedOrigins = %q, want %q", c.AllowedOrigins, want)
	}
	if c.JWTSecretGenerated || string(c.JWTSecret) != goodSecret {
		t.Errorf("JWT secret not taken from env (generated=%v)", c.JWTSecretGenerated)
	}
	if c.AccessTokenTTL != 15*time.Minute || c.RefreshTokenTTL != 7*24*time.Hour || c.FlagEventRetention != 24*time.Hour {
		t.Errorf("durations: access=%v refresh=%v flags=%v", c.AccessTokenTTL, c.RefreshTokenTTL, c.FlagEventRetention)
	}
}

func TestInvalidValueNamesVariable(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "key.pem")
	if err := os.WriteFile(keyFile, []byte("-----BEGIN PRIVATE KEY-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		env  map[string]string
		want string // the single variable the error must name
	}{
		{"environment unknown", map[string]string{"ENVIRONMENT": "prod"}, "ENVIRONMENT"},
		{"port zero", map[string]string{"PORT": "0"}, "PORT"},
		{"port too big", map[string]string{"PORT": "65536"}, "PORT"},
		{"port not a number", map[string]string{"PORT": "http"}, "PORT"},
		{"database url wrong scheme", map[string]string{"DATABASE_URL": "mysql://u:p@h/db"}, "DATABASE_URL"},
		{"database url unparsable", map[string]string{"DATABASE_URL": "postgres://h:badport/db"}, "DATABASE_URL"},
		{"database max conns zero", map[string]string{"DATABASE_MAX_CONNS": "0"}, "DATABASE_MAX_CONNS"},
		{"database max conns too big", map[string]string{"DATABASE_MAX_CONNS": "1001"}, "DATABASE_MAX_CONNS"},
		{"database auto migrate yes", map[string]string{"DATABASE_AUTO_MIGRATE": "yes"}, "DATABASE_AUTO_MIGRATE"},
		{"redis url wrong scheme", map[string]string{"REDIS_URL": "http://127.0.0.1:6379"}, "REDIS_URL"},
		{"qdrant host with scheme", map[string]string{"QDRANT_HOST": "http://qdrant"}, "QDRANT_HOST"},
		{"qdrant host with port", map[string]string{"QDRANT_HOST": "qdrant:6334"}, "QDRANT_HOST"},
		{"qdrant port zero", map[string]string{"QDRANT_PORT": "0"}, "QDRANT_PORT"},
		{"openai base url without scheme", map[string]string{"OPENAI_BASE_URL": "localhost:11434"}, "OPENAI_BASE_URL"},
		{"jwt secret too short", map[string]string{"JWT_SECRET_KEY": "short"}, "JWT_SECRET_KEY"},
		{"jwt algorithm unknown", map[string]string{"JWT_ALGORITHM": "HS512"}, "JWT_ALGORITHM"},
		{"jwt key file missing for EdDSA", map[string]string{"JWT_ALGORITHM": "EdDSA"}, "JWT_PRIVATE_KEY_FILE"},
		{"jwt key file missing for RS256", map[string]string{"JWT_ALGORITHM": "RS256"}, "JWT_PRIVATE_KEY_FILE"},
		{"jwt key file does not exist", map[string]string{"JWT_ALGORITHM": "RS256", "JWT_PRIVATE_KEY_FILE": filepath.Join(dir, "nope.pem")}, "JWT_PRIVATE_KEY_FILE"},
		{"jwt key file is a directory", map[string]string{"JWT_ALGORITHM": "EdDSA", "JWT_PRIVATE_KEY_FILE": dir}, "JWT_PRIVATE_KEY_FILE"},
		{"jwt access not a number", map[string]string{"JWT_ACCESS_TOKEN_EXPIRE_MINUTES": "abc"}, "JWT_ACCESS_TOKEN_EXPIRE_MINUTES"},
		{"jwt access zero", map[string]string{"JWT_ACCESS_TOKEN_EXPIRE_MINUTES": "0"}, "JWT_ACCESS_TOKEN_EXPIRE_MINUTES"},
		{"jwt access too long", map[string]string{"JWT_ACCESS_TOKEN_EXPIRE_MINUTES": "1441", "JWT_REFRESH_TOKEN_EXPIRE_MINUTES": "2000"}, "JWT_ACCESS_TOKEN_EXPIRE_MINUTES"},
		{"jwt refresh equals access", map[string]string{"JWT_REFRESH_TOKEN_EXPIRE_MINUTES": "5"}, "JWT_REFRESH_TOKEN_EXPIRE_MINUTES"},
		{"jwt refresh negative", map[string]string{"JWT_REFRESH_TOKEN_EXPIRE_MINUTES": "-60"}, "JWT_REFRESH_TOKEN_EXPIRE_MINUTES"},
		{"admin email without password", map[string]string{"ADMIN_EMAIL": "root@example.com"}, "ADMIN_PASSWORD"},
		{"admin password without email", map[string]string{"ADMIN_PASSWORD": "hunter2hunter2"}, "ADMIN_EMAIL"},
		{"admin email malformed", map[string]string{"ADMIN_EMAIL": "root", "ADMIN_PASSWORD": "x"}, "ADMIN_EMAIL"},
		{"origin with path", map[string]string{"ALLOWED_ORIGINS": "http://localhost:3000/app"}, "ALLOWED_ORIGINS"},
		{"origin with trailing slash", map[string]string{"ALLOWED_ORIGINS": "https://app.example.com/"}, "ALLOWED_ORIGINS"},
		{"origin not http", map[string]string{"ALLOWED_ORIGINS": "ftp://example.com"}, "ALLOWED_ORIGINS"},
		{"origin without scheme", map[string]string{"ALLOWED_ORIGINS": "example.com"}, "ALLOWED_ORIGINS"},
		{"origin wildcard outside development", map[string]string{"ENVIRONMENT": "test", "ALLOWED_ORIGINS": "*"}, "ALLOWED_ORIGINS"},
		{"trusted proxy bad cidr", map[string]string{"TRUSTED_PROXIES": "10.0.0.0/33"}, "TRUSTED_PROXIES"},
		{"trusted proxy not an ip", map[string]string{"TRUSTED_PROXIES": "10.0.0.1, proxy.local"}, "TRUSTED_PROXIES"},
		{"trusted proxy with zone", map[string]string{"TRUSTED_PROXIES": "fe80::1%eth0"}, "TRUSTED_PROXIES"},
		{"max body too small", map[string]string{"MAX_BODY_BYTES": "1023"}, "MAX_BODY_BYTES"},
		{"max body too big", map[string]string{"MAX_BODY_BYTES": "1073741825", "MAX_UPLOAD_BYTES": "2147483648"}, "MAX_BODY_BYTES"},
		{"max body not a number", map[string]string{"MAX_BODY_BYTES": "1MB"}, "MAX_BODY_BYTES"},
		{"max upload below max body", map[string]string{"MAX_UPLOAD_BYTES": "1048575"}, "MAX_UPLOAD_BYTES"},
		{"request timeout zero", map[string]string{"REQUEST_TIMEOUT_SECONDS": "0"}, "REQUEST_TIMEOUT_SECONDS"},
		{"request timeout too long", map[string]string{"REQUEST_TIMEOUT_SECONDS": "601"}, "REQUEST_TIMEOUT_SECONDS"},
		{"shutdown timeout zero", map[string]string{"SHUTDOWN_TIMEOUT_SECONDS": "0"}, "SHUTDOWN_TIMEOUT_SECONDS"},
		{"shutdown timeout too long", map[string]string{"SHUTDOWN_TIMEOUT_SECONDS": "601"}, "SHUTDOWN_TIMEOUT_SECONDS"},
		{"log level unknown", map[string]string{"LOG_LEVEL": "verbose"}, "LOG_LEVEL"},
		{"log format unknown", map[string]string{"LOG_FORMAT": "xml"}, "LOG_FORMAT"},
		{"metrics enabled yes", map[string]string{"METRICS_ENABLED": "yes"}, "METRICS_ENABLED"},
		{"docs enabled 2", map[string]string{"DOCS_ENABLED": "2"}, "DOCS_ENABLED"},
		{"rate limit on", map[string]string{"RATE_LIMIT_ENABLED": "on"}, "RATE_LIMIT_ENABLED"},
		{"sse heartbeat zero", map[string]string{"SSE_HEARTBEAT_SECONDS": "0"}, "SSE_HEARTBEAT_SECONDS"},
		{"sse heartbeat too long", map[string]string{"SSE_HEARTBEAT_SECONDS": "3601"}, "SSE_HEARTBEAT_SECONDS"},
		{"sse connections per ip zero", map[string]string{"SSE_MAX_CONNECTIONS_PER_IP_PER_MINUTE": "0"}, "SSE_MAX_CONNECTIONS_PER_IP_PER_MINUTE"},
		{"sse connections per ip too many", map[string]string{"SSE_MAX_CONNECTIONS_PER_IP_PER_MINUTE": "10001"}, "SSE_MAX_CONNECTIONS_PER_IP_PER_MINUTE"},
		{"sse max streams zero", map[string]string{"SSE_MAX_STREAMS": "0", "SSE_MAX_STREAMS_PER_IP": "1"}, "SSE_MAX_STREAMS"},
		{"sse streams per ip zero", map[string]string{"SSE_MAX_STREAMS_PER_IP": "0"}, "SSE_MAX_STREAMS_PER_IP"},
		{"kb uploads zero", map[string]string{"KB_MAX_CONCURRENT_UPLOADS": "0"}, "KB_MAX_CONCURRENT_UPLOADS"},
		{"sse streams per ip above total", map[string]string{"SSE_MAX_STREAMS": "50"}, "SSE_MAX_STREAMS_PER_IP"},
		{"flag retention count zero", map[string]string{"FLAG_EVENT_RETENTION_COUNT": "0"}, "FLAG_EVENT_RETENTION_COUNT"},
		{"flag retention hours zero", map[string]string{"FLAG_EVENT_RETENTION_HOURS": "0"}, "FLAG_EVENT_RETENTION_HOURS"},
		{"flag retention hours overflow", map[string]string{"FLAG_EVENT_RETENTION_HOURS": "99999999999999"}, "FLAG_EVENT_RETENTION_HOURS"},
		{"jobs enabled maybe", map[string]string{"JOBS_ENABLED": "maybe"}, "JOBS_ENABLED"},
		{"worker health addr without port", map[string]string{"WORKER_HEALTH_ADDR": "127.0.0.1"}, "WORKER_HEALTH_ADDR"},
		{"worker health addr bad port", map[string]string{"WORKER_HEALTH_ADDR": "127.0.0.1:http"}, "WORKER_HEALTH_ADDR"},
		{"otel endpoint without scheme", map[string]string{"OTEL_EXPORTER_OTLP_ENDPOINT": "collector:4317"}, "OTEL_EXPORTER_OTLP_ENDPOINT"},
		{"otel protocol json", map[string]string{"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, "OTEL_EXPORTER_OTLP_PROTOCOL"},
		{"otel sampler unknown", map[string]string{"OTEL_TRACES_SAMPLER": "jaeger_remote"}, "OTEL_TRACES_SAMPLER"},
		{"otel sampler ratio above one", map[string]string{"OTEL_TRACES_SAMPLER_ARG": "1.5"}, "OTEL_TRACES_SAMPLER_ARG"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(env(tc.env))
			if err == nil {
				t.Fatalf("Load succeeded, want an error naming %s", tc.want)
			}
			if c != nil {
				t.Errorf("Load returned a config together with an error")
			}
			if got := errNames(t, err); !slices.Equal(got, []string{tc.want}) {
				t.Errorf("error names %q, want exactly [%s]; error:\n%v", got, tc.want, err)
			}
		})
	}
	// The rule sets above must cover the happy path too: a readable key file works.
	t.Run("jwt key file readable", func(t *testing.T) {
		t.Parallel()
		c := mustLoad(t, map[string]string{"JWT_ALGORITHM": "EdDSA", "JWT_PRIVATE_KEY_FILE": keyFile})
		if c.JWTPrivateKeyFile != keyFile {
			t.Errorf("JWTPrivateKeyFile = %q", c.JWTPrivateKeyFile)
		}
	})
}

func TestErrorMessageFormat(t *testing.T) {
	t.Parallel()
	_, err := Load(env(map[string]string{"JWT_ACCESS_TOKEN_EXPIRE_MINUTES": "abc"}))
	want := `config: JWT_ACCESS_TOKEN_EXPIRE_MINUTES: must be a positive integer, got "abc"`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %q", err, want)
	}
}

func TestErrorsDoNotLeakSecrets(t *testing.T) {
	t.Parallel()
	_, err := Load(env(map[string]string{
		"DATABASE_URL":   "mysql://app:s3cr3t-pw@db/app",
		"REDIS_URL":      "redis://:s3cr3t-pw@h:bad/0",
		"JWT_SECRET_KEY": "s3cr3t-pw",
	}))
	if err == nil {
		t.Fatal("want an error")
	}
	if strings.Contains(err.Error(), "s3cr3t-pw") {
		t.Errorf("error leaks a secret:\n%v", err)
	}
	if got, want := errNames(t, err), []string{"DATABASE_URL", "REDIS_URL", "JWT_SECRET_KEY"}; !slices.Equal(got, want) {
		t.Errorf("names %q, want %q", got, want)
	}
}

func TestAllProblemsReported(t *testing.T) {
	t.Parallel()
	_, err := Load(env(map[string]string{
		"PORT":                             "abc",
		"LOG_LEVEL":                        "loud",
		"JWT_REFRESH_TOKEN_EXPIRE_MINUTES": "1",
		"TRUSTED_PROXIES":                  "nope",
		"METRICS_ENABLED":                  "maybe",
	}))
	// Table order, one entry per variable.
	want := []string{"PORT", "LOG_LEVEL", "METRICS_ENABLED", "JWT_REFRESH_TOKEN_EXPIRE_MINUTES", "TRUSTED_PROXIES"}
	if got := errNames(t, err); !slices.Equal(got, want) {
		t.Errorf("names %q, want %q; error:\n%v", got, want, err)
	}
	if n := strings.Count(err.Error(), "\n") + 1; n != len(want) {
		t.Errorf("error has %d lines, want %d", n, len(want))
	}
}

func TestProductionRequirements(t *testing.T) {
	t.Parallel()
	prod := func(kv map[string]string) map[string]string {
		m := map[string]string{"ENVIRONMENT": "production"}
		for k, v := range kv {
			m[k] = v
		}
		return m
	}
	const dbURL = "postgres://app:pw@db.internal:5432/voiceassist"
	tests := []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"nothing set", prod(nil), []string{"DATABASE_URL", "JWT_SECRET_KEY"}},
		{"database url only", prod(map[string]string{"DATABASE_URL": dbURL}), []string{"JWT_SECRET_KEY"}},
		{"secret only", prod(map[string]string{"JWT_SECRET_KEY": goodSecret}), []string{"DATABASE_URL"}},
		{"short secret", prod(map[string]string{"DATABASE_URL": dbURL, "JWT_SECRET_KEY": goodSecret[:31]}), []string{"JWT_SECRET_KEY"}},
		{"wildcard origin", prod(map[string]string{"DATABASE_URL": dbURL, "JWT_SECRET_KEY": goodSecret, "ALLOWED_ORIGINS": "*"}), []string{"ALLOWED_ORIGINS"}},
		{"staging needs a secret", map[string]string{"ENVIRONMENT": "staging"}, []string{"JWT_SECRET_KEY"}},
		{"complete", prod(map[string]string{"DATABASE_URL": dbURL, "JWT_SECRET_KEY": goodSecret}), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := Load(env(tc.env))
			if got := errNames(t, err); !slices.Equal(got, tc.want) {
				t.Fatalf("names %q, want %q; error:\n%v", got, tc.want, err)
			}
			if tc.want == nil && (c.JWTSecretGenerated || c.DatabaseURL != dbURL || !c.IsProduction()) {
				t.Errorf("generated=%v DatabaseURL=%q production=%v", c.JWTSecretGenerated, c.DatabaseURL, c.IsProduction())
			}
		})
	}
}

func TestGeneratedSecret(t *testing.T) {
	t.Parallel()
	for _, environment := range []string{"development", "test"} {
		t.Run(environment, func(t *testing.T) {
			t.Parallel()
			a := mustLoad(t, map[string]string{"ENVIRONMENT": environment})
			b := mustLoad(t, map[string]string{"ENVIRONMENT": environment})
			if !a.JWTSecretGenerated || len(a.JWTSecret) != MinJWTSecretBytes {
				t.Fatalf("generated=%v len=%d", a.JWTSecretGenerated, len(a.JWTSecret))
			}
			if bytes.Equal(a.JWTSecret, b.JWTSecret) {
				t.Error("two loads generated the same secret")
			}
			if bytes.Equal(a.JWTSecret, make([]byte, MinJWTSecretBytes)) {
				t.Error("generated secret is all zeros")
			}
			set := mustLoad(t, map[string]string{"ENVIRONMENT": environment, "JWT_SECRET_KEY": goodSecret})
			if set.JWTSecretGenerated || string(set.JWTSecret) != goodSecret {
				t.Errorf("explicit secret: generated=%v", set.JWTSecretGenerated)
			}
		})
	}
}

func TestRefreshMustExceedAccess(t *testing.T) {
	t.Parallel()
	tests := []struct {
		access, refresh string
		ok              bool
	}{
		{"5", "6", true},
		{"5", "5", false},
		{"30", "10", false},
		{"1440", "1441", true},
		{"", "4", false},  // default access is 5
		{"61", "", false}, // default refresh is 60
	}
	for _, tc := range tests {
		t.Run(tc.access+"/"+tc.refresh, func(t *testing.T) {
			t.Parallel()
			_, err := Load(env(map[string]string{
				"JWT_ACCESS_TOKEN_EXPIRE_MINUTES":  tc.access,
				"JWT_REFRESH_TOKEN_EXPIRE_MINUTES": tc.refresh,
			}))
			var want []string
			if !tc.ok {
				want = []string{"JWT_REFRESH_TOKEN_EXPIRE_MINUTES"}
			}
			if got := errNames(t, err); !slices.Equal(got, want) {
				t.Errorf("names %q, want %q; error: %v", got, want, err)
			}
		})
	}
}

func TestWildcardOriginOnlyInDevelopment(t *testing.T) {
	t.Parallel()
	for _, environment := range []string{"development", "test", "staging", "production"} {
		t.Run(environment, func(t *testing.T) {
			t.Parallel()
			_, err := Load(env(map[string]string{
				"ENVIRONMENT":     environment,
				"ALLOWED_ORIGINS": "http://localhost:3000, *",
				"DATABASE_URL":    "postgres://db/app",
				"JWT_SECRET_KEY":  goodSecret,
			}))
			var want []string
			if environment != "development" {
				want = []string{"ALLOWED_ORIGINS"}
			}
			if got := errNames(t, err); !slices.Equal(got, want) {
				t.Errorf("names %q, want %q; error: %v", got, want, err)
			}
		})
	}
}

func TestTrustedProxies(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, map[string]string{
		"TRUSTED_PROXIES": " 10.0.0.0/8, 192.168.1.7 ,::1,2001:db8::/32, 172.16.5.4/12, ::ffff:10.1.2.3",
	})
	want := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"),
		netip.MustParsePrefix("192.168.1.7/32"),
		netip.MustParsePrefix("::1/128"),
		netip.MustParsePrefix("2001:db8::/32"),
		netip.MustParsePrefix("172.16.0.0/12"), // masked
		netip.MustParsePrefix("10.1.2.3/32"),   // IPv4-mapped IPv6 unmapped
	}
	if !slices.Equal(c.TrustedProxies, want) {
		t.Errorf("TrustedProxies = %v, want %v", c.TrustedProxies, want)
	}
	if got := c.Redacted()["TRUSTED_PROXIES"]; got != "10.0.0.0/8,192.168.1.7/32,::1/128,2001:db8::/32,172.16.0.0/12,10.1.2.3/32" {
		t.Errorf("Redacted TRUSTED_PROXIES = %q", got)
	}
}

func TestValidateHandBuiltConfig(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, nil)
	c.Port = 0
	c.DataDir = ""
	c.JWTSecret = nil
	want := []string{"PORT", "DATA_DIR", "JWT_SECRET_KEY"}
	if got := errNames(t, c.Validate()); !slices.Equal(got, want) {
		t.Errorf("names %q, want %q", got, want)
	}
}

func TestRedacted(t *testing.T) {
	t.Parallel()
	c := mustLoad(t, map[string]string{
		"DATABASE_URL":   "postgres://app:dbpass@db:5432/app",
		"REDIS_URL":      "rediss://:redispass@cache:6380/1",
		"OPENAI_API_KEY": "sk-test",
		"ADMIN_EMAIL":    "root@example.com",
		"ADMIN_PASSWORD": "adminpass",
		"JWT_SECRET_KEY": goodSecret,
	})
	r := c.Redacted()
	for _, v := range Vars() {
		if _, ok := r[v.Name]; !ok {
			t.Errorf("Redacted() lacks %s", v.Name)
		}
	}
	if len(r) != len(Vars()) {
		t.Errorf("Redacted() has %d entries, Vars() %d", len(r), len(Vars()))
	}
	for k, v := range r {
		for _, secret := range []string{"dbpass", "redispass", "sk-test", "adminpass", goodSecret} {
			if strings.Contains(v, secret) {
				t.Errorf("Redacted()[%s] = %q leaks a secret", k, v)
			}
		}
	}
	want := map[string]string{
		"OPENAI_API_KEY":                  "***",
		"ADMIN_PASSWORD":                  "***",
		"JWT_SECRET_KEY":                  "***",
		"QDRANT_API_KEY":                  "", // secret but unset
		"ADMIN_EMAIL":                     "root@example.com",
		"PORT":                            "8000",
		"JWT_ACCESS_TOKEN_EXPIRE_MINUTES": "5",
		"METRICS_ENABLED":                 "true",
		"ALLOWED_ORIGINS":                 "http://localhost:3000,http://localhost:5173",
		"DATABASE_URL":                    "postgres://app:xxxxx@db:5432/app",
	}
	for k, v := range want {
		if r[k] != v {
			t.Errorf("Redacted()[%s] = %q, want %q", k, r[k], v)
		}
	}
}

// TestRedactedRoundTrip: feeding Redacted() of the defaults back in (minus
// secrets) yields the same values, so show and parse agree for every var.
func TestRedactedRoundTrip(t *testing.T) {
	t.Parallel()
	a := mustLoad(t, nil).Redacted()
	in := map[string]string{}
	for k, v := range a {
		if v != "***" {
			in[k] = v
		}
	}
	b := mustLoad(t, in).Redacted()
	for k := range a {
		if a[k] != b[k] {
			t.Errorf("%s: %q after round trip, was %q", k, b[k], a[k])
		}
	}
}

func TestVarsTable(t *testing.T) {
	t.Parallel()
	vars := Vars()
	seen := map[string]bool{}
	for _, v := range vars {
		if seen[v.Name] {
			t.Errorf("duplicate variable %s", v.Name)
		}
		seen[v.Name] = true
		if v.Name != strings.ToUpper(v.Name) || strings.ContainsAny(v.Name, " -") {
			t.Errorf("%s: name must be UPPER_SNAKE_CASE", v.Name)
		}
		if v.Description == "" || strings.Contains(v.Description, "\n") {
			t.Errorf("%s: description must be one non-empty line", v.Name)
		}
		if v.Group == "" {
			t.Errorf("%s: no group", v.Name)
		}
		if v.Secret && v.Default != "" {
			t.Errorf("%s: secrets must not have a default", v.Name)
		}
	}
	if !slices.EqualFunc(vars, Vars(), func(a, b Var) bool { return a == b }) {
		t.Error("Vars() order is not stable")
	}
	vars[0].Name = "MUTATED"
	if Vars()[0].Name == "MUTATED" {
		t.Error("Vars() exposes the internal table")
	}
}

// renderEnvExample is the canonical .env.example built from Vars().
func renderEnvExample() string {
	var b strings.Builder
	b.WriteString("# VoiceAssist gateway configuration.\n")
	b.WriteString("# Copy to .env and adjust. An empty value means \"use the default\" shown here.\n")
	b.WriteString("# Generated from internal/config (Vars()); after changing the table run:\n")
	b.WriteString("#   go test ./internal/config -run TestEnvExample -update\n")
	group := ""
	for _, v := range Vars() {
		if v.Group != group {
			group = v.Group
			fmt.Fprintf(&b, "\n# ===== %s =====\n", group)
		}
		secret := ""
		if v.Secret {
			secret = " (secret)"
		}
		fmt.Fprintf(&b, "\n# %s%s\n%s=%s\n", v.Description, secret, v.Name, v.Default)
	}
	return b.String()
}

func TestEnvExample(t *testing.T) {
	t.Parallel()
	if *update {
		if err := os.WriteFile(envExamplePath, []byte(renderEnvExample()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(envExamplePath)
	if err != nil {
		t.Fatalf("read .env.example: %v", err)
	}
	inFile := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		if !ok {
			t.Errorf(".env.example: malformed line %q", line)
			continue
		}
		if _, dup := inFile[name]; dup {
			t.Errorf(".env.example: %s appears twice", name)
		}
		inFile[name] = value
	}
	known := map[string]bool{}
	for _, v := range Vars() {
		known[v.Name] = true
		value, ok := inFile[v.Name]
		switch {
		case !ok:
			t.Errorf(".env.example lacks %s", v.Name)
		case v.Secret && value != "":
			t.Errorf(".env.example: secret %s must be empty", v.Name)
		case value != v.Default:
			t.Errorf(".env.example: %s=%q, want the default %q", v.Name, value, v.Default)
		}
	}
	for name := range inFile {
		if !known[name] {
			t.Errorf(".env.example has %s, which is not in Vars()", name)
		}
	}
	if !t.Failed() && string(data) != renderEnvExample() {
		t.Error(".env.example is out of date (descriptions or grouping); run: go test ./internal/config -run TestEnvExample -update")
	}
}

// The README's configuration table lists every variable.
func TestReadmeListsEveryVariable(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range Vars() {
		if !strings.Contains(string(b), "| `"+v.Name+"` |") {
			t.Errorf("README.md configuration table lacks %s", v.Name)
		}
	}
}
