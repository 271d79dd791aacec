package session

import (
	"math"

	"github.com/voiceassist/gateway/internal/voice"
)

// VAD finds speech in a stream of 16 kHz PCM by energy against an adaptive noise floor, in
// frames of 20 ms. Speech starts after startFrames loud frames in a row and ends after
// silence of the configured length. It counts samples, never the clock, so the same audio
// always gives the same decisions.
type VAD struct {
	threshold   float64 // dB above the noise floor that counts as speech
	silence     int     // frames of silence that end speech
	floor       float64 // noise floor estimate, dBFS (NaN before the first frame)
	rest        []int16 // samples short of a frame
	loud, quiet int     // consecutive loud and quiet frames
	speaking    bool
	pause       int // frames of silence inside speech reported as a pause (0: none; backchannel)
}

const (
	vadFrame       = 320 // 20 ms at 16 kHz
	vadStartFrames = 3   // 60 ms of sound before speech is declared: clicks do not count
	vadMinLevel    = -50 // dBFS; quieter is never speech, however quiet the room
)

// NewVAD takes the silence that ends an utterance (ms) and a sensitivity 0..100: higher
// needs less energy above the noise floor (6 dB at 100, 20 dB at 0).
func NewVAD(silenceMS, sensitivity int) *VAD {
	return &VAD{
		threshold: 20 - 0.14*float64(sensitivity),
		silence:   max(1, silenceMS/20),
		floor:     math.NaN(),
	}
}

// Event is a change found in the audio: the start or the end of speech, at the sample
// index (relative to the samples of that Push) of the frame that decided it.
type Event struct {
	Start bool // speech started (else ended, unless Pause or Resume)
	At    int
	// Pause: the silence inside speech reached the pause length (SetPause); Resume: the
	// first loud frame after such a pause (At is that frame's end). Speech goes on in both.
	Pause, Resume bool
}

// SetPause makes Push report pauses of ms inside speech (0 or not shorter than the
// end-of-speech silence: none).
func (v *VAD) SetPause(ms int) {
	v.pause = ms / 20
	if v.pause >= v.silence {
		v.pause = 0
	}
}

// Push consumes samples and returns the changes they decide.
func (v *VAD) Push(samples []int16) []Event {
	var events []Event
	offset := -len(v.rest)
	buf := samples
	if len(v.rest) > 0 {
		buf = append(v.rest, samples...)
	}
	i := 0
	for ; i+vadFrame <= len(buf); i += vadFrame {
		if e, ok := v.frame(buf[i : i+vadFrame]); ok {
			e.At = max(0, offset+i+vadFrame)
			events = append(events, e)
		}
	}
	v.rest = append(v.rest[:0:0], buf[i:]...)
	return events
}

// Speaking reports whether speech is going on.
func (v *VAD) Speaking() bool { return v.speaking }

func (v *VAD) frame(f []int16) (Event, bool) {
	level := voice.LevelDB(f)
	if math.IsNaN(v.floor) {
		// The first frame sets the floor: a room starts at its own noise level (speech from
		// the first frame on is found at the first pause, where the floor falls).
		v.floor = level
	}
	loud := level > v.floor+v.threshold && level > vadMinLevel
	paused := v.speaking && v.pause > 0 && v.quiet >= v.pause
	if loud {
		v.loud, v.quiet = v.loud+1, 0
	} else {
		v.loud, v.quiet = 0, v.quiet+1
		// The floor falls at once to a quieter frame and rises slowly towards louder
		// background noise (about 1 dB per 100 ms), never while someone speaks.
		if level < v.floor {
			v.floor = level
		} else if !v.speaking {
			v.floor += min(0.2, (level-v.floor)*0.05)
		}
	}
	switch {
	case !v.speaking && v.loud >= vadStartFrames:
		v.speaking = true
		return Event{Start: true}, true
	case v.speaking && v.quiet >= v.silence:
		v.speaking = false
		return Event{Start: false}, true
	case paused && loud:
		return Event{Resume: true}, true
	case v.speaking && v.pause > 0 && v.quiet == v.pause:
		return Event{Pause: true}, true
	}
	return Event{}, false
}
