// Package voice holds speech-to-text and text-to-speech behind small provider interfaces:
// audio containers and sample formats, providers with fallback, and the errors the API maps
// to statuses. It never imports Echo or the generated API types.
package voice

import (
	"context"
	"errors"
	"time"
)

// SampleRate is the rate every provider here consumes and the offline TTS produces: 16 kHz.
const SampleRate = 16000

// PCM is mono signed 16-bit audio at Rate samples per second.
type PCM struct {
	Samples []int16
	Rate    int
}

// Duration is the length of the audio.
func (p PCM) Duration() time.Duration {
	if p.Rate <= 0 {
		return 0
	}
	return time.Duration(len(p.Samples)) * time.Second / time.Duration(p.Rate)
}

// TranscribeOptions tune one transcription.
type TranscribeOptions struct {
	Language   string   // BCP 47 primary tag, e.g. "en"; empty = provider default
	Prompt     string   // phrase hints (providers that support them)
	Timestamps bool     // return segments and words with times
	Words      []string // extra vocabulary for this request (not persisted)
	// Grammar, when set, restricts recognition to these phrases (a command grammar) where the
	// provider supports it (offline: a JSGF grammar); others transcribe freely.
	Grammar []string
}

// Word is one recognised word with its time span and confidence (0..1, -1 when unknown).
type Word struct {
	Word       string
	Start, End time.Duration
	Confidence float64
}

// Segment is one utterance of a transcript.
type Segment struct {
	Text       string
	Start, End time.Duration
	Confidence float64
	Words      []Word
}

// Transcript is the result of speech-to-text.
type Transcript struct {
	Text     string
	Language string
	Duration time.Duration
	Segments []Segment // filled when TranscribeOptions.Timestamps is set
	Provider string
}

// STT turns speech into text. Implementations are safe for concurrent use.
type STT interface {
	Name() string
	// Transcribe decodes one utterance or recording; audio is mono PCM16 (any rate; the
	// provider resamples as it needs).
	Transcribe(ctx context.Context, audio PCM, opt TranscribeOptions) (Transcript, error)
}

// Voice describes one voice a TTS provider offers.
type Voice struct {
	Provider string
	ID       string
	Name     string
	Language string
	Gender   string // "female", "male" or "" when unknown
	Style    string
	Default  bool
}

// SynthesizeOptions tune one synthesis.
type SynthesizeOptions struct {
	Voice string  // provider voice id; empty = provider default
	Speed float64 // 0.5..2.0, 1 = normal; 0 means 1
}

// TTS turns text into speech. Implementations are safe for concurrent use.
type TTS interface {
	Name() string
	Voices() []Voice
	// MaxChars is the longest text accepted in one call.
	MaxChars() int
	// Synthesize renders text as mono PCM16 (SampleRate for the offline provider).
	Synthesize(ctx context.Context, text string, opt SynthesizeOptions) (PCM, error)
}

// Errors providers and decoders return; the API layer maps them to statuses.
var (
	// ErrUnsupportedContainer: the bytes are no audio container we know, or one whose
	// decoder (ffmpeg) is missing -> 415.
	ErrUnsupportedContainer = errors.New("voice: unsupported audio container")
	// ErrUndecodable: a known container that fails to decode or holds no samples -> 422.
	ErrUndecodable = errors.New("voice: audio could not be decoded")
	// ErrTooLong: more audio than VOICE_MAX_AUDIO_SECONDS -> 413.
	ErrTooLong = errors.New("voice: audio too long")
	// ErrUnavailable: the provider cannot run here (missing packages, cloud disabled) -> 503.
	ErrUnavailable = errors.New("voice: provider unavailable")
	// ErrOverloaded: every worker is busy for longer than the caller may wait -> 503 + Retry-After.
	ErrOverloaded = errors.New("voice: provider overloaded")
	// ErrInvalidInput: text or options the provider refuses (empty, too long, unknown voice) -> 422.
	ErrInvalidInput = errors.New("voice: invalid input")
)
