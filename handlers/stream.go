package handlers

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/flageval"
	"github.com/voiceassist/gateway/internal/ratelimit"
	"github.com/voiceassist/gateway/internal/stream"
)

// streamLevel is the visibility level of a stream: internal flags are never streamed.
func streamLevel(ctx context.Context) int {
	l := visibilityOf(ctx).Level()
	if max := flageval.VisibilityAdmin.Level(); l > max {
		l = max
	}
	return l
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

	if s.Config.RateLimitEnabled {
		rule := ratelimit.Rule{Name: "sse_connect_ip", Limit: s.Config.SSEMaxConnectionsPerIPPerMinute, Window: time.Minute}
		if err := s.Limiter.Check(ctx, rule, ip, true, "Too many new stream connections from this address; retry later"); err != nil {
			return err
		}
	}
	var keys map[string]bool
	if params.Flags != nil && strings.TrimSpace(*params.Flags) != "" {
		keys = map[string]bool{}
		for _, k := range strings.Split(*params.Flags, ",") {
			if k = strings.TrimSpace(k); k != "" {
				keys[k] = true
			}
		}
	}
	ofrep := params.Protocol != nil && *params.Protocol == api.Ofrep
	client, state, version, err := s.Stream.Subscribe(streamLevel(ctx), ip, keys, ofrep)
	switch {
	case errors.Is(err, stream.ErrClosed), errors.Is(err, stream.ErrTooManyStreams), errors.Is(err, stream.ErrTooManyFromIP):
		return apierr.Unavailable("Cannot open a stream now: "+err.Error(), err).WithHeader("Retry-After", "5")
	case err != nil:
		return err
	}
	defer s.Stream.Unsubscribe(client)

	w := c.Response()
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	_ = rc.Flush() // headers now: a stream whose greeting is empty (OFREP) must still open
	write := func(fr []byte) bool {
		_ = rc.SetWriteDeadline(time.Now().Add(30 * time.Second)) // a stuck client only blocks itself
		if _, err := w.Write(fr); err != nil {
			return false
		}
		return rc.Flush() == nil
	}

	// Greeting: a replay when Last-Event-ID names a known past event, else the full state.
	last, resumed := lastEventID(params.LastEventID, version)
	s.Stream.Metrics().Reconnects.WithLabelValues(strconv.FormatBool(resumed)).Inc()
	var greeting [][]byte
	switch {
	case ofrep:
		// OFREP providers just fetched: only a client that missed changes is told to refetch.
		if resumed && last < version {
			greeting = [][]byte{stream.RefetchFrame(version)}
		}
	case resumed:
		s.Stream.Metrics().VersionLag.Observe(float64(version - last))
		rep, err := s.Stream.ReplayFor(ctx, client, last, version)
		if err != nil {
			s.Log.ErrorContext(ctx, "stream replay", "error", err)
			write(stream.ErrorFrame("replay failed; reconnect"))
			return nil
		}
		if rep.Complete {
			greeting = append(rep.Frames, stream.ReconnectedFrame(client, version, len(rep.Frames), true))
		} else {
			greeting = append(stream.HistoryIncompleteFrames(client, last, version, state), stream.ReconnectedFrame(client, version, 0, false))
		}
	default:
		greeting = [][]byte{stream.ConnectedFrame(client, version, state)}
	}
	for _, fr := range greeting {
		if !write(fr) {
			return nil
		}
	}

	p, authed := auth.From(ctx)
	var expiry <-chan time.Time
	if authed && p.APIKeyID == nil {
		t := time.NewTimer(time.Until(p.ExpiresAt))
		defer t.Stop()
		expiry = t.C
	}
	var batch []stream.Item
	var deadlineSet time.Time
	for {
		// A stuck client only blocks itself: writes time out after 30 s. Re-arming the deadline
		// costs a runtime timer update, so it is done at most every 10 s, not per event.
		if now := time.Now(); now.Sub(deadlineSet) > 10*time.Second {
			_ = rc.SetWriteDeadline(now.Add(30 * time.Second))
			deadlineSet = now
		}
		select {
		case <-ctx.Done():
			return nil
		case <-client.Done():
			write(stream.ErrorFrame(client.Reason()))
			return nil
		case <-expiry:
			write(stream.ErrorFrame("your token expired; reconnect with a fresh token and Last-Event-ID"))
			return nil
		case <-client.Wake():
			batch = client.Drain(batch)
			for _, it := range batch {
				if it.Type == "heartbeat" && authed {
					if err := s.Auth.Recheck(ctx, p); err != nil {
						write(stream.ErrorFrame("your credentials are no longer valid"))
						return nil
					}
				}
				if _, err := w.Write(it.Frame); err != nil {
					return nil
				}
			}
			if rc.Flush() != nil {
				return nil
			}
			for _, it := range batch {
				if !it.At.IsZero() {
					s.Stream.Metrics().Delivery.WithLabelValues(it.Type).Observe(time.Since(it.At).Seconds())
				}
			}
		}
	}
}

// lastEventID parses Last-Event-ID; malformed or future ids count as a fresh connection.
func lastEventID(h *string, version int64) (int64, bool) {
	if h == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(*h), 10, 64)
	if err != nil || n < 0 || n > version {
		return 0, false
	}
	return n, true
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
