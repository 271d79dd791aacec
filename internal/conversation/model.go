package conversation

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/voiceassist/gateway/gen/db"
)

// Conversation is a chat session of one user.
type Conversation struct {
	ID            uuid.UUID
	UserID        uuid.UUID
	Title         string
	DefaultTitle  bool    // the title is still DefaultTitle (the first question renames it)
	Folder        *string // nil: no folder
	Archived      bool
	BranchedFrom  *uuid.UUID // the message this conversation was branched at
	MessageCount  int32
	CreatedAt     time.Time
	UpdatedAt     time.Time
	LastMessageAt *time.Time
}

// Message is one stored question or answer.
type Message struct {
	ID             uuid.UUID
	Seq            int64 // order within the conversation; the message list's cursor
	ConversationID uuid.UUID
	Role           string // chat.RoleUser or chat.RoleAssistant
	Content        string
	Citations      json.RawMessage // []chat.CitationJSON; read it with Citations
	Model          *string
	Retrieval      json.RawMessage // what retrieval did for an answer (queries, hops, ...), or empty
	CreatedAt      time.Time
	Source         string // SourceChat, SourceVoice or SourceDictation
	Interrupted    bool   // an answer cut short (barge-in, cancelled stream)
}

// Where a message came from; an answer has its question's source.
const (
	SourceChat      = "chat"
	SourceVoice     = "voice"
	SourceDictation = "dictation"
)

// The domain types have exactly the rows' fields, so a conversion maps them (and stops
// compiling when the schema changes).
func conversationOf(r db.Conversation) Conversation { return Conversation(r) }

func messageOf(r db.Message) Message { return Message(r) }

func messagesOf(rows []db.Message) []Message {
	out := make([]Message, len(rows))
	for i, r := range rows {
		out[i] = Message(r)
	}
	return out
}
