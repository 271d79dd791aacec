package httpserver

import (
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/config"
	"github.com/voiceassist/gateway/internal/counter"
)

// setRequestIDs answers with the request's X-Request-ID (the client's when it is a safe
// token, else a new UUID) and X-Correlation-ID (the client's, else the request id), and
// returns the request id. Both values share one allocation.
func setRequestIDs(req *http.Request, h http.Header) string {
	id := headerValue(req.Header, "X-Request-Id")
	if !safeID(id) {
		id = newRequestID()
	}
	corr := headerValue(req.Header, "X-Correlation-Id")
	if !safeID(corr) {
		corr = id
	}
	ids := []string{id, corr}
	h["X-Request-Id"] = ids[0:1:1]
	h["X-Correlation-Id"] = ids[1:2:2]
	return id
}

// headerValue is req.Header.Get for a key already in canonical form.
func headerValue(h http.Header, canonical string) string {
	if v := h[canonical]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// safeID accepts 1-128 of [A-Za-z0-9._:-]: a client's id is echoed and logged only then.
func safeID(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == ':' || c == '-') {
			return false
		}
	}
	return true
}

// newRequestID is a random (version 4) UUID. Request ids need to be unique, not secret:
// the runtime's per-thread generator makes them without a system call or a lock.
func newRequestID() string {
	var u [16]byte
	binary.LittleEndian.PutUint64(u[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(u[8:], rand.Uint64())
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	var out [36]byte
	hex.Encode(out[0:8], u[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], u[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], u[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], u[8:10])
	out[23] = '-'
	hex.Encode(out[24:], u[10:])
	return string(out[:])
}

// Header values shared by every answer (never modified in place: a handler that sets one
// of these headers replaces the slice).
var (
	hNosniff     = []string{"nosniff"}
	hDeny        = []string{"DENY"}
	hXSS         = []string{"1; mode=block"}
	hHSTS        = []string{"max-age=31536000; includeSubDomains"}
	hReferrer    = []string{"strict-origin-when-cross-origin"}
	hPermissions = []string{"geolocation=(), microphone=(), camera=()"}
	hDefaultCSP  = []string{"default-src 'self'"}
	hNoStore     = []string{"no-store"}
	hNoCache     = []string{"no-cache"}
)

// securityHeaders sets the answer's protective headers when it is committed, by what it is.
// Every answer gets X-Content-Type-Options; a JSON answer without a Cache-Control of its own
// gets "no-store" when it may carry tokens or a user's data (everything under /api/auth/ and
// every answer to a request with credentials: RFC 6749 §5.1, RFC 9111 §5.2.2.5) and
// "no-cache" otherwise. Answers that a browser may render (pages, scripts, streams, files)
// also get the document headers: frame, XSS, HSTS, referrer and permissions policies and a
// CSP. JSON answers leave those out: a browser does not render them as documents, and each
// header is paid for on every one of the busiest answers (docs/operations.md). The docs pages
// get a CSP that allows their own inline styles and workers; the voice demo page its own
// CSP, and it alone may use the microphone (of its own origin).
func securityHeaders(docsCSP string, demo DemoPage) echo.MiddlewareFunc {
	docs, demoCSP, demoPerms := []string{docsCSP}, []string{demo.CSP}, []string{demo.PermissionsPolicy}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			res, req := c.Response(), c.Request()
			h := res.Header()
			h["X-Content-Type-Options"] = hNosniff
			res.Before(func() {
				if isJSON(headerValue(h, "Content-Type")) {
					if len(h["Cache-Control"]) == 0 {
						h["Cache-Control"] = hNoCache
						if credentialed(req) {
							h["Cache-Control"] = hNoStore
						}
					}
					return
				}
				h["X-Frame-Options"] = hDeny
				h["X-Xss-Protection"] = hXSS
				h["Strict-Transport-Security"] = hHSTS
				h["Referrer-Policy"] = hReferrer
				h["Permissions-Policy"] = hPermissions
				p := req.URL.Path
				switch {
				case p == "/docs" || p == "/redoc" || strings.HasPrefix(p, "/docs/"):
					h["Content-Security-Policy"] = docs
				case demo.Path != "" && (p == demo.Path || strings.HasPrefix(p, demo.Path+"/")):
					h["Content-Security-Policy"] = demoCSP
					if p == demo.Path {
						h["Permissions-Policy"] = demoPerms
					}
				default:
					h["Content-Security-Policy"] = hDefaultCSP
				}
			})
			return next(c)
		}
	}
}

// credentialed: the answer may carry tokens or the caller's data.
func credentialed(r *http.Request) bool {
	return strings.HasPrefix(r.URL.Path, "/api/auth/") || headerValue(r.Header, "Authorization") != "" || headerValue(r.Header, "X-Api-Key") != ""
}

func isJSON(ct string) bool {
	ct, _, _ = strings.Cut(ct, ";")
	ct = strings.TrimSpace(ct)
	return strings.EqualFold(ct, echo.MIMEApplicationJSON) || (len(ct) > 5 && strings.EqualFold(ct[len(ct)-5:], "+json"))
}

// bodyLimits reads the declared upload operations from the contract: an operation with
// `x-body-limit: upload` (MAX_UPLOAD_BYTES) or `x-body-limit: audio` (VOICE_MAX_AUDIO_BYTES)
// may receive more than MAX_BODY_BYTES. Keys are "METHOD echo-route-template".
// formAllowance is what a multipart upload may carry besides its file.
const formAllowance = 64 << 10

func bodyLimits(spec *openapi3.T, cfg *config.Config) opTable[int64] {
	out := opTable[int64]{}
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
			out.set(method, specParam.ReplaceAllString(path, ":$1"), limit+formAllowance)
		}
	}
	return out
}

// bodyLimit refuses bodies over the operation's limit (MAX_BODY_BYTES unless the contract
// declares it an upload): at once when Content-Length says so, otherwise when reading passes
// the limit (the validator then reports 413).
func bodyLimit(small int64, uploads opTable[int64]) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			max := small
			if l, ok := uploads.get(req.Method, c.Path()); ok {
				max = l
			}
			if req.ContentLength > max {
				return tooLarge(max)
			}
			limitBody(c, max)
			return next(c)
		}
	}
}

// limitBody makes reading the request body fail past max bytes. A body of declared length
// needs no wrapper: net/http never reads past Content-Length, which the caller has already
// compared with max.
func limitBody(c echo.Context, max int64) {
	req := c.Request()
	if req.Body != nil && req.Body != http.NoBody && (req.ContentLength < 0 || req.ContentLength > max) {
		req.Body = http.MaxBytesReader(c.Response(), req.Body, max)
	}
}

// recoverer turns a panic into a logged 500 envelope.
func recoverer(log *slog.Logger, routes routeSet) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				if r := recover(); r != nil {
					if r == http.ErrAbortHandler {
						panic(r)
					}
					log.ErrorContext(c.Request().Context(), "panic", "panic", r, "route", routes.of(c))
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

// routeSet holds the registered routes ("METHOD" -> Echo route template).
type routeSet opTable[bool]

// of is the request's matched route template (a bounded label set), never the raw path:
// "unmatched" when Echo routed it to no registered operation (404, 405). It is looked up
// where it is needed rather than stored on the context (Echo allocates a map for that).
func (rs routeSet) of(c echo.Context) string {
	if p := c.Path(); rs[c.Request().Method][p] {
		return p
	}
	return "unmatched"
}

// observe writes the access log line and the RED metrics of every request. It commits
// errors first so the logged status is the one the client receives.
func observe(log *slog.Logger, m *httpMetrics, daily *counter.Set, routes routeSet) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			m.inflight.Inc()
			defer m.inflight.Dec()
			if err := next(c); err != nil {
				c.Error(err)
			}
			req, res := c.Request(), c.Response()
			route := routes.of(c)
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
