package embed

import (
	"context"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/llm"
	"github.com/voiceassist/gateway/internal/llm/llmtest"
)

// start returns an embedder for model pointed at a fake server.
func start(t *testing.T, model string, cfg OpenAIConfig) (*llmtest.Server, *OpenAI) {
	t.Helper()
	s := llmtest.New(t)
	cfg.BaseURL = s.BaseURL()
	cfg.APIKey = llmtest.APIKey
	cfg.Model = model
	cfg.HTTPClient = s.Server.Client()
	if cfg.BaseDelay == 0 {
		cfg.BaseDelay = time.Millisecond
	}
	e, err := NewOpenAI(cfg)
	require.NoError(t, err)
	return s, e
}

// batches checks every request's parameters and returns their inputs.
func batches(t *testing.T, s *llmtest.Server, model string, dims int) [][]string {
	t.Helper()
	var out [][]string
	for _, r := range s.Requests("") {
		require.Equal(t, llmtest.Embeddings, r.Endpoint)
		require.Equal(t, "Bearer "+llmtest.APIKey, r.Header.Get("Authorization"))
		require.Equal(t, model, r.Model)
		require.Equal(t, "float", r.EncodingFormat)
		if dims == 0 {
			require.Nil(t, r.Dimensions)
		} else {
			require.NotNil(t, r.Dimensions)
			require.Equal(t, dims, *r.Dimensions)
		}
		out = append(out, r.Input)
	}
	return out
}

func TestOpenAIBatchesAndNormalises(t *testing.T) {
	t.Parallel()
	s, e := start(t, "text-embedding-3-small", OpenAIConfig{Dimensions: 8, BatchSize: 2})
	var _ Embedder = e
	require.Equal(t, 8, e.Dim())
	require.Equal(t, "text-embedding-3-small", e.Model())

	texts := []string{"a", "bb", "", "cccc", "ddddd", "  "}
	vecs, err := e.Embed(context.Background(), texts)
	require.NoError(t, err)
	// Empty texts are not sent; the rest go in batches of two, in order.
	require.Equal(t, [][]string{{"a", "bb"}, {"cccc", "ddddd"}}, batches(t, s, "text-embedding-3-small", 8))
	require.Len(t, vecs, len(texts))
	for i, text := range texts {
		require.Len(t, vecs[i], 8)
		if i == 2 || i == 5 {
			require.Zero(t, norm(vecs[i]))
			continue
		}
		// llmtest.FakeVector: (len, 3) normalised.
		l := float64(len(text))
		d := l*l + 9
		require.InDelta(t, l/math.Sqrt(d), vecs[i][0], 1e-6, text)
		require.InDelta(t, 3/math.Sqrt(d), vecs[i][1], 1e-6, text)
		require.InDelta(t, 1, norm(vecs[i]), 1e-6)
	}

	none, err := e.Embed(context.Background(), nil)
	require.NoError(t, err)
	require.Empty(t, none)
}

func TestOpenAILearnsDimension(t *testing.T) {
	t.Parallel()
	s, e := start(t, "nomic-embed-text", OpenAIConfig{})
	require.Equal(t, 0, e.Dim())
	vecs, err := e.Embed(context.Background(), []string{"x", "yy"})
	require.NoError(t, err)
	require.Len(t, vecs[0], 4) // the fake's default dimension
	require.Equal(t, 4, e.Dim())
	require.Len(t, batches(t, s, "nomic-embed-text", 0), 1) // no "dimensions" parameter sent
}

func TestOpenAIRetries429HonouringRetryAfter(t *testing.T) {
	t.Parallel()
	// The backoff alone would wait about a millisecond; Retry-After asks for 1 s.
	s, e := start(t, "m", OpenAIConfig{Dimensions: 4, Config: llm.Config{BaseDelay: time.Millisecond}})
	s.Fail(llmtest.Embeddings, llmtest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "1"})
	vecs, err := e.Embed(context.Background(), []string{"hello", "world"})
	require.NoError(t, err)
	require.Len(t, vecs, 2)
	require.Equal(t, [][]string{{"hello", "world"}, {"hello", "world"}}, batches(t, s, "m", 4))
	reqs := s.Requests("")
	require.GreaterOrEqual(t, reqs[1].Time.Sub(reqs[0].Time), 950*time.Millisecond)
}

func TestOpenAI500Exhausted(t *testing.T) {
	t.Parallel()
	s, e := start(t, "m", OpenAIConfig{Dimensions: 4, Config: llm.Config{MaxRetries: 2, BaseDelay: 5 * time.Millisecond}})
	s.Fail("", llmtest.Fault{Status: http.StatusInternalServerError, Times: 10})
	_, err := e.Embed(context.Background(), []string{"x"})
	require.Error(t, err)
	require.Contains(t, err.Error(), "giving up after 3 attempts")
	require.Contains(t, err.Error(), "500")
	reqs := s.Requests("")
	require.Len(t, reqs, 3)
	// Exponential backoff with equal jitter: waits in [2.5, 5] ms then [5, 10] ms.
	require.GreaterOrEqual(t, reqs[1].Time.Sub(reqs[0].Time), 2*time.Millisecond)
	require.GreaterOrEqual(t, reqs[2].Time.Sub(reqs[1].Time), 5*time.Millisecond)
}

func TestOpenAIClientErrorNotRetried(t *testing.T) {
	t.Parallel()
	s, e := start(t, "m", OpenAIConfig{Dimensions: 4})
	s.Fail("", llmtest.Fault{Status: http.StatusBadRequest, Times: 10})
	_, err := e.Embed(context.Background(), []string{"x"})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "giving up")
	require.Equal(t, llm.Invalid, llm.Classify(err))
	require.Len(t, s.Requests(""), 1)
}

func TestOpenAIContextCancelledDuringBackoff(t *testing.T) {
	t.Parallel()
	s, e := start(t, "m", OpenAIConfig{Dimensions: 4})
	s.Fail("", llmtest.Fault{Status: http.StatusServiceUnavailable, RetryAfter: "30", Times: 10})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := e.Embed(ctx, []string{"x"})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(began), 5*time.Second)
	require.Len(t, s.Requests(""), 1)
}

func TestOpenAITimeoutNotRetried(t *testing.T) {
	t.Parallel()
	s, e := start(t, "m", OpenAIConfig{Dimensions: 4, Config: llm.Config{Timeout: 50 * time.Millisecond}})
	s.Fail("", llmtest.Fault{Hang: true})
	_, err := e.Embed(context.Background(), []string{"x"})
	require.ErrorIs(t, err, llm.ErrTimeout)
	require.Len(t, s.Requests(""), 1)
}

func TestOpenAIDimensionMismatch(t *testing.T) {
	t.Parallel()
	s, e := start(t, "m", OpenAIConfig{Dimensions: 8})
	s.SetEmbed(func(text string, _ int) []float64 { return llmtest.FakeVector(text, 3) }) // asked for 8
	_, err := e.Embed(context.Background(), []string{"x"})
	require.ErrorContains(t, err, "dimension 3, want 8")
}

func TestOpenAIConfig(t *testing.T) {
	t.Parallel()
	_, err := NewOpenAI(OpenAIConfig{})
	require.Error(t, err)
	_, err = NewOpenAI(OpenAIConfig{Model: "m", Dimensions: -1})
	require.Error(t, err)
}
