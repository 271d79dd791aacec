package chat

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/voiceassist/gateway/internal/backoff"
	"net/http"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/ssestream"
)

// OpenAI defaults.
const (
	DefaultTimeout    = 60 * time.Second
	DefaultMaxRetries = 2
	DefaultBaseDelay  = 500 * time.Millisecond
	DefaultMaxDelay   = 20 * time.Second
)

// SystemPrompt is the system message of every OpenAI request.
const SystemPrompt = `You are VoiceAssist, a medical information assistant for clinicians.
Answer only from the numbered sources given with the question; do not use outside knowledge.
Cite the source of every statement with its number in square brackets, such as [1] or [2, 3].
If the sources do not contain the answer, say so plainly instead of guessing.
Use the earlier conversation to understand what the question refers to, not as a source of facts.
Be concise and precise about doses, units and populations.
Your answers support, and are not a substitute for, professional medical advice, diagnosis or treatment.`

// OpenAIConfig configures an OpenAI-compatible chat model.
type OpenAIConfig struct {
	// APIKey; empty falls back to OPENAI_API_KEY (Ollama and similar need none).
	APIKey string
	// BaseURL, e.g. "http://localhost:11434/v1"; empty falls back to
	// OPENAI_BASE_URL, then to OpenAI's.
	BaseURL string
	// Model, e.g. "gpt-4o-mini" or "llama3.1". Required.
	Model string
	// Temperature, if not nil, is sent; nil leaves the server's default
	// (a pointer because 0 is a meaningful temperature).
	Temperature *float64
	// MaxTokens is the default answer limit, sent as max_tokens (the name
	// OpenAI-compatible servers accept); Request.MaxTokens overrides it. 0
	// sends none.
	MaxTokens int
	// Timeout bounds each attempt, from the request to the end of the
	// stream (DefaultTimeout if <= 0).
	Timeout time.Duration
	// MaxRetries is the number of retries on 429, 408, 5xx and transport
	// errors, only while no text has been streamed, since text already
	// passed on cannot be taken back (DefaultMaxRetries if 0; negative
	// disables them).
	MaxRetries int
	// BaseDelay is the first backoff delay, doubled on each retry with jitter
	// (DefaultBaseDelay if <= 0); Retry-After-Ms or Retry-After replaces it.
	BaseDelay time.Duration
	// MaxDelay caps every wait, including Retry-After (DefaultMaxDelay if <= 0).
	MaxDelay time.Duration
	// HTTPClient, if set, replaces http.DefaultClient.
	HTTPClient *http.Client
}

// OpenAI is a ChatModel backed by an OpenAI-compatible chat completions
// endpoint, streamed. It is safe for concurrent use.
type OpenAI struct {
	client openai.Client
	cfg    OpenAIConfig
	// sleep waits between retries; tests replace it to observe the delays
	// without waiting.
	sleep func(context.Context, time.Duration) error
}

var _ ChatModel = (*OpenAI)(nil)

// NewOpenAI returns a chat model for cfg.
func NewOpenAI(cfg OpenAIConfig) (*OpenAI, error) {
	if cfg.Model == "" {
		return nil, errors.New("chat: OpenAI model is required")
	}
	if cfg.MaxTokens < 0 {
		return nil, errors.New("chat: negative max tokens")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = DefaultMaxRetries
	} else if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	if cfg.BaseDelay <= 0 {
		cfg.BaseDelay = DefaultBaseDelay
	}
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = DefaultMaxDelay
	}
	// The SDK's own retries are off: they would also retry after text has
	// been streamed, and the policy here is explicit and tested.
	opts := []option.RequestOption{option.WithMaxRetries(0)}
	if cfg.APIKey != "" {
		opts = append(opts, option.WithAPIKey(cfg.APIKey))
	}
	if cfg.BaseURL != "" {
		opts = append(opts, option.WithBaseURL(cfg.BaseURL))
	}
	if cfg.HTTPClient != nil {
		opts = append(opts, option.WithHTTPClient(cfg.HTTPClient))
	}
	return &OpenAI{client: openai.NewClient(opts...), cfg: cfg, sleep: backoff.Sleep}, nil
}

// Name implements ChatModel.
func (m *OpenAI) Name() string { return m.cfg.Model }

// Stream implements ChatModel. Cancelling ctx aborts the HTTP stream.
func (m *OpenAI) Stream(ctx context.Context, req Request, onDelta func(string) error) (string, error) {
	params := m.params(req)
	for attempt := 0; ; attempt++ {
		text, err := m.attempt(ctx, params, onDelta)
		if err == nil {
			return text, nil
		}
		var cb callbackError
		if errors.As(err, &cb) {
			return text, cb.err
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return text, fmt.Errorf("chat: %w", ctxErr)
		}
		retry, wait := retryable(err)
		if text != "" || !retry || attempt >= m.cfg.MaxRetries {
			if retry && text == "" {
				return text, fmt.Errorf("chat: giving up after %d attempts: %w", attempt+1, err)
			}
			return text, fmt.Errorf("chat: %w", err)
		}
		if wait < 0 {
			wait = backoff.Delay(m.cfg.BaseDelay, attempt)
		}
		if err := m.sleep(ctx, min(wait, m.cfg.MaxDelay)); err != nil {
			return "", fmt.Errorf("chat: %w", err)
		}
	}
}

// callbackError carries onDelta's error out of attempt, so that it is
// returned unchanged and never retried.
type callbackError struct{ err error }

func (e callbackError) Error() string { return e.err.Error() }

// Attempt errors that are not retried.
var (
	errTimeout     = errors.New("timed out") // cut by OpenAIConfig.Timeout
	errEmptyAnswer = errors.New("empty answer")
)

// attempt makes one streaming request; the text returned is what reached
// onDelta.
func (m *OpenAI) attempt(ctx context.Context, params openai.ChatCompletionNewParams, onDelta func(string) error) (string, error) {
	actx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	stream := m.client.Chat.Completions.NewStreaming(actx, params)
	defer stream.Close()

	var b strings.Builder
	finish := ""
	for stream.Next() {
		chunk := stream.Current()
		for _, c := range chunk.Choices {
			if c.Index != 0 {
				continue
			}
			if c.FinishReason != "" {
				finish = c.FinishReason
			}
			// A refusal is the answer the user gets, so it is streamed too.
			for _, d := range []string{c.Delta.Content, c.Delta.Refusal} {
				if d == "" {
					continue
				}
				b.WriteString(d)
				if err := onDelta(d); err != nil {
					return b.String(), callbackError{err}
				}
			}
		}
	}
	if err := stream.Err(); err != nil {
		if ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
			return b.String(), fmt.Errorf("%w after %s: %w", errTimeout, m.cfg.Timeout, err)
		}
		return b.String(), err
	}
	if b.Len() == 0 {
		return "", fmt.Errorf("%w (finish_reason %q)", errEmptyAnswer, finish)
	}
	return b.String(), nil
}

// params builds the request: the system prompt, the history as user and
// assistant turns, then one user message with the numbered sources and the
// question.
func (m *OpenAI) params(req Request) openai.ChatCompletionNewParams {
	msgs := []openai.ChatCompletionMessageParamUnion{openai.SystemMessage(SystemPrompt)}
	for _, h := range req.History {
		switch h.Role {
		case RoleUser:
			msgs = append(msgs, openai.UserMessage(h.Content))
		case RoleAssistant:
			msgs = append(msgs, openai.AssistantMessage(h.Content))
		}
	}
	msgs = append(msgs, openai.UserMessage(FormatSources(req.Sources)+"\n\nQuestion: "+req.Question))

	p := openai.ChatCompletionNewParams{Model: m.cfg.Model, Messages: msgs}
	if m.cfg.Temperature != nil {
		p.Temperature = openai.Float(*m.cfg.Temperature)
	}
	if n := cmp.Or(max(req.MaxTokens, 0), m.cfg.MaxTokens); n > 0 {
		p.MaxTokens = openai.Int(int64(n))
	}
	return p
}

// FormatSources renders the sources as the model sees them:
//
//	[1] Title — Heading > Subheading (page 3)
//	passage text
func FormatSources(sources []Passage) string {
	if len(sources) == 0 {
		return "Sources: none (nothing relevant was found in the knowledge base)."
	}
	var b strings.Builder
	b.WriteString("Sources:")
	for i, p := range sources {
		fmt.Fprintf(&b, "\n\n[%d] %s", i+1, cmp.Or(strings.TrimSpace(p.Title), "Untitled"))
		if len(p.Heading) > 0 {
			b.WriteString(" — " + strings.Join(p.Heading, " > "))
		}
		if p.Page > 0 {
			fmt.Fprintf(&b, " (page %d)", p.Page)
		}
		b.WriteString("\n" + strings.TrimSpace(p.Text))
	}
	return b.String()
}

// retryable reports whether err is worth retrying and the delay the server
// asked for (-1 if none). Mirrors internal/embed.
func retryable(err error) (bool, time.Duration) {
	var apiErr *openai.Error
	if errors.As(err, &apiErr) {
		code := apiErr.StatusCode
		if code != http.StatusTooManyRequests && code != http.StatusRequestTimeout && code < 500 {
			return false, -1
		}
		if apiErr.Response != nil {
			return true, backoff.RetryAfter(apiErr.Response.Header, time.Now())
		}
		return true, -1
	}
	// An error event in the stream, an undecodable chunk, an empty answer or
	// our own timeout would most likely recur; transport errors (refused,
	// reset) may not.
	var streamErr *ssestream.StreamError
	var syntaxErr *json.SyntaxError
	if errors.As(err, &streamErr) || errors.As(err, &syntaxErr) ||
		errors.Is(err, errTimeout) || errors.Is(err, errEmptyAnswer) {
		return false, -1
	}
	return true, -1
}
