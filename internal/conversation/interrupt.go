package conversation

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/google/uuid"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/chat"
)

// Interrupted records an answer that was cut short (a barge-in, or a voice client that left
// and did not come back): the stored answer keeps only spoken, the text the user heard, and
// is marked interrupted. answer is the stored answer when the model had finished (it is cut
// down), nil when it had not (spoken is stored as a new answer). Citations are kept only
// when their marker ("[n]") is in spoken. Nothing heard means nothing to keep: an unheard
// stored answer is deleted, and nothing is stored.
func (s *Service) Interrupted(ctx context.Context, conv uuid.UUID, answer *Message, spoken, source string) (*Message, error) {
	spoken = strings.TrimSpace(spoken)
	ctx = context.WithoutCancel(ctx) // a record of what was said, whatever happened to the caller
	if spoken == "" {
		if answer != nil {
			if _, err := s.q.DeleteMessage(ctx, db.DeleteMessageParams{ID: answer.ID, ConversationID: conv}); err != nil {
				return nil, err
			}
		}
		return nil, nil
	}
	var heard []chat.CitationJSON
	if answer != nil {
		for _, c := range Citations(*answer) {
			if strings.Contains(spoken, fmt.Sprintf("[%d]", c.N)) {
				heard = append(heard, c)
			}
		}
	}
	if heard == nil {
		heard = []chat.CitationJSON{}
	}
	cj, err := json.Marshal(heard)
	if err != nil {
		return nil, err
	}
	if answer == nil {
		m, err := s.insert(ctx, conv, message{role: chat.RoleAssistant, content: spoken, source: source, interrupted: true}, "")
		if err != nil {
			return nil, err
		}
		return &m, nil
	}
	row, err := s.q.InterruptMessage(ctx, db.InterruptMessageParams{ID: answer.ID, ConversationID: conv, Content: spoken, Citations: cj})
	if err != nil {
		return nil, err
	}
	m := Message(row)
	return &m, nil
}
