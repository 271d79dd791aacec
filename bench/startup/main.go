// Command startup measures a server's start-up as bench-compare reports it: the time from
// exec to the first 200 answer of a POST to -url (polled every millisecond), and the
// resident set size once it has then idled for -idle. The server is stopped afterwards.
//
//	go run ./bench/startup -url http://127.0.0.1:18090/ofrep/v1/evaluate/flags/ui.dark_mode -- bin/voiceassist serve
//
// It prints one line: STARTUP ms=<float> rss_kib=<int> cpu_ms=<float> wait_ms=<float>
// anon_kib=<int> file_kib=<int> pmd_kib=<int>: cpu_ms is
// the CPU time the server's threads had used when the 200 arrived and wait_ms the time they
// spent runnable but waiting for a CPU (from /proc/<pid>/task/*/schedstat). On a busy machine
// ms grows with wait_ms while cpu_ms stays what the start-up costs. anon_kib and file_kib split
// the RSS into memory the process allocated and pages of its binary (and other files) mapped;
// pmd_kib is the part of file_kib mapped as 2 MiB pages: a binary the Go linker has just
// written sits in the page cache as large folios, and every start of it then maps them whole
// (~25 MiB more RSS); a copy (cp) does not (docs/benchmarks.md § "Start-up and idle memory").
package main

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	url := flag.String("url", "", "URL that must answer 200 to a POST")
	body := flag.String("body", `{"context":{"targetingKey":"user-1"}}`, "POST body")
	idle := flag.Duration("idle", 2*time.Second, "idle time before reading the RSS")
	timeout := flag.Duration("timeout", 30*time.Second, "give up after")
	flag.Parse()
	if *url == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: startup -url URL -- command [args]")
		os.Exit(2)
	}
	cmd := exec.Command(flag.Arg(0), flag.Args()[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	client := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}

	start := time.Now()
	must(cmd.Start())
	defer func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() }()
	var took time.Duration
	var cpu, wait int64
	for {
		res, err := client.Post(*url, "application/json", bytes.NewBufferString(*body))
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				took = time.Since(start)
				cpu, wait = schedNS(cmd.Process.Pid)
				break
			}
		}
		if time.Since(start) > *timeout {
			fmt.Fprintf(os.Stderr, "no 200 from %s after %s\n", *url, *timeout)
			os.Exit(1)
		}
		time.Sleep(time.Millisecond)
	}
	time.Sleep(*idle)
	pid := cmd.Process.Pid
	fmt.Printf("STARTUP ms=%.1f rss_kib=%d cpu_ms=%.1f wait_ms=%.1f anon_kib=%d file_kib=%d pmd_kib=%d\n",
		float64(took.Microseconds())/1000, procKiB(pid, "status", "VmRSS:"), float64(cpu)/1e6, float64(wait)/1e6,
		procKiB(pid, "status", "RssAnon:"), procKiB(pid, "status", "RssFile:"), procKiB(pid, "smaps_rollup", "FilePmdMapped:"))
}

// procKiB reads a "Name: N kB" line of /proc/<pid>/<file>.
func procKiB(pid int, file, name string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/%s", pid, file))
	must(err)
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == name {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb
		}
	}
	return 0
}

// schedNS sums the time on a CPU and the time waiting for one of every thread of pid, in
// nanoseconds (threads that already exited are not counted; the Go runtime keeps its threads).
func schedNS(pid int) (cpu, wait int64) {
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", pid))
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		if f := strings.Fields(string(b)); len(f) >= 2 {
			c, _ := strconv.ParseInt(f[0], 10, 64)
			w, _ := strconv.ParseInt(f[1], 10, 64)
			cpu, wait = cpu+c, wait+w
		}
	}
	return cpu, wait
}

func must(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
