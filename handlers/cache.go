package handlers

import (
	"context"

	"github.com/voiceassist/gateway/gen/api"
)

func (s *Server) GetCacheStats(ctx context.Context, _ api.GetCacheStatsRequestObject) (api.GetCacheStatsResponseObject, error) {
	var out api.CacheStats
	for _, l := range s.Cache.Stats() {
		ls := api.CacheLayerStats{Layer: api.CacheLayerStatsLayer(l.Layer), Hits: l.Hits, Misses: l.Misses, Sets: l.Sets, HitRate: float32(l.HitRate)}
		if l.Layer == "l1" {
			ls.Entries, ls.Bytes, ls.Evictions = &l.Entries, &l.Bytes, &l.Evictions
		} else {
			ls.Errors = &l.Errors
		}
		ns := make(map[string]api.CacheNamespaceStats, len(l.Namespaces))
		for k, v := range l.Namespaces {
			ns[k] = api.CacheNamespaceStats{Hits: v.Hits, Misses: v.Misses}
		}
		ls.Namespaces = &ns
		out.Layers = append(out.Layers, ls)
	}
	if out.Layers == nil {
		out.Layers = []api.CacheLayerStats{}
	}
	return api.GetCacheStats200JSONResponse{Success: true, Data: out, Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) ClearCache(ctx context.Context, r api.ClearCacheRequestObject) (api.ClearCacheResponseObject, error) {
	ns := ""
	if r.Body.Namespace != nil {
		ns = *r.Body.Namespace
	}
	n, err := s.CacheAdmin.Clear(ctx, actorOf(ctx), ns)
	if err != nil {
		return nil, err
	}
	return api.ClearCache200JSONResponse{Success: true, Data: api.CacheClearResult{Removed: n}, Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) InvalidateCache(ctx context.Context, r api.InvalidateCacheRequestObject) (api.InvalidateCacheResponseObject, error) {
	n, err := s.CacheAdmin.Invalidate(ctx, actorOf(ctx), r.Body.Pattern)
	if err != nil {
		return nil, err
	}
	return api.InvalidateCache200JSONResponse{Success: true, Data: api.CacheClearResult{Removed: n}, Metadata: meta(ctx), Timestamp: now()}, nil
}
