package handlers

import (
	"context"
	"crypto/subtle"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/buildinfo"
	"github.com/voiceassist/gateway/internal/config"
	"github.com/voiceassist/gateway/internal/health"
)

func (s *Server) GetHealth(ctx context.Context, _ api.GetHealthRequestObject) (api.GetHealthResponseObject, error) {
	return api.GetHealth200JSONResponse{Status: api.Healthy, Version: buildinfo.Version, Timestamp: now()}, nil
}

func (s *Server) GetReady(ctx context.Context, _ api.GetReadyRequestObject) (api.GetReadyResponseObject, error) {
	statuses, verdict := s.Ready.Verdict(ctx)
	check := func(name string) api.DependencyCheck {
		st := statuses[name]
		c := api.DependencyCheck{Status: api.DependencyCheckStatus(st.State)}
		if st.State != "disabled" {
			ms := float64(st.Latency.Microseconds()) / 1000
			c.LatencyMs = &ms
		}
		if st.Err != "" {
			c.Error = &st.Err
		}
		return c
	}
	body := api.Readiness{Status: api.ReadinessStatus(verdict), Timestamp: now()}
	body.Checks.Postgres, body.Checks.Redis, body.Checks.Qdrant = check("postgres"), check("redis"), check("qdrant")
	if _, ok := statuses["voice"]; ok {
		v := check("voice")
		body.Checks.Voice = &v
	}
	if _, ok := statuses["search_index"]; ok {
		v := check("search_index")
		body.Checks.SearchIndex = &v
	}
	if verdict == health.NotReady {
		return api.GetReady503JSONResponse(body), nil
	}
	return api.GetReady200JSONResponse(body), nil
}

func (s *Server) GetVersion(ctx context.Context, _ api.GetVersionRequestObject) (api.GetVersionResponseObject, error) {
	return api.GetVersion200JSONResponse{
		Success: true,
		Data: api.VersionInfo{
			Version:    buildinfo.Version,
			Commit:     buildinfo.Commit,
			BuildTime:  buildinfo.BuildTime,
			GoVersion:  buildinfo.GoVersion(),
			ApiVersion: s.APIVersion,
		},
		Metadata:  meta(ctx),
		Timestamp: now(),
	}, nil
}

// GetMetrics is served raw by routes.GetMetrics (content negotiation, compression).
func (s *Server) GetMetrics(context.Context, api.GetMetricsRequestObject) (api.GetMetricsResponseObject, error) {
	return nil, apierr.New(http.StatusInternalServerError, "INTERNAL_ERROR", "metrics are served by the raw route")
}

func (r *routes) GetMetrics(c echo.Context) error {
	cfg := r.s.Config
	// Metrics tell an attacker much about traffic and internals: on the API listener only with
	// the scrape token, or outside production when none is configured (issue 21 #10).
	switch {
	case !cfg.MetricsEnabled, cfg.MetricsAddr != "":
		return apierr.NotFound("Metrics")
	case cfg.MetricsToken != "":
		got, ok := strings.CutPrefix(c.Request().Header.Get("Authorization"), "Bearer ")
		if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(cfg.MetricsToken)) != 1 {
			c.Response().Header().Set("WWW-Authenticate", `Bearer realm="metrics"`)
			return apierr.Unauthorized("UNAUTHORIZED", "The metrics scrape token is missing or wrong")
		}
	case cfg.Environment == config.EnvProduction:
		return apierr.NotFound("Metrics")
	}
	promhttp.HandlerFor(r.s.Gatherer, promhttp.HandlerOpts{}).ServeHTTP(c.Response(), c.Request())
	return nil
}
