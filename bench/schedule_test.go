package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/voiceassist/gateway/internal/apptest"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/ssetest"
)

// BenchmarkScheduledChangeApplyLag schedules 100 weight changes 50 ms apart (real clock) and
// measures, for each, the time from its scheduled_at to the flag_update reaching an SSE
// subscriber: the scheduler's wake-up, the apply transaction, the event-log tail and the
// fan-out. Run: go test -run '^$' -bench ScheduledChangeApplyLag -benchtime 1x ./bench/
func BenchmarkScheduledChangeApplyLag(b *testing.B) {
	s := apptest.Start(b, map[string]string{"LOG_LEVEL": "warn"})
	ctx := context.Background()
	u, err := s.App.Auth.CreateUser(ctx, "sched"+apptest.RandomID()+"@example.org", "bench-Passphrase-for-login-42", "", auth.RoleAdmin, nil)
	if err != nil {
		b.Fatal(err)
	}
	pair, err := s.App.Auth.IssueFor(ctx, u)
	if err != nil {
		b.Fatal(err)
	}
	call := func(method, path, body string) []byte {
		req, _ := http.NewRequest(method, s.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+pair.Access)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		var buf bytes.Buffer
		_, _ = buf.ReadFrom(res.Body)
		if res.StatusCode >= 300 {
			b.Fatalf("%s %s: %d %s", method, path, res.StatusCode, buf.String())
		}
		return buf.Bytes()
	}
	call("POST", "/api/admin/feature-flags", `{"key":"experiment.lag","type":"multivariate","enabled":true,"visibility":"public",
		"variants":[{"id":"control","value":"c","weight":50},{"id":"a","value":"a","weight":25},{"id":"b","value":"b","weight":25}]}`)

	const n = 100
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest("GET", s.URL+"/api/flags/stream", nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		arrivals := make(chan time.Time, n+10)
		go func() {
			r := ssetest.NewReader(res.Body)
			for {
				ev, err := r.Next()
				if err != nil {
					return
				}
				if ev.Event == "flag_update" {
					arrivals <- time.Now()
				}
			}
		}()
		start := time.Now().Add(2 * time.Second)
		due := make([]time.Time, n)
		for j := 0; j < n; j++ {
			due[j] = start.Add(time.Duration(j) * 50 * time.Millisecond).Truncate(time.Millisecond)
			w := `{"control":40,"a":30,"b":30}`
			if j%2 == 1 {
				w = `{"control":50,"a":25,"b":25}`
			}
			call("POST", "/api/admin/feature-flags/experiment.lag/scheduled-changes",
				fmt.Sprintf(`{"scheduled_at":%q,"changes":%s}`, due[j].Format(time.RFC3339Nano), w))
		}
		lags := make([]time.Duration, 0, n)
		for j := 0; j < n; j++ {
			select {
			case at := <-arrivals:
				lags = append(lags, at.Sub(due[j]))
			case <-time.After(30 * time.Second):
				b.Fatalf("only %d of %d changes arrived", j, n)
			}
		}
		res.Body.Close()
		sort.Slice(lags, func(x, y int) bool { return lags[x] < lags[y] })
		b.ReportMetric(float64(lags[n/2].Microseconds())/1000, "p50-ms")
		b.ReportMetric(float64(lags[n*99/100].Microseconds())/1000, "p99-ms")
		b.ReportMetric(float64(lags[n-1].Microseconds())/1000, "max-ms")
		var ok struct{ Data []json.RawMessage }
		_ = json.Unmarshal(call("GET", "/api/admin/feature-flags/scheduled-changes/all?status=applied&limit=200", ""), &ok)
		if len(ok.Data) < n*(i+1) {
			b.Fatalf("%d applied, want %d", len(ok.Data), n*(i+1))
		}
	}
}
