package stream

import (
	"encoding/json"
	"strconv"
	"time"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/flageval"
	"github.com/voiceassist/gateway/internal/flagstore"
	"github.com/voiceassist/gateway/internal/sse"
)

// State is what the stream publishes about a flag (no targeting rules: they may name users).
type State struct {
	Key          string         `json:"key"`
	Type         string         `json:"type"`
	Enabled      bool           `json:"enabled"`
	Value        any            `json:"value"`
	DefaultValue any            `json:"default_value"`
	Variants     []VariantState `json:"variants"`
	Visibility   string         `json:"visibility"`
	Version      int64          `json:"version"`
	Archived     bool           `json:"archived"`
	Deleted      bool           `json:"deleted"`
}

// VariantState is a variant without its description.
type VariantState struct {
	ID     string  `json:"id"`
	Weight float64 `json:"weight"`
}

func stateOf(f flageval.Flag, deleted bool) State {
	st := State{
		Key: f.Key, Type: string(f.Type), Enabled: f.Enabled, Value: f.Value, DefaultValue: f.DefaultValue,
		Variants: []VariantState{}, Visibility: string(f.Visibility), Version: f.Version, Archived: f.Archived, Deleted: deleted,
	}
	for _, v := range f.Variants {
		st.Variants = append(st.Variants, VariantState{ID: v.ID, Weight: v.Weight})
	}
	return st
}

// hidden is the state sent to callers who could see a flag that is now above their level or
// gone. It keeps the flag's type, which those callers knew and the contract requires
// (FlagState.type is an enum: an empty type broke /api/flags/changes, found by the contract fuzz).
func hidden(key, typ string, version int64) State {
	return State{Key: key, Type: typ, Variants: []VariantState{}, Version: version, Deleted: true, Visibility: string(flageval.VisibilityInternal)}
}

// Event is one flag_events row, ready to fan out.
type Event struct {
	ID        int64
	Key       string
	Kind      string
	Level     int // visibility level after the change
	PrevLevel int // before it; equal to Level when visibility did not change
	State     State
	At        time.Time
	Batch     flagstore.Batch // set on the events of one multi-flag change (see bulk.go)

	frame       []byte // the flag_update frame, built once
	hiddenFrame []byte // for callers who lost sight of the flag
	ofrepFrame  []byte // the OFREP change notification
}

// RefetchFrame is the OFREP change notification: an unnamed event carrying no flag data.
func RefetchFrame(id int64) []byte {
	v := strconv.FormatInt(id, 10)
	return sse.Frame(v, "", []byte(`{"type":"refetchEvaluation","etag":"`+v+`"}`))
}

func eventOf(row db.FlagEvent) Event {
	var payload struct {
		Flag           flagstore.Doc   `json:"flag"`
		PrevVisibility string          `json:"prev_visibility"`
		Batch          flagstore.Batch `json:"batch"`
	}
	_ = json.Unmarshal(row.Payload, &payload)
	f := flagstore.FromDoc(payload.Flag)
	f.Version = row.Version
	ev := Event{
		ID: row.ID, Key: row.FlagKey, Kind: row.Kind, At: row.CreatedAt,
		Level: flageval.Visibility(row.Visibility).Level(), State: stateOf(f, row.Kind == "deleted"),
		Batch: payload.Batch,
	}
	ev.PrevLevel = ev.Level
	if payload.PrevVisibility != "" {
		ev.PrevLevel = flageval.Visibility(payload.PrevVisibility).Level()
	}
	ev.frame = updateFrame(ev, ev.State, ev.Kind, false)
	ev.ofrepFrame = RefetchFrame(ev.ID)
	if ev.PrevLevel < ev.Level {
		ev.hiddenFrame = updateFrame(ev, hidden(ev.Key, ev.State.Type, ev.State.Version), "hidden", false)
	}
	return ev
}

// frameFor returns what a caller at level sees of ev: the update, a "hidden" update when the
// flag just rose above its level, or nothing.
func (ev *Event) frameFor(c *Client, replayed bool) []byte {
	if c.ofrep {
		return ev.ofrepFrame // no flag data: the same for everyone
	}
	if !c.wants(ev.Key) {
		return nil
	}
	level := c.level
	switch {
	case ev.Level <= level:
		if replayed {
			return updateFrame(*ev, ev.State, ev.Kind, true)
		}
		return ev.frame
	case ev.PrevLevel <= level:
		if replayed {
			return updateFrame(*ev, hidden(ev.Key, ev.State.Type, ev.State.Version), "hidden", true)
		}
		return ev.hiddenFrame
	}
	return nil
}

type flagUpdate struct {
	Flag      string    `json:"flag"`
	Value     State     `json:"value"`
	Version   int64     `json:"version"`
	Timestamp time.Time `json:"timestamp"`
	Replayed  bool      `json:"replayed,omitempty"`
	Kind      string    `json:"kind"`
}

func updateFrame(ev Event, st State, kind string, replayed bool) []byte {
	return frame(ev.ID, "flag_update", flagUpdate{Flag: ev.Key, Value: st, Version: ev.ID, Timestamp: ev.At.UTC(), Replayed: replayed, Kind: kind})
}

// frame renders one SSE event; a negative id means no id line (error events).
func frame(id int64, name string, data any) []byte {
	raw, _ := json.Marshal(data)
	sid := ""
	if id >= 0 {
		sid = strconv.FormatInt(id, 10)
	}
	return sse.Frame(sid, name, raw)
}
