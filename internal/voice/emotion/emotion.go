// Package emotion reads how a user sounds in a voice turn (issue 20, backend.voice_emotion):
// a Provider turns the utterance, its transcript and word timings into valence, arousal and
// a label, and Adapt turns that into a style hint for the model and a bounded change of the
// speech speed. The offline estimator (Offline) is the default; a cloud provider would
// implement Provider. docs/voice.md, "Emotion", documents the rules.
package emotion

import (
	"context"
	"fmt"
	"math"

	"github.com/voiceassist/gateway/internal/voice"
)

// Label is the emotion a turn is read as: a deliberately small set, each with its adaptation.
type Label string

// The labels.
const (
	Neutral    Label = "neutral"
	Calm       Label = "calm"
	Positive   Label = "positive"
	Anxious    Label = "anxious"
	Frustrated Label = "frustrated"
	Sad        Label = "sad"
)

// Labels lists every label.
var Labels = []Label{Neutral, Calm, Positive, Anxious, Frustrated, Sad}

// Input is one turn as the providers see it.
type Input struct {
	PCM   []int16      // the utterance, mono PCM16; nil for a typed turn
	Rate  int          // samples per second of PCM (0 = voice.SampleRate)
	Text  string       // the transcript or the typed message
	Words []voice.Word // word timings when the speech-to-text gave them (nil otherwise)
}

// Estimate is what a provider read.
type Estimate struct {
	Valence    float64 // -1 unpleasant .. 1 pleasant
	Arousal    float64 // 0 subdued .. 1 agitated
	Label      Label
	Confidence float64 // 0..1
	Source     string  // the provider
}

// Provider estimates the emotion of one turn. Implementations are safe for concurrent use.
type Provider interface {
	Name() string
	Detect(ctx context.Context, in Input) (Estimate, error)
}

// Providers are the names VOICE_EMOTION_PROVIDER accepts.
var Providers = []string{"offline"}

// New returns the provider with that name.
func New(name string) (Provider, error) {
	switch name {
	case "", "offline":
		return Offline{}, nil
	}
	return nil, fmt.Errorf("emotion: unknown provider %q", name)
}

// Adaptation limits: below MinAdaptConfidence an estimate changes nothing; the speed factor
// stays within [MinSpeed, MaxSpeed] of the user's own speed.
const (
	MinAdaptConfidence = 0.4
	MinSpeed           = 0.9
	MaxSpeed           = 1.1
)

// Style is how the answer to a turn adapts: a hint for the model (never stored) and a
// factor on the user's preferred speech speed.
type Style struct {
	Hint  string
	Speed float64 // 1 = unchanged
}

// The hints: why each exists is in its words. They ask the model not to name the emotion:
// a guess said aloud ("you sound anxious") is worse than a calmer answer.
var styles = map[Label]Style{
	Anxious: {Speed: 0.9, Hint: "The user sounds worried or anxious. Answer calmly and reassuringly, in short, simple " +
		"sentences: acknowledge the concern once, give the key facts plainly, say clearly when to seek care, and avoid " +
		"alarming wording. Do not mention the user's emotional state."},
	Frustrated: {Speed: 1.05, Hint: "The user sounds frustrated. Be brief and direct: lead with the answer, one short " +
		"acknowledgement at most, no filler, no repetition of what was already said. Do not mention the user's emotional state."},
	Sad: {Speed: 0.95, Hint: "The user sounds low or sad. Be warm and gentle, use short sentences, acknowledge how they " +
		"feel in a few words before the facts. Do not mention the user's emotional state."},
}

// Adapt is the style for an estimate: neutral, calm and positive turns, and any estimate
// below MinAdaptConfidence, change nothing.
func Adapt(e Estimate) Style {
	st, ok := styles[e.Label]
	if !ok || e.Confidence < MinAdaptConfidence {
		return Style{Speed: 1}
	}
	st.Speed = math.Min(MaxSpeed, math.Max(MinSpeed, st.Speed))
	return st
}

// Words lists the words of a transcript's segments in order.
func Words(segs []voice.Segment) []voice.Word {
	var out []voice.Word
	for _, s := range segs {
		out = append(out, s.Words...)
	}
	return out
}

func clamp(v, lo, hi float64) float64 { return math.Min(hi, math.Max(lo, v)) }

// round2 keeps two decimals: events and tests compare stable figures.
func round2(v float64) float64 { return math.Round(v*100) / 100 }
