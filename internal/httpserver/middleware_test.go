package httpserver

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"
)

// Only the demo page itself gets microphone=(self); its files get its CSP; everything else
// keeps the default headers.
func TestSecurityHeadersDemoPage(t *testing.T) {
	const off = "geolocation=(), microphone=(), camera=()"
	demo := DemoPage{Path: "/demo/voice", CSP: "demo-csp", PermissionsPolicy: "microphone=(self)"}
	mw := securityHeaders("docs-csp", demo)(func(c echo.Context) error { return c.NoContent(http.StatusOK) })
	for _, c := range []struct{ path, csp, perms string }{
		{"/demo/voice", "demo-csp", "microphone=(self)"},
		{"/demo/voice/app.js", "demo-csp", off},
		{"/demo/voice/", "demo-csp", off},
		{"/demo/voices", "default-src 'self'", off},
		{"/demo", "default-src 'self'", off},
		{"/docs", "docs-csp", off},
		{"/docs/assets/x.js", "docs-csp", off},
		{"/api/voice/pipeline-ws", "default-src 'self'", off},
	} {
		rec := httptest.NewRecorder()
		ctx := echo.New().NewContext(httptest.NewRequest(http.MethodGet, c.path, nil), rec)
		if err := mw(ctx); err != nil {
			t.Fatal(err)
		}
		if got := rec.Header().Get("Content-Security-Policy"); got != c.csp {
			t.Errorf("%s: CSP %q, want %q", c.path, got, c.csp)
		}
		if got := rec.Header().Get("Permissions-Policy"); got != c.perms {
			t.Errorf("%s: Permissions-Policy %q, want %q", c.path, got, c.perms)
		}
	}

	// Without a demo page nothing is special.
	mw = securityHeaders("docs-csp", DemoPage{})(func(c echo.Context) error { return c.NoContent(http.StatusOK) })
	rec := httptest.NewRecorder()
	if err := mw(echo.New().NewContext(httptest.NewRequest(http.MethodGet, "/demo/voice", nil), rec)); err != nil {
		t.Fatal(err)
	}
	if got := rec.Header().Get("Permissions-Policy"); got != off {
		t.Errorf("no demo page: Permissions-Policy %q", got)
	}
}
