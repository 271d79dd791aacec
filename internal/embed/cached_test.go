package embed_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/cache"
	"github.com/voiceassist/gateway/internal/embed"
)

// counting counts the texts it embeds.
type counting struct {
	embed.Embedder
	texts int
}

func (c *counting) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	c.texts += len(texts)
	return c.Embedder.Embed(ctx, texts)
}

func TestCachedEmbedsAQueryOnce(t *testing.T) {
	t.Parallel()
	inner := &counting{Embedder: embed.NewHashing(embed.DefaultDim)}
	e := embed.Cached{Embedder: inner, Cache: cache.New(nil, cache.Config{}), Namespace: "embed", TTL: time.Minute}
	ctx := context.Background()

	first, err := e.Embed(ctx, []string{"first-line treatment of hypertension"})
	require.NoError(t, err)
	again, err := e.Embed(ctx, []string{"first-line treatment of hypertension"})
	require.NoError(t, err)
	require.Equal(t, first, again)
	require.Equal(t, 1, inner.texts, "the second call is served from the cache")

	_, err = e.Embed(ctx, []string{"a", "b"})
	require.NoError(t, err)
	_, err = e.Embed(ctx, []string{"a", "b"})
	require.NoError(t, err)
	require.Equal(t, 5, inner.texts, "batches are not cached")
}
