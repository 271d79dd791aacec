package session

import (
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"

	"github.com/voiceassist/gateway/internal/chat"
	"github.com/voiceassist/gateway/internal/conversation"
	"github.com/voiceassist/gateway/internal/voice"
)

// repairEvent is repair.strategy: sent before the response of a turn that needs repair.
type repairEvent struct {
	Type       string    `json:"type"`
	Seq        uint32    `json:"seq"`
	TurnID     uuid.UUID `json:"turn_id"`
	Trigger    string    `json:"trigger"`
	Strategy   string    `json:"strategy"`
	Confidence *float64  `json:"confidence,omitempty"` // the STT confidence, when the provider gave one
	Text       string    `json:"text,omitempty"`       // the gateway's own reply (not for rephrase)
}

// planRepair assesses a turn for repair (backend.voice_repair on) and, when it needs one,
// sends repair.strategy. confidence is voice.TranscriptConfidence's, -1 for typed turns.
func (s *Session) planRepair(t *turn, text string, confidence float64, typed bool) voice.Repair {
	if !t.caps.On(voice.CapRepair) {
		return voice.Repair{}
	}
	s.outMu.Lock()
	defer s.outMu.Unlock()
	r := s.repair.Assess(text, confidence, typed)
	if r.Strategy == "" {
		return r
	}
	t.repair = string(r.Strategy)
	if !t.stopped {
		s.emitLocked(false, func(seq uint32) any {
			ev := repairEvent{Type: EvRepair, Seq: seq, TurnID: t.id, Trigger: string(r.Trigger),
				Strategy: string(r.Strategy), Text: r.Reply}
			if r.Confidence >= 0 {
				c := r.Confidence
				ev.Confidence = &c
			}
			return ev
		})
	}
	return r
}

// noteRepair records the finished turn in the session's repair state (flag on only).
func (s *Session) noteRepair(t *turn, question string, r voice.Repair, a conversation.Message, err error) {
	if !t.caps.On(voice.CapRepair) {
		return
	}
	answer := ""
	if err == nil {
		answer = a.Content
	}
	s.outMu.Lock()
	s.repair.Record(question, r, answer)
	snap := s.repair.Snapshot()
	s.outMu.Unlock()
	s.saveRepair(snap)
}

// saveRepair stores the repair state beside the resume buffer, with the same lifetime, so a
// session resumed on another replica goes on with it.
func (s *Session) saveRepair(snap voice.RepairSnapshot) {
	b, err := json.Marshal(snap)
	if err == nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(s.ctx), 2*time.Second)
		err = s.h.cfg.Redis.Set(ctx, s.h.repairKey(s.id), b, s.h.cfg.ResumeTTL).Err()
		cancel()
	}
	if err != nil {
		s.log.Warn("voice session: repair state not saved", "err", err)
	}
}

// loadRepair takes over the repair state a session left (on resume); none is not an error.
func (s *Session) loadRepair(ctx context.Context) {
	b, err := s.h.cfg.Redis.Get(ctx, s.h.repairKey(s.id)).Bytes()
	var snap voice.RepairSnapshot
	if err == nil {
		err = json.Unmarshal(b, &snap)
	}
	switch {
	case errors.Is(err, redis.Nil):
		return
	case err != nil:
		s.log.Warn("voice session: repair state not restored", "err", err)
		return
	}
	s.outMu.Lock()
	s.repair.Restore(snap)
	s.outMu.Unlock()
}

// sendFunc answers a question in the conversation (Chats.SendWith or a gateway reply).
type sendFunc func(ctx context.Context, user, conv uuid.UUID, content string, opt conversation.SendOptions,
	emit func(conversation.Event) error) (conversation.Message, conversation.Message, error)

// replyWith answers with the repair's own reply instead of the model: both are stored, and
// the reply goes out as one response delta, then is spoken like any answer.
func (s *Session) replyWith(reply string) sendFunc {
	return func(ctx context.Context, user, conv uuid.UUID, content string, opt conversation.SendOptions,
		emit func(conversation.Event) error) (conversation.Message, conversation.Message, error) {
		q, a, err := s.h.cfg.Chats.Reply(ctx, user, conv, content, reply, opt.Source)
		if err != nil {
			return q, a, err
		}
		// A turn stopped meanwhile (the only error emit gives) is cut down to what was heard
		// by finish, like a model answer that was stored.
		_ = emit(conversation.Event{Chat: &chat.Event{Type: chat.EventDelta, Delta: a.Content}})
		return q, a, nil
	}
}
