package fault

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/llm/llmtest"
	"github.com/voiceassist/gateway/internal/ssetest"
)

// slowModel is the fake OpenAI-compatible server: while slow is set, a streamed answer
// comes one word every 50 ms for ever (until the caller goes away); otherwise it answers at
// once.
func slowModel(t *testing.T) (*llmtest.Server, *atomic.Bool) {
	f := llmtest.New(t)
	var slow atomic.Bool
	slow.Store(true)
	f.SetChat(func(llmtest.Request) []string { return []string{"A complete", " answer."} })
	f.SetHandler(func(w http.ResponseWriter, r *http.Request, req llmtest.Request) bool {
		if req.Endpoint != llmtest.Chat || !req.Stream || !slow.Load() {
			return false
		}
		llmtest.StartStream(w)
		for i := 0; ; i++ {
			llmtest.WriteEvent(w, llmtest.ChunkJSON(fmt.Sprintf("word%d ", i), ""))
			select {
			case <-r.Context().Done():
				return true
			case <-f.Done():
				return true
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
	return f, &slow
}

// TestFaultKillDuringChatStream: the replica streaming an answer is killed with SIGKILL. The
// question survives, the partial answer is stored marked interrupted (never as a complete
// answer), and regenerate on another replica replaces it with a complete one.
func TestFaultKillDuringChatStream(t *testing.T) {
	fake, slow := slowModel(t)
	c := newCluster(t, map[string]string{"OPENAI_BASE_URL": fake.BaseURL(), "OPENAI_API_KEY": llmtest.APIKey,
		"CHAT_PROVIDER": "openai", "EMBEDDING_PROVIDER": "offline"})
	r1 := c.start(nil)
	r2 := c.start(nil)
	ctx := context.Background()
	tok, _ := r1.login(t, adminEmail, adminPassword)
	status, body, err := do(ctx, http.MethodPost, r1.URL+"/conversations", tok, map[string]any{"title": "kill me"})
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, status, "%s", body)
	var conv struct {
		Data struct{ ID string } `json:"data"`
	}
	require.NoError(t, json.Unmarshal(body, &conv))

	req, _ := http.NewRequest(http.MethodPost, r1.URL+"/conversations/"+conv.Data.ID+"/messages/stream", strings.NewReader(`{"content":"What is hypertension?"}`))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	rd := ssetest.NewReader(bufio.NewReader(res.Body))
	var received strings.Builder
	deltas := 0
	started := time.Now()
	for deltas < 10 || time.Since(started) < time.Second {
		ev, err := rd.Next()
		require.NoError(t, err)
		if ev.Event == "message.delta" {
			var d struct{ Delta string }
			require.NoError(t, ev.JSON(&d))
			received.WriteString(d.Delta)
			deltas++
		}
	}
	r1.kill()
	slow.Store(false)
	for {
		ev, err := rd.Next()
		if err != nil {
			break // the stream ends with the process
		}
		require.NotEqual(t, "message.done", ev.Event)
	}

	type msg struct {
		Role        string `json:"role"`
		Content     string `json:"content"`
		Interrupted bool   `json:"interrupted"`
	}
	list := func() []msg {
		status, body, err := do(ctx, http.MethodGet, r2.URL+"/conversations/"+conv.Data.ID+"/messages", tok, nil)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, status, "%s", body)
		var env struct{ Data []msg }
		require.NoError(t, json.Unmarshal(body, &env))
		return env.Data
	}
	msgs := list()
	require.Len(t, msgs, 2, "the question and the partial answer: %+v", msgs)
	require.Equal(t, "user", msgs[0].Role)
	require.Equal(t, "What is hypertension?", msgs[0].Content)
	require.Equal(t, "assistant", msgs[1].Role)
	require.True(t, msgs[1].Interrupted, "a partial answer must be marked interrupted")
	require.NotEmpty(t, msgs[1].Content)
	require.True(t, strings.HasPrefix(received.String(), msgs[1].Content), "the stored part is what was streamed: %q vs %q", msgs[1].Content, received.String())
	partial := len(msgs[1].Content)

	status, body, err = do(ctx, http.MethodPost, r2.URL+"/conversations/"+conv.Data.ID+"/regenerate", tok, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, status, "%s", body)
	msgs = list()
	require.Len(t, msgs, 2, "%+v", msgs)
	require.Equal(t, "A complete answer.", msgs[1].Content)
	require.False(t, msgs[1].Interrupted)
	t.Logf("streamed %d deltas (%d bytes) before the kill; %d bytes were stored as interrupted", deltas, received.Len(), partial)
}
