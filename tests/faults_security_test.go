package tests

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/llm/llmtest"
)

// Issue 21 #17: concurrent readiness probes with a disabled dependency (the vector store is
// not configured here) must not race on the result map: before the fix this could kill the
// process with "concurrent map writes"; `make test-race` checks the health package itself.
func TestReadyUnderConcurrentProbes(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				res, err := s.Client.GetReadyWithResponse(context.Background())
				if err != nil {
					errs <- err
					return
				}
				// 503 is an honest answer when the shared test PostgreSQL is saturated; the
				// point is that the process answers at all.
				if res.StatusCode() != http.StatusOK && res.StatusCode() != http.StatusServiceUnavailable {
					errs <- fmt.Errorf("GET /ready: status %d", res.StatusCode())
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// Issue 21 #18: an idle flag stream stays open across several heartbeats, each delivered.
func TestIdleStreamSurvivesHeartbeats(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"SSE_HEARTBEAT_SECONDS": "1"})
	st := s.openStream(t, "", nil)
	require.Equal(t, "connected", st.next(t, false).Name)
	for range 5 {
		ev := st.next(t, false)
		require.Equal(t, "heartbeat", ev.Name, "an idle stream sends only heartbeats")
	}
}

// Issue 21 #8: a client that sends headers and then trickles its body is cut after
// REQUEST_TIMEOUT_SECONDS (408 and close) instead of holding the connection for minutes;
// a stream on the same server is not cut by that timeout.
func TestSlowBodyIsCut(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"REQUEST_TIMEOUT_SECONDS": "1", "SSE_HEARTBEAT_SECONDS": "1"})
	u, err := url.Parse(s.URL)
	require.NoError(t, err)
	conn, err := net.Dial("tcp", u.Host)
	require.NoError(t, err)
	defer conn.Close()
	_, err = fmt.Fprintf(conn, "POST /api/auth/login HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n{\"email\":", u.Host)
	require.NoError(t, err)
	// The server must answer long before the old 5-minute read timeout; 20 s is generous.
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(20*time.Second)))
	res, err := http.ReadResponse(bufio.NewReader(conn), nil)
	require.NoError(t, err, "no answer to a trickled body")
	defer res.Body.Close()
	require.Equal(t, http.StatusRequestTimeout, res.StatusCode)
	code, _ := errorOfBody(t, res)
	require.Equal(t, "REQUEST_TIMEOUT", code)

	// A stream lives longer than the request timeout.
	st := s.openStream(t, "", nil)
	require.Equal(t, "connected", st.next(t, false).Name)
	for range 3 {
		require.Equal(t, "heartbeat", st.next(t, false).Name)
	}
}

func errorOfBody(t *testing.T, res *http.Response) (string, string) {
	t.Helper()
	var env struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	require.NoError(t, json.NewDecoder(res.Body).Decode(&env))
	return env.Error.Code, env.Error.Message
}

// Issue 21 #10: /metrics is not public on the API listener once a scrape token or a separate
// metrics address is configured.
func TestMetricsScrapeTokenAndAddress(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"METRICS_TOKEN": "scrape-secret-0123456789"})
	res, err := s.Client.GetMetricsWithResponse(context.Background())
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, res.StatusCode())
	res, err = s.Client.GetMetricsWithResponse(context.Background(), bearerAuth("wrong"))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, res.StatusCode())
	res, err = s.Client.GetMetricsWithResponse(context.Background(), bearerAuth("scrape-secret-0123456789"))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode())
	require.Contains(t, string(res.Body), "go_goroutines")

	s2 := startServer(t, map[string]string{"METRICS_ADDR": "127.0.0.1:0"})
	res, err = s2.Client.GetMetricsWithResponse(context.Background())
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, res.StatusCode(), "the API listener must not serve metrics when METRICS_ADDR is set")
	require.NotEmpty(t, s2.App.MetricsAddr)
	mres, err := http.Get("http://" + s2.App.MetricsAddr + "/metrics")
	require.NoError(t, err)
	defer mres.Body.Close()
	body, err := io.ReadAll(mres.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, mres.StatusCode)
	require.Contains(t, string(body), "voiceassist_http_")
}

// Issue 21 #22: a chat answer still streaming when the gateway shuts down ends with an `error`
// event (SERVICE_UNAVAILABLE, retry) before the grace period runs out, not with a bare EOF.
func TestChatStreamEndsWithErrorOnShutdown(t *testing.T) {
	t.Parallel()
	fake := newFakeChat(t)
	s := startServer(t, map[string]string{"OPENAI_BASE_URL": fake.BaseURL(), "OPENAI_API_KEY": llmtest.APIKey, "OPENAI_CHAT_MODEL": "fake-model", "EMBEDDING_PROVIDER": "offline"})
	tok := s.token(t, s.account(t, auth.RoleUser))
	c := s.newConversation(t, tok, nil)
	fake.mu.Lock()
	fake.block = true // the model answers "Thinking" and then hangs
	fake.mu.Unlock()

	var once sync.Once
	var events []chatEvent
	// Before the fix the stream hung until the process ended: bound the wait.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s.streamAsk(t, ctx, tok, c.Id, "What are the first-line drugs?", func(e chatEvent) bool {
		events = append(events, e)
		if e.Name == "message.delta" {
			once.Do(func() {
				go func() {
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					defer cancel()
					_ = s.App.Shutdown(ctx)
				}()
			})
		}
		return e.Name != "error" && e.Name != "message.done"
	})
	require.NotEmpty(t, events)
	last := events[len(events)-1]
	require.Equal(t, "error", last.Name, "events: %v", events)
	require.Equal(t, "SERVICE_UNAVAILABLE", last.Data["code"])
}
