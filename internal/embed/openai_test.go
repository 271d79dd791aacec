package embed

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeOpenAI is an OpenAI-compatible /v1/embeddings server. Each request is
// checked and recorded; respond decides the reply by request number (0-based).
type fakeOpenAI struct {
	t       *testing.T
	model   string
	dims    int // expected "dimensions" parameter, 0 = must be absent
	respond func(n int, w http.ResponseWriter, inputs []string) bool

	mu      sync.Mutex
	batches [][]string
	times   []time.Time
}

type embedRequest struct {
	Model          string   `json:"model"`
	Input          []string `json:"input"`
	Dimensions     *int     `json:"dimensions"`
	EncodingFormat string   `json:"encoding_format"`
}

func (f *fakeOpenAI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Errors are reported with 418, which the client does not retry, so that
	// the failing check shows up in the test's result.
	fail := func(msg string, args ...any) {
		f.t.Errorf(msg, args...)
		http.Error(w, "bad request", http.StatusTeapot)
	}
	if r.Method != http.MethodPost || r.URL.Path != "/v1/embeddings" {
		fail("unexpected %s %s", r.Method, r.URL.Path)
		return
	}
	if got := r.Header.Get("Authorization"); got != "Bearer test-key" {
		fail("authorization %q", got)
		return
	}
	var req embedRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		fail("decode: %v", err)
		return
	}
	if req.Model != f.model {
		fail("model %q, want %q", req.Model, f.model)
		return
	}
	if req.EncodingFormat != "float" {
		fail("encoding_format %q", req.EncodingFormat)
		return
	}
	if (f.dims == 0) != (req.Dimensions == nil) || (req.Dimensions != nil && *req.Dimensions != f.dims) {
		fail("dimensions %v, want %d", req.Dimensions, f.dims)
		return
	}
	f.mu.Lock()
	n := len(f.batches)
	f.batches = append(f.batches, req.Input)
	f.times = append(f.times, time.Now())
	f.mu.Unlock()
	if f.respond != nil && f.respond(n, w, req.Input) {
		return
	}
	writeEmbeddings(w, req.Input, max(f.dims, 4))
}

// fakeVector is the vector the fake server returns for a text: unnormalised,
// so that the client's normalisation is visible.
func fakeVector(text string, dim int) []float64 {
	v := make([]float64, dim)
	v[0] = float64(len(text))
	v[1] = 3
	return v
}

func writeEmbeddings(w http.ResponseWriter, inputs []string, dim int) {
	type item struct {
		Object    string    `json:"object"`
		Index     int       `json:"index"`
		Embedding []float64 `json:"embedding"`
	}
	data := make([]item, 0, len(inputs))
	for i := len(inputs) - 1; i >= 0; i-- { // reversed: clients must use "index"
		data = append(data, item{Object: "embedding", Index: i, Embedding: fakeVector(inputs[i], dim)})
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{
		"object": "list", "model": "fake", "data": data,
		"usage": map[string]int{"prompt_tokens": 1, "total_tokens": 1},
	})
}

func writeError(w http.ResponseWriter, code int) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{
		"message": http.StatusText(code), "type": "server_error", "code": strconv.Itoa(code),
	}})
}

func (f *fakeOpenAI) requests() [][]string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([][]string(nil), f.batches...)
}

func start(t *testing.T, f *fakeOpenAI, cfg OpenAIConfig) *OpenAI {
	t.Helper()
	f.t = t
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	cfg.BaseURL = srv.URL + "/v1"
	cfg.APIKey = "test-key"
	cfg.Model = f.model
	cfg.HTTPClient = srv.Client()
	if cfg.BaseDelay == 0 {
		cfg.BaseDelay = time.Millisecond
	}
	e, err := NewOpenAI(cfg)
	require.NoError(t, err)
	return e
}

func TestOpenAIBatchesAndNormalises(t *testing.T) {
	t.Parallel()
	f := &fakeOpenAI{model: "text-embedding-3-small", dims: 8}
	e := start(t, f, OpenAIConfig{Dimensions: 8, BatchSize: 2})
	var _ Embedder = e
	require.Equal(t, 8, e.Dim())
	require.Equal(t, "text-embedding-3-small", e.Model())

	texts := []string{"a", "bb", "", "cccc", "ddddd", "  "}
	vecs, err := e.Embed(context.Background(), texts)
	require.NoError(t, err)
	// Empty texts are not sent; the rest go in batches of two, in order.
	require.Equal(t, [][]string{{"a", "bb"}, {"cccc", "ddddd"}}, f.requests())
	require.Len(t, vecs, len(texts))
	for i, text := range texts {
		require.Len(t, vecs[i], 8)
		if i == 2 || i == 5 {
			require.Zero(t, norm(vecs[i]))
			continue
		}
		// (len, 3) normalised.
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
	f := &fakeOpenAI{model: "nomic-embed-text"} // no "dimensions" parameter sent
	e := start(t, f, OpenAIConfig{})
	require.Equal(t, 0, e.Dim())
	vecs, err := e.Embed(context.Background(), []string{"x", "yy"})
	require.NoError(t, err)
	require.Len(t, vecs[0], 4)
	require.Equal(t, 4, e.Dim())
}

func TestOpenAIRetries429HonouringRetryAfter(t *testing.T) {
	t.Parallel()
	f := &fakeOpenAI{model: "m", dims: 4}
	f.respond = func(n int, w http.ResponseWriter, _ []string) bool {
		if n == 0 {
			w.Header().Set("Retry-After", "1")
			writeError(w, http.StatusTooManyRequests)
			return true
		}
		return false
	}
	// The backoff alone would wait about a millisecond; Retry-After asks for 1 s.
	e := start(t, f, OpenAIConfig{Dimensions: 4, BaseDelay: time.Millisecond})
	vecs, err := e.Embed(context.Background(), []string{"hello", "world"})
	require.NoError(t, err)
	require.Len(t, vecs, 2)
	require.Equal(t, [][]string{{"hello", "world"}, {"hello", "world"}}, f.requests())
	require.GreaterOrEqual(t, f.times[1].Sub(f.times[0]), 950*time.Millisecond)
}

func TestOpenAI500Exhausted(t *testing.T) {
	t.Parallel()
	f := &fakeOpenAI{model: "m", dims: 4}
	f.respond = func(_ int, w http.ResponseWriter, _ []string) bool {
		writeError(w, http.StatusInternalServerError)
		return true
	}
	e := start(t, f, OpenAIConfig{Dimensions: 4, MaxRetries: 2, BaseDelay: 5 * time.Millisecond})
	_, err := e.Embed(context.Background(), []string{"x"})
	require.Error(t, err)
	require.Contains(t, err.Error(), "giving up after 3 attempts")
	require.Contains(t, err.Error(), "500")
	require.Len(t, f.requests(), 3)
	// Exponential backoff with equal jitter: waits in [2.5, 5] ms then [5, 10] ms.
	require.GreaterOrEqual(t, f.times[1].Sub(f.times[0]), 2*time.Millisecond)
	require.GreaterOrEqual(t, f.times[2].Sub(f.times[1]), 5*time.Millisecond)
}

func TestOpenAIClientErrorNotRetried(t *testing.T) {
	t.Parallel()
	f := &fakeOpenAI{model: "m", dims: 4}
	f.respond = func(_ int, w http.ResponseWriter, _ []string) bool {
		writeError(w, http.StatusBadRequest)
		return true
	}
	e := start(t, f, OpenAIConfig{Dimensions: 4})
	_, err := e.Embed(context.Background(), []string{"x"})
	require.Error(t, err)
	require.NotContains(t, err.Error(), "giving up")
	require.Len(t, f.requests(), 1)
}

func TestOpenAIContextCancelledDuringBackoff(t *testing.T) {
	t.Parallel()
	f := &fakeOpenAI{model: "m", dims: 4}
	f.respond = func(_ int, w http.ResponseWriter, _ []string) bool {
		w.Header().Set("Retry-After", "30")
		writeError(w, http.StatusServiceUnavailable)
		return true
	}
	e := start(t, f, OpenAIConfig{Dimensions: 4})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	began := time.Now()
	_, err := e.Embed(ctx, []string{"x"})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Less(t, time.Since(began), 5*time.Second)
	require.Len(t, f.requests(), 1)
}

func TestOpenAIDimensionMismatch(t *testing.T) {
	t.Parallel()
	f := &fakeOpenAI{model: "m", dims: 8}
	f.respond = func(_ int, w http.ResponseWriter, in []string) bool {
		writeEmbeddings(w, in, 3) // asked for 8
		return true
	}
	e := start(t, f, OpenAIConfig{Dimensions: 8})
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
