// Package llm is the one client core for OpenAI-compatible servers (OpenAI, Ollama, vLLM,
// llama.cpp, self-hosted Whisper/TTS): construction, the retry loop and error classification
// shared by chat, embeddings and audio. Requests themselves are made with the openai-go client
// it holds; this package only decides when an attempt is repeated and what a failure means.
package llm

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/voiceassist/gateway/internal/backoff"
	"github.com/voiceassist/gateway/internal/telemetry"
)

// Defaults of Config.
const (
	DefaultTimeout    = 60 * time.Second
	DefaultMaxRetries = 2
	DefaultBaseDelay  = 500 * time.Millisecond
	DefaultMaxDelay   = 20 * time.Second
)

// Config configures a Client.
type Config struct {
	// APIKey; empty falls back to OPENAI_API_KEY (Ollama and similar need none).
	APIKey string
	// BaseURL, e.g. "http://localhost:11434/v1"; empty falls back to OPENAI_BASE_URL, then
	// to OpenAI's.
	BaseURL string
	// Timeout bounds each attempt, including reading the answer or the stream
	// (DefaultTimeout if <= 0). An attempt cut by it is not retried: a server that hung
	// once would most likely hang again, and the caller has waited long enough.
	Timeout time.Duration
	// MaxRetries is the number of retries after a failed attempt on 429, 408, 5xx and
	// transport errors (DefaultMaxRetries if 0; negative disables them).
	MaxRetries int
	// BaseDelay is the first backoff delay, doubled on each retry with jitter
	// (DefaultBaseDelay if <= 0); Retry-After-Ms or Retry-After replaces it.
	BaseDelay time.Duration
	// MaxDelay caps every wait, including Retry-After (DefaultMaxDelay if <= 0).
	MaxDelay time.Duration
	// HTTPClient, if set, replaces http.DefaultClient.
	HTTPClient *http.Client
	// Sleep waits between retries (backoff.Sleep if nil); tests replace it to observe the
	// delays without waiting.
	Sleep func(context.Context, time.Duration) error
}

// Client is an OpenAI-compatible client with an explicit retry policy. It is safe for
// concurrent use.
type Client struct {
	api openai.Client
	cfg Config
}

// New returns a client for cfg, defaults filled in.
func New(cfg Config) *Client {
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
	if cfg.Sleep == nil {
		cfg.Sleep = backoff.Sleep
	}
	// The SDK's own retries are off: they would also retry a chat stream after text has
	// been passed on, and the policy here is explicit and tested.
	opts := []option.RequestOption{option.WithMaxRetries(0)}
	if cfg.APIKey != "" {
		opts = append(opts, option.WithAPIKey(cfg.APIKey))
	}
	if cfg.BaseURL != "" {
		opts = append(opts, option.WithBaseURL(cfg.BaseURL))
	}
	// Every request is a client span of the caller's trace and carries its traceparent.
	hc := &http.Client{}
	if cfg.HTTPClient != nil {
		c := *cfg.HTTPClient
		hc = &c
	}
	hc.Transport = telemetry.Transport(hc.Transport)
	opts = append(opts, option.WithHTTPClient(hc))
	return &Client{api: openai.NewClient(opts...), cfg: cfg}
}

// API is the openai-go client requests are made with, inside Do.
func (c *Client) API() *openai.Client { return &c.api }

// ErrTimeout marks an attempt cut by Config.Timeout.
var ErrTimeout = errors.New("timed out")

// Do runs attempt until it succeeds, fails for good or the retries run out. Each attempt
// gets a context bounded by Config.Timeout. Failures Retryable calls worth it are retried
// after a backoff delay or the server's Retry-After, capped by Config.MaxDelay; the error
// then says "giving up after N attempts". When ctx ends, Do returns ctx's error. An error
// wrapped with NoRetry is returned at once, unwrapped.
//
// attempt should return the SDK's errors as they are: an error it makes up itself (a
// malformed answer, say) counts as a transport failure and is retried unless wrapped with
// NoRetry.
func (c *Client) Do(ctx context.Context, attempt func(context.Context) error) error {
	for n := 0; ; n++ {
		err, final := c.try(ctx, attempt)
		if err == nil || final {
			return err
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return ctxErr
		}
		retry, wait := Retryable(err)
		if !retry {
			return err
		}
		if n >= c.cfg.MaxRetries {
			return fmt.Errorf("giving up after %d attempts: %w", n+1, err)
		}
		if wait < 0 {
			wait = backoff.Delay(c.cfg.BaseDelay, n)
		}
		if err := c.cfg.Sleep(ctx, min(wait, c.cfg.MaxDelay)); err != nil {
			return err
		}
	}
}

// try runs one attempt; final reports a NoRetry error (returned unwrapped).
func (c *Client) try(ctx context.Context, attempt func(context.Context) error) (err error, final bool) {
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	err = attempt(actx)
	if err == nil {
		return nil, false
	}
	var nr noRetry
	if errors.As(err, &nr) {
		err, final = nr.err, true
	}
	if ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
		err = fmt.Errorf("%w after %s: %w", ErrTimeout, c.cfg.Timeout, err)
	}
	return err, final
}

// NoRetry marks err as final: Do returns it (without the mark) instead of retrying. A chat
// stream uses it once text has been passed on, since that cannot be taken back.
func NoRetry(err error) error {
	if err == nil {
		return nil
	}
	return noRetry{err}
}

type noRetry struct{ err error }

func (e noRetry) Error() string { return e.err.Error() }
func (e noRetry) Unwrap() error { return e.err }
