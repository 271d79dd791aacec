package backoff

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestRetryAfterParsing(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	h := func(kv ...string) http.Header {
		x := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			x.Set(kv[i], kv[i+1])
		}
		return x
	}
	require.Equal(t, time.Duration(-1), RetryAfter(h(), now))
	require.Equal(t, 2*time.Second, RetryAfter(h("Retry-After", "2"), now))
	require.Equal(t, 1500*time.Millisecond, RetryAfter(h("Retry-After", "1.5"), now))
	require.Equal(t, 250*time.Millisecond, RetryAfter(h("Retry-After-Ms", "250", "Retry-After", "9"), now))
	require.Equal(t, 7*time.Second, RetryAfter(h("Retry-After", now.Add(7*time.Second).Format(http.TimeFormat)), now))
	require.Equal(t, time.Duration(0), RetryAfter(h("Retry-After", now.Add(-time.Hour).Format(http.TimeFormat)), now))
	require.Equal(t, time.Duration(-1), RetryAfter(h("Retry-After", "soon"), now))

	for attempt := range 5 {
		d := Delay(100*time.Millisecond, attempt)
		full := 100 * time.Millisecond << attempt
		require.GreaterOrEqual(t, d, full/2)
		require.LessOrEqual(t, d, full)
	}
}
