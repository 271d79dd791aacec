package kb

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/voiceassist/gateway/gen/db"
)

// IndexState counts documents by indexing outcome.
type IndexState struct {
	Total, Indexed, Failed int
}

// Done reports whether every document is indexed or failed.
func (s IndexState) Done() bool { return s.Indexed+s.Failed >= s.Total }

// WaitIndexed polls the documents every interval until each is indexed or failed for good
// (a document whose indexing will be retried counts as neither), or ctx ends. It calls
// progress (when not nil) after every poll that changed the counts, and returns the
// documents as last read, in the order of ids (a document deleted meanwhile is left out
// and counted as failed). Some process must run the indexing workers.
func (s *Service) WaitIndexed(ctx context.Context, ids []uuid.UUID, interval time.Duration, progress func(IndexState)) ([]db.KbDocument, IndexState, error) {
	last := make(map[uuid.UUID]db.KbDocument, len(ids))
	pending := slices.Clone(ids)
	st := IndexState{Total: len(ids)}
	prev := IndexState{Total: -1}
	for {
		docs, err := s.q.ListKbDocumentsByIDs(ctx, pending)
		if err != nil {
			return nil, st, fmt.Errorf("kb: indexing state: %w", err)
		}
		found := make(map[uuid.UUID]bool, len(docs))
		for _, d := range docs {
			found[d.ID] = true
			last[d.ID] = d
		}
		next := pending[:0]
		for _, id := range pending {
			switch d := last[id]; {
			case !found[id]:
				delete(last, id)
				st.Failed++ // deleted while waiting
			case d.Status == "indexed":
				st.Indexed++
			case d.Status == "failed":
				st.Failed++
			default:
				next = append(next, id)
			}
		}
		pending = next
		if progress != nil && st != prev {
			progress(st)
		}
		prev = st
		if len(pending) == 0 {
			break
		}
		select {
		case <-ctx.Done():
			return nil, st, ctx.Err()
		case <-time.After(interval):
		}
	}
	out := make([]db.KbDocument, 0, len(ids))
	for _, id := range ids {
		if d, ok := last[id]; ok {
			out = append(out, d)
		}
	}
	return out, st, nil
}
