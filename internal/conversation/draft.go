package conversation

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/chat"
	"github.com/voiceassist/gateway/internal/database"
)

// draftFlush is how often the text of a streamed answer is written while it streams: what a
// replica killed mid-answer loses at most.
const draftFlush = 250 * time.Millisecond

// draft persists a streamed answer while it is written (issue 16, issue 21 #22): the row is
// inserted at the first piece of text marked interrupted, its text is rewritten at most every
// draftFlush, and only the final write, with the whole answer, clears interrupted. A process
// that dies mid-answer (SIGKILL: it cannot write then) leaves the partial answer stored as
// interrupted; readers never see a half answer presented as complete, and regenerate
// replaces it like any last answer.
type draft struct {
	s       *Service
	conv    uuid.UUID
	source  string
	text    strings.Builder
	id      uuid.UUID
	created bool
	flushed time.Time
	pending bool
}

// add appends text, inserting the row first time and flushing when due.
func (d *draft) add(ctx context.Context, delta string) error {
	d.text.WriteString(delta)
	ctx = context.WithoutCancel(ctx)
	if !d.created {
		m, err := d.s.insert(ctx, d.conv, message{role: chat.RoleAssistant, content: d.text.String(), source: d.source, interrupted: true}, "")
		if err != nil {
			return err
		}
		d.id, d.created, d.flushed = m.ID, true, time.Now()
		return nil
	}
	d.pending = true
	if time.Since(d.flushed) < draftFlush {
		return nil
	}
	return d.flush(ctx)
}

func (d *draft) flush(ctx context.Context) error {
	if !d.created || !d.pending {
		return nil
	}
	d.pending = false
	d.flushed = time.Now()
	return d.s.q.UpdateDraftAnswer(context.WithoutCancel(ctx), db.UpdateDraftAnswerParams{ID: d.id, ConversationID: d.conv, Content: d.text.String()})
}

// finish stores the complete answer in the draft's row (inserting it when no text streamed).
func (d *draft) finish(ctx context.Context, m message) (Message, error) {
	ctx = context.WithoutCancel(ctx)
	if !d.created {
		return d.s.insert(ctx, d.conv, m, "")
	}
	cj, err := json.Marshal(citationsJSON(m.cites))
	if err != nil {
		return Message{}, err
	}
	var rj []byte
	if m.retrieval != nil {
		if rj, err = json.Marshal(m.retrieval); err != nil {
			return Message{}, err
		}
	}
	row, err := d.s.q.FinishDraftAnswer(ctx, db.FinishDraftAnswerParams{ID: d.id, ConversationID: d.conv, Content: m.content,
		Citations: cj, Model: database.NonEmpty(m.model), Retrieval: rj})
	return Message(row), err
}

// abandon keeps what streamed of an answer that did not finish (the client left, the model
// failed, the server is stopping), stored as interrupted. Best effort: the stream's own
// error is what the caller reports.
func (d *draft) abandon(ctx context.Context) { _ = d.flush(ctx) }
