package chat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/stretchr/testify/require"
)

// fakeChat is an OpenAI-compatible /v1/chat/completions server. It records
// each request; respond writes the reply for request n (0-based), and by
// default streams "Hello world".
type fakeChat struct {
	t       *testing.T
	respond func(n int, w http.ResponseWriter, r *http.Request)

	mu   sync.Mutex
	reqs []chatRequest
}

type chatRequest struct {
	Model       string   `json:"model"`
	Stream      bool     `json:"stream"`
	MaxTokens   *int     `json:"max_tokens"`
	Temperature *float64 `json:"temperature"`
	Messages    []struct {
		Role    string `json:"role"`
		Content string `json:"content"`
	} `json:"messages"`
}

func (f *fakeChat) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		f.t.Errorf("unexpected %s %s", r.Method, r.URL.Path)
		http.Error(w, "bad path", http.StatusTeapot)
		return
	}
	if got := r.Header.Get("Authorization"); got != "Bearer test-key" {
		f.t.Errorf("authorization %q", got)
	}
	var req chatRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		f.t.Errorf("decode: %v", err)
		http.Error(w, "bad body", http.StatusTeapot)
		return
	}
	f.mu.Lock()
	n := len(f.reqs)
	f.reqs = append(f.reqs, req)
	f.mu.Unlock()
	if f.respond != nil {
		f.respond(n, w, r)
		return
	}
	streamChunks(w, "Hello", " world")
}

func (f *fakeChat) requests() []chatRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]chatRequest(nil), f.reqs...)
}

// chunkJSON is one chat.completion.chunk carrying content (and a finish
// reason if not empty).
func chunkJSON(content, finish string) string {
	delta := map[string]any{}
	if content != "" {
		delta["content"] = content
	}
	var fr any
	if finish != "" {
		fr = finish
	}
	b, _ := json.Marshal(map[string]any{
		"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "fake",
		"choices": []any{map[string]any{"index": 0, "delta": delta, "finish_reason": fr}},
	})
	return string(b)
}

func startStream(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "text/event-stream")
	w.WriteHeader(http.StatusOK)
}

func writeEvent(w http.ResponseWriter, data string) {
	_, _ = fmt.Fprintf(w, "data: %s\n\n", data)
	w.(http.Flusher).Flush()
}

// streamChunks streams a role-only chunk, one chunk per piece, a finish
// chunk and [DONE], as OpenAI does.
func streamChunks(w http.ResponseWriter, pieces ...string) {
	startStream(w)
	writeEvent(w, `{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"fake",`+
		`"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`)
	for _, p := range pieces {
		writeEvent(w, chunkJSON(p, ""))
	}
	writeEvent(w, chunkJSON("", "stop"))
	writeEvent(w, "[DONE]")
}

func writeAPIError(w http.ResponseWriter, code int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"message": http.StatusText(code), "type": "server_error",
	}})
}

// startOpenAI starts f and returns a model pointed at it whose retry waits
// are recorded instead of slept.
func startOpenAI(t *testing.T, f *fakeChat, cfg OpenAIConfig) (*OpenAI, *[]time.Duration) {
	t.Helper()
	f.t = t
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cfg.BaseURL = srv.URL + "/v1"
	cfg.APIKey = "test-key"
	if cfg.Model == "" {
		cfg.Model = "fake-model"
	}
	cfg.HTTPClient = srv.Client()
	m, err := NewOpenAI(cfg)
	require.NoError(t, err)
	var waits []time.Duration
	m.sleep = func(ctx context.Context, d time.Duration) error {
		waits = append(waits, d)
		return ctx.Err()
	}
	return m, &waits
}

func collect(deltas *[]string) func(string) error {
	return func(d string) error {
		*deltas = append(*deltas, d)
		return nil
	}
}

func TestNewOpenAIRequiresModel(t *testing.T) {
	t.Parallel()
	_, err := NewOpenAI(OpenAIConfig{})
	require.Error(t, err)
}

func TestOpenAIStreamsWithHistoryAndSources(t *testing.T) {
	t.Parallel()
	f := &fakeChat{respond: func(_ int, w http.ResponseWriter, _ *http.Request) {
		streamChunks(w, "Start at ", "500 mg", " once daily [1].")
	}}
	temp := 0.2
	m, waits := startOpenAI(t, f, OpenAIConfig{Model: "gpt-test", Temperature: &temp, MaxTokens: 100})
	require.Equal(t, "gpt-test", m.Name())

	req := Request{
		History: []Message{
			{Role: RoleUser, Content: "What is metformin?"},
			{Role: RoleAssistant, Content: "A biguanide used in type 2 diabetes [1]."},
		},
		Question: "What is its usual starting dose?",
		Sources: []Passage{
			{Title: "Metformin label", Heading: []string{"Dosage", "Adults"}, Page: 3, Text: "Start with 500 mg once daily."},
			{Title: "Renal dosing", Text: "Avoid when eGFR is below 30."},
		},
		MaxTokens: 256,
	}
	var deltas []string
	text, err := m.Stream(context.Background(), req, collect(&deltas))
	require.NoError(t, err)
	// The role-only and finish chunks carry no text and produce no delta.
	require.Equal(t, []string{"Start at ", "500 mg", " once daily [1]."}, deltas)
	require.Equal(t, strings.Join(deltas, ""), text)
	require.Empty(t, *waits)

	reqs := f.requests()
	require.Len(t, reqs, 1)
	got := reqs[0]
	require.Equal(t, "gpt-test", got.Model)
	require.True(t, got.Stream)
	require.NotNil(t, got.MaxTokens)
	require.Equal(t, 256, *got.MaxTokens) // the request's limit wins over the config's
	require.NotNil(t, got.Temperature)
	require.InDelta(t, 0.2, *got.Temperature, 1e-9)

	var roles []string
	for _, msg := range got.Messages {
		roles = append(roles, msg.Role)
	}
	require.Equal(t, []string{"system", "user", "assistant", "user"}, roles)
	require.Equal(t, SystemPrompt, got.Messages[0].Content)
	require.Equal(t, "What is metformin?", got.Messages[1].Content)
	require.Equal(t, "A biguanide used in type 2 diabetes [1].", got.Messages[2].Content)
	last := got.Messages[3].Content
	require.Contains(t, last, "[1] Metformin label — Dosage > Adults (page 3)\nStart with 500 mg once daily.")
	require.Contains(t, last, "[2] Renal dosing\nAvoid when eGFR is below 30.")
	require.True(t, strings.HasSuffix(last, "Question: What is its usual starting dose?"), last)
	require.Less(t, strings.Index(last, "[1]"), strings.Index(last, "[2]"))
}

func TestOpenAIOmitsUnsetParameters(t *testing.T) {
	t.Parallel()
	f := &fakeChat{}
	m, _ := startOpenAI(t, f, OpenAIConfig{})
	text, err := m.Stream(context.Background(), Request{Question: "q"}, func(string) error { return nil })
	require.NoError(t, err)
	require.Equal(t, "Hello world", text)
	got := f.requests()[0]
	require.Nil(t, got.MaxTokens)
	require.Nil(t, got.Temperature)
	require.Contains(t, got.Messages[len(got.Messages)-1].Content, "Sources: none")
}

func TestOpenAICancelAbortsStream(t *testing.T) {
	t.Parallel()
	disconnected := make(chan struct{})
	release := make(chan struct{}) // unblocks the handler if the test fails
	f := &fakeChat{respond: func(_ int, w http.ResponseWriter, r *http.Request) {
		startStream(w)
		writeEvent(w, chunkJSON("Hel", ""))
		select {
		case <-r.Context().Done():
			close(disconnected)
		case <-release:
		}
	}}
	m, _ := startOpenAI(t, f, OpenAIConfig{})
	t.Cleanup(func() { close(release) }) // runs before the server's Close

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		text string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		text, err := m.Stream(ctx, Request{Question: "q"}, func(string) error {
			cancel() // the client went away after the first delta
			return nil
		})
		done <- result{text, err}
	}()

	select {
	case res := <-done:
		require.ErrorIs(t, res.err, context.Canceled)
		require.Equal(t, "Hel", res.text)
	case <-time.After(10 * time.Second):
		t.Fatal("Stream did not return after cancellation")
	}
	select {
	case <-disconnected:
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not see the client disconnect")
	}
	require.Len(t, f.requests(), 1) // cancellation is not retried
}

func TestOpenAIRetriesBeforeFirstDelta(t *testing.T) {
	t.Parallel()
	f := &fakeChat{respond: func(n int, w http.ResponseWriter, _ *http.Request) {
		switch n {
		case 0:
			w.Header().Set("Retry-After", "2")
			writeAPIError(w, http.StatusTooManyRequests)
		case 1:
			writeAPIError(w, http.StatusServiceUnavailable)
		default:
			streamChunks(w, "ok")
		}
	}}
	m, waits := startOpenAI(t, f, OpenAIConfig{MaxRetries: 3, BaseDelay: 100 * time.Millisecond})
	text, err := m.Stream(context.Background(), Request{Question: "q"}, func(string) error { return nil })
	require.NoError(t, err)
	require.Equal(t, "ok", text)
	require.Len(t, f.requests(), 3)
	require.Len(t, *waits, 2)
	require.Equal(t, 2*time.Second, (*waits)[0]) // Retry-After honoured
	// Second retry: backoff of 2*BaseDelay with equal jitter.
	require.GreaterOrEqual(t, (*waits)[1], 100*time.Millisecond)
	require.LessOrEqual(t, (*waits)[1], 200*time.Millisecond)
}

func TestOpenAIGivesUpAndCapsRetryAfter(t *testing.T) {
	t.Parallel()
	f := &fakeChat{respond: func(_ int, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "3600")
		writeAPIError(w, http.StatusTooManyRequests)
	}}
	m, waits := startOpenAI(t, f, OpenAIConfig{MaxRetries: 2, MaxDelay: time.Second})
	_, err := m.Stream(context.Background(), Request{Question: "q"}, func(string) error { return nil })
	require.ErrorContains(t, err, "giving up after 3 attempts")
	var apiErr *openai.Error
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusTooManyRequests, apiErr.StatusCode)
	require.Len(t, f.requests(), 3)
	require.Equal(t, []time.Duration{time.Second, time.Second}, *waits)
}

func TestOpenAIDoesNotRetryClientErrors(t *testing.T) {
	t.Parallel()
	f := &fakeChat{respond: func(_ int, w http.ResponseWriter, _ *http.Request) {
		writeAPIError(w, http.StatusBadRequest)
	}}
	m, waits := startOpenAI(t, f, OpenAIConfig{MaxRetries: 3})
	var deltas []string
	_, err := m.Stream(context.Background(), Request{Question: "q"}, collect(&deltas))
	var apiErr *openai.Error
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
	require.Len(t, f.requests(), 1)
	require.Empty(t, *waits)
	require.Empty(t, deltas)
}

func TestOpenAIDoesNotRetryAfterFirstDelta(t *testing.T) {
	t.Parallel()
	f := &fakeChat{respond: func(_ int, w http.ResponseWriter, _ *http.Request) {
		// Promise a long body, send one chunk and drop the connection: the
		// client sees an unexpected EOF, a transport error.
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		defer conn.Close()
		_, _ = fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 100000\r\n\r\n")
		_, _ = fmt.Fprintf(buf, "data: %s\n\n", chunkJSON("Hel", ""))
		_ = buf.Flush()
	}}
	m, waits := startOpenAI(t, f, OpenAIConfig{MaxRetries: 3})
	var deltas []string
	text, err := m.Stream(context.Background(), Request{Question: "q"}, collect(&deltas))
	require.Error(t, err)
	require.Equal(t, "Hel", text)
	require.Equal(t, []string{"Hel"}, deltas)
	require.Len(t, f.requests(), 1)
	require.Empty(t, *waits)
}

func TestOpenAIReturnsCallbackError(t *testing.T) {
	t.Parallel()
	f := &fakeChat{}
	m, _ := startOpenAI(t, f, OpenAIConfig{MaxRetries: 3})
	gone := errors.New("client gone")
	text, err := m.Stream(context.Background(), Request{Question: "q"}, func(string) error { return gone })
	require.Equal(t, gone, err) // unchanged, so callers can compare it
	require.Equal(t, "Hello", text)
	require.Len(t, f.requests(), 1)
}

func TestOpenAIEmptyAnswerIsAnError(t *testing.T) {
	t.Parallel()
	f := &fakeChat{respond: func(_ int, w http.ResponseWriter, _ *http.Request) {
		streamChunks(w) // no content at all
	}}
	m, waits := startOpenAI(t, f, OpenAIConfig{MaxRetries: 3})
	_, err := m.Stream(context.Background(), Request{Question: "q"}, func(string) error { return nil })
	require.ErrorContains(t, err, `empty answer (finish_reason "stop")`)
	require.Len(t, f.requests(), 1)
	require.Empty(t, *waits)
}
