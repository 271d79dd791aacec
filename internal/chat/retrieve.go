package chat

import (
	"context"
	"strconv"
	"time"

	"github.com/voiceassist/gateway/internal/cache"
)

// FallbackRetriever is the pipeline's retrieval policy: passages come from Primary (hybrid
// search) through the cache; when Primary fails, e.g. with the vector store down, they come
// from Fallback (keyword search), so chat answers from the keywords rather than not at
// all. Fallback results are not cached, so recovery of Primary is seen at once. When both
// fail, the error is Fallback's.
type FallbackRetriever struct {
	Primary  Retriever
	Fallback Retriever // nil: Primary's error is returned
	// Cache keeps Primary's results under Namespace for TTL (nil: no caching). The owner
	// bumps Namespace when the knowledge base changes.
	Cache     *cache.Cache
	Namespace string
	TTL       time.Duration
}

// Retrieve implements Retriever.
func (r FallbackRetriever) Retrieve(ctx context.Context, query string, k int) ([]Passage, error) {
	key := strconv.Itoa(k) + ":" + query
	if r.Cache != nil {
		if ps, ok := cache.GetJSON[[]Passage](ctx, r.Cache, r.Namespace, key); ok {
			return ps, nil
		}
	}
	ps, err := r.Primary.Retrieve(ctx, query, k)
	if err != nil && ctx.Err() == nil && r.Fallback != nil {
		var fb []Passage
		if fb, err = r.Fallback.Retrieve(ctx, query, k); err == nil {
			return fb, nil
		}
	}
	if err != nil {
		return nil, err
	}
	if r.Cache != nil {
		_ = cache.SetJSON(ctx, r.Cache, r.Namespace, key, ps, r.TTL)
	}
	return ps, nil
}
