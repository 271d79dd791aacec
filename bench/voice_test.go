package bench

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/voiceassist/gateway/internal/apptest"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/voice/offline"
)

// BenchmarkSpeechStreamFirstByte measures the time from sending POST /api/voice/synthesize/stream
// to the first audio byte (offline flite voice, pcm), over 50 warm requests, and the total
// time of the same requests. Needs the offline voice:
// go test -tags offlinevoice -run '^$' -bench SpeechStreamFirstByte -benchtime 1x ./bench/
func BenchmarkSpeechStreamFirstByte(b *testing.B) {
	if err := offline.Available(); err != nil {
		b.Skip(err)
	}
	s := apptest.Start(b, map[string]string{"LOG_LEVEL": "warn"})
	ctx := context.Background()
	u, err := s.App.Auth.CreateUser(ctx, "tts"+apptest.RandomID()+"@example.org", "bench-Passphrase-for-login-42", "", auth.RoleUser, nil)
	if err != nil {
		b.Fatal(err)
	}
	pair, err := s.App.Auth.IssueFor(ctx, u)
	if err != nil {
		b.Fatal(err)
	}
	const text = `{"text":"Your blood pressure today is one hundred and forty over ninety. That is higher than last time, so please keep taking lisinopril every morning. We will check it again in two weeks."}`
	once := func() (first, total time.Duration) {
		req, _ := http.NewRequest("POST", s.URL+"/api/voice/synthesize/stream", strings.NewReader(text))
		req.Header.Set("Authorization", "Bearer "+pair.Access)
		req.Header.Set("Content-Type", "application/json")
		start := time.Now()
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		if res.StatusCode != http.StatusOK {
			body, _ := io.ReadAll(res.Body)
			b.Fatalf("%d %s", res.StatusCode, body)
		}
		buf := make([]byte, 1)
		if _, err := io.ReadFull(res.Body, buf); err != nil {
			b.Fatal(err)
		}
		first = time.Since(start)
		_, _ = io.Copy(io.Discard, res.Body)
		return first, time.Since(start)
	}
	for range 5 {
		once() // warm up: flite voices load on first use
	}
	b.ResetTimer()
	for range b.N {
		var firsts, totals []time.Duration
		for range 50 {
			f, t := once()
			firsts, totals = append(firsts, f), append(totals, t)
		}
		b.ReportMetric(ms(pct(firsts, 50)), "first-byte-p50-ms")
		b.ReportMetric(ms(pct(firsts, 99)), "first-byte-p99-ms")
		b.ReportMetric(ms(pct(totals, 50)), "total-p50-ms")
	}
}
