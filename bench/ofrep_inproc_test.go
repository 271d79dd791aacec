package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/voiceassist/gateway/internal/apptest"
	"github.com/voiceassist/gateway/internal/auth"
)

// discard is a ResponseWriter that keeps only the status: the benchmark measures the
// gateway's own work per request, without sockets, so allocations per request are exact.
type discard struct {
	h      http.Header
	status int
}

func (d *discard) Header() http.Header         { return d.h }
func (d *discard) Write(p []byte) (int, error) { return len(p), nil }
func (d *discard) WriteHeader(code int)        { d.status = code }

// BenchmarkOFREPInProcess serves OFREP evaluations straight into the Echo handler (no
// network): single and bulk, anonymous and with a bearer token, each with a fresh
// targetingKey. Run: go test -run '^$' -bench OFREPInProcess -benchmem ./bench/
func BenchmarkOFREPInProcess(b *testing.B) {
	s := apptest.Start(b, map[string]string{"LOG_LEVEL": "error", "RATE_LIMIT_ENABLED": "false"})
	ctx := context.Background()
	u, err := s.App.Auth.CreateUser(ctx, "inproc"+apptest.RandomID()+"@example.org", "bench-Passphrase-for-login-42", "", auth.RoleSuperadmin, nil)
	if err != nil {
		b.Fatal(err)
	}
	pair, err := s.App.Auth.IssueFor(ctx, u)
	if err != nil {
		b.Fatal(err)
	}
	flags, err := os.ReadFile("ofrep/flags.json")
	if err != nil {
		b.Fatal(err)
	}
	serve := func(method, path, body, token string) *discard {
		req := httptest.NewRequest(method, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		w := &discard{h: http.Header{}}
		s.App.Echo.ServeHTTP(w, req)
		return w
	}
	if w := serve("POST", "/api/admin/feature-flags/import?mode=upsert", `{"flags":`+string(flags)+`}`, pair.Access); w.status != 200 {
		b.Fatalf("import: %d", w.status)
	}
	for _, tc := range []struct{ name, path, token string }{
		{"single", "/ofrep/v1/evaluate/flags/ui.dark_mode", ""},
		{"bulk", "/ofrep/v1/evaluate/flags", ""},
		{"single-bearer", "/ofrep/v1/evaluate/flags/ui.dark_mode", pair.Access},
	} {
		b.Run(tc.name, func(b *testing.B) {
			b.ReportAllocs()
			for i := 0; i < b.N; i++ {
				w := serve("POST", tc.path, `{"context":{"targetingKey":"user-`+strconv.Itoa(i)+`"}}`, tc.token)
				if w.status != 200 {
					b.Fatalf("%s: status %d", tc.path, w.status)
				}
			}
		})
	}
}
