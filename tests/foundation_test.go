package tests

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
)

// raw sends a request the generated client cannot express (bad bodies, odd methods),
// still validating the response against the spec.
func (s *testServer) raw(t *testing.T, method, path, body string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	res := s.send(t, method, path, body, header)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return res, b
}

// send issues a request (JSON body if any) through the contract-validating transport.
func (s *testServer) send(t *testing.T, method, path, body string, header map[string]string) *http.Response {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, r)
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := (&http.Client{Transport: &validatingTransport{t: t}, Timeout: 30 * time.Second}).Do(req)
	require.NoError(t, err)
	return res
}

// errorOf decodes an error envelope.
func errorOf(t *testing.T, b []byte) client.ErrorEnvelope {
	t.Helper()
	var e client.ErrorEnvelope
	require.NoError(t, json.Unmarshal(b, &e), "body: %s", b)
	require.False(t, bool(e.Success))
	return e
}

// errorFields lists every field a validation error names (error.field and details.errors).
func errorFields(t *testing.T, b []byte) []string {
	t.Helper()
	e := errorOf(t, b)
	require.NotNil(t, e.Error.Field, "%s", b)
	fields := []string{*e.Error.Field}
	if e.Error.Details != nil {
		for _, fe := range (*e.Error.Details)["errors"].([]any) {
			fields = append(fields, fe.(map[string]any)["field"].(string))
		}
	}
	return fields
}

func TestHealth(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	res, err := s.Client.GetHealthWithResponse(context.Background())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode())
	require.Equal(t, client.Healthy, res.JSON200.Status)
}

func TestReady(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	res, err := s.Client.GetReadyWithResponse(context.Background())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)
	require.Equal(t, client.Ready, res.JSON200.Status)
	require.Equal(t, client.Up, res.JSON200.Checks.Postgres.Status)
	require.Equal(t, client.Up, res.JSON200.Checks.Redis.Status)
	require.Equal(t, client.Disabled, res.JSON200.Checks.Qdrant.Status)
	require.NotNil(t, res.JSON200.Checks.SearchIndex)
	require.Equal(t, client.Up, res.JSON200.Checks.SearchIndex.Status)
	require.NotNil(t, res.JSON200.Checks.Postgres.LatencyMs)
}

func TestReadyReportsDependencyDown(t *testing.T) {
	t.Parallel()
	// Nothing listens on port 1: the gateway still starts (Redis is optional at start)
	// and readiness names the dependency that is down.
	s := startServer(t, map[string]string{"REDIS_URL": "redis://127.0.0.1:1/0", "QDRANT_HOST": "127.0.0.1", "QDRANT_PORT": "1"})
	res, err := s.Client.GetReadyWithResponse(context.Background())
	require.NoError(t, err)
	require.Equal(t, http.StatusServiceUnavailable, res.StatusCode())
	r := res.JSON503
	require.Equal(t, client.NotReady, r.Status)
	require.Equal(t, client.Up, r.Checks.Postgres.Status)
	require.Equal(t, client.Down, r.Checks.Redis.Status)
	require.Equal(t, client.Down, r.Checks.Qdrant.Status)
	require.NotNil(t, r.Checks.Redis.Error)
	require.NotContains(t, string(res.Body), "127.0.0.1", "the report must not leak addresses")

	// Liveness does not depend on anything.
	h, err := s.Client.GetHealthWithResponse(context.Background())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, h.StatusCode())
}

func TestVersion(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	res, err := s.Client.GetVersionWithResponse(context.Background())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode())
	v := res.JSON200
	require.True(t, bool(v.Success))
	require.Nil(t, v.Error)
	require.NotEmpty(t, v.Data.Version)
	require.True(t, strings.HasPrefix(v.Data.GoVersion, "go"))
	doc, _, err := loadSpec()
	require.NoError(t, err)
	require.Equal(t, doc.Info.Version, v.Data.ApiVersion)
	require.Equal(t, res.HTTPResponse.Header.Get("X-Request-ID"), v.Metadata.RequestId)
}

func TestMetrics(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	_, err := s.Client.GetHealthWithResponse(context.Background())
	require.NoError(t, err)
	s.raw(t, http.MethodGet, "/no/such/path/12345", "", nil)

	res, err := s.Client.GetMetricsWithResponse(context.Background())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode())
	require.Contains(t, res.HTTPResponse.Header.Get("Content-Type"), "text/plain")
	text := string(res.Body)
	for _, want := range []string{
		`voiceassist_http_requests_total{method="GET",route="/health",status="200"} 1`,
		`voiceassist_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`voiceassist_http_request_duration_seconds_bucket{method="GET",route="/health"`,
		"voiceassist_db_pool_max_connections",
		"voiceassist_db_pool_acquires_total",
		"go_goroutines",
		"process_resident_memory_bytes",
	} {
		require.Contains(t, text, want)
	}
	require.NotContains(t, text, "/no/such/path", "raw paths must never become labels")
}

func TestMetricsDisabled(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"METRICS_ENABLED": "false", "DOCS_ENABLED": "false"})
	res, err := s.Client.GetMetricsWithResponse(context.Background())
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, res.StatusCode())
	d, err := s.Client.GetSwaggerUIWithResponse(context.Background())
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, d.StatusCode())
}

func TestSpecAndDocsRoutes(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()

	j, err := s.Client.GetOpenAPIJSONWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, j.StatusCode())
	var doc struct {
		OpenAPI string `json:"openapi"`
		Info    struct{ Title string }
		Paths   map[string]any
	}
	require.NoError(t, json.Unmarshal(j.Body, &doc))
	require.Equal(t, "3.0.3", doc.OpenAPI)
	require.Equal(t, "VoiceAssist API Gateway", doc.Info.Title)
	require.Contains(t, doc.Paths, "/health")

	y, err := s.Client.GetOpenAPIYAMLWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, y.StatusCode())
	require.Contains(t, string(y.Body), "openapi: 3.0.3")

	for _, get := range []func() (int, string, []byte){
		func() (int, string, []byte) {
			r, err := s.Client.GetSwaggerUIWithResponse(ctx)
			require.NoError(t, err)
			return r.StatusCode(), r.HTTPResponse.Header.Get("Content-Security-Policy"), r.Body
		},
		func() (int, string, []byte) {
			r, err := s.Client.GetRedocWithResponse(ctx)
			require.NoError(t, err)
			return r.StatusCode(), r.HTTPResponse.Header.Get("Content-Security-Policy"), r.Body
		},
	} {
		status, csp, html := get()
		require.Equal(t, http.StatusOK, status)
		require.Contains(t, string(html), "<title>VoiceAssist API Gateway")
		require.Contains(t, string(html), "/docs/assets/")
		require.NotContains(t, string(html), "https://", "docs must not load anything from another origin")
		require.Contains(t, csp, "script-src 'self'")
	}

	a, err := s.Client.GetDocsAssetWithResponse(ctx, "swagger-ui-bundle.js")
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, a.StatusCode())
	require.Contains(t, a.HTTPResponse.Header.Get("Content-Type"), "javascript")
	require.Greater(t, len(a.Body), 100000)

	missing, err := s.Client.GetDocsAssetWithResponse(ctx, "nope.js")
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, missing.StatusCode())
	require.Equal(t, "NOT_FOUND", errorOf(t, missing.Body).Error.Code)

	// A traversal attempt breaks the path pattern: a 4xx, never a file.
	res, body := s.raw(t, http.MethodGet, "/docs/assets/..%2F..%2Fgo.mod", "", nil)
	require.GreaterOrEqual(t, res.StatusCode, 400)
	require.Less(t, res.StatusCode, 500)
	require.NotContains(t, string(body), "module github.com")
}

// TestDocsRenderInBrowser loads /docs and /redoc in headless Chromium and checks that the
// rendered pages show the API title (the JavaScript ran offline, under our CSP).
func TestDocsRenderInBrowser(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("chromium"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is required in CI (.ci/run installs it)")
		}
		t.Skip("chromium not installed (apt-get install chromium); skipping the browser check")
	}
	s := startServer(t, nil)
	out, err := exec.Command("../scripts/check-docs-browser.sh", s.URL, "VoiceAssist API Gateway").CombinedOutput()
	require.NoError(t, err, "%s", out)
}

func TestUnknownRouteAndMethod(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	res, body := s.raw(t, http.MethodGet, "/api/nothing-here", "", nil)
	require.Equal(t, http.StatusNotFound, res.StatusCode)
	e := errorOf(t, body)
	require.Equal(t, "NOT_FOUND", e.Error.Code)
	require.Contains(t, e.Error.Message, "/api/nothing-here")
	require.Equal(t, res.Header.Get("X-Request-ID"), e.Metadata.RequestId)

	res, body = s.raw(t, http.MethodDelete, "/health", "", nil)
	require.Equal(t, http.StatusMethodNotAllowed, res.StatusCode)
	require.Equal(t, "METHOD_NOT_ALLOWED", errorOf(t, body).Error.Code)
}

func TestRequestIDAndHeaders(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	res, _ := s.raw(t, http.MethodGet, "/api/version", "", map[string]string{
		"X-Request-ID":     "client-req-42",
		"X-Correlation-ID": "corr-7",
		"traceparent":      "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
	})
	require.Equal(t, "client-req-42", res.Header.Get("X-Request-ID"))
	require.Equal(t, "corr-7", res.Header.Get("X-Correlation-ID"))
	// The answer names the server's own span in the caller's trace.
	require.Regexp(t, `^00-0af7651916cd43dd8448eb211c80319c-[0-9a-f]{16}-01$`, res.Header.Get("traceparent"))
	require.NotContains(t, res.Header.Get("traceparent"), "b7ad6b7169203331")
	require.Contains(t, s.Logs(), `"request_id":"client-req-42"`, "the access log names the request")

	// A hostile or absent id is replaced by a generated one.
	res, body := s.raw(t, http.MethodGet, "/api/version", "", map[string]string{"X-Request-ID": "bad id\"<script>"})
	id := res.Header.Get("X-Request-ID")
	require.Len(t, id, 36)
	var env client.VersionEnvelope
	require.NoError(t, json.Unmarshal(body, &env))
	require.Equal(t, id, env.Metadata.RequestId)
	require.Regexp(t, `^00-[0-9a-f]{32}-[0-9a-f]{16}-01$`, res.Header.Get("traceparent"))

	// A JSON answer keeps nosniff and a Cache-Control; the document headers go on what a
	// browser may render (issue 17, docs/operations.md).
	require.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
	require.Equal(t, "no-cache", res.Header.Get("Cache-Control"))
	for _, k := range []string{"X-Frame-Options", "Strict-Transport-Security", "Content-Security-Policy", "Referrer-Policy", "Permissions-Policy", "X-XSS-Protection"} {
		require.Empty(t, res.Header.Get(k), k)
	}
	res, _ = s.raw(t, http.MethodGet, "/openapi.yaml", "", nil)
	require.Equal(t, http.StatusOK, res.StatusCode)
	for k, v := range map[string]string{
		"X-Content-Type-Options":    "nosniff",
		"X-Frame-Options":           "DENY",
		"Strict-Transport-Security": "max-age=31536000; includeSubDomains",
		"Content-Security-Policy":   "default-src 'self'",
		"Referrer-Policy":           "strict-origin-when-cross-origin",
		"Permissions-Policy":        "geolocation=(), microphone=(), camera=()",
		"X-Xss-Protection":          "1; mode=block",
	} {
		require.Equal(t, v, res.Header.Get(k), k)
	}
	require.NotEmpty(t, res.Header.Get("X-Request-ID"))
	require.NotEmpty(t, res.Header.Get("Traceparent"))
}

func TestCORS(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"ALLOWED_ORIGINS": "https://app.example.org"})
	req, err := http.NewRequest(http.MethodOptions, s.URL+"/api/version", nil)
	require.NoError(t, err)
	req.Header.Set("Origin", "https://app.example.org")
	req.Header.Set("Access-Control-Request-Method", "GET")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	res.Body.Close()
	require.Equal(t, http.StatusNoContent, res.StatusCode)
	require.Equal(t, "https://app.example.org", res.Header.Get("Access-Control-Allow-Origin"))
	require.Equal(t, "true", res.Header.Get("Access-Control-Allow-Credentials"))

	res2, _ := s.raw(t, http.MethodGet, "/api/version", "", map[string]string{"Origin": "https://evil.example.com"})
	require.Empty(t, res2.Header.Get("Access-Control-Allow-Origin"))
	res3, _ := s.raw(t, http.MethodGet, "/api/version", "", map[string]string{"Origin": "https://app.example.org"})
	require.Contains(t, res3.Header.Get("Access-Control-Expose-Headers"), "X-Request-ID")
	require.Contains(t, res3.Header.Get("Access-Control-Expose-Headers"), "Traceparent", "browsers on the app origin read the trace id")
}

func TestAccessLogHasNoSecrets(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	s.raw(t, http.MethodGet, "/health?token=supersecretvalue", "", map[string]string{"Authorization": "Bearer abc.def.ghi"})
	logs := s.Logs()
	require.Contains(t, logs, `"route":"/health"`)
	require.NotContains(t, logs, "supersecretvalue")
	require.NotContains(t, logs, "abc.def.ghi")
}
