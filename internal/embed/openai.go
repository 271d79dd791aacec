package embed

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/voiceassist/gateway/internal/llm"
)

// OpenAI defaults. Timeout, MaxRetries and MaxDelay differ from llm's.
const (
	DefaultBatchSize  = 96
	DefaultMaxRetries = 4
	DefaultBaseDelay  = llm.DefaultBaseDelay
	DefaultMaxDelay   = 30 * time.Second
	// DefaultTimeout is generous: a batch on a CPU-only local server (Ollama) can take
	// tens of seconds, and a request cut by it is not retried.
	DefaultTimeout = 2 * time.Minute
)

// OpenAIConfig configures an OpenAI-compatible embedder.
type OpenAIConfig struct {
	// Config is the client: server, key, timeout and retries. Zero Timeout, MaxRetries
	// and MaxDelay take this package's defaults (DefaultTimeout, DefaultMaxRetries,
	// DefaultMaxDelay), not llm's.
	llm.Config
	// Model, e.g. "text-embedding-3-small" or "nomic-embed-text". Required.
	Model string
	// Dimensions, when > 0, is sent as the "dimensions" parameter (supported
	// by text-embedding-3 models; leave 0 for servers that reject it) and every
	// returned vector must have it. When 0 the dimension is learnt from the
	// first response.
	Dimensions int
	// BatchSize is the number of texts per request (DefaultBatchSize if <= 0).
	BatchSize int
}

// OpenAI embeds texts through an OpenAI-compatible /embeddings endpoint. It
// is safe for concurrent use.
type OpenAI struct {
	client *llm.Client
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
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = DefaultMaxRetries
	}
	if cfg.MaxDelay <= 0 {
		cfg.MaxDelay = DefaultMaxDelay
	}
	// llm.New fills in the rest (BaseDelay, the same as llm's) and takes a negative
	// MaxRetries as none.
	e := &OpenAI{client: llm.New(cfg.Config), cfg: cfg}
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
	err := e.client.Do(ctx, func(ctx context.Context) error {
		var err error
		resp, err = e.client.API().Embeddings.New(ctx, params)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("embed: %w", err)
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
