// Package conversation holds chat sessions and their messages, and answers questions in them
// through the chat pipeline with the conversation's own history. Every operation is scoped to
// the owner: another user's conversation does not exist for the caller (404).
package conversation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/chat"
	"github.com/voiceassist/gateway/internal/database"
	"github.com/voiceassist/gateway/internal/page"
	"github.com/voiceassist/gateway/internal/telemetry"
)

// historyMessages bounds the messages read as history; chat.Pipeline then keeps what fits
// its token budget.
const historyMessages = 50

// DefaultTitle names a conversation until its first question does.
const DefaultTitle = "New conversation"

// Service stores conversations and answers in them.
type Service struct {
	pool     *pgxpool.Pool
	q        *db.Queries
	pipeline *chat.Pipeline
	limits   Limits
	// Metrics counts answers, their citations and tokens (nil: not counted).
	Metrics *telemetry.Business
}

// New returns a Service answering with pipeline.
func New(pool *pgxpool.Pool, pipeline *chat.Pipeline) *Service {
	return &Service{pool: pool, q: db.New(pool), pipeline: pipeline}
}

func notFound() error { return apierr.NotFound("Conversation") }

// Create starts a conversation.
func (s *Service) Create(ctx context.Context, user uuid.UUID, title, folder string) (Conversation, error) {
	if err := s.roomFor(ctx, user); err != nil {
		return Conversation{}, err
	}
	def := title == ""
	if def {
		title = DefaultTitle
	}
	c, err := s.q.InsertConversation(ctx, db.InsertConversationParams{UserID: user, Title: title, DefaultTitle: def, Folder: database.NonEmpty(folder)})
	return conversationOf(c), err
}

// Get returns one of the user's conversations.
func (s *Service) Get(ctx context.Context, user, id uuid.UUID) (Conversation, error) {
	c, err := s.q.GetConversation(ctx, db.GetConversationParams{ID: id, UserID: user})
	if errors.Is(err, pgx.ErrNoRows) {
		return Conversation{}, notFound()
	}
	return conversationOf(c), err
}

// Filter selects conversations.
type Filter struct {
	Q, Folder string
	Archived  *bool
	Cursor    string // the previous page's next cursor; "" for the first page
	Limit     int
}

// List returns a page of the user's conversations, most recently active first, and the
// cursor of the next page ("" at the end). A cursor List did not issue is page.BadCursor.
func (s *Service) List(ctx context.Context, user uuid.UUID, f Filter) ([]Conversation, string, error) {
	p := db.ListConversationsParams{UserID: user, Q: database.NonEmpty(database.EscapeLike(f.Q)), Archived: f.Archived,
		Folder: database.NonEmpty(f.Folder), Lim: page.Limit(f.Limit)}
	return page.KeysetList(page.LayoutAt, f.Cursor, f.Limit, func(after *page.Keyset) ([]db.Conversation, error) {
		if after != nil {
			p.BeforeAt, p.BeforeID = &after.At, &after.ID
		}
		return s.q.ListConversations(ctx, p)
	}, conversationOf, func(c Conversation) page.Keyset { return page.Keyset{At: c.UpdatedAt, ID: c.ID} })
}

// Patch is a partial update; SetFolder with Folder nil removes the folder.
type Patch struct {
	Title     *string
	Archived  *bool
	SetFolder bool
	Folder    *string
}

// Update applies a patch.
func (s *Service) Update(ctx context.Context, user, id uuid.UUID, p Patch) (Conversation, error) {
	c, err := s.q.UpdateConversation(ctx, db.UpdateConversationParams{
		ID: id, UserID: user, Title: p.Title, Archived: p.Archived,
		SetFolder: p.SetFolder, Folder: p.Folder,
	})
	if errors.Is(err, pgx.ErrNoRows) {
		return Conversation{}, notFound()
	}
	return conversationOf(c), err
}

// Delete removes a conversation with its messages, audited.
func (s *Service) Delete(ctx context.Context, actor audit.Actor, user, id uuid.UUID) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		c, err := s.q.WithTx(tx).LockConversation(ctx, db.LockConversationParams{ID: id, UserID: user})
		if errors.Is(err, pgx.ErrNoRows) {
			return notFound()
		}
		if err != nil {
			return err
		}
		if _, err := s.q.WithTx(tx).DeleteConversation(ctx, db.DeleteConversationParams{ID: id, UserID: user}); err != nil {
			return err
		}
		// The title may quote the first question: record only counts.
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "conversations.deleted", ResourceType: "conversation",
			ResourceID: id.String(), Success: true, Details: map[string]any{"messages": c.MessageCount}})
	})
}

// Messages returns a page of messages, oldest first, and the cursor of the next page ("" at
// the end); cursor is the previous page's, "" for the first. A cursor Messages did not issue
// is page.BadCursor.
func (s *Service) Messages(ctx context.Context, user, id uuid.UUID, cursor string, limit int) ([]Message, string, error) {
	var after int64
	if cursor != "" {
		n, err := page.DecodeSeq(cursor)
		if err != nil {
			return nil, "", err
		}
		after = n
	}
	if _, err := s.Get(ctx, user, id); err != nil {
		return nil, "", err
	}
	rows, err := s.q.ListMessages(ctx, db.ListMessagesParams{ConversationID: id, Seq: after, Limit: page.Limit(limit)})
	if err != nil {
		return nil, "", err
	}
	out, next := page.Map(rows, limit, messageOf, func(m Message) string { return page.EncodeSeq(m.Seq) })
	return out, next, nil
}

// History returns the newest messages of a conversation, oldest first.
func (s *Service) History(ctx context.Context, user, id uuid.UUID, limit int) ([]Message, error) {
	if _, err := s.Get(ctx, user, id); err != nil {
		return nil, err
	}
	rows, err := s.q.LastMessages(ctx, db.LastMessagesParams{ConversationID: id, Limit: int32(limit)})
	if err != nil {
		return nil, err
	}
	for i, j := 0, len(rows)-1; i < j; i, j = i+1, j-1 {
		rows[i], rows[j] = rows[j], rows[i]
	}
	return messagesOf(rows), nil
}

// Event is a step of a streamed answer: the stored question, then chat events.
type Event struct {
	Question *Message // first event
	Chat     *chat.Event
}

// Send stores the question, answers it with the conversation's history and stores the
// answer. emit (may be nil) receives the stored question first, then the answer as it streams;
// if emit fails or ctx ends the answer is abandoned (the question stays).
func (s *Service) Send(ctx context.Context, user, id uuid.UUID, content string, emit func(Event) error) (Message, Message, error) {
	return s.SendFrom(ctx, user, id, content, SourceChat, emit)
}

// SendFrom is Send for a question from another source (voice, dictation); the question and
// its answer carry the source.
func (s *Service) SendFrom(ctx context.Context, user, id uuid.UUID, content, source string, emit func(Event) error) (Message, Message, error) {
	return s.SendWith(ctx, user, id, content, SendOptions{Source: source}, emit)
}

// SendOptions adjust SendWith.
type SendOptions struct {
	// Source is where the question came from (SourceChat when empty); its answer carries it too.
	Source string
	// Context is extra grounding for the model (a rendered patient record): it reaches the
	// model as a system-level block for this answer only and is never stored.
	Context string
	// Guidance is how to answer this user (preferences, tone, a repair instruction): its own
	// system-level block for this answer only (chat.Request.Guidance), never stored.
	Guidance string
	// Progressive stores the answer while it streams, marked interrupted until it is
	// complete (draft.go), so that a partial answer survives the death of the process.
	Progressive bool
	// Ask is the question the model answers when it is not content, which is stored as said
	// (a voice repair: "pardon?" asks the previous question again).
	Ask string
}

// SendWith is Send with options.
func (s *Service) SendWith(ctx context.Context, user, id uuid.UUID, content string, opt SendOptions, emit func(Event) error) (Message, Message, error) {
	source := opt.Source
	content = strings.TrimSpace(content)
	if content == "" {
		return Message{}, Message{}, apierr.Invalid("content", "must not be blank")
	}
	history, err := s.History(ctx, user, id, historyMessages)
	if err != nil {
		return Message{}, Message{}, err
	}
	// The question is stored while retrieval runs (it does not need it): the first token then
	// waits for the slower of the two, not their sum. Nothing of the answer reaches the client,
	// and the answer is not stored, before the question is.
	stored := make(chan struct{})
	var q Message
	var qerr error
	go func() {
		defer close(stored)
		q, qerr = s.insert(context.WithoutCancel(ctx), id, message{role: chat.RoleUser, content: content, source: source}, titleOf(content))
	}()
	announced := false
	questionFirst := func() error {
		<-stored
		if qerr != nil {
			return qerr
		}
		if !announced && emit != nil {
			announced = true
			return emit(Event{Question: &q})
		}
		return nil
	}
	var aemit func(Event) error
	if emit != nil {
		aemit = func(e Event) error {
			if err := questionFirst(); err != nil {
				return err
			}
			return emit(e)
		}
	}
	var d *draft
	if opt.Progressive {
		d = &draft{s: s, conv: id, source: source}
	}
	ask := content
	if a := strings.TrimSpace(opt.Ask); a != "" {
		ask = a
	}
	a, err := s.answer(ctx, user, id, history, ask, source, chat.Grounding{Patient: opt.Context, Guidance: opt.Guidance}, aemit, questionFirst, d)
	if qerr := questionFirst(); qerr != nil {
		return q, Message{}, qerr
	}
	return q, a, err
}

// Regenerate replaces the last answer with a new one to the last question.
func (s *Service) Regenerate(ctx context.Context, user, id uuid.UUID) (Message, error) {
	history, err := s.History(ctx, user, id, historyMessages+1)
	if err != nil {
		return Message{}, err
	}
	if n := len(history); n > 0 && history[n-1].Role == chat.RoleAssistant {
		if _, err := s.q.DeleteMessage(ctx, db.DeleteMessageParams{ID: history[n-1].ID, ConversationID: id}); err != nil {
			return Message{}, err
		}
		history = history[:n-1]
	}
	n := len(history)
	if n == 0 || history[n-1].Role != chat.RoleUser {
		return Message{}, apierr.Conflict("NOTHING_TO_REGENERATE", "The conversation has no question to answer again")
	}
	// The patient context of the first answer was not stored, so a regenerated answer has none.
	return s.answer(ctx, user, id, history[:n-1], history[n-1].Content, history[n-1].Source, chat.Grounding{}, nil, nil, nil)
}

// answer runs the pipeline (with grounding, "" for none) and stores the answer; before, when
// set, must succeed first (the question is stored). d, when set, stores the answer as it
// streams (progressive); it requires emit.
func (s *Service) answer(ctx context.Context, user, id uuid.UUID, history []Message, question, source string, grounding chat.Grounding, emit func(Event) error, before func() error, d *draft) (Message, error) {
	msgs := make([]chat.Message, len(history))
	for i, m := range history {
		msgs[i] = chat.Message{Role: m.Role, Content: m.Content}
	}
	var chatEmit func(chat.Event) error
	if emit != nil {
		chatEmit = func(e chat.Event) error {
			if d != nil && e.Type == chat.EventDelta {
				// Stored (after the question) before the client sees it.
				if before != nil {
					if err := before(); err != nil {
						return err
					}
				}
				if err := d.add(ctx, e.Delta); err != nil {
					return err
				}
			}
			return emit(Event{Chat: &e})
		}
	}
	ans, err := s.pipeline.AnswerWith(ctx, msgs, question, grounding, chatEmit)
	if err != nil && d != nil {
		d.abandon(ctx)
	}
	if err != nil {
		if ctx.Err() != nil {
			return Message{}, ctx.Err()
		}
		// A refusal with its own status (PHI_POLICY=block: 422 PHI_BLOCKED) passes as it is.
		if ae := (*apierr.Error)(nil); errors.As(err, &ae) && ae.Status < 500 {
			return Message{}, ae
		}
		return Message{}, apierr.Unavailable("The assistant could not answer right now; try again", err)
	}
	s.charge(ctx, user, estimate(history, question, ans.Text))
	s.Metrics.Answer(ans.Model, len(ans.Citations), estimate(history, question, ""), chat.EstimateTokens(ans.Text))
	if before != nil {
		if err := before(); err != nil {
			return Message{}, err
		}
	}
	retrieval := map[string]any{"queries": ans.Retrieval.Queries, "hops": ans.Retrieval.Hops,
		"follow_up": ans.Retrieval.FollowUp, "sources": len(ans.Sources)}
	// The answer is stored even if the client went away meanwhile: it was paid for.
	m := message{role: chat.RoleAssistant, content: ans.Text, cites: ans.Citations, model: ans.Model, retrieval: retrieval, source: source}
	if d != nil {
		return d.finish(ctx, m)
	}
	return s.insert(context.WithoutCancel(ctx), id, m, "")
}

// message is what insert stores.
type message struct {
	role, content, model, source string
	cites                        []chat.Citation
	retrieval                    map[string]any
	interrupted                  bool
}

func (s *Service) insert(ctx context.Context, conv uuid.UUID, m message, title string) (Message, error) {
	cites, retrieval := m.cites, m.retrieval
	if m.source == "" {
		m.source = SourceChat
	}
	if cites == nil {
		cites = []chat.Citation{}
	}
	cj, err := json.Marshal(citationsJSON(cites))
	if err != nil {
		return Message{}, err
	}
	var rj []byte
	if retrieval != nil {
		if rj, err = json.Marshal(retrieval); err != nil {
			return Message{}, err
		}
	}
	row, err := s.q.AddMessage(ctx, db.AddMessageParams{ConversationID: conv, Role: m.role, Content: m.content,
		Citations: cj, Model: database.NonEmpty(m.model), Retrieval: rj, Title: database.NonEmpty(title),
		Source: m.source, Interrupted: m.interrupted})
	if err == nil {
		s.Metrics.Message()
	}
	return Message(row), err
}

// titleOf shortens a first question into a title.
func titleOf(q string) string {
	q = strings.Join(strings.Fields(q), " ")
	if utf8.RuneCountInString(q) <= 60 {
		return q
	}
	r := []rune(q)[:60]
	if i := strings.LastIndexByte(string(r), ' '); i > 30 {
		return string(r)[:i] + "…"
	}
	return string(r) + "…"
}

func citationsJSON(cs []chat.Citation) []chat.CitationJSON {
	out := make([]chat.CitationJSON, len(cs))
	for i, c := range cs {
		out[i] = c.JSON()
	}
	return out
}

// Citations decodes a message's stored citations.
func Citations(m Message) []chat.CitationJSON {
	var cs []chat.CitationJSON
	_ = json.Unmarshal(m.Citations, &cs)
	if cs == nil {
		cs = []chat.CitationJSON{}
	}
	return cs
}

// DeleteMessage removes one message, audited.
func (s *Service) DeleteMessage(ctx context.Context, actor audit.Actor, user, id, msg uuid.UUID) error {
	if _, err := s.Get(ctx, user, id); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		// The conversation row first, then the message: the order a conversation delete takes
		// (its cascade reaches the messages after the row), so the two cannot deadlock (found
		// by the contract fuzz: a 409 "Concurrent update" from a deadlock).
		if _, err := q.LockConversation(ctx, db.LockConversationParams{ID: id, UserID: user}); err != nil {
			return err // gone meanwhile: 404
		}
		n, err := q.DeleteMessage(ctx, db.DeleteMessageParams{ID: msg, ConversationID: id})
		if err != nil {
			return err
		}
		if n == 0 {
			return apierr.NotFound("Message")
		}
		if err := q.TouchConversation(ctx, db.TouchConversationParams{ID: id}); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "conversations.message_deleted", ResourceType: "message",
			ResourceID: msg.String(), Success: true, Details: map[string]any{"conversation_id": id.String()}})
	})
}

// Branch copies the messages up to and including msg into a new conversation.
func (s *Service) Branch(ctx context.Context, user, id, msg uuid.UUID) (Conversation, error) {
	src, err := s.Get(ctx, user, id)
	if err != nil {
		return src, err
	}
	if err := s.roomFor(ctx, user); err != nil {
		return Conversation{}, err
	}
	m, err := s.q.GetMessage(ctx, db.GetMessageParams{ID: msg, ConversationID: id})
	if errors.Is(err, pgx.ErrNoRows) {
		return src, apierr.NotFound("Message")
	}
	if err != nil {
		return src, err
	}
	var c db.Conversation
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		var err error
		c, err = q.InsertConversation(ctx, db.InsertConversationParams{UserID: user, Title: branchTitle(src.Title),
			Folder: src.Folder, BranchedFrom: &msg})
		if err != nil {
			return err
		}
		msgs, err := q.MessagesUpTo(ctx, db.MessagesUpToParams{ConversationID: id, Seq: m.Seq})
		if err != nil {
			return err
		}
		for _, x := range msgs {
			if err := q.CopyMessage(ctx, db.CopyMessageParams{ConversationID: c.ID, Role: x.Role, Content: x.Content,
				Citations: x.Citations, Model: x.Model, Retrieval: x.Retrieval, CreatedAt: x.CreatedAt,
				Source: x.Source, Interrupted: x.Interrupted}); err != nil {
				return err
			}
		}
		if err := q.TouchConversation(ctx, db.TouchConversationParams{ID: c.ID}); err != nil {
			return err
		}
		c, err = q.GetConversation(ctx, db.GetConversationParams{ID: c.ID, UserID: user})
		return err
	})
	return conversationOf(c), err
}

func branchTitle(t string) string {
	if strings.HasSuffix(t, " (branch)") {
		return t
	}
	return t + " (branch)"
}

// Export renders a conversation as Markdown with numbered sources per answer, audited.
func (s *Service) Export(ctx context.Context, actor audit.Actor, user, id uuid.UUID) (string, error) {
	c, err := s.Get(ctx, user, id)
	if err != nil {
		return "", err
	}
	msgs, err := s.q.MessagesUpTo(ctx, db.MessagesUpToParams{ConversationID: id, Seq: 1<<62 - 1})
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", c.Title)
	fmt.Fprintf(&b, "_Exported %s · %d messages_\n", time.Now().UTC().Format(time.RFC3339), len(msgs))
	for _, m := range msgs {
		who := "You"
		if m.Role == chat.RoleAssistant {
			who = "Assistant"
		}
		fmt.Fprintf(&b, "\n## %s — %s\n\n%s\n", who, m.CreatedAt.UTC().Format("2006-01-02 15:04"), m.Content)
		if cs := Citations(Message(m)); len(cs) > 0 {
			b.WriteString("\n**Sources**\n\n")
			for _, ct := range cs {
				fmt.Fprintf(&b, "%d. %s", ct.N, ct.Title)
				if len(ct.Heading) > 0 {
					fmt.Fprintf(&b, " — %s", strings.Join(ct.Heading, " › "))
				}
				if ct.Page != nil {
					fmt.Fprintf(&b, ", p. %d", *ct.Page)
				}
				b.WriteString("\n")
			}
		}
	}
	err = audit.RecordNow(ctx, s.pool, audit.Entry{Actor: actor, Action: "conversations.exported", ResourceType: "conversation",
		ResourceID: id.String(), Success: true, Details: map[string]any{"messages": len(msgs), "format": "markdown"}})
	return b.String(), err
}
