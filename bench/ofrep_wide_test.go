package bench

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/voiceassist/gateway/internal/apptest"
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

// BenchmarkOFREPWideContext posts the wide body anonymously to /ofrep/v1/evaluate/flags and
// reports the whole process's allocations per request (server and client share the process)
// and the status the server answered.
func BenchmarkOFREPWideContext(b *testing.B) {
	s := apptest.Start(b, map[string]string{"LOG_LEVEL": "error", "RATE_LIMIT_ENABLED": "false"})
	body := wideContext()
	b.Logf("body %d bytes", len(body))
	c := &http.Client{}
	status := map[int]int{}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		res, err := c.Post(s.URL+"/ofrep/v1/evaluate/flags", "application/json", bytes.NewReader(body))
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
}
