package conversation

import (
	"context"
	"strings"

	"github.com/google/uuid"

	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/chat"
)

// ReplyModel labels an answer the gateway gave itself (a templated voice repair reply).
const ReplyModel = "gateway"

// Reply stores a question and an answer the gateway gave without the model (a voice repair:
// "Did you say …?"), so that the conversation holds what was said. Nothing is charged.
func (s *Service) Reply(ctx context.Context, user, id uuid.UUID, question, answer, source string) (Message, Message, error) {
	question, answer = strings.TrimSpace(question), strings.TrimSpace(answer)
	if question == "" {
		return Message{}, Message{}, apierr.Invalid("content", "must not be blank")
	}
	if _, err := s.Get(ctx, user, id); err != nil {
		return Message{}, Message{}, err
	}
	ctx = context.WithoutCancel(ctx) // both or, on a database failure, what was stored
	q, err := s.insert(ctx, id, message{role: chat.RoleUser, content: question, source: source}, titleOf(question))
	if err != nil {
		return Message{}, Message{}, err
	}
	a, err := s.insert(ctx, id, message{role: chat.RoleAssistant, content: answer, model: ReplyModel, source: source}, "")
	return q, a, err
}
