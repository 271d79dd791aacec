package handlers

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/flagstore"
	"github.com/voiceassist/gateway/internal/ratelimit"
	"github.com/voiceassist/gateway/internal/stream"
)

// streamLevel is the visibility level of a stream: internal flags are never streamed.
func streamLevel(ctx context.Context) int {
	return flagstore.StreamLevel(visibilityOf(ctx))
}

// StreamFlags is declared by the contract and served raw: it writes and flushes event by event.
func (s *Server) StreamFlags(context.Context, api.StreamFlagsRequestObject) (api.StreamFlagsResponseObject, error) {
	return nil, apierr.New(http.StatusInternalServerError, "INTERNAL_ERROR", "served by the raw route")
}

func (r *routes) StreamFlags(c echo.Context, params api.StreamFlagsParams) error {
	s := r.s
	req := c.Request()
	ctx := req.Context()
	ip := c.RealIP()

	var release func()
	if s.Config.RateLimitEnabled {
		// Open streams per IP across replicas (the seed's SSE_MAX_CONNECTIONS_PER_IP_PER_MINUTE):
		// 429 over it; without Redis the stream is admitted unlimited, logged and counted.
		slots := stream.NewIPSlots(s.Redis, s.Config.RedisKeyPrefix, s.Config.SSEMaxConnectionsPerIPPerMinute)
		slot, wait, err := slots.Acquire(ctx, ip)
		switch {
		case err != nil:
			ratelimit.Bypassed.WithLabelValues("sse_open_ip").Inc()
			s.Log.WarnContext(ctx, "per-IP stream limit unavailable; stream admitted without it", "error", err)
		case slot == nil:
			return apierr.New(http.StatusTooManyRequests, "RATE_LIMIT_EXCEEDED", "Too many open streams from this address; close one or retry later").
				WithHeader("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds()))))).
				WithHeader("X-RateLimit-Limit", strconv.Itoa(s.Config.SSEMaxConnectionsPerIPPerMinute)).
				WithHeader("X-RateLimit-Remaining", "0")
		default:
			release = slot.Release // when the stream ends, which may be after this handler returns
		}
	}
	sess := stream.Session{Level: streamLevel(ctx), IP: ip, LastEventID: params.LastEventID, OnClose: release,
		OFREP: params.Protocol != nil && *params.Protocol == api.Ofrep}
	if params.Flags != nil && strings.TrimSpace(*params.Flags) != "" {
		sess.Keys = map[string]bool{}
		for _, k := range strings.Split(*params.Flags, ",") {
			if k = strings.TrimSpace(k); k != "" {
				sess.Keys[k] = true
			}
		}
	}
	if p, ok := auth.From(ctx); ok {
		if p.APIKeyID == nil {
			sess.ExpiresAt = p.ExpiresAt
		}
		sess.Recheck = func(ctx context.Context) error { return s.Auth.Recheck(ctx, p) }
	}
	err := s.Stream.Serve(c.Response(), req, sess)
	switch {
	case errors.Is(err, stream.ErrClosed), errors.Is(err, stream.ErrTooManyStreams), errors.Is(err, stream.ErrTooManyFromIP), errors.Is(err, stream.ErrBehind):
		return apierr.Unavailable("Cannot open a stream now: "+err.Error(), err).WithHeader("Retry-After", "5")
	}
	return err
}

func toAPIState(st stream.State) (api.FlagState, error) {
	var out api.FlagState
	err := convert(st, &out)
	return out, err
}

func (s *Server) GetFlagVersion(ctx context.Context, _ api.GetFlagVersionRequestObject) (api.GetFlagVersionResponseObject, error) {
	return api.GetFlagVersion200JSONResponse{Success: true, Metadata: meta(ctx), Timestamp: now(),
		Data: api.FlagVersion{Version: s.Stream.Version()}}, nil
}

func (s *Server) GetFlagChanges(ctx context.Context, r api.GetFlagChangesRequestObject) (api.GetFlagChangesResponseObject, error) {
	ch, err := s.Stream.ChangesSince(ctx, r.Params.SinceVersion, streamLevel(ctx))
	if err != nil {
		return nil, err
	}
	out := api.FlagChanges{SinceVersion: r.Params.SinceVersion, Version: ch.Version, HistoryComplete: ch.Complete, Flags: []api.FlagState{}}
	for _, st := range ch.States {
		a, err := toAPIState(st)
		if err != nil {
			return nil, err
		}
		out.Flags = append(out.Flags, a)
	}
	return api.GetFlagChanges200JSONResponse{Success: true, Metadata: meta(ctx), Timestamp: now(), Data: out}, nil
}

func (s *Server) GetFlagStreamStats(ctx context.Context, _ api.GetFlagStreamStatsRequestObject) (api.GetFlagStreamStatsResponseObject, error) {
	st := s.Stream.Stats()
	return api.GetFlagStreamStats200JSONResponse{Success: true, Metadata: meta(ctx), Timestamp: now(), Data: api.FlagStreamStats{
		ActiveConnections: st.Active, ByLevel: st.ByLevel, ConnectionsTotal: st.Connects, DisconnectionsTotal: st.Disconnects,
		DroppedTotal: st.Drops, MaxStreams: s.Config.SSEMaxStreams, MaxStreamsPerIp: s.Config.SSEMaxStreamsPerIP,
		HeartbeatSeconds: int(s.Config.SSEHeartbeat.Seconds()),
	}}, nil
}

func (s *Server) GetFlagHistoryStats(ctx context.Context, _ api.GetFlagHistoryStatsRequestObject) (api.GetFlagHistoryStatsResponseObject, error) {
	hs, err := s.Stream.HistoryStats(ctx)
	if err != nil {
		return nil, err
	}
	return api.GetFlagHistoryStats200JSONResponse{Success: true, Metadata: meta(ctx), Timestamp: now(), Data: api.FlagHistoryStats{
		CurrentVersion: hs.Version, RingSize: hs.RingSize, RingCapacity: hs.RingCapacity, RingOldestId: hs.RingOldest,
		LogOldestId: hs.LogOldest, LogEvents: hs.LogEvents, RetentionCount: s.Config.FlagEventRetentionCount,
		RetentionHours: int(s.Config.FlagEventRetention.Hours()),
	}}, nil
}
