// Package tests holds the black-box tests: each starts the real gateway in-process on a
// random port against a throwaway PostgreSQL database and a private Redis key prefix, and
// talks to it through the generated client. Every response is validated against the spec.
package tests

import (
	"bytes"
	"context"
	"fmt"
	"io"
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
	"github.com/voiceassist/gateway/internal/apptest"
)

const defaultRedisURL = apptest.DefaultRedisURL

func envOr(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// testServer is one running gateway with a contract-validating client.
type testServer struct {
	*apptest.Server
	Client *client.ClientWithResponses
}

func randomID() string { return apptest.RandomID() }

// startServer runs a gateway with a fresh database; env overrides configuration.
func startServer(t testing.TB, env map[string]string, opts ...app.Option) *testServer {
	t.Helper()
	s := apptest.Start(t, env, opts...)
	c, err := client.NewClientWithResponses(s.URL, client.WithHTTPClient(&http.Client{
		Transport: &validatingTransport{t: t},
		Timeout:   30 * time.Second,
	}))
	require.NoError(t, err)
	return &testServer{Server: s, Client: c}
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
		for _, ct := range []string{"text/html", "text/javascript", "text/css", "text/markdown"} {
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
