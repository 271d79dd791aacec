package llm_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/llm"
	"github.com/voiceassist/gateway/internal/llm/llmtest"
)

// recorder replaces Config.Sleep: it records the waits and does not sleep.
type recorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (r *recorder) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	r.waits = append(r.waits, d)
	r.mu.Unlock()
	return ctx.Err()
}

func (r *recorder) got() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.waits...)
}

func start(t *testing.T, cfg llm.Config) (*llmtest.Server, *llm.Client, *recorder) {
	t.Helper()
	s := llmtest.New(t)
	rec := &recorder{}
	cfg.Sleep = rec.sleep
	return s, s.NewClient(cfg), rec
}

// embedOnce is a Do attempt: one embeddings request.
func embedOnce(c *llm.Client) func(context.Context) error {
	return func(ctx context.Context) error {
		_, err := c.API().Embeddings.New(ctx, openai.EmbeddingNewParams{
			Model: "m", Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: []string{"x"}},
		})
		return err
	}
}

func TestDoSucceeds(t *testing.T) {
	t.Parallel()
	s, c, rec := start(t, llm.Config{})
	require.NoError(t, c.Do(context.Background(), embedOnce(c)))
	reqs := s.Requests(llmtest.Embeddings)
	require.Len(t, reqs, 1)
	require.Equal(t, "Bearer "+llmtest.APIKey, reqs[0].Header.Get("Authorization"))
	require.Equal(t, []string{"x"}, reqs[0].Input)
	require.Empty(t, rec.got())
}

func TestDoRetriesServerErrorsWithBackoff(t *testing.T) {
	t.Parallel()
	s, c, rec := start(t, llm.Config{MaxRetries: 3, BaseDelay: 100 * time.Millisecond})
	s.Fail(llmtest.Embeddings, llmtest.Fault{Status: http.StatusInternalServerError, Times: 2})
	require.NoError(t, c.Do(context.Background(), embedOnce(c)))
	require.Len(t, s.Requests(""), 3)
	waits := rec.got()
	require.Len(t, waits, 2)
	// Equal jitter: [50, 100] ms, then [100, 200] ms.
	require.GreaterOrEqual(t, waits[0], 50*time.Millisecond)
	require.LessOrEqual(t, waits[0], 100*time.Millisecond)
	require.GreaterOrEqual(t, waits[1], 100*time.Millisecond)
	require.LessOrEqual(t, waits[1], 200*time.Millisecond)
}

func TestDoHonoursAndCapsRetryAfter(t *testing.T) {
	t.Parallel()
	s, c, rec := start(t, llm.Config{MaxRetries: 3, MaxDelay: 5 * time.Second})
	s.Fail(llmtest.Embeddings, llmtest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "2"})
	s.Fail(llmtest.Embeddings, llmtest.Fault{Status: http.StatusServiceUnavailable, RetryAfter: "3600"})
	require.NoError(t, c.Do(context.Background(), embedOnce(c)))
	require.Len(t, s.Requests(""), 3)
	require.Equal(t, []time.Duration{2 * time.Second, 5 * time.Second}, rec.got())
}

func TestDoGivesUp(t *testing.T) {
	t.Parallel()
	s, c, rec := start(t, llm.Config{MaxRetries: 2})
	s.Fail("", llmtest.Fault{Status: http.StatusBadGateway, Times: 10})
	err := c.Do(context.Background(), embedOnce(c))
	require.ErrorContains(t, err, "giving up after 3 attempts")
	require.Equal(t, http.StatusBadGateway, llm.StatusCode(err))
	require.Equal(t, llm.Transient, llm.Classify(err))
	require.Len(t, s.Requests(""), 3)
	require.Len(t, rec.got(), 2)
}

func TestDoDoesNotRetryClientErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status int
		kind   llm.Kind
	}{
		{http.StatusBadRequest, llm.Invalid},
		{http.StatusNotFound, llm.Invalid},
		{http.StatusUnprocessableEntity, llm.Invalid},
		{http.StatusUnauthorized, llm.Auth},
		{http.StatusForbidden, llm.Auth},
	} {
		t.Run(fmt.Sprint(tc.status), func(t *testing.T) {
			t.Parallel()
			s, c, rec := start(t, llm.Config{MaxRetries: 3})
			s.Fail("", llmtest.Fault{Status: tc.status, Message: "you did it wrong", Times: 10})
			err := c.Do(context.Background(), embedOnce(c))
			require.Error(t, err)
			require.NotContains(t, err.Error(), "giving up")
			require.Equal(t, tc.kind, llm.Classify(err))
			require.Equal(t, tc.status, llm.StatusCode(err))
			require.Equal(t, "you did it wrong", llm.Message(err))
			require.NotContains(t, err.Error(), "you did it wrong") // the SDK keeps messages out of Error()
			require.Len(t, s.Requests(""), 1)
			require.Empty(t, rec.got())
		})
	}
}

func TestWrongKeyIsAuth(t *testing.T) {
	t.Parallel()
	s, c, _ := start(t, llm.Config{})
	s.SetAPIKey("another-key")
	err := c.Do(context.Background(), embedOnce(c))
	require.Equal(t, llm.Auth, llm.Classify(err))
	require.Equal(t, "Incorrect API key provided.", llm.Message(err))
}

func TestDoRetriesDroppedConnections(t *testing.T) {
	t.Parallel()
	s, c, rec := start(t, llm.Config{MaxRetries: 2})
	s.Fail("", llmtest.Fault{Drop: true})
	require.NoError(t, c.Do(context.Background(), embedOnce(c)))
	require.Len(t, s.Requests(""), 2)
	require.Len(t, rec.got(), 1)

	s.Fail("", llmtest.Fault{Drop: true, Times: 10})
	err := c.Do(context.Background(), embedOnce(c))
	require.ErrorContains(t, err, "giving up after 3 attempts")
	require.Equal(t, llm.Unavailable, llm.Classify(err))
}

func TestDoTimeoutIsNotRetried(t *testing.T) {
	t.Parallel()
	s, c, rec := start(t, llm.Config{Timeout: 50 * time.Millisecond, MaxRetries: 3})
	s.Fail("", llmtest.Fault{Hang: true})
	err := c.Do(context.Background(), embedOnce(c))
	require.ErrorIs(t, err, llm.ErrTimeout)
	require.ErrorContains(t, err, "timed out after 50ms")
	require.Equal(t, llm.Timeout, llm.Classify(err))
	require.Len(t, s.Requests(""), 1)
	require.Empty(t, rec.got())
}

func TestDoReturnsContextError(t *testing.T) {
	t.Parallel()
	s := llmtest.New(t)
	c := s.NewClient(llm.Config{MaxRetries: 3}) // real sleeps
	s.Fail("", llmtest.Fault{Status: http.StatusServiceUnavailable, RetryAfter: "30"})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	began := time.Now()
	err := c.Do(ctx, embedOnce(c))
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.Equal(t, llm.Canceled, llm.Classify(err))
	require.Less(t, time.Since(began), 5*time.Second) // not the 30 s Retry-After
	require.Len(t, s.Requests(""), 1)
}

func TestDoNoRetry(t *testing.T) {
	t.Parallel()
	_, c, rec := start(t, llm.Config{MaxRetries: 3})
	gone := errors.New("client gone")
	n := 0
	err := c.Do(context.Background(), func(context.Context) error {
		n++
		return llm.NoRetry(gone)
	})
	require.Equal(t, gone, err) // unchanged, so callers can compare it
	require.Equal(t, 1, n)
	require.Empty(t, rec.got())
	require.NoError(t, llm.NoRetry(nil))
}

func TestDoDoesNotRetryMalformedAnswers(t *testing.T) {
	t.Parallel()
	// (A truncated body reads as an unexpected EOF, like a broken connection, and is retried.)
	for _, body := range []string{`{"data": nope}`, `<html>`} {
		s, c, rec := start(t, llm.Config{MaxRetries: 3})
		s.SetHandler(func(w http.ResponseWriter, _ *http.Request, _ llmtest.Request) bool {
			w.Header().Set("Content-Type", "application/json")
			_, _ = io.WriteString(w, body)
			return true
		})
		err := c.Do(context.Background(), embedOnce(c))
		require.Error(t, err)
		require.Equal(t, llm.Other, llm.Classify(err), "%s: %v", body, err)
		require.Len(t, s.Requests(""), 1)
		require.Empty(t, rec.got())
	}
}

func TestClientErrorWithoutJSONBody(t *testing.T) {
	t.Parallel()
	// Self-hosted servers do not always answer errors in OpenAI's shape.
	s, c, _ := start(t, llm.Config{MaxRetries: 3})
	s.SetHandler(func(w http.ResponseWriter, _ *http.Request, _ llmtest.Request) bool {
		http.Error(w, "no such model", http.StatusNotFound)
		return true
	})
	err := c.Do(context.Background(), embedOnce(c))
	require.Equal(t, llm.Invalid, llm.Classify(err), "%v", err)
	require.Len(t, s.Requests(""), 1)
}

func TestClassify(t *testing.T) {
	t.Parallel()
	require.Equal(t, llm.Canceled, llm.Classify(fmt.Errorf("x: %w", context.Canceled)))
	require.Equal(t, llm.Timeout, llm.Classify(fmt.Errorf("%w: %w", llm.ErrTimeout, context.DeadlineExceeded)))
	require.Equal(t, llm.Unavailable, llm.Classify(io.ErrUnexpectedEOF))
	require.Equal(t, llm.RateLimited, llm.Classify(&openai.Error{StatusCode: 429}))
	require.Equal(t, llm.Transient, llm.Classify(&openai.Error{StatusCode: 408}))
	require.Equal(t, "rate limited", llm.RateLimited.String())
	retry, wait := llm.Retryable(&openai.Error{StatusCode: 500})
	require.True(t, retry)
	require.Equal(t, time.Duration(-1), wait)
	retry, _ = llm.Retryable(&openai.Error{StatusCode: 400})
	require.False(t, retry)
	require.Empty(t, llm.Message(io.EOF))
	require.Zero(t, llm.StatusCode(io.EOF))
}
