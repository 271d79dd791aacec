package realtime

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"github.com/voiceassist/gateway/internal/chat"
)

// Event types, server to client (docs/realtime.md).
const (
	evConnected = "connected"
	evHistory   = "history"
	evDelta     = "message.delta"
	evCitation  = "citation"
	evDone      = "message.done"
	evTyping    = "typing"
	evPresence  = "presence"
	evPong      = "pong"
	evError     = "error"
)

// Error codes of error events.
const (
	codeValidation = "VALIDATION_ERROR"
	codeNotFound   = "NOT_FOUND"
	codeBusy       = "BUSY"
	codeInternal   = "INTERNAL_ERROR"
)

// Limits on client requests.
const (
	maxContent  = 8000 // characters, as in the REST MessageInput
	maxClientID = 128
	maxJoined   = 32 // conversations one connection may join, bounding its Redis work
)

// Typing states.
const (
	typingStart = "start"
	typingStop  = "stop"
)

// inbound is any client message; each type uses some of the fields.
type inbound struct {
	Type           string          `json:"type"`
	ConversationID string          `json:"conversation_id"`
	Content        string          `json:"content"`
	ClientID       string          `json:"client_id"`
	State          string          `json:"state"`
	TS             json.RawMessage `json:"ts"`
}

// head is embedded first in every event, so its JSON starts with "type".
type head struct {
	Type string `json:"type"`
}

func (h head) eventType() string { return h.Type }

type event interface{ eventType() string }

type connectedEvent struct {
	head
	ConnectionID uuid.UUID `json:"connection_id"`
	UserID       uuid.UUID `json:"user_id"`
	ServerTime   time.Time `json:"server_time"`
}

type historyEvent struct {
	head
	ConversationID uuid.UUID     `json:"conversation_id"`
	Messages       []wireMessage `json:"messages"`
}

type wireMessage struct {
	ID        uuid.UUID           `json:"id"`
	Role      string              `json:"role"`
	Content   string              `json:"content"`
	Citations []chat.CitationJSON `json:"citations"`
	CreatedAt time.Time           `json:"created_at"`
}

type deltaEvent struct {
	head
	ConversationID uuid.UUID `json:"conversation_id"`
	Delta          string    `json:"delta"`
	ClientID       string    `json:"client_id,omitempty"`
}

type citationEvent struct {
	head
	ConversationID uuid.UUID         `json:"conversation_id"`
	Citation       chat.CitationJSON `json:"citation"`
	ClientID       string            `json:"client_id,omitempty"`
}

type doneEvent struct {
	head
	ConversationID uuid.UUID           `json:"conversation_id"`
	MessageID      uuid.UUID           `json:"message_id"`
	UserMessageID  uuid.UUID           `json:"user_message_id"`
	Content        string              `json:"content"`
	Citations      []chat.CitationJSON `json:"citations"`
	ClientID       string              `json:"client_id,omitempty"`
}

type typingEvent struct {
	head
	ConversationID uuid.UUID `json:"conversation_id"`
	UserID         uuid.UUID `json:"user_id"`
	State          string    `json:"state"`
}

type presenceEvent struct {
	head
	ConversationID uuid.UUID   `json:"conversation_id"`
	Users          []uuid.UUID `json:"users"`
}

type pongEvent struct {
	head
	TS json.RawMessage `json:"ts,omitempty"`
}

type errorEvent struct {
	head
	Code      string `json:"code"`
	Message   string `json:"message"`
	RequestID string `json:"request_id,omitempty"`
	ClientID  string `json:"client_id,omitempty"`
}

func toWireCitations(cs []chat.Citation) []chat.CitationJSON {
	out := make([]chat.CitationJSON, 0, len(cs))
	for _, c := range cs {
		out = append(out, c.JSON())
	}
	return out
}

func toWireMessages(ms []HistoryMessage) []wireMessage {
	out := make([]wireMessage, 0, len(ms))
	for _, m := range ms {
		out = append(out, wireMessage{ID: m.ID, Role: m.Role, Content: m.Content,
			Citations: toWireCitations(m.Citations), CreatedAt: m.CreatedAt.UTC()})
	}
	return out
}
