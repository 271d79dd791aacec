package app

import (
	"context"

	"github.com/voiceassist/gateway/internal/adminpanel"
	"github.com/voiceassist/gateway/internal/cache"
	"github.com/voiceassist/gateway/internal/counter"
	"github.com/voiceassist/gateway/internal/health"
	"github.com/voiceassist/gateway/internal/realtime"
)

// newPanel builds the admin panel over this replica's services; voice sockets are read
// through a.VoiceSessions, which is built later.
func (a *App) newPanel(daily *counter.Set, ready *health.Checker) *adminpanel.Service {
	p := adminpanel.New(adminpanel.Config{
		Pool: a.Pool, Redis: a.Redis, Prefix: a.Config.RedisKeyPrefix, Replica: replicaName(),
		Daily: daily, Logger: a.Log.With("component", "adminpanel"),
		Sources: adminpanel.Sources{
			SSE: func() map[string]int { return a.Stream.Stats().ByLevel },
			WebSockets: func(limit int) ([]adminpanel.Socket, int) {
				ss, n := a.Realtime.Sessions(limit)
				out := make([]adminpanel.Socket, len(ss))
				for i, s := range ss {
					out[i] = adminpanel.Socket{ConnectionID: s.ID, UserID: s.UserID, StartedAt: s.StartedAt}
				}
				return out, n
			},
			Voice: func(ctx context.Context, limit int) ([]adminpanel.Socket, int, error) {
				if a.VoiceSessions == nil {
					return nil, 0, nil
				}
				ls, n, err := a.VoiceSessions.Live(ctx, limit)
				out := make([]adminpanel.Socket, len(ls))
				for i, s := range ls {
					out[i] = adminpanel.Socket{ConnectionID: s.ConnectionID, UserID: s.UserID, Replica: s.Replica,
						StartedAt: s.StartedAt.UTC(), SessionID: s.SessionID, ConversationID: s.ConversationID}
				}
				return out, n, err
			},
			CacheStats: func() []adminpanel.CacheLayer { return cacheLayers(a.Cache.Stats()) },
			Ready:      ready,
			Observed:   a.Health,
		},
	})
	p.Events().SetGate(&realtime.Gate{Auth: a.socketAuth, AllowedOrigins: a.Config.AllowedOrigins})
	return p
}

func cacheLayers(ls []cache.LayerStats) []adminpanel.CacheLayer {
	out := make([]adminpanel.CacheLayer, len(ls))
	for i, l := range ls {
		out[i] = adminpanel.CacheLayer{Layer: l.Layer, Hits: l.Hits, Misses: l.Misses, HitRate: l.HitRate}
	}
	return out
}
