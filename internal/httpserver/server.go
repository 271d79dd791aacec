// Package httpserver assembles the Echo server: middleware, contract validation, the error
// envelope, metrics and the HTTP server's life cycle. It knows nothing of business logic.
package httpserver

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/config"
	"github.com/voiceassist/gateway/internal/counter"
	"github.com/voiceassist/gateway/internal/telemetry"
)

// Options are what the server needs from the outside.
type Options struct {
	Config   *config.Config
	Logger   *slog.Logger
	Spec     *openapi3.T
	Registry prometheus.Registerer
	// DocsCSP is the Content-Security-Policy of the documentation pages.
	DocsCSP string
	// Demo is the browser demo page that gets its own headers (none when Path is empty).
	Demo DemoPage
	// Authenticate checks credentials for secured operations; nil refuses them all (401).
	Authenticate Authenticator
	// WithPrincipal stores what Authenticate returned into a handler's context.
	WithPrincipal func(ctx context.Context, principal any) context.Context
	// WithClient stores the client's IP (as trusted-proxy settings decide) and user agent
	// into the request context, for audit rows.
	WithClient func(ctx context.Context, requestID, ip, userAgent string) context.Context
	// Tracing makes the request spans (nil: none, but traceparent is still answered).
	Tracing *telemetry.Tracing
	// Daily counts requests and 5xx answers per day for the admin panel's metrics (nil: not).
	Daily *counter.Set
	// Register adds the API routes (generated from the spec) to the Echo instance.
	Register func(e *echo.Echo, mws []api.StrictMiddlewareFunc)
}

// DemoPage is a page at Path (its files under Path/) served with its own
// Content-Security-Policy; Path alone also gets PermissionsPolicy.
type DemoPage struct {
	Path, CSP, PermissionsPolicy string
}

// New builds the Echo instance with every cross-cutting concern wired in order.
func New(o Options) *echo.Echo {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	routes := routeSet{}
	e.HTTPErrorHandler = errorHandler(o.Logger, routes)
	e.IPExtractor = ipExtractor(o.Config)

	metrics := newHTTPMetrics(o.Registry)

	chain := []echo.MiddlewareFunc{
		begin(o.Tracing, o.WithClient, routes),
		observe(o.Logger, metrics, o.Daily, routes),
		requestLimits, // the first input check: 414/431 in the envelope
		recoverer(o.Logger, routes),
		securityHeaders(o.DocsCSP, o.Demo),
		middleware.CORSWithConfig(middleware.CORSConfig{
			AllowOrigins:     o.Config.AllowedOrigins,
			AllowCredentials: true,
			AllowMethods:     []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch},
			ExposeHeaders: []string{"X-Request-ID", "X-Correlation-ID", "Retry-After", "ETag",
				"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset",
				"X-TTS-Provider", "X-TTS-Fallback", "X-TTS-Voice", "Traceparent"},
			MaxAge: 600,
		}),
		bodyDeadline(o.Config.RequestTimeout),
		handlerDeadline(o.Config.RequestTimeout, streamingOperations(o.Spec)),
		bodyLimit(o.Config.MaxBodyBytes, bodyLimits(o.Spec, o.Config)),
		validator(o.Spec, o.Authenticate, newUploadSlots(o.Config.KBMaxConcurrentUploads)),
		principalIntoContext(o.WithPrincipal),
	}
	e.Use(composed(chain))

	o.Register(e, nil)
	for _, r := range e.Routes() {
		opTable[bool](routes).set(r.Method, r.Path, true)
	}
	return e
}

// composed joins the middleware chain once, at start, around the handler Echo's router
// found for the request. Echo applies each middleware given to Use anew on every request
// (one closure allocated per middleware per request); this makes it one Use whose chain is
// built once. It must be the only middleware given to Use: it ignores the next handler
// Echo passes, so a middleware added after it would be skipped.
func composed(chain []echo.MiddlewareFunc) echo.MiddlewareFunc {
	h := func(c echo.Context) error { return c.Handler()(c) }
	for i := len(chain) - 1; i >= 0; i-- {
		h = chain[i](h)
	}
	return func(echo.HandlerFunc) echo.HandlerFunc { return h }
}

// principalIntoContext copies the principal that the validator's authentication stored on
// the Echo context into the request context, where handlers (strict or raw) read it. It runs
// after validation has finished, so the request body the validator kept stays in place. An
// operation that also admits anonymous callers still refuses a credential that was sent but
// rejected.
func principalIntoContext(with func(context.Context, any) context.Context) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p := c.Get(principalKey)
			if p == nil {
				if err, ok := c.Get(rejectedKey).(error); ok {
					return err
				}
				return next(c)
			}
			if with != nil {
				c.SetRequest(c.Request().WithContext(with(c.Request().Context(), p)))
			}
			return next(c)
		}
	}
}

// ipExtractor believes X-Forwarded-For only from TRUSTED_PROXIES.
func ipExtractor(cfg *config.Config) echo.IPExtractor {
	if len(cfg.TrustedProxies) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range cfg.TrustedProxies {
		_, n, err := net.ParseCIDR(p.String())
		if err == nil {
			opts = append(opts, echo.TrustIPRange(n))
		}
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// HTTPServer wraps the handler with timeouts fit for both short requests and long streams.
// Headers must arrive within 10 s; bodies within REQUEST_TIMEOUT_SECONDS (bodyDeadline). There
// is no ReadTimeout: it would also cut streams and WebSocket sessions, whose connection is read
// for their whole life. No WriteTimeout either: streams set their own write deadlines.
func HTTPServer(h http.Handler, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    1 << 20, // far above requestLimits' 64 KiB, so 431 comes in the envelope
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

// MetricsServer serves the Prometheus metrics alone, for the separate METRICS_ADDR listener.
func MetricsServer(g prometheus.Gatherer, log *slog.Logger) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	return &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      30 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}
