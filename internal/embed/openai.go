package embed

import (
	"context"
	"errors"
	"fmt"
	"github.com/voiceassist/gateway/internal/backoff"
	"net/http"
	"strings"
	"sync/atomic"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// OpenAI defaults.
const (
	DefaultBatchSize  = 96
	DefaultMaxRetries = 4
	DefaultBaseDelay  = 500 * time.Millisecond
	DefaultMaxDelay   = 30 * time.Second
)

// OpenAIConfig configures an OpenAI-compatible embedder.
type OpenAIConfig struct {
	// APIKey; empty falls back to OPENAI_API_KEY (servers such as Ollama need none).
	APIKey string
	// BaseURL of the API, e.g. "http://localhost:11434/v1" for Ollama; empty
	// falls back to OPENAI_BASE_URL, then to OpenAI's.
	BaseURL string
	// Model, e.g. "text-embedding-3-small" or "nomic-embed-text". Required.
	Model string
	// Dimensions, when > 0, is sent as the "dimensions" parameter (supported
	// by text-embedding-3 models; leave 0 for servers that reject it) and every
	// returned vector must have it. When 0 the dimension is learnt from the
	// first response.
	Dimensions int
	// BatchSize is the number of texts per request (DefaultBatchSize if <= 0).
	BatchSize int
	// MaxRetries is the number of retries after a failed request on 429, 5xx
	// and transport errors (DefaultMaxRetries if 0; negative disables them).
	MaxRetries int
	// BaseDelay is the first backoff delay, doubled on each retry with jitter
	// (DefaultBaseDelay if <= 0). A Retry-After or Retry-After-Ms header
	// replaces the computed delay.
	BaseDelay time.Duration
	// MaxDelay caps every wait, including Retry-After (DefaultMaxDelay if <= 0).
	MaxDelay time.Duration
	// HTTPClient, if set, replaces http.DefaultClient (timeouts, proxies, tests).
	HTTPClient *http.Client
}

// OpenAI embeds texts through an OpenAI-compatible /embeddings endpoint. It
// is safe for concurrent use.
type OpenAI struct {
	client openai.Client
	cfg    OpenAIConfig
	dim    atomic.Int64
}

var _ Embedder = (*OpenAI)(nil)

// NewOpenAI returns an embedder for cfg.
func NewOpenAI(cfg OpenAIConfig) (*OpenAI, error) {
	if cfg.Model == "" {
		return nil, errors.New("embed: OpenAI model is required")
	}
	if cfg.Dimensions < 0 {
		return nil, errors.New("embed: negative dimensions")
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = DefaultBatchSize
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
	// The SDK's own retries are off: this package retries, so that the policy
	// (attempts, backoff, Retry-After cap) is explicit and tested.
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
	e := &OpenAI{client: openai.NewClient(opts...), cfg: cfg}
	e.dim.Store(int64(cfg.Dimensions))
	return e, nil
}

// Dim implements Embedder: the configured dimension, else the one seen in the
// first response, else 0.
func (e *OpenAI) Dim() int { return int(e.dim.Load()) }

// Model implements Embedder.
func (e *OpenAI) Model() string { return e.cfg.Model }

// Embed implements Embedder. Texts are sent in batches of BatchSize; empty
// (whitespace-only) texts are not sent, since the API rejects them, and get a
// zero vector. Returned vectors are L2-normalised.
func (e *OpenAI) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	var idx []int // positions of non-empty texts
	for i, t := range texts {
		if strings.TrimSpace(t) != "" {
			idx = append(idx, i)
		}
	}
	for start := 0; start < len(idx); start += e.cfg.BatchSize {
		pos := idx[start:min(start+e.cfg.BatchSize, len(idx))]
		batch := make([]string, len(pos))
		for j, p := range pos {
			batch[j] = texts[p]
		}
		vecs, err := e.embedBatch(ctx, batch)
		if err != nil {
			return nil, err
		}
		for j, p := range pos {
			out[p] = vecs[j]
		}
	}
	if d := e.Dim(); d > 0 {
		for i := range out {
			if out[i] == nil {
				out[i] = make([]float32, d)
			}
		}
	}
	return out, nil
}

func (e *OpenAI) embedBatch(ctx context.Context, batch []string) ([][]float32, error) {
	params := openai.EmbeddingNewParams{
		Model:          openai.EmbeddingModel(e.cfg.Model),
		Input:          openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: batch},
		EncodingFormat: openai.EmbeddingNewParamsEncodingFormatFloat,
	}
	if e.cfg.Dimensions > 0 {
		params.Dimensions = openai.Int(int64(e.cfg.Dimensions))
	}
	var resp *openai.CreateEmbeddingResponse
	for attempt := 0; ; attempt++ {
		var err error
		resp, err = e.client.Embeddings.New(ctx, params)
		if err == nil {
			break
		}
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, fmt.Errorf("embed: %w", ctxErr)
		}
		retry, wait := retryable(err)
		if !retry || attempt >= e.cfg.MaxRetries {
			if retry {
				return nil, fmt.Errorf("embed: giving up after %d attempts: %w", attempt+1, err)
			}
			return nil, fmt.Errorf("embed: %w", err)
		}
		if wait < 0 {
			wait = backoff.Delay(e.cfg.BaseDelay, attempt)
		}
		wait = min(wait, e.cfg.MaxDelay)
		if err := backoff.Sleep(ctx, wait); err != nil {
			return nil, fmt.Errorf("embed: %w", err)
		}
	}
	return e.decode(resp, len(batch))
}

func (e *OpenAI) decode(resp *openai.CreateEmbeddingResponse, n int) ([][]float32, error) {
	if len(resp.Data) != n {
		return nil, fmt.Errorf("embed: %d embeddings for %d inputs", len(resp.Data), n)
	}
	vecs := make([][]float32, n)
	for _, d := range resp.Data {
		if d.Index < 0 || int(d.Index) >= n || vecs[d.Index] != nil {
			return nil, fmt.Errorf("embed: bad or duplicate embedding index %d", d.Index)
		}
		if len(d.Embedding) == 0 {
			return nil, fmt.Errorf("embed: empty embedding at index %d", d.Index)
		}
		v := make([]float32, len(d.Embedding))
		for i, x := range d.Embedding {
			v[i] = float32(x)
		}
		Normalize(v)
		vecs[d.Index] = v
	}
	want := len(vecs[0])
	if d := e.Dim(); d > 0 {
		want = d
	}
	for i, v := range vecs {
		if len(v) != want {
			return nil, fmt.Errorf("embed: embedding %d has dimension %d, want %d", i, len(v), want)
		}
	}
	e.dim.CompareAndSwap(0, int64(want))
	return vecs, nil
}

// retryable reports whether err is worth retrying and, for HTTP responses,
// the delay the server asked for (-1 if none).
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
	// Transport errors (connection refused or reset, timeouts) are retried;
	// context errors were handled by the caller.
	return true, -1
}
