package tests

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/auth"
)

// sseClientFlags creates the flags tests/sse/*.{mjs,html} expect: two public ones, an
// authenticated one and an admin one, all boolean.
func sseClientFlags(t *testing.T, s *testServer, admin string) {
	t.Helper()
	pub, authd, adm := client.FlagVisibilityPublic, client.FlagVisibilityAuthenticated, client.FlagVisibilityAdmin
	for _, f := range []struct {
		key string
		vis *client.FlagVisibility
	}{{"ui.public_flag", &pub}, {"ui.user_flag", &authd}, {"ui.admin_flag", &adm}, {"ui.only_this", &pub}} {
		s.createFlag(t, admin, client.FlagInput{Key: f.key, Type: client.FlagTypeBoolean, Enabled: ptr(true), Value: anyv(true), DefaultValue: anyv(false), Visibility: f.vis})
	}
}

// TestSSEWithEventSourcePackage runs tests/sse/eventsource.mjs: the npm `eventsource`
// package (a WHATWG EventSource for Node) against this gateway's /api/flags/stream,
// checking every event type and field, visibility on live and replayed events, both ways of
// resuming with Last-Event-ID, the final error event and pruned history.
func TestSSEWithEventSourcePackage(t *testing.T) {
	t.Parallel()
	_, nodeErr := exec.LookPath("node")
	_, modErr := os.Stat("../tools/npm/node_modules/eventsource")
	if nodeErr != nil || modErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node and tools/npm/node_modules are required in CI (make test installs them)")
		}
		t.Skip("node or the npm tools are missing (run `make npm-tools`)")
	}
	s := startServer(t, map[string]string{"SSE_HEARTBEAT_SECONDS": "1"})
	ctx := context.Background()
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	user := s.token(t, s.account(t, auth.RoleUser))
	revoke := s.token(t, s.account(t, auth.RoleUser))
	sseClientFlags(t, s, admin)

	// Pruned history for history_incomplete: a second gateway on the same database whose
	// in-memory ring is empty, after the log lost every event but the newest. The first
	// gateway still replays from its own ring.
	for i := 0; i < 2; i++ {
		_, err := s.Client.ToggleFlagWithResponse(ctx, "ui.public_flag", bearerAuth(admin))
		require.NoError(t, err)
	}
	_, err := s.App.Pool.Exec(ctx, `DELETE FROM flag_events WHERE id < (SELECT max(id) FROM flag_events)`)
	require.NoError(t, err)
	stale := startServer(t, map[string]string{"DATABASE_URL": s.Env["DATABASE_URL"], "SSE_HEARTBEAT_SECONDS": "1"})

	script, err := filepath.Abs("sse/eventsource.mjs")
	require.NoError(t, err)
	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(cctx, "node", script)
	cmd.Env = append(os.Environ(), "BASE_URL="+s.URL, "ADMIN_TOKEN="+admin, "USER_TOKEN="+user, "REVOKE_TOKEN="+revoke,
		"STALE_BASE_URL="+stale.URL, "STALE_LAST_EVENT_ID=1")
	start := time.Now()
	out, err := cmd.CombinedOutput()
	t.Logf("%s(node ran %s)", out, time.Since(start).Round(time.Millisecond))
	require.NoError(t, err, "the eventsource conformance script failed")
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	require.Regexp(t, `^\d+ passed, 0 failed$`, lines[len(lines)-1])
}

// TestSSEInBrowserEventSource loads tests/sse/browser.html in headless Chromium: the
// browser's own EventSource receives connected, a live flag_update (and not an admin
// flag's), a heartbeat, then, after the test drops the connection, reconnects by itself
// with Last-Event-ID and gets the missed events replayed and reconnected.
//
// The page must be same-origin with the stream, and it cannot authenticate flag changes,
// so a test server serves the page, reverse-proxies /api/ to the gateway (streaming: flush
// at once) and offers the page a few test-only endpoints (see browser.html).
func TestSSEInBrowserEventSource(t *testing.T) {
	t.Parallel()
	chrome, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("chromium is required in CI (.ci/run installs it)")
		}
		t.Skip("chromium not installed (apt-get install chromium); skipping the browser check")
	}
	page, err := os.ReadFile("sse/browser.html")
	require.NoError(t, err)
	s := startServer(t, map[string]string{"SSE_HEARTBEAT_SECONDS": "1"})
	ctx := context.Background()
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	sseClientFlags(t, s, admin)

	h := &browserHarness{s: s, admin: admin, page: page, gapDone: make(chan struct{}), done: make(chan struct{}), start: time.Now()}
	target, err := url.Parse(s.URL)
	require.NoError(t, err)
	h.proxy = httputil.NewSingleHostReverseProxy(target)
	h.proxy.FlushInterval = -1
	h.proxy.ModifyResponse = func(res *http.Response) error {
		if strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
			b := &droppableBody{ReadCloser: res.Body}
			res.Body = b
			h.mu.Lock()
			h.bodies = append(h.bodies, b)
			h.mu.Unlock()
		}
		return nil
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	cctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(cctx, chrome, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--disable-extensions",
		"--user-data-dir="+t.TempDir(), "--dump-dom", srv.URL+"/")
	var stderr strings.Builder
	cmd.Stderr = &stderr
	start := time.Now()
	dom, err := cmd.Output()
	h.mu.Lock()
	defer h.mu.Unlock()
	t.Logf("chromium ran %s; requests: %s", time.Since(start).Round(time.Millisecond), strings.Join(h.log, ", "))
	require.NoError(t, err, "chromium: %s", stderr.String())
	result := h.result
	require.NotEmpty(t, result, "the page never reported a result; DOM:\n%s\nchromium:\n%s", dom, stderr.String())
	t.Logf("page result: %s", result)
	require.True(t, strings.HasPrefix(result, "ok "), "%s", result)
	want := "ok connected:2 flags:ui.only_this,ui.public_flag update:ui.public_flag heartbeat:ok reconnecting reconnected:replayed=2,complete=true last="
	require.True(t, strings.HasPrefix(result, want), "got  %s\nwant %s…", result, want)
	require.Contains(t, string(dom), `<pre id="result">`+result+`</pre>`, "the dumped DOM shows the result")
	last := strings.TrimPrefix(result, want)
	require.Equal(t, []string{"", last}, h.lastEventIDs, "the browser reconnected by itself, sending Last-Event-ID")
}

// browserHarness serves the page, the /api/ proxy and the page's test endpoints.
type browserHarness struct {
	s       *testServer
	admin   string
	page    []byte
	proxy   *httputil.ReverseProxy
	streams atomic.Int32
	gapDone chan struct{} // closed once the changes made while disconnected are applied
	done    chan struct{} // closed when the page reported its result
	once    sync.Once

	start        time.Time
	mu           sync.Mutex
	log          []string // "<ms since start> <method> <path>"
	result       string
	bodies       []*droppableBody
	lastEventIDs []string // of each stream request, in order
}

func (h *browserHarness) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	h.log = append(h.log, fmt.Sprintf("%dms %s %s", time.Since(h.start).Milliseconds(), r.Method, r.URL.RequestURI()))
	h.mu.Unlock()
	switch {
	case r.URL.Path == "/":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(h.page)
	case r.URL.Path == "/api/flags/stream":
		h.mu.Lock()
		h.lastEventIDs = append(h.lastEventIDs, r.Header.Get("Last-Event-ID"))
		h.mu.Unlock()
		if h.streams.Add(1) > 1 {
			// A reconnect waits until the missed changes are applied, however soon the
			// browser retries, so that they are replayed rather than sent live.
			select {
			case <-h.gapDone:
			case <-time.After(15 * time.Second):
			}
		}
		h.proxy.ServeHTTP(w, r)
	case strings.HasPrefix(r.URL.Path, "/api/"):
		h.proxy.ServeHTTP(w, r)
	case r.URL.Path == "/test/toggle" && r.Method == http.MethodPost:
		if err := h.toggle(r.URL.Query().Get("flag")); err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/test/drop" && r.Method == http.MethodPost:
		h.mu.Lock()
		bodies := h.bodies
		h.bodies = nil
		h.mu.Unlock()
		for _, b := range bodies {
			b.drop()
		}
		// While the browser is away: the public flag twice, the admin flag once.
		v0, err := h.version()
		if err == nil {
			for _, k := range []string{"ui.public_flag", "ui.admin_flag", "ui.public_flag"} {
				if err = h.toggle(k); err != nil {
					break
				}
			}
		}
		for deadline := time.Now().Add(5 * time.Second); err == nil && time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			var v int64
			if v, err = h.version(); err == nil && v >= v0+3 {
				break
			}
		}
		close(h.gapDone)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/test/done" && r.Method == http.MethodPost:
		b, _ := io.ReadAll(r.Body)
		h.once.Do(func() {
			h.mu.Lock()
			h.result = string(b)
			h.mu.Unlock()
			close(h.done)
		})
		w.WriteHeader(http.StatusNoContent)
	case r.URL.Path == "/test/hold":
		// Delays the page's load event (and so --dump-dom) until the page is done.
		select {
		case <-h.done:
		case <-time.After(30 * time.Second):
		case <-r.Context().Done():
		}
		w.WriteHeader(http.StatusNoContent)
	default:
		http.NotFound(w, r)
	}
}

func (h *browserHarness) toggle(key string) error {
	res, err := h.s.Client.ToggleFlagWithResponse(context.Background(), key, bearerAuth(h.admin))
	if err != nil {
		return err
	}
	if res.StatusCode() != http.StatusOK {
		return fmt.Errorf("toggle %s: status %d", key, res.StatusCode())
	}
	return nil
}

func (h *browserHarness) version() (int64, error) {
	res, err := h.s.Client.GetFlagVersionWithResponse(context.Background())
	if err != nil {
		return 0, err
	}
	return res.JSON200.Data.Version, nil
}

// droppableBody is a proxied stream the test can end cleanly, as a dropped connection
// looks to the browser: the proxy sees EOF and finishes the response.
type droppableBody struct {
	io.ReadCloser
	dropped atomic.Bool
}

func (b *droppableBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if b.dropped.Load() {
		return 0, io.EOF // whatever arrived after the drop is lost, as on a real network
	}
	return n, err
}

func (b *droppableBody) drop() {
	b.dropped.Store(true)
	_ = b.ReadCloser.Close()
}
