package bench

import (
	"context"
	"io"
	"net/http"
	"os/exec"
	"sort"
	"testing"
	"time"

	"github.com/voiceassist/gateway/internal/apptest"
	"github.com/voiceassist/gateway/internal/auth"
)

// BenchmarkAdminPanelSummary measures GET /api/admin/panel/summary over 1,000 sequential
// requests on the seeded volume (bench/adminpanel/seed.sql: 100k users, 1M messages, 10k
// documents), cached and uncached (the Redis key deleted before each request, outside the
// timing). Run: go test -run '^$' -bench AdminPanelSummary -benchtime 1x ./bench/
func BenchmarkAdminPanelSummary(b *testing.B) {
	s := apptest.Start(b, map[string]string{"LOG_LEVEL": "warn"})
	ctx := context.Background()
	seed := exec.Command("psql", s.Env["DATABASE_URL"], "-q", "-v", "ON_ERROR_STOP=1", "-f", "adminpanel/seed.sql")
	if out, err := seed.CombinedOutput(); err != nil {
		b.Fatalf("seed: %v\n%s", err, out)
	}
	u, err := s.App.Auth.CreateUser(ctx, "panel"+apptest.RandomID()+"@example.org", "bench-Passphrase-for-login-42", "", auth.RoleViewer, nil)
	if err != nil {
		b.Fatal(err)
	}
	pair, err := s.App.Auth.IssueFor(ctx, u)
	if err != nil {
		b.Fatal(err)
	}
	get := func() time.Duration {
		req, _ := http.NewRequest("GET", s.URL+"/api/admin/panel/summary", nil)
		req.Header.Set("Authorization", "Bearer "+pair.Access)
		start := time.Now()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		d := time.Since(start)
		if res.StatusCode != http.StatusOK {
			b.Fatalf("summary: %d", res.StatusCode)
		}
		return d
	}
	clear := func() {
		keys, err := s.App.Redis.Keys(ctx, s.Env["REDIS_KEY_PREFIX"]+"admin:panel:summary:*").Result()
		if err == nil && len(keys) > 0 {
			err = s.App.Redis.Del(ctx, keys...).Err()
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	const n = 1000
	for i := 0; i < b.N; i++ {
		for _, mode := range []string{"uncached", "cached"} {
			ds := make([]time.Duration, n)
			get() // warm the connection (and, for cached, the key)
			for j := range ds {
				if mode == "uncached" {
					clear()
				}
				ds[j] = get()
			}
			sort.Slice(ds, func(a, c int) bool { return ds[a] < ds[c] })
			b.ReportMetric(float64(ds[n/2].Microseconds())/1000, mode+"_p50_ms")
			b.ReportMetric(float64(ds[n*99/100].Microseconds())/1000, mode+"_p99_ms")
		}
	}
}
