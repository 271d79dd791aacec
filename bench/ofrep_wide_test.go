package bench

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/voiceassist/gateway/internal/apptest"
	"github.com/voiceassist/gateway/internal/auth"
)

// wideContext is an anonymous OFREP bulk body of just under 1 MiB carrying 60,000 context
// attributes (issue 21 #1): the amplification case.
func wideContext() []byte {
	var b strings.Builder
	b.WriteString(`{"context":{"targetingKey":"visitor-1"`)
	for i := 0; i < 60000; i++ {
		fmt.Fprintf(&b, `,"a%05d":"v"`, i)
	}
	b.WriteString(`}}`)
	return []byte(b.String())
}

// BenchmarkOFREPWideContext posts the wide body to /ofrep/v1/evaluate/flags, anonymously
// and with a bearer token (which keeps MAX_BODY_BYTES, so the bounded schema and the capped
// error list are what protect it), and reports the whole process's allocations per request
// (server and client share the process) and the statuses the server answered.
func BenchmarkOFREPWideContext(b *testing.B) {
	s := apptest.Start(b, map[string]string{"LOG_LEVEL": "error", "RATE_LIMIT_ENABLED": "false"})
	u, err := s.App.Auth.CreateUser(context.Background(), "wide"+apptest.RandomID()+"@example.org", "bench-Passphrase-for-login-42", "", auth.RoleUser, nil)
	if err != nil {
		b.Fatal(err)
	}
	pair, err := s.App.Auth.IssueFor(context.Background(), u)
	if err != nil {
		b.Fatal(err)
	}
	body := wideContext()
	for _, tc := range []struct{ name, auth string }{{"anonymous", ""}, {"bearer", "Bearer " + pair.Access}} {
		b.Run(tc.name, func(b *testing.B) {
			status := map[int]int{}
			b.ReportAllocs()
			b.SetBytes(int64(len(body)))
			for i := 0; i < b.N; i++ {
				req, _ := http.NewRequest(http.MethodPost, s.URL+"/ofrep/v1/evaluate/flags", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				if tc.auth != "" {
					req.Header.Set("Authorization", tc.auth)
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				status[res.StatusCode]++
			}
			b.StopTimer()
			for code, n := range status {
				b.ReportMetric(float64(n)/float64(b.N), fmt.Sprintf("share-%d", code))
			}
		})
	}
}
