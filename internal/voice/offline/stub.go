//go:build !offlinevoice || !cgo

package offline

import (
	"context"
	"fmt"
	"time"

	"github.com/voiceassist/gateway/internal/voice"
)

var errUnavailable = fmt.Errorf("%w: offline voice not compiled in (install %s and build with -tags offlinevoice and CGO_ENABLED=1)",
	voice.ErrUnavailable, Packages)

// STTOptions configure the pocketsphinx recogniser.
type STTOptions struct {
	Workers  int           // decoders in the pool (default 2); each created on first use
	Words    []string      // extra vocabulary added to every decoder (nil = none)
	Acquire  time.Duration // longest wait for a free decoder before voice.ErrOverloaded (0 = wait for ctx)
	ModelDir string        // pocketsphinx en-us model directory; empty = DefaultModelDir
}

// DefaultModelDir is where pocketsphinx-en-us installs the model.
const DefaultModelDir = "/usr/share/pocketsphinx/model/en-us"

// STT is the pocketsphinx recogniser; without the offline voice it never exists.
type STT struct{}

// NewSTT reports that the offline voice is not compiled in.
func NewSTT(STTOptions) (*STT, error) { return nil, errUnavailable }

// Name identifies the provider.
func (*STT) Name() string { return "offline" }

// Loaded is the number of decoders created so far.
func (*STT) Loaded() int { return 0 }

// Transcribe reports that the offline voice is not compiled in.
func (*STT) Transcribe(context.Context, voice.PCM, voice.TranscribeOptions) (voice.Transcript, error) {
	return voice.Transcript{}, errUnavailable
}

// TTS is the flite synthesiser; without the offline voice it never exists.
type TTS struct{}

// NewTTS reports that the offline voice is not compiled in.
func NewTTS() (*TTS, error) { return nil, errUnavailable }

// Name identifies the provider.
func (*TTS) Name() string { return "offline" }

// Voices is empty without the offline voice.
func (*TTS) Voices() []voice.Voice { return nil }

// MaxChars is the longest text accepted in one call.
func (*TTS) MaxChars() int { return 0 }

// Synthesize reports that the offline voice is not compiled in.
func (*TTS) Synthesize(context.Context, string, voice.SynthesizeOptions) (voice.PCM, error) {
	return voice.PCM{}, errUnavailable
}

// Available reports why the offline voice cannot run.
func Available() error { return errUnavailable }

// Pronounce needs flite's lexicon; without it no word has a pronunciation.
func Pronounce(string) (string, bool) { return "", false }
