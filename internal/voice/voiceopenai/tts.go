package voiceopenai

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/openai/openai-go/v3"

	"github.com/voiceassist/gateway/internal/llm"
	"github.com/voiceassist/gateway/internal/voice"
)

// SpeechRate is the rate of the pcm format audio/speech answers with.
const SpeechRate = 24000

// MaxChars is the longest input audio/speech accepts.
const MaxChars = 4096

// The speed range audio/speech accepts.
const (
	minSpeed = 0.25
	maxSpeed = 4.0
)

// DefaultVoice is the voice used when none is asked for.
const DefaultVoice = "alloy"

var voiceIDs = []string{"alloy", "echo", "fable", "onyx", "nova", "shimmer"}

// TTS is voice.TTS through audio/speech. It is safe for concurrent use.
type TTS struct {
	client *llm.Client
	model  string
}

var _ voice.TTS = (*TTS)(nil)

// NewTTS returns text-to-speech with model (DefaultTTSModel if empty) on client.
func NewTTS(client *llm.Client, model string) *TTS {
	if model == "" {
		model = DefaultTTSModel
	}
	return &TTS{client: client, model: model}
}

// Name implements voice.TTS.
func (t *TTS) Name() string { return Name }

// Voices implements voice.TTS: the six voices of tts-1. OpenAI documents no gender or
// style for them, so none is claimed; they speak many languages but are tuned for English.
func (t *TTS) Voices() []voice.Voice {
	out := make([]voice.Voice, len(voiceIDs))
	for i, id := range voiceIDs {
		out[i] = voice.Voice{Provider: Name, ID: id, Name: strings.ToUpper(id[:1]) + id[1:],
			Language: "en", Default: id == DefaultVoice}
	}
	return out
}

// MaxChars implements voice.TTS.
func (t *TTS) MaxChars() int { return MaxChars }

// Synthesize implements voice.TTS: 24 kHz PCM16 (the pcm response format, no container to
// decode).
func (t *TTS) Synthesize(ctx context.Context, text string, opt voice.SynthesizeOptions) (voice.PCM, error) {
	const op = "synthesize"
	if strings.TrimSpace(text) == "" {
		return voice.PCM{}, invalid(op, "empty text")
	}
	if n := utf8.RuneCountInString(text); n > MaxChars {
		return voice.PCM{}, invalid(op, "text of %d characters, at most %d", n, MaxChars)
	}
	id := opt.Voice
	if id == "" {
		id = DefaultVoice
	}
	if !slices.Contains(voiceIDs, id) {
		return voice.PCM{}, invalid(op, "unknown voice %q", id)
	}
	if opt.Speed != 0 && (opt.Speed < minSpeed || opt.Speed > maxSpeed) {
		return voice.PCM{}, invalid(op, "speed %g outside %g..%g", opt.Speed, minSpeed, maxSpeed)
	}
	p := openai.AudioSpeechNewParams{
		Input:          text,
		Model:          t.model,
		Voice:          openai.AudioSpeechNewParamsVoiceUnion{OfString: openai.String(id)},
		ResponseFormat: openai.AudioSpeechNewParamsResponseFormatPCM,
	}
	if opt.Speed != 0 {
		p.Speed = openai.Float(opt.Speed)
	}
	var body []byte
	err := t.client.Do(ctx, func(ctx context.Context) error {
		res, err := t.client.API().Audio.Speech.New(ctx, p)
		if err != nil {
			return err
		}
		defer res.Body.Close()
		// Read within the attempt: a connection lost mid-audio is retried, and the
		// attempt's timeout covers the whole answer.
		body, err = io.ReadAll(res.Body)
		return err
	})
	if err != nil {
		return voice.PCM{}, mapError(op, err)
	}
	if len(body) == 0 || len(body)%2 != 0 {
		return voice.PCM{}, fmt.Errorf("voiceopenai: %s: %w: %d bytes of audio, no PCM16", op, voice.ErrUnavailable, len(body))
	}
	return voice.PCMFromBytes(body, SpeechRate), nil
}
