package embed

import (
	"context"
	"time"

	"github.com/voiceassist/gateway/internal/cache"
)

// Cached caches the embedding of a single text (a search query) per model in the two-layer
// cache; batches (document indexing) pass through, since each document is embedded once.
type Cached struct {
	Embedder
	Cache     *cache.Cache
	Namespace string
	TTL       time.Duration // a query's vector only changes with the model, which is in the key
}

// Embed implements Embedder.
func (e Cached) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if len(texts) != 1 {
		return e.Embedder.Embed(ctx, texts)
	}
	key := e.Model() + ":" + texts[0]
	if v, ok := cache.GetJSON[[]float32](ctx, e.Cache, e.Namespace, key); ok && len(v) > 0 {
		return [][]float32{v}, nil
	}
	vs, err := e.Embedder.Embed(ctx, texts)
	if err == nil && len(vs) == 1 {
		_ = cache.SetJSON(ctx, e.Cache, e.Namespace, key, vs[0], e.TTL)
	}
	return vs, err
}
