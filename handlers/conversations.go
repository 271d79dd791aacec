package handlers

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/chat"
	"github.com/voiceassist/gateway/internal/conversation"
	"github.com/voiceassist/gateway/internal/sse"
)

// owner is the caller, whose conversations these are.
func owner(ctx context.Context) uuid.UUID {
	if p, ok := auth.From(ctx); ok {
		return p.UserID
	}
	return uuid.Nil
}

func (s *Server) CreateConversation(ctx context.Context, r api.CreateConversationRequestObject) (api.CreateConversationResponseObject, error) {
	var title, folder string
	if r.Body.Title != nil {
		title = strings.TrimSpace(*r.Body.Title)
	}
	if r.Body.Folder != nil {
		folder = strings.TrimSpace(*r.Body.Folder)
	}
	c, err := s.Chats.Create(ctx, owner(ctx), title, folder)
	if err != nil {
		return nil, err
	}
	return api.CreateConversation201JSONResponse{Success: true, Data: conversationOf(c), Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) ListConversations(ctx context.Context, r api.ListConversationsRequestObject) (api.ListConversationsResponseObject, error) {
	p := r.Params
	f := conversation.Filter{Q: valueOf(p.Q), Folder: valueOf(p.Folder), Archived: p.Archived, Cursor: valueOf(p.Cursor), Limit: limitOf(p.Limit)}
	cs, next, err := s.Chats.List(ctx, owner(ctx), f)
	if err != nil {
		return nil, err
	}
	return api.ListConversations200JSONResponse{Success: true, Data: mapAll(cs, conversationOf), Metadata: pageMeta(ctx, f.Limit, next), Timestamp: now()}, nil
}

func (s *Server) GetConversation(ctx context.Context, r api.GetConversationRequestObject) (api.GetConversationResponseObject, error) {
	c, err := s.Chats.Get(ctx, owner(ctx), r.Id)
	if err != nil {
		return nil, err
	}
	return api.GetConversation200JSONResponse{Success: true, Data: conversationOf(c), Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) UpdateConversation(ctx context.Context, r api.UpdateConversationRequestObject) (api.UpdateConversationResponseObject, error) {
	b := r.Body
	p := conversation.Patch{Archived: b.Archived}
	if b.Title != nil {
		t := strings.TrimSpace(*b.Title)
		if t == "" {
			return nil, apierr.Invalid("title", "must not be blank")
		}
		p.Title = &t
	}
	if b.Folder != nil {
		p.SetFolder = true
		if f := strings.TrimSpace(*b.Folder); f != "" {
			p.Folder = &f
		}
	}
	c, err := s.Chats.Update(ctx, owner(ctx), r.Id, p)
	if err != nil {
		return nil, err
	}
	return api.UpdateConversation200JSONResponse{Success: true, Data: conversationOf(c), Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) DeleteConversation(ctx context.Context, r api.DeleteConversationRequestObject) (api.DeleteConversationResponseObject, error) {
	if err := s.Chats.Delete(ctx, actorOf(ctx), owner(ctx), r.Id); err != nil {
		return nil, err
	}
	return api.DeleteConversation204Response{}, nil
}

func (s *Server) ListMessages(ctx context.Context, r api.ListMessagesRequestObject) (api.ListMessagesResponseObject, error) {
	limit := limitOf(r.Params.Limit)
	ms, next, err := s.Chats.Messages(ctx, owner(ctx), r.Id, valueOf(r.Params.Cursor), limit)
	if err != nil {
		return nil, err
	}
	return api.ListMessages200JSONResponse{Success: true, Data: mapAll(ms, messageOf), Metadata: pageMeta(ctx, limit, next), Timestamp: now()}, nil
}

func (s *Server) SendMessage(ctx context.Context, r api.SendMessageRequestObject) (api.SendMessageResponseObject, error) {
	if err := s.Chats.Admit(ctx, owner(ctx)); err != nil {
		return nil, err
	}
	grounding, err := s.patientContext(ctx, r.Id, r.Body.PatientId, r.Body.Purpose)
	if err != nil {
		return nil, err
	}
	q, a, err := s.Chats.SendWith(ctx, owner(ctx), r.Id, r.Body.Content, conversation.SendOptions{Context: grounding}, nil)
	if err != nil {
		return nil, err
	}
	return api.SendMessage201JSONResponse{Success: true, Data: api.Exchange{UserMessage: messageOf(q), AssistantMessage: messageOf(a)},
		Metadata: meta(ctx), Timestamp: now()}, nil
}

// StreamMessage is implemented by routes (it writes an event stream); the strict layer never
// calls this.
func (s *Server) StreamMessage(context.Context, api.StreamMessageRequestObject) (api.StreamMessageResponseObject, error) {
	return nil, errors.New("handlers: StreamMessage is served by routes")
}

// StreamMessage answers as server-sent events. Errors before the stream starts are ordinary
// envelopes; afterwards they are an `error` event. A client that disconnects cancels the
// request context, which stops the model.
func (r *routes) StreamMessage(c echo.Context, id api.IdPath) error {
	s := r.s
	req := c.Request()
	var in api.MessageInput
	if err := json.NewDecoder(req.Body).Decode(&in); err != nil {
		return apierr.New(http.StatusBadRequest, "BAD_REQUEST", "The request body is not valid JSON")
	}
	ctx := req.Context()
	// Quota (issue 21 #4): the per-minute answer limit and a stream slot, held until the end.
	release, err := s.Chats.AdmitStream(ctx, owner(ctx))
	if err != nil {
		return err
	}
	defer release()
	if s.Stopping != nil {
		// A shutdown cancels the answer so that the client is told (below) before the process ends.
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		defer context.AfterFunc(s.Stopping, cancel)()
	}
	// The stream starts with the first event, so that failures before it (not found, blank
	// question) are ordinary envelopes with their status.
	out := sse.NewWriter(c.Response())
	send := func(event string, data any) error {
		b, err := json.Marshal(data)
		if err != nil {
			return err
		}
		return out.Event(event, b)
	}
	defer func() {
		// A started stream cannot carry an error envelope: a panic ends it with an error event.
		if p := recover(); p != nil {
			if !out.Started() {
				panic(p)
			}
			s.Log.ErrorContext(ctx, "chat stream panicked", "panic", fmt.Sprint(p))
			_ = send("error", map[string]any{"code": "INTERNAL_ERROR", "message": "The answer failed; send the question again"})
		}
	}()
	grounding, err := s.patientContext(ctx, id, in.PatientId, in.Purpose)
	if err != nil {
		return err
	}
	_, a, err := s.Chats.SendWith(ctx, owner(ctx), id, in.Content, conversation.SendOptions{Context: grounding, Progressive: true}, func(e conversation.Event) error {
		switch {
		case e.Question != nil:
			return send("message.created", map[string]any{"message": messageOf(*e.Question)})
		case e.Chat.Type == chat.EventDelta:
			return send("message.delta", map[string]any{"delta": e.Chat.Delta})
		case e.Chat.Type == chat.EventCitation:
			return send("citation", map[string]any{"citation": e.Chat.Citation.JSON()})
		}
		return nil
	})
	if err != nil {
		if !out.Started() {
			return err
		}
		if req.Context().Err() != nil {
			return nil // the client left
		}
		if s.Stopping != nil && s.Stopping.Err() != nil {
			err = apierr.Unavailable("The server is restarting; send the question again", err)
		}
		ae := apierr.From(err)
		if ae.Status >= 500 {
			s.Log.ErrorContext(ctx, "chat stream failed", "error", err)
		}
		_ = send("error", map[string]any{"code": ae.Code, "message": ae.Message})
		return nil
	}
	_ = send("message.done", map[string]any{"message": messageOf(a)})
	return nil
}

func (s *Server) RegenerateAnswer(ctx context.Context, r api.RegenerateAnswerRequestObject) (api.RegenerateAnswerResponseObject, error) {
	if err := s.Chats.Admit(ctx, owner(ctx)); err != nil {
		return nil, err
	}
	a, err := s.Chats.Regenerate(ctx, owner(ctx), r.Id)
	if err != nil {
		return nil, err
	}
	return api.RegenerateAnswer201JSONResponse{Success: true, Data: messageOf(a), Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) DeleteMessage(ctx context.Context, r api.DeleteMessageRequestObject) (api.DeleteMessageResponseObject, error) {
	if err := s.Chats.DeleteMessage(ctx, actorOf(ctx), owner(ctx), r.Id, r.MessageId); err != nil {
		return nil, err
	}
	return api.DeleteMessage204Response{}, nil
}

func (s *Server) BranchConversation(ctx context.Context, r api.BranchConversationRequestObject) (api.BranchConversationResponseObject, error) {
	c, err := s.Chats.Branch(ctx, owner(ctx), r.Id, r.MessageId)
	if err != nil {
		return nil, err
	}
	return api.BranchConversation201JSONResponse{Success: true, Data: conversationOf(c), Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) ExportConversation(ctx context.Context, r api.ExportConversationRequestObject) (api.ExportConversationResponseObject, error) {
	md, err := s.Chats.Export(ctx, actorOf(ctx), owner(ctx), r.Id)
	if err != nil {
		return nil, err
	}
	return api.ExportConversation200TextmarkdownResponse{Body: strings.NewReader(md), ContentLength: int64(len(md))}, nil
}

func conversationOf(c conversation.Conversation) api.Conversation {
	return api.Conversation{Id: c.ID, Title: c.Title, Archived: c.Archived, MessageCount: int(c.MessageCount), Folder: c.Folder,
		BranchedFrom: c.BranchedFrom, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, LastMessageAt: c.LastMessageAt}
}

func messageOf(m conversation.Message) api.Message {
	cs := conversation.Citations(m)
	out := api.Message{Id: m.ID, ConversationId: m.ConversationID, Role: api.MessageRole(m.Role), Content: m.Content,
		CreatedAt: m.CreatedAt, Citations: make([]api.ChatCitation, len(cs)), Source: api.MessageSource(m.Source), Interrupted: m.Interrupted}
	for i, c := range cs {
		out.Citations[i] = chatCitation(c)
	}
	out.Model = m.Model
	if len(m.Retrieval) > 0 {
		var ri api.RetrievalInfo
		if json.Unmarshal(m.Retrieval, &ri) == nil {
			if ri.Queries == nil {
				ri.Queries = []string{}
			}
			out.Retrieval = &ri
		}
	}
	return out
}
