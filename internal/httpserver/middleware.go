package httpserver

import (
	"fmt"
	"log/slog"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/config"
	"github.com/voiceassist/gateway/internal/counter"
	"github.com/voiceassist/gateway/internal/logging"
)

var safeID = regexp.MustCompile(`^[A-Za-z0-9._:-]{1,128}$`)

// requestID reads or generates X-Request-ID and X-Correlation-ID, echoes them, and binds
// the request id into the request context for logs and envelopes (traceparent: tracing).
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req, h := c.Request(), c.Response().Header()
		id := req.Header.Get("X-Request-ID")
		if !safeID.MatchString(id) {
			id = uuid.NewString()
		}
		corr := req.Header.Get("X-Correlation-ID")
		if !safeID.MatchString(corr) {
			corr = id
		}
		h.Set("X-Request-ID", id)
		h.Set("X-Correlation-ID", corr)
		c.SetRequest(req.WithContext(logging.WithRequestID(req.Context(), id)))
		return next(c)
	}
}

// securityHeaders sets the original gateway's headers on every response. The docs pages
// get a CSP that allows their own inline styles and workers; the voice demo page its own
// CSP, and it alone may use the microphone (of its own origin).
func securityHeaders(docsCSP string, demo DemoPage) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			h.Set("X-XSS-Protection", "1; mode=block")
			h.Set("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
			h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
			h.Set("Permissions-Policy", "geolocation=(), microphone=(), camera=()")
			p := c.Request().URL.Path
			switch {
			case p == "/docs" || p == "/redoc" || strings.HasPrefix(p, "/docs/"):
				h.Set("Content-Security-Policy", docsCSP)
			case demo.Path != "" && (p == demo.Path || strings.HasPrefix(p, demo.Path+"/")):
				h.Set("Content-Security-Policy", demo.CSP)
				if p == demo.Path {
					h.Set("Permissions-Policy", demo.PermissionsPolicy)
				}
			default:
				h.Set("Content-Security-Policy", "default-src 'self'")
			}
			return next(c)
		}
	}
}

// bodyLimits reads the declared upload operations from the contract: an operation with
// `x-body-limit: upload` (MAX_UPLOAD_BYTES) or `x-body-limit: audio` (VOICE_MAX_AUDIO_BYTES)
// may receive more than MAX_BODY_BYTES. Keys are "METHOD echo-route-template".
// formAllowance is what a multipart upload may carry besides its file.
const formAllowance = 64 << 10

func bodyLimits(spec *openapi3.T, cfg *config.Config) map[string]int64 {
	out := map[string]int64{}
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			var limit int64
			switch op.Extensions["x-body-limit"] {
			case nil:
				continue
			case "upload":
				limit = cfg.MaxUploadBytes
			case "audio":
				limit = cfg.VoiceMaxAudioBytes
			default:
				panic(fmt.Sprintf("httpserver: %s %s: unknown x-body-limit %v", method, path, op.Extensions["x-body-limit"]))
			}
			// The declared limit is the file's; the form around it (boundaries, part headers, the
			// other fields) gets formAllowance. MAX_BODY_BYTES does not apply: an audio limit
			// below it must still hold.
			out[method+" "+specParam.ReplaceAllString(path, ":$1")] = limit + formAllowance
		}
	}
	return out
}

// bodyLimit refuses bodies over the operation's limit (MAX_BODY_BYTES unless the contract
// declares it an upload): at once when Content-Length says so, otherwise when reading passes
// the limit (the validator then reports 413).
func bodyLimit(small int64, uploads map[string]int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			max := small
			if l, ok := uploads[req.Method+" "+c.Path()]; ok {
				max = l
			}
			if req.ContentLength > max {
				return tooLarge(max)
			}
			if req.Body != nil && req.Body != http.NoBody {
				req.Body = http.MaxBytesReader(c.Response(), req.Body, max)
			}
			return next(c)
		}
	}
}

// recoverer turns a panic into a logged 500 envelope.
func recoverer(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if r := recover(); r != nil {
					if r == http.ErrAbortHandler {
						panic(r)
					}
					log.ErrorContext(c.Request().Context(), "panic", "panic", r, "route", routeOf(c))
					err = &apierr.Error{Status: 500, Code: "INTERNAL_ERROR", Message: "An internal error occurred"}
				}
			}()
			return next(c)
		}
	}
}

type httpMetrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inflight prometheus.Gauge
}

func newHTTPMetrics(reg prometheus.Registerer) *httpMetrics {
	m := &httpMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "voiceassist_http_requests_total",
			Help: "HTTP requests by method, route template and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "voiceassist_http_request_duration_seconds",
			Help:    "HTTP request duration by method and route template.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10},
		}, []string{"method", "route"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "voiceassist_http_requests_in_flight",
			Help: "HTTP requests being served.",
		}),
	}
	reg.MustRegister(m.requests, m.duration, m.inflight)
	return m
}

var knownMethods = map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true}

// routeOf is the matched route template (a bounded label set), never the raw path.
func routeOf(c echo.Context) string {
	if r, ok := c.Get(routeKey).(string); ok {
		return r
	}
	return "unmatched"
}

const routeKey = "voiceassist.route"

// markRoute records the template of a registered route; unmatched requests keep none.
func markRoute(routes map[string]bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if k := c.Request().Method + " " + c.Path(); routes[k] {
				c.Set(routeKey, c.Path())
			}
			return next(c)
		}
	}
}

// observe writes the access log line and the RED metrics of every request. It commits
// errors first so the logged status is the one the client receives.
func observe(log *slog.Logger, m *httpMetrics, daily *counter.Set) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			m.inflight.Inc()
			defer m.inflight.Dec()
			if err := next(c); err != nil {
				c.Error(err)
			}
			req, res := c.Request(), c.Response()
			route := routeOf(c)
			method := req.Method
			if !knownMethods[method] {
				method = "OTHER"
			}
			d := time.Since(start)
			m.requests.WithLabelValues(method, route, strconv.Itoa(res.Status)).Inc()
			m.duration.WithLabelValues(method, route).Observe(d.Seconds())
			daily.Add(counter.Requests, 1)
			if res.Status >= 500 {
				daily.Add(counter.Errors, 1)
			}
			level := slog.LevelInfo
			if res.Status >= 500 {
				level = slog.LevelError
			}
			// Path without the query string: queries may carry tokens (/ws?token=...).
			log.LogAttrs(req.Context(), level, "request",
				slog.String("method", req.Method),
				slog.String("route", route),
				slog.String("path", req.URL.Path),
				slog.Int("status", res.Status),
				slog.Float64("duration_ms", float64(d.Microseconds())/1000),
				slog.Int64("bytes", res.Size),
				slog.String("remote_ip", c.RealIP()),
			)
			return nil
		}
	}
}
