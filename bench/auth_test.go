// Package bench holds benchmarks and load drivers against a real in-process gateway.
// Results and the commands that produced them are in docs/benchmarks.md.
package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sort"
	"testing"
	"time"

	"github.com/voiceassist/gateway/internal/apptest"
	"github.com/voiceassist/gateway/internal/auth"
)

// BenchmarkLogin measures POST /api/auth/login end to end over loopback (argon2id verify,
// rate-limit checks in Redis, the session insert and the audit row in one transaction),
// one request at a time, and reports p50/p99 latency.
func BenchmarkLogin(b *testing.B) {
	s := apptest.Start(b, map[string]string{"LOG_LEVEL": "warn", "RATE_LIMIT_ENABLED": "false"})
	email := "bench" + apptest.RandomID() + "@example.org"
	const pw = "bench-Passphrase-for-login-42"
	if _, err := s.App.Auth.CreateUser(context.Background(), email, pw, "", auth.RoleUser, nil); err != nil {
		b.Fatal(err)
	}
	body := []byte(fmt.Sprintf(`{"email":%q,"password":%q}`, email, pw))
	c := &http.Client{}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		res, err := c.Post(s.URL+"/api/auth/login", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("status %d", res.StatusCode)
		}
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
}

// BenchmarkAuthenticatedRequest measures GET /api/auth/me with a bearer token: JWT verify,
// the Redis revocation check and the user-state lookup that every authenticated call pays.
func BenchmarkAuthenticatedRequest(b *testing.B) {
	s := apptest.Start(b, map[string]string{"LOG_LEVEL": "warn"})
	u, err := s.App.Auth.CreateUser(context.Background(), "me"+apptest.RandomID()+"@example.org", "bench-Passphrase-for-login-42", "", auth.RoleUser, nil)
	if err != nil {
		b.Fatal(err)
	}
	pair, err := s.App.Auth.IssueFor(context.Background(), u)
	if err != nil {
		b.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodGet, s.URL+"/api/auth/me", nil)
	req.Header.Set("Authorization", "Bearer "+pair.Access)
	c := &http.Client{}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := c.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			b.Fatalf("status %d", res.StatusCode)
		}
	}
}
