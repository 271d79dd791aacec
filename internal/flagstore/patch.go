package flagstore

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/flageval"
)

// MergePatch applies a PATCH body to f: a top-level merge in which each field given (by its
// API/Doc name) replaces the stored one, and fields not given are kept. The version is the
// store's to set, never the patch's.
func MergePatch(f flageval.Flag, changes map[string]json.RawMessage) (flageval.Flag, error) {
	raw, err := json.Marshal(ToDoc(f))
	if err != nil {
		return f, fmt.Errorf("flagstore: patch %s: encode: %w", f.Key, err)
	}
	var cur map[string]json.RawMessage
	if err := json.Unmarshal(raw, &cur); err != nil {
		return f, fmt.Errorf("flagstore: patch %s: decode: %w", f.Key, err)
	}
	for k, v := range changes {
		cur[k] = v
	}
	if raw, err = json.Marshal(cur); err != nil {
		return f, fmt.Errorf("flagstore: patch %s: merge: %w", f.Key, err)
	}
	var d Doc
	if err := json.Unmarshal(raw, &d); err != nil {
		return f, fmt.Errorf("flagstore: patch %s: merged flag: %w", f.Key, err)
	}
	out := FromDoc(d)
	out.Version = f.Version
	return out, nil
}

// Patch merges changes into the flag key (MergePatch) as one versioned, audited update
// ("flags.updated"), after checking pre.
func (s *Store) Patch(ctx context.Context, actor audit.Actor, key string, pre Precondition, changes map[string]json.RawMessage) (Record, error) {
	return s.Update(ctx, actor, key, pre, "flags.updated", func(f *flageval.Flag) error {
		merged, err := MergePatch(*f, changes)
		if err != nil {
			return err
		}
		*f = merged
		return nil
	})
}
