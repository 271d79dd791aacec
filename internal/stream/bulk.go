package stream

// Event names of flag changes.
const (
	typeUpdate = "flag_update"
	typeBulk   = "flags_bulk_update"
)

// groups cuts events (in id order) into what a client receives as one event: a run of
// events of the same batch (a multi-flag change) is one group, any other event is alone.
func groups(evs []Event) [][]Event {
	var out [][]Event
	for i := 0; i < len(evs); {
		j := i + 1
		if id := evs[i].Batch.ID; id != "" {
			for j < len(evs) && evs[j].Batch.ID == id {
				j++
			}
		}
		out = append(out, evs[i:j:j])
		i = j
	}
	return out
}

// splitOpenBatch holds back the trailing events of a batch that may continue past evs (the
// last page read was full), so the batch is never delivered in two parts.
func splitOpenBatch(evs []Event) (ready, open []Event) {
	if len(evs) == 0 {
		return evs, nil
	}
	id := evs[len(evs)-1].Batch.ID
	if id == "" {
		return evs, nil
	}
	i := len(evs)
	for i > 0 && evs[i-1].Batch.ID == id {
		i--
	}
	return evs[:i], append([]Event(nil), evs[i:]...)
}

// eventType is the SSE event a group is delivered as.
func eventType(group []Event) string {
	if len(group) > 1 {
		return typeBulk
	}
	return typeUpdate
}

// frameForGroup is what client c receives of a group: for one event its flag_update, for a
// batch one flags_bulk_update whose id and version are the batch's last event id, carrying
// only the flags c may see (a flag that rose above c's level appears as hidden, like the
// single "hidden" update); nil when c sees none of it. OFREP clients get one refetch cue.
func frameForGroup(group []Event, c *Client, replayed bool) []byte {
	if len(group) == 1 {
		return group[0].frameFor(c, replayed)
	}
	last := group[len(group)-1]
	if c.ofrep {
		return last.ofrepFrame
	}
	flags := map[string]State{}
	for _, ev := range group {
		if !c.wants(ev.Key) {
			continue
		}
		switch {
		case ev.Level <= c.level:
			flags[ev.Key] = ev.State
		case ev.PrevLevel <= c.level:
			flags[ev.Key] = hidden(ev.Key, ev.State.Type, ev.State.Version)
		}
	}
	if len(flags) == 0 {
		return nil
	}
	return frame(last.ID, typeBulk, bulkData{Flags: flags, Version: last.ID, Timestamp: last.At.UTC(), Reason: last.Batch.Reason, Replayed: replayed})
}
