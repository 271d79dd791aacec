// Package tests holds the black-box tests: each starts the real gateway in-process on a
// random port against a throwaway PostgreSQL database and a private Redis key prefix, and
// talks to it through the generated client. Every response is validated against the spec.
package tests

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/app"
	"github.com/voiceassist/gateway/internal/config"
	"github.com/voiceassist/gateway/internal/dbtest"
	"github.com/voiceassist/gateway/internal/logging"
)

const defaultRedisURL = "redis://127.0.0.1:6379/0"

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// testServer is one running gateway.
type testServer struct {
	URL    string
	App    *app.App
	Client *client.ClientWithResponses
	Env    map[string]string
	logs   *syncBuffer
}

// Logs returns everything the server has logged so far.
func (s *testServer) Logs() string { return s.logs.String() }

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func randomID() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// startServer runs a gateway with a fresh database. env overrides configuration
// (DATABASE_URL: "" keeps the fresh one; pass "reuse:<url>" to share another server's).
func startServer(t testing.TB, env map[string]string) *testServer {
	t.Helper()
	vars := map[string]string{
		"ENVIRONMENT":      "test",
		"REDIS_URL":        envOr("REDIS_URL", defaultRedisURL),
		"REDIS_KEY_PREFIX": "test:" + randomID() + ":",
		"LOG_LEVEL":        "debug",
		"JWT_SECRET_KEY":   "test-secret-key-that-is-long-enough-0123456789",
	}
	for k, v := range env {
		vars[k] = v
	}
	if vars["DATABASE_URL"] == "" {
		vars["DATABASE_URL"] = dbtest.NewURL(t)
	}
	cfg, err := config.Load(func(k string) string { return vars[k] })
	require.NoError(t, err)

	logs := &syncBuffer{}
	log := logging.New(logs, "json", vars["LOG_LEVEL"])
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	a, err := app.New(ctx, cfg, log)
	require.NoError(t, err)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- a.Serve(l) }()
	t.Cleanup(func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = a.Shutdown(sctx)
		<-done
		if t.Failed() {
			t.Logf("server logs:\n%s", tail(logs.String(), 60))
		}
	})

	base := "http://" + l.Addr().String()
	c, err := client.NewClientWithResponses(base, client.WithHTTPClient(&http.Client{
		Transport: &validatingTransport{t: t},
		Timeout:   30 * time.Second,
	}))
	require.NoError(t, err)
	return &testServer{URL: base, App: a, Client: c, Env: vars, logs: logs}
}

func tail(s string, lines int) string {
	parts := strings.Split(s, "\n")
	if len(parts) > lines {
		parts = parts[len(parts)-lines:]
	}
	return strings.Join(parts, "\n")
}

var (
	specOnce   sync.Once
	specDoc    *openapi3.T
	specRouter routers.Router
	specErr    error
)

func loadSpec() (*openapi3.T, routers.Router, error) {
	specOnce.Do(func() {
		// Documentation pages and assets are text the validator may read as plain strings.
		for _, ct := range []string{"text/html", "text/javascript", "text/css"} {
			openapi3filter.RegisterBodyDecoder(ct, openapi3filter.PlainBodyDecoder)
		}
		openapi3filter.RegisterBodyDecoder("image/png", openapi3filter.FileBodyDecoder)
		specDoc, specErr = api.GetSwagger()
		if specErr != nil {
			return
		}
		specRouter, specErr = gorillamux.NewRouter(specDoc)
	})
	return specDoc, specRouter, specErr
}

// validatingTransport checks every response against the contract: its status must be
// declared for the operation, and its headers and body must match the declared schema.
// Responses to paths the spec does not have must be error envelopes.
type validatingTransport struct {
	t testing.TB
}

func (v *validatingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	res, err := http.DefaultTransport.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		return res, nil // streams are checked event by event by their own tests
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		return nil, err
	}
	res.Body = io.NopCloser(bytes.NewReader(body))
	if verr := validateResponse(req, res, body); verr != nil {
		v.t.Errorf("response of %s %s violates the contract: %v\nbody: %.600s", req.Method, req.URL.Path, verr, body)
	}
	return res, nil
}

func validateResponse(req *http.Request, res *http.Response, body []byte) error {
	doc, router, err := loadSpec()
	if err != nil {
		return err
	}
	// Match against the spec's relative server: strip scheme and host.
	r2 := req.Clone(req.Context())
	r2.URL = &url.URL{Path: req.URL.Path, RawPath: req.URL.RawPath, RawQuery: req.URL.RawQuery}
	route, params, err := router.FindRoute(r2)
	if err != nil {
		// No operation: the gateway must answer with the error envelope.
		if res.StatusCode < 400 {
			return fmt.Errorf("status %d for a path the spec does not declare", res.StatusCode)
		}
		schema := doc.Components.Schemas["ErrorEnvelope"].Value
		var v any
		if err := jsonUnmarshal(body, &v); err != nil {
			return fmt.Errorf("error body is not JSON: %w", err)
		}
		return schema.VisitJSON(v)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: r2, PathParams: params, Route: route,
			Options: &openapi3filter.Options{AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		},
		Status:  res.StatusCode,
		Header:  res.Header,
		Body:    io.NopCloser(bytes.NewReader(body)),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	return openapi3filter.ValidateResponse(context.Background(), in)
}
