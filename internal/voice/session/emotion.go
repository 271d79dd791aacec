package session

import (
	"github.com/google/uuid"

	"github.com/voiceassist/gateway/internal/voice"
	"github.com/voiceassist/gateway/internal/voice/emotion"
)

// emotionEvent is emotion.detected: how the user sounded in the turn.
type emotionEvent struct {
	Type       string    `json:"type"`
	Seq        uint32    `json:"seq"`
	TurnID     uuid.UUID `json:"turn_id"`
	Valence    float64   `json:"valence"`
	Arousal    float64   `json:"arousal"`
	Label      string    `json:"label"`
	Confidence float64   `json:"confidence"`
	Source     string    `json:"source"`
}

// readEmotion estimates, for a turn with backend.voice_emotion on, how the user sounds, tells
// the client (after the transcript, before the answer) and returns how the answer adapts.
// Off, or when the provider fails, the answer is unchanged (zero Style).
func (s *Session) readEmotion(t *turn, in turnInput, text string) emotion.Style {
	if !t.caps.On(voice.CapEmotion) {
		return emotion.Style{}
	}
	p := s.h.cfg.Emotion
	if p == nil {
		p = emotion.Offline{}
	}
	e, err := p.Detect(t.ctx, emotion.Input{PCM: in.pcm, Rate: voice.SampleRate, Text: text, Words: in.words})
	if err != nil {
		if t.ctx.Err() == nil {
			s.log.Warn("voice session: emotion not read", "provider", p.Name(), "err", err)
		}
		return emotion.Style{}
	}
	s.say(t, false, func(seq uint32) any {
		return emotionEvent{Type: EvEmotion, Seq: seq, TurnID: t.id, Valence: e.Valence, Arousal: e.Arousal,
			Label: string(e.Label), Confidence: e.Confidence, Source: e.Source}
	})
	return emotion.Adapt(e)
}

// joinBlocks appends a block (a style hint, a repair instruction) to the answer guidance the
// turn already has (the user's remembered preferences).
func joinBlocks(guidance, hint string) string {
	switch {
	case hint == "":
		return guidance
	case guidance == "":
		return hint
	}
	return guidance + "\n\n" + hint
}
