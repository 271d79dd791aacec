package stream

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/voiceassist/gateway/internal/apierr"
)

// Replay is what a reconnecting client missed.
type Replay struct {
	Frames   [][]byte // flag_update frames with replayed: true, in id order
	Complete bool     // false: events after `after` were pruned
}

// ReplayFor returns the events in (after, upto] a client at level (with keys) may see, from
// the in-memory ring when it reaches back far enough, else from the event log.
func (h *Hub) ReplayFor(ctx context.Context, c *Client, after, upto int64) (Replay, error) {
	if after >= upto {
		return Replay{Complete: true}, nil
	}
	complete, err := h.historyComplete(ctx, after, upto)
	if err != nil {
		return Replay{}, err
	}
	if !complete {
		h.metrics.historyIncomplete.Inc()
		return Replay{Complete: false}, nil
	}
	events, err := h.eventsBetween(ctx, after, upto)
	if err != nil {
		return Replay{}, err
	}
	out := Replay{Complete: true}
	for _, g := range groups(events) {
		if fr := frameForGroup(g, c, true); fr != nil {
			out.Frames = append(out.Frames, fr)
		}
	}
	h.metrics.replayed.Add(float64(len(out.Frames)))
	return out, nil
}

// fromRing copies the ring's events in (after, upto] if the ring holds all of them.
func (h *Hub) fromRing(after, upto int64) ([]Event, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := len(h.ring)
	if n == 0 || h.ring[h.ringHead].ID > after+1 {
		return nil, false
	}
	var out []Event
	for i := 0; i < n; i++ {
		ev := h.ring[(h.ringHead+i)%n]
		if ev.ID > after && ev.ID <= upto {
			out = append(out, ev)
		}
	}
	return out, true
}

// Greeting frames.

type connectedData struct {
	ClientID  string           `json:"client_id"`
	Version   int64            `json:"version"`
	Flags     map[string]State `json:"flags"`
	Timestamp time.Time        `json:"timestamp"`
}

type reconnectedData struct {
	ClientID        string    `json:"client_id"`
	Version         int64     `json:"version"`
	EventsReplayed  int       `json:"events_replayed"`
	HistoryComplete bool      `json:"history_complete"`
	Timestamp       time.Time `json:"timestamp"`
}

type historyIncompleteData struct {
	ClientID       string    `json:"client_id"`
	Message        string    `json:"message"`
	LastEventID    int64     `json:"last_event_id"`
	CurrentVersion int64     `json:"current_version"`
	Timestamp      time.Time `json:"timestamp"`
}

type bulkData struct {
	Flags     map[string]State `json:"flags"`
	Version   int64            `json:"version"`
	Timestamp time.Time        `json:"timestamp"`
	Reason    string           `json:"reason,omitempty"`
	Replayed  bool             `json:"replayed,omitempty"`
}

type errorData struct {
	Message   string    `json:"message"`
	Timestamp time.Time `json:"timestamp"`
}

func now() time.Time { return time.Now().UTC() }

// ConnectedFrame greets a fresh stream.
func ConnectedFrame(c *Client, version int64, flags map[string]State) []byte {
	return frame(version, "connected", connectedData{ClientID: c.ID, Version: version, Flags: flags, Timestamp: now()})
}

// ReconnectedFrame follows a replay.
func ReconnectedFrame(c *Client, version int64, replayed int, complete bool) []byte {
	return frame(version, "reconnected", reconnectedData{ClientID: c.ID, Version: version, EventsReplayed: replayed, HistoryComplete: complete, Timestamp: now()})
}

// HistoryIncompleteFrames tell a client its history was pruned and send the full state.
func HistoryIncompleteFrames(c *Client, lastEventID, version int64, flags map[string]State) [][]byte {
	return [][]byte{
		frame(version, "history_incomplete", historyIncompleteData{ClientID: c.ID, LastEventID: lastEventID, CurrentVersion: version, Timestamp: now(),
			Message: "events after your Last-Event-ID were pruned; a full flags_bulk_update follows"}),
		frame(version, "flags_bulk_update", bulkData{Flags: flags, Version: version, Timestamp: now(), Reason: "history_incomplete"}),
	}
}

// ErrorFrame is the final event of a stream (no id: it is not a change).
func ErrorFrame(message string) []byte {
	return frame(-1, "error", errorData{Message: message, Timestamp: now()})
}

// unavailableRetry is the reconnection delay suggested when credentials cannot be checked.
const unavailableRetry = 5 * time.Second

// recheckFrame ends a stream whose credentials failed their periodic check. When they
// could not be checked (a dependency is down: 503) the client is told to keep its token and
// come back (an SSE "retry:" field sets EventSource's delay), not that it was revoked
// (issue 21 #21).
func recheckFrame(err error) []byte {
	var ae *apierr.Error
	if errors.As(err, &ae) && ae.Status == http.StatusServiceUnavailable {
		f := ErrorFrame(fmt.Sprintf("authentication is temporarily unavailable; keep your token and reconnect with Last-Event-ID in %d seconds", int(unavailableRetry.Seconds())))
		return append([]byte("retry: "+strconv.Itoa(int(unavailableRetry.Milliseconds()))+"\n"), f...)
	}
	return ErrorFrame("your credentials are no longer valid")
}
