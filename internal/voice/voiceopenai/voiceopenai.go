// Package voiceopenai is speech-to-text and text-to-speech through an OpenAI-compatible
// server (audio/transcriptions, audio/speech): OpenAI's Whisper and TTS, or a self-hosted
// server at OPENAI_BASE_URL. Requests go through internal/llm, which retries 429, 5xx and
// transport errors.
package voiceopenai

import (
	"fmt"

	"github.com/voiceassist/gateway/internal/llm"
	"github.com/voiceassist/gateway/internal/voice"
)

// Name is the provider name of both the STT and the TTS.
const Name = "openai"

// Default models (OPENAI_STT_MODEL, OPENAI_TTS_MODEL).
const (
	DefaultSTTModel = "whisper-1"
	DefaultTTSModel = "tts-1"
)

// mapError turns a failed request into the voice error the API maps to a status:
//
//   - 4xx (bad audio, text or options): voice.ErrInvalidInput with the server's message;
//   - 429: voice.ErrOverloaded (503 + Retry-After);
//   - 5xx after retries, timeouts, transport errors, a refused key (401/403: the
//     deployment is misconfigured, not the request) and malformed answers:
//     voice.ErrUnavailable;
//   - the caller's context ending: its error, unchanged.
func mapError(op string, err error) error {
	switch llm.Classify(err) {
	case llm.Canceled:
		return fmt.Errorf("voiceopenai: %s: %w", op, err)
	case llm.Invalid:
		return fmt.Errorf("voiceopenai: %s: %w: %s (%w)", op, voice.ErrInvalidInput, llm.Message(err), err)
	case llm.RateLimited:
		return fmt.Errorf("voiceopenai: %s: %w (%w)", op, voice.ErrOverloaded, err)
	default:
		return fmt.Errorf("voiceopenai: %s: %w (%w)", op, voice.ErrUnavailable, err)
	}
}

// invalid is a voice.ErrInvalidInput found before any request.
func invalid(op, format string, args ...any) error {
	return fmt.Errorf("voiceopenai: %s: %w: %s", op, voice.ErrInvalidInput, fmt.Sprintf(format, args...))
}
