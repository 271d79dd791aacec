package stream

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/voiceassist/gateway/internal/sse"
)

// Session describes one subscriber of the flag stream.
type Session struct {
	Level int             // visibility level (flagstore.StreamLevel)
	IP    string          // for the per-IP cap
	Keys  map[string]bool // nil: every flag
	OFREP bool            // OFREP change notifications instead of flag data
	// LastEventID is the client's Last-Event-ID header, if any: a replay from there
	// replaces the full-state greeting.
	LastEventID *string
	// ExpiresAt ends the stream with an error event when the caller's token expires (zero:
	// never, e.g. anonymous callers and API keys).
	ExpiresAt time.Time
	// Recheck, when set, is called at each heartbeat; an error ends the stream (revoked
	// token, disabled account).
	Recheck func(context.Context) error
	// OnClose, when set, runs once when the stream ends (or could not be opened): the
	// per-IP slot's release.
	OnClose func()
}

// Serve subscribes and streams to w until the client leaves, the hub drops it, the token
// expires or the hub closes. An error means nothing was written: the stream could not be
// opened (ErrClosed, ErrTooManyStreams, ErrTooManyFromIP). An HTTP/1.1 stream is hijacked
// after its greeting and Serve returns at once, the hub's write loops serving it from then on
// (raw.go); s.OnClose runs when the stream ends, whichever way it is served.
func (h *Hub) Serve(w http.ResponseWriter, r *http.Request, s Session) error {
	handedOff := false
	defer func() {
		if !handedOff && s.OnClose != nil {
			s.OnClose()
		}
	}()
	ctx := r.Context()
	if err := h.catchUp(ctx, s.LastEventID); err != nil {
		return err
	}
	client, state, version, err := h.Subscribe(s.Level, s.IP, s.Keys, s.OFREP)
	if err != nil {
		return err
	}
	defer func() {
		if !handedOff {
			h.Unsubscribe(client)
		}
	}()

	// Greeting: a replay when Last-Event-ID names a known past event, else the full state.
	last, resumed := lastEventID(s.LastEventID, version)
	h.metrics.Reconnects.WithLabelValues(strconv.FormatBool(resumed)).Inc()
	var greeting [][]byte
	replayFailed := false
	switch {
	case s.OFREP:
		// OFREP providers just fetched: only a client that missed changes is told to refetch.
		if resumed && last < version {
			greeting = [][]byte{RefetchFrame(version)}
		}
	case resumed:
		h.metrics.VersionLag.Observe(float64(version - last))
		rep, err := h.ReplayFor(ctx, client, last, version)
		switch {
		case err != nil:
			h.log.ErrorContext(ctx, "stream replay", "error", err)
			greeting, replayFailed = [][]byte{ErrorFrame("replay failed; reconnect")}, true
		case rep.Complete:
			greeting = append(rep.Frames, ReconnectedFrame(client, version, len(rep.Frames), true))
		default:
			greeting = append(HistoryIncompleteFrames(client, last, version, state), ReconnectedFrame(client, version, 0, false))
		}
	default:
		greeting = [][]byte{ConnectedFrame(client, version, state)}
	}

	if !replayFailed {
		if conn, sc, ok := hijack(w, r, greeting); ok {
			if conn != nil {
				h.attach(client, conn, sc, s)
				handedOff = true
			}
			return nil
		}
	}
	out := sse.NewWriter(w)
	out.Header().Set("Connection", "keep-alive")
	_ = out.Start() // headers now: a stream whose greeting is empty (OFREP) must still open
	if replayFailed {
		_ = out.Send(greeting...)
		return nil
	}
	for _, fr := range greeting {
		if out.Send(fr) != nil {
			return nil
		}
	}

	var expiry <-chan time.Time
	if !s.ExpiresAt.IsZero() {
		t := time.NewTimer(time.Until(s.ExpiresAt))
		defer t.Stop()
		expiry = t.C
	}
	var batch []Item
	for {
		// The next heartbeat is at most one interval away: the deadline must outlast it.
		out.Await(h.opts.Heartbeat)
		select {
		case <-ctx.Done():
			return nil
		case <-client.Done():
			_ = out.Send(ErrorFrame(client.Reason()))
			return nil
		case <-expiry:
			_ = out.Send(ErrorFrame("your token expired; reconnect with a fresh token and Last-Event-ID"))
			return nil
		case <-client.Wake():
			out.Rearm()
			batch = client.Drain(batch)
			for _, it := range batch {
				if it.Type == "heartbeat" && s.Recheck != nil {
					if err := s.Recheck(ctx); err != nil {
						_ = out.Send(recheckFrame(err))
						return nil
					}
				}
				if out.Write(it.Frame) != nil {
					return nil
				}
			}
			if out.Flush() != nil {
				return nil
			}
			var last int64
			for _, it := range batch {
				if !it.At.IsZero() {
					h.metrics.Delivery.WithLabelValues(it.Type).Observe(time.Since(it.At).Seconds())
				}
				last = max(last, it.ID)
			}
			client.Written(last)
		}
	}
}

// ErrBehind: the client's Last-Event-ID is newer than this replica's state and the event
// log cannot be read to catch up (PostgreSQL down); the client should retry (503).
var ErrBehind = errors.New("this replica is behind your Last-Event-ID and cannot catch up now")

// catchUp reads the event log up to the client's Last-Event-ID before the greeting is
// chosen (issue 21 #19): a replica whose tail lags (it broke while PostgreSQL was down)
// would otherwise take a known id for a future one and greet with an older state than the
// client had, then send the same events again. After a complete read of the log an id still
// ahead of it is truly unknown (a fresh connection); a failed read refuses the stream.
func (h *Hub) catchUp(ctx context.Context, lastEventID *string) error {
	if lastEventID == nil {
		return nil
	}
	n, err := strconv.ParseInt(strings.TrimSpace(*lastEventID), 10, 64)
	if err != nil || n <= h.Version() {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := h.tail(ctx); err != nil {
		h.log.WarnContext(ctx, "stream: catch up to Last-Event-ID", "last_event_id", n, "version", h.Version(), "error", err)
		return ErrBehind
	}
	return nil
}

// lastEventID parses Last-Event-ID; malformed or future ids count as a fresh connection.
func lastEventID(v *string, version int64) (int64, bool) {
	if v == nil {
		return 0, false
	}
	n, err := strconv.ParseInt(strings.TrimSpace(*v), 10, 64)
	if err != nil || n < 0 || n > version {
		return 0, false
	}
	return n, true
}
