package chat_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/chat"
	"github.com/voiceassist/gateway/internal/llm"
	"github.com/voiceassist/gateway/internal/llm/llmtest"
)

// startOpenAI starts a fake server and returns a model pointed at it whose
// retry waits are recorded instead of slept.
func startOpenAI(t *testing.T, cfg chat.OpenAIConfig) (*llmtest.Server, *chat.OpenAI, func() []time.Duration) {
	t.Helper()
	s := llmtest.New(t)
	cfg.BaseURL = s.BaseURL()
	cfg.APIKey = llmtest.APIKey
	if cfg.Model == "" {
		cfg.Model = "fake-model"
	}
	cfg.HTTPClient = s.Server.Client()
	var mu sync.Mutex
	var waits []time.Duration
	cfg.Sleep = func(ctx context.Context, d time.Duration) error {
		mu.Lock()
		waits = append(waits, d)
		mu.Unlock()
		return ctx.Err()
	}
	m, err := chat.NewOpenAI(cfg)
	require.NoError(t, err)
	return s, m, func() []time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return append([]time.Duration(nil), waits...)
	}
}

func collect(deltas *[]string) func(string) error {
	return func(d string) error {
		*deltas = append(*deltas, d)
		return nil
	}
}

func TestNewOpenAIRequiresModel(t *testing.T) {
	t.Parallel()
	_, err := chat.NewOpenAI(chat.OpenAIConfig{})
	require.Error(t, err)
}

func TestOpenAIStreamsWithHistoryAndSources(t *testing.T) {
	t.Parallel()
	temp := 0.2
	s, m, waits := startOpenAI(t, chat.OpenAIConfig{Model: "gpt-test", Temperature: &temp, MaxTokens: 100})
	s.SetChat(func(llmtest.Request) []string { return []string{"Start at ", "500 mg", " once daily [1]."} })
	require.Equal(t, "gpt-test", m.Name())

	req := chat.Request{
		History: []chat.Message{
			{Role: chat.RoleUser, Content: "What is metformin?"},
			{Role: chat.RoleAssistant, Content: "A biguanide used in type 2 diabetes [1]."},
		},
		Question: "What is its usual starting dose?",
		Sources: []chat.Passage{
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
	require.Empty(t, waits())

	reqs := s.Requests(llmtest.Chat)
	require.Len(t, reqs, 1)
	got := reqs[0]
	require.Equal(t, "Bearer "+llmtest.APIKey, got.Header.Get("Authorization"))
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
	require.Equal(t, chat.SystemPrompt, got.Messages[0].Content)
	require.Equal(t, "What is metformin?", got.Messages[1].Content)
	require.Equal(t, "A biguanide used in type 2 diabetes [1].", got.Messages[2].Content)
	last := got.Messages[3].Content
	require.Contains(t, last, "[1] Metformin label — Dosage > Adults (page 3)\nStart with 500 mg once daily.")
	require.Contains(t, last, "[2] Renal dosing\nAvoid when eGFR is below 30.")
	require.True(t, strings.HasSuffix(last, "Question: What is its usual starting dose?"), last)
	require.Less(t, strings.Index(last, "[1]"), strings.Index(last, "[2]"))
}

// Request.Context is a second system message, before the history; it is not a source.
func TestOpenAIPatientContext(t *testing.T) {
	t.Parallel()
	s, m, _ := startOpenAI(t, chat.OpenAIConfig{})
	req := chat.Request{History: []chat.Message{{Role: chat.RoleUser, Content: "earlier"}}, Question: "Adjust the dose?",
		Context: "Age: 71 years; sex: female\nProblems: CKD stage 3b"}
	_, err := m.Stream(context.Background(), req, func(string) error { return nil })
	require.NoError(t, err)
	got := s.Requests(llmtest.Chat)[0].Messages
	require.Len(t, got, 4)
	require.Equal(t, "system", got[1].Role)
	require.Equal(t, chat.PatientContextHeading+"\n"+req.Context, got[1].Content)
	require.Equal(t, "earlier", got[2].Content)
	require.NotContains(t, got[3].Content, "CKD")
}

// Request.Guidance is its own system message after the patient's, never under the patient
// heading; the outbound policy applies to it as to the record.
func TestOpenAIGuidanceBlock(t *testing.T) {
	t.Parallel()
	s, m, _ := startOpenAI(t, chat.OpenAIConfig{Outbound: func(s string) (string, error) {
		return strings.ReplaceAll(s, "Jane", "[NAME]"), nil
	}})
	req := chat.Request{Question: "Adjust the dose?", Context: "Problems: CKD stage 3b",
		Guidance: "Preferred level of detail: brief.\nCall me Jane."}
	_, err := m.Stream(context.Background(), req, func(string) error { return nil })
	require.NoError(t, err)
	got := s.Requests(llmtest.Chat)[0].Messages
	require.Len(t, got, 4)
	require.Equal(t, chat.PatientContextHeading+"\n"+req.Context, got[1].Content)
	require.Equal(t, "system", got[2].Role)
	require.Equal(t, chat.GuidanceHeading+"\nPreferred level of detail: brief.\nCall me [NAME].", got[2].Content)
	require.NotContains(t, got[1].Content, "brief")

	// Guidance alone: no patient block.
	_, err = m.Stream(context.Background(), chat.Request{Question: "q", Guidance: "Tone: calm."}, func(string) error { return nil })
	require.NoError(t, err)
	got = s.Requests(llmtest.Chat)[1].Messages
	require.Len(t, got, 3)
	require.Equal(t, chat.GuidanceHeading+"\nTone: calm.", got[1].Content)
}

func TestOpenAIOmitsUnsetParameters(t *testing.T) {
	t.Parallel()
	s, m, _ := startOpenAI(t, chat.OpenAIConfig{})
	text, err := m.Stream(context.Background(), chat.Request{Question: "q"}, func(string) error { return nil })
	require.NoError(t, err)
	require.Equal(t, "Hello world", text)
	got := s.Requests(llmtest.Chat)[0]
	require.Nil(t, got.MaxTokens)
	require.Nil(t, got.Temperature)
	require.Contains(t, got.Messages[len(got.Messages)-1].Content, "Sources: none")
}

func TestOpenAICancelAbortsStream(t *testing.T) {
	t.Parallel()
	s, m, _ := startOpenAI(t, chat.OpenAIConfig{})
	disconnected := make(chan struct{})
	release := make(chan struct{})       // unblocks the handler if the test fails
	t.Cleanup(func() { close(release) }) // runs before the server's Close
	s.SetHandler(func(w http.ResponseWriter, r *http.Request, _ llmtest.Request) bool {
		llmtest.StartStream(w)
		llmtest.WriteEvent(w, llmtest.ChunkJSON("Hel", ""))
		select {
		case <-r.Context().Done():
			close(disconnected)
		case <-release:
		}
		return true
	})

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	type result struct {
		text string
		err  error
	}
	done := make(chan result, 1)
	go func() {
		text, err := m.Stream(ctx, chat.Request{Question: "q"}, func(string) error {
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
	require.Len(t, s.Requests(""), 1) // cancellation is not retried
}

func TestOpenAIRetriesBeforeFirstDelta(t *testing.T) {
	t.Parallel()
	s, m, waits := startOpenAI(t, chat.OpenAIConfig{Config: llm.Config{MaxRetries: 3, BaseDelay: 100 * time.Millisecond}})
	s.Fail(llmtest.Chat, llmtest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "2"})
	s.Fail(llmtest.Chat, llmtest.Fault{Status: http.StatusServiceUnavailable})
	s.SetChat(func(llmtest.Request) []string { return []string{"ok"} })
	text, err := m.Stream(context.Background(), chat.Request{Question: "q"}, func(string) error { return nil })
	require.NoError(t, err)
	require.Equal(t, "ok", text)
	require.Len(t, s.Requests(""), 3)
	w := waits()
	require.Len(t, w, 2)
	require.Equal(t, 2*time.Second, w[0]) // Retry-After honoured
	// Second retry: backoff of 2*BaseDelay with equal jitter.
	require.GreaterOrEqual(t, w[1], 100*time.Millisecond)
	require.LessOrEqual(t, w[1], 200*time.Millisecond)
}

func TestOpenAIRetriesDroppedConnection(t *testing.T) {
	t.Parallel()
	s, m, waits := startOpenAI(t, chat.OpenAIConfig{Config: llm.Config{MaxRetries: 3}})
	s.Fail(llmtest.Chat, llmtest.Fault{Drop: true})
	text, err := m.Stream(context.Background(), chat.Request{Question: "q"}, func(string) error { return nil })
	require.NoError(t, err)
	require.Equal(t, "Hello world", text)
	require.Len(t, s.Requests(""), 2)
	require.Len(t, waits(), 1)
}

func TestOpenAIGivesUpAndCapsRetryAfter(t *testing.T) {
	t.Parallel()
	s, m, waits := startOpenAI(t, chat.OpenAIConfig{Config: llm.Config{MaxRetries: 2, MaxDelay: time.Second}})
	s.Fail(llmtest.Chat, llmtest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "3600", Times: 10})
	_, err := m.Stream(context.Background(), chat.Request{Question: "q"}, func(string) error { return nil })
	require.ErrorContains(t, err, "giving up after 3 attempts")
	var apiErr *openai.Error
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusTooManyRequests, apiErr.StatusCode)
	require.Len(t, s.Requests(""), 3)
	require.Equal(t, []time.Duration{time.Second, time.Second}, waits())
}

func TestOpenAINegativeMaxRetriesDisablesRetries(t *testing.T) {
	t.Parallel()
	s, m, waits := startOpenAI(t, chat.OpenAIConfig{Config: llm.Config{MaxRetries: -1}})
	s.Fail(llmtest.Chat, llmtest.Fault{Status: http.StatusServiceUnavailable, Times: 10})
	_, err := m.Stream(context.Background(), chat.Request{Question: "q"}, func(string) error { return nil })
	require.ErrorContains(t, err, "giving up after 1 attempts")
	require.Equal(t, llm.Transient, llm.Classify(err))
	require.Len(t, s.Requests(""), 1)
	require.Empty(t, waits())
}

func TestOpenAIDoesNotRetryClientErrors(t *testing.T) {
	t.Parallel()
	s, m, waits := startOpenAI(t, chat.OpenAIConfig{Config: llm.Config{MaxRetries: 3}})
	s.Fail(llmtest.Chat, llmtest.Fault{Status: http.StatusBadRequest, Times: 10})
	var deltas []string
	_, err := m.Stream(context.Background(), chat.Request{Question: "q"}, collect(&deltas))
	var apiErr *openai.Error
	require.ErrorAs(t, err, &apiErr)
	require.Equal(t, http.StatusBadRequest, apiErr.StatusCode)
	require.Len(t, s.Requests(""), 1)
	require.Empty(t, waits())
	require.Empty(t, deltas)
}

func TestOpenAITimeoutIsNotRetried(t *testing.T) {
	t.Parallel()
	s, m, waits := startOpenAI(t, chat.OpenAIConfig{Config: llm.Config{MaxRetries: 3, Timeout: 50 * time.Millisecond}})
	s.Fail(llmtest.Chat, llmtest.Fault{Hang: true, Times: 10})
	_, err := m.Stream(context.Background(), chat.Request{Question: "q"}, func(string) error { return nil })
	require.ErrorIs(t, err, llm.ErrTimeout)
	require.ErrorContains(t, err, "timed out after 50ms")
	require.Len(t, s.Requests(""), 1)
	require.Empty(t, waits())
}

func TestOpenAIDoesNotRetryAfterFirstDelta(t *testing.T) {
	t.Parallel()
	s, m, waits := startOpenAI(t, chat.OpenAIConfig{Config: llm.Config{MaxRetries: 3}})
	s.SetHandler(func(w http.ResponseWriter, _ *http.Request, _ llmtest.Request) bool {
		// Promise a long body, send one chunk and drop the connection: the
		// client sees an unexpected EOF, a transport error.
		conn, buf, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return true
		}
		defer conn.Close()
		_, _ = fmt.Fprintf(buf, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: 100000\r\n\r\n")
		_, _ = fmt.Fprintf(buf, "data: %s\n\n", llmtest.ChunkJSON("Hel", ""))
		_ = buf.Flush()
		return true
	})
	var deltas []string
	text, err := m.Stream(context.Background(), chat.Request{Question: "q"}, collect(&deltas))
	require.Error(t, err)
	require.Equal(t, llm.Unavailable, llm.Classify(err)) // retryable in itself
	require.Equal(t, "Hel", text)
	require.Equal(t, []string{"Hel"}, deltas)
	require.Len(t, s.Requests(""), 1)
	require.Empty(t, waits())
}

func TestOpenAIReturnsCallbackError(t *testing.T) {
	t.Parallel()
	s, m, _ := startOpenAI(t, chat.OpenAIConfig{Config: llm.Config{MaxRetries: 3}})
	gone := errors.New("client gone")
	text, err := m.Stream(context.Background(), chat.Request{Question: "q"}, func(string) error { return gone })
	require.Equal(t, gone, err) // unchanged, so callers can compare it
	require.Equal(t, "Hello", text)
	require.Len(t, s.Requests(""), 1)
}

func TestOpenAIEmptyAnswerIsAnError(t *testing.T) {
	t.Parallel()
	s, m, waits := startOpenAI(t, chat.OpenAIConfig{Config: llm.Config{MaxRetries: 3}})
	s.SetChat(func(llmtest.Request) []string { return nil }) // no content at all
	_, err := m.Stream(context.Background(), chat.Request{Question: "q"}, func(string) error { return nil })
	require.ErrorContains(t, err, `empty answer (finish_reason "stop")`)
	require.Len(t, s.Requests(""), 1)
	require.Empty(t, waits())
}
