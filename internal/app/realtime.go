package app

import (
	"context"
	"errors"
	"net/http"

	"github.com/google/uuid"

	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/chat"
	"github.com/voiceassist/gateway/internal/conversation"
	"github.com/voiceassist/gateway/internal/realtime"
)

// newRealtime builds the /ws hub over the conversation service.
func (a *App) newRealtime() *realtime.Hub {
	return realtime.New(realtime.Config{
		Auth:           a.socketAuth,
		Chat:           wsChat{a.Conversations},
		Redis:          a.Redis,
		Prefix:         a.Config.RedisKeyPrefix,
		Logger:         a.Log.With("component", "realtime"),
		AllowedOrigins: a.Config.AllowedOrigins,
	})
}

// socketAuth checks the access token of a WebSocket (at the handshake and again while it
// lives).
func (a *App) socketAuth(ctx context.Context, token string) (realtime.Principal, error) {
	p, err := a.Auth.AuthenticateToken(ctx, token)
	if err != nil {
		return realtime.Principal{}, err
	}
	return realtime.Principal{UserID: p.UserID, Email: p.Email, Role: string(p.Role)}, nil
}

// wsChat adapts the conversation service to the realtime hub.
type wsChat struct{ c *conversation.Service }

func notFoundAsRealtime(err error) error {
	var ae *apierr.Error
	if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
		return realtime.ErrNotFound
	}
	return err
}

func (w wsChat) History(ctx context.Context, user, conv uuid.UUID, limit int) ([]realtime.HistoryMessage, error) {
	ms, err := w.c.History(ctx, user, conv, limit)
	if err != nil {
		return nil, notFoundAsRealtime(err)
	}
	out := make([]realtime.HistoryMessage, len(ms))
	for i, m := range ms {
		out[i] = realtime.HistoryMessage{ID: m.ID, Role: m.Role, Content: m.Content, CreatedAt: m.CreatedAt,
			Citations: chatCitations(conversation.Citations(m))}
	}
	return out, nil
}

func (w wsChat) Send(ctx context.Context, user, conv uuid.UUID, content string, emit func(realtime.ChatEvent) error) (realtime.Done, error) {
	q, ans, err := w.c.Send(ctx, user, conv, content, func(e conversation.Event) error {
		if e.Chat == nil {
			return nil
		}
		return emit(realtime.ChatEvent{Type: e.Chat.Type, Delta: e.Chat.Delta, Citation: e.Chat.Citation})
	})
	if err != nil {
		return realtime.Done{}, notFoundAsRealtime(err)
	}
	return realtime.Done{MessageID: ans.ID, UserMessageID: q.ID, Content: ans.Content,
		Citations: chatCitations(conversation.Citations(ans))}, nil
}

func chatCitations(cs []chat.CitationJSON) []chat.Citation {
	out := make([]chat.Citation, len(cs))
	for i, c := range cs {
		out[i] = c.Citation()
	}
	return out
}
