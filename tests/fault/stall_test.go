package fault

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/llm/llmtest"
	"github.com/voiceassist/gateway/internal/ssetest"
)

// stalledRequest sends a raw HTTP request and never reads the answer: the server's writes
// pile up in socket buffers until they block.
func stalledRequest(t *testing.T, r *replica, method, path, token, body string) net.Conn {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(r.URL, "http://"))
	require.NoError(t, err)
	// A small receive buffer makes the server block sooner.
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetReadBuffer(4096)
	}
	t.Cleanup(func() { conn.Close() })
	req := fmt.Sprintf("%s %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
		method, path, token, len(body), body)
	_, err = conn.Write([]byte(req))
	require.NoError(t, err)
	return conn
}

func metric(t *testing.T, r *replica, name string) float64 {
	t.Helper()
	status, body, err := do(context.Background(), http.MethodGet, r.URL+"/metrics", "", nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, status)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` ([0-9.e+]+)$`).FindStringSubmatch(string(body))
	if m == nil {
		return 0
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

// TestFaultStalledClients: a client that never reads, on the flag stream and on a chat
// stream, is dropped; readers on the same replica get everything meanwhile.
func TestFaultStalledClients(t *testing.T) {
	fake := llmtest.New(t)
	big := strings.Repeat("lorem ipsum dolor sit amet ", 2400) // ~64 KB per chunk
	var upstreamCancelled atomic.Bool
	fake.SetChat(func(llmtest.Request) []string { return []string{"A complete", " answer."} })
	fake.SetHandler(func(w http.ResponseWriter, r *http.Request, req llmtest.Request) bool {
		if req.Endpoint != llmtest.Chat || !req.Stream || !strings.Contains(string(req.Body), "flood") {
			return false
		}
		llmtest.StartStream(w)
		for {
			llmtest.WriteEvent(w, llmtest.ChunkJSON(big, ""))
			select {
			case <-r.Context().Done():
				upstreamCancelled.Store(true)
				return true
			case <-fake.Done():
				return true
			case <-time.After(5 * time.Millisecond):
			}
		}
	})
	c := newCluster(t, map[string]string{"SSE_CLIENT_QUEUE": "16", "OPENAI_BASE_URL": fake.BaseURL(), "OPENAI_API_KEY": llmtest.APIKey,
		"CHAT_PROVIDER": "openai", "EMBEDDING_PROVIDER": "offline", "CHAT_MAX_STREAMS_PER_USER": "10"})
	r1 := c.start(nil)
	ctx := context.Background()
	admin, _ := r1.login(t, adminEmail, adminPassword)
	value := map[string]any{}
	for i := 0; i < 800; i++ { // ~480 KB per event: the stalled client's socket fills fast
		value[fmt.Sprintf("k%03d", i)] = strings.Repeat("v", 600)
	}
	status, body, err := do(ctx, http.MethodPost, r1.URL+"/api/admin/feature-flags", admin, map[string]any{
		"key": "integration.stall_fault", "type": "json", "enabled": true, "visibility": "public", "value": value, "default_value": map[string]any{}})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, status, "%s", body)

	// Chat: one stalled stream flooding its socket.
	status, body, err = do(ctx, http.MethodPost, r1.URL+"/conversations", admin, map[string]any{"title": "stall"})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, status, "%s", body)
	convID := regexp.MustCompile(`"id":"([0-9a-f-]{36})"`).FindStringSubmatch(string(body))[1]
	stalledRequest(t, r1, http.MethodPost, "/conversations/"+convID+"/messages/stream", admin, `{"content":"flood me"}`)

	// Flag stream: one stalled client, one reader.
	stalledRequest(t, r1, http.MethodGet, "/api/flags/stream", admin, "")
	reader := openStream(t, r1, nil)
	require.Equal(t, http.StatusOK, reader.Status)
	ev, ok := reader.next(t, 10*time.Second)
	require.True(t, ok)
	require.Equal(t, "connected", ev.Name)

	const toggles = 40
	for i := 0; i < toggles; i++ {
		status, body, err := do(ctx, http.MethodPost, r1.URL+"/api/admin/feature-flags/integration.stall_fault/toggle", admin, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, status, "%s", body)
	}
	for i := 0; i < toggles; i++ {
		ev, ok := reader.next(t, 10*time.Second)
		require.True(t, ok, "the reading client was dropped")
		require.Equal(t, "flag_update", ev.Name)
	}
	eventually(t, 20*time.Second, func() error {
		if v := metric(t, r1, `voiceassist_sse_events_dropped_total{reason="queue_full"}`); v < 1 {
			return fmt.Errorf("the stalled flag stream client was not dropped")
		}
		return nil
	})

	// Another chat stream on the same replica is answered in full while the stalled one blocks.
	conv2 := func() string {
		status, body, err := do(ctx, http.MethodPost, r1.URL+"/conversations", admin, map[string]any{"title": "reader"})
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, status, "%s", body)
		return regexp.MustCompile(`"id":"([0-9a-f-]{36})"`).FindStringSubmatch(string(body))[1]
	}()
	req, _ := http.NewRequest(http.MethodPost, r1.URL+"/conversations/"+conv2+"/messages/stream", strings.NewReader(`{"content":"a normal question"}`))
	req.Header.Set("Authorization", "Bearer "+admin)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	rd := ssetest.NewReader(bufio.NewReader(res.Body))
	for {
		ev, err := rd.Next()
		require.NoError(t, err, "the reading chat stream ended early")
		if ev.Event == "message.done" {
			break
		}
	}
	// The stalled chat stream is dropped by its write deadline (30 s), which cancels the model call.
	eventually(t, 60*time.Second, func() error {
		if !upstreamCancelled.Load() {
			return fmt.Errorf("the stalled chat stream still holds its model call")
		}
		return nil
	})
}
