// Command sse is a load driver for the flag stream: it opens N concurrent SSE connections to
// a running gateway, applies changes through the admin API, and reports the change→delivery
// latency measured at every client (from the moment the change request is sent, so the
// PostgreSQL commit, NOTIFY, tail and fan-out all count) and the server's RSS per stream.
//
//	go run ./bench/sse -url http://127.0.0.1:18090 -token $ADMIN_TOKEN -n 5000 -changes 20 -pid $SERVER_PID
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/voiceassist/gateway/internal/ssetest"
)

func main() {
	base := flag.String("url", "http://127.0.0.1:18090", "gateway base URL")
	token := flag.String("token", "", "admin access token (to toggle the flag)")
	key := flag.String("flag", "ui.bench_stream", "public boolean flag to toggle")
	n := flag.Int("n", 1000, "concurrent streams")
	changes := flag.Int("changes", 20, "changes to apply")
	gap := flag.Duration("gap", 300*time.Millisecond, "pause between changes")
	pid := flag.Int("pid", 0, "server pid, for RSS per stream (0: skip)")
	pprof := flag.String("pprof", "", "server pprof address, to force a GC before reading RSS")
	cpuProfile := flag.String("cpuprofile", "", "write the server's CPU profile of the change phase here (needs -pprof)")
	flag.Parse()

	u, err := url.Parse(*base)
	must(err)
	rssBefore := rss(*pid, *pprof)

	var connected atomic.Int64
	// arrivals[k][i] = when client i saw the k-th flag_update
	arrivals := make([][]time.Time, *changes)
	for k := range arrivals {
		arrivals[k] = make([]time.Time, *n)
	}
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < *n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			stream(u.Host, i, *changes, &connected, arrivals)
		}(i)
		if i%200 == 199 {
			time.Sleep(20 * time.Millisecond) // do not trip the kernel's SYN backlog
		}
	}
	for connected.Load() < int64(*n) {
		if time.Since(start) > 2*time.Minute {
			fmt.Fprintf(os.Stderr, "only %d of %d streams connected\n", connected.Load(), *n)
			os.Exit(1)
		}
		time.Sleep(50 * time.Millisecond)
	}
	connectTime := time.Since(start)
	time.Sleep(time.Second)
	rssAfter := rss(*pid, *pprof)

	profiled := make(chan struct{})
	if *cpuProfile != "" && *pprof != "" {
		secs := max(1, int((time.Duration(*changes) * *gap).Seconds()))
		go func() { defer close(profiled); saveProfile(*pprof, secs, *cpuProfile) }()
	} else {
		close(profiled)
	}
	sent := make([]time.Time, *changes)
	client := &http.Client{Timeout: 30 * time.Second}
	for k := 0; k < *changes; k++ {
		req, _ := http.NewRequest(http.MethodPost, *base+"/api/admin/feature-flags/"+*key+"/toggle", nil)
		req.Header.Set("Authorization", "Bearer "+*token)
		sent[k] = time.Now()
		res, err := client.Do(req)
		must(err)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			fmt.Fprintf(os.Stderr, "toggle: %d\n", res.StatusCode)
			os.Exit(1)
		}
		time.Sleep(*gap)
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select { // every stream returns after its last change; wait for them (bounded)
	case <-done:
	case <-time.After(15 * time.Second):
	}

	<-profiled
	var lat []time.Duration
	missing := 0
	for k := 0; k < *changes; k++ {
		for i := 0; i < *n; i++ {
			if arrivals[k][i].IsZero() {
				missing++
				continue
			}
			lat = append(lat, arrivals[k][i].Sub(sent[k]))
		}
	}
	if os.Getenv("SSE_PER_CHANGE") != "" {
		perChange(sent, arrivals)
	}
	sort.Slice(lat, func(a, b int) bool { return lat[a] < lat[b] })
	pct := func(p float64) time.Duration {
		if len(lat) == 0 {
			return 0
		}
		return lat[min(len(lat)-1, int(p*float64(len(lat))))]
	}
	perStream, perStreamKiB := "n/a", 0.0
	if *pid > 0 && rssAfter > rssBefore {
		perStreamKiB = float64(rssAfter-rssBefore) / 1024 / float64(*n)
		perStream = fmt.Sprintf("%.1f KiB", perStreamKiB)
	}
	fmt.Printf("| %d | %s | %s | %s | %s | %s | %d | %d |\n", *n, round(pct(0.5)), round(pct(0.99)), round(pct(1)),
		perStream, round(connectTime), len(lat), missing)
	// The same figures for scripts (bench/compare/run.sh), on stderr so the table stays clean.
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	fmt.Fprintf(os.Stderr, "SSEBENCH n=%d p50_ms=%.1f p99_ms=%.1f rss_per_stream_kib=%.1f deliveries=%d missing=%d\n",
		*n, ms(pct(0.5)), ms(pct(0.99)), perStreamKiB, len(lat), missing)
}

// stream holds one raw HTTP/1.1 SSE connection and records flag_update arrivals by order.
func stream(host string, i, changes int, connected *atomic.Int64, arrivals [][]time.Time) {
	conn, err := net.Dial("tcp", host)
	if err != nil {
		fmt.Fprintln(os.Stderr, "dial:", err)
		return
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET /api/flags/stream HTTP/1.1\r\nHost: %s\r\nAccept: text/event-stream\r\n\r\n", host)
	res, err := http.ReadResponse(bufio.NewReaderSize(conn, 4096), nil)
	if err != nil {
		fmt.Fprintln(os.Stderr, "stream:", err)
		return
	}
	defer res.Body.Close()
	r := ssetest.NewReader(res.Body)
	seen := 0
	for {
		ev, err := r.Next()
		if err != nil {
			return
		}
		switch ev.Event {
		case "connected":
			connected.Add(1)
		case "flag_update":
			if seen < changes {
				arrivals[seen][i] = time.Now()
			}
			seen++
			if seen >= changes {
				return
			}
		}
	}
}

// perChange prints, for each change, when its first, median, 99th-percentile and last
// delivery arrived (SSE_PER_CHANGE=1): whether a tail comes from every change or a few.
func perChange(sent []time.Time, arrivals [][]time.Time) {
	for k, row := range arrivals {
		var d []time.Duration
		for _, t := range row {
			if !t.IsZero() {
				d = append(d, t.Sub(sent[k]))
			}
		}
		if len(d) == 0 {
			continue
		}
		sort.Slice(d, func(a, b int) bool { return d[a] < d[b] })
		fmt.Fprintf(os.Stderr, "SSECHANGE k=%d first=%s p50=%s p99=%s last=%s\n", k,
			round(d[0]), round(d[len(d)/2]), round(d[len(d)*99/100]), round(d[len(d)-1]))
	}
}

// saveProfile writes the server's CPU profile over the next secs seconds to path.
func saveProfile(addr string, secs int, path string) {
	res, err := http.Get(fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", addr, secs))
	if err != nil {
		fmt.Fprintln(os.Stderr, "cpu profile:", err)
		return
	}
	defer res.Body.Close()
	f, err := os.Create(path)
	must(err)
	defer f.Close()
	_, err = io.Copy(f, res.Body)
	must(err)
}

// rss reads the server's resident set size in bytes (after a forced GC when pprof is given).
func rss(pid int, pprof string) int64 {
	if pid <= 0 {
		return 0
	}
	if pprof != "" {
		if res, err := http.Get("http://" + pprof + "/debug/pprof/heap?gc=1"); err == nil {
			res.Body.Close()
		}
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	must(err)
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			f := strings.Fields(l)
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

func round(d time.Duration) string {
	if d > time.Second {
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(100 * time.Microsecond).String()
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
