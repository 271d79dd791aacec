package session

import (
	"encoding/base64"
	"encoding/json"
	"sync"
	"time"

	"github.com/voiceassist/gateway/internal/voice"
)

// Backchannel acknowledgements (backend.voice_backchannel, docs/voice.md § Backchannel): at a
// natural pause of a long utterance the server sends backchannel.trigger and the clip's audio
// (binary frames 0x03, outside the turn's sequence and the resume buffer). Decisions are made
// on the input audio timeline; the voice clock only measures how long a clip took to be ready,
// during which a client streaming in real time went on capturing.

const (
	evBackchannelAudio  = "backchannel.audio"
	evBackchannelCancel = "backchannel.cancel"
	frameBackchannel    = 0x03
)

// backchannel is a session's acknowledgement state. The reader goroutine moves it along the
// input; an offer (a clip being synthesised) checks it again under mu before anything is sent.
type backchannel struct {
	mu       sync.Mutex
	received time.Duration // input audio received (reader-owned)
	pos      time.Duration // input audio the VAD has decided on
	on       bool          // the capability is on for the running utterance
	onset    time.Duration // where its speech started
	pause    time.Duration // where the current natural pause started; -1: none
	pauseN   int           // counts pauses: an offer made for an earlier one is dropped
	silence  time.Duration // the end-of-speech silence of the utterance
	count    int           // acknowledgements in the utterance
	last     time.Duration // where the previous one started
	offering bool          // a clip is being fetched
	active   *bcClip       // the clip sent last, until the input passes its end
	phrase   int           // rotation over the session
	id       uint32        // the last clip's id
}

type bcClip struct {
	id       uint32
	at, stop time.Duration
}

type backchannelEvent struct {
	Type       string `json:"type"`
	ID         uint32 `json:"id"`
	Phrase     string `json:"phrase"`
	AtMS       int64  `json:"at_ms"`
	DurationMS int64  `json:"duration_ms"`
	SampleRate int    `json:"sample_rate"`
	Samples    int    `json:"samples"`
	Frames     int    `json:"frames"`
}

type backchannelCancelEvent struct {
	Type   string `json:"type"`
	ID     uint32 `json:"id"`
	AtMS   int64  `json:"at_ms"`
	Reason string `json:"reason"`
}

type backchannelAudioEvent struct {
	Type  string `json:"type"`
	ID    uint32 `json:"id"`
	Audio string `json:"audio"`
}

// inputTime is the input timeline position of a sample count.
func inputTime(samples int) time.Duration {
	return time.Duration(samples) * time.Second / voice.SampleRate
}

// ceilMS rounds a timeline position up to whole milliseconds (what events carry).
func ceilMS(d time.Duration) time.Duration {
	return (d + time.Millisecond - 1).Truncate(time.Millisecond)
}

// backchannelInput notes n more input samples; it returns the position they start at.
func (s *Session) backchannelInput(n int) time.Duration {
	base := s.bc.received
	s.bc.received += inputTime(n)
	return base
}

// backchannelEvent follows a VAD event at position at (reader goroutine).
func (s *Session) backchannelEvent(ev Event, at time.Duration) {
	bc := &s.bc
	if ev.Start {
		// Evaluated when the utterance starts: the turn does not exist yet.
		on := s.mode != modeDict && s.h.cfg.Switches.Enabled(voice.CapBackchannel, s.user.UserID, s.user.Email, s.user.Role)
		bc.mu.Lock()
		defer bc.mu.Unlock()
		bc.advance(at)
		bc.on, bc.onset, bc.pause, bc.count = on, at-inputTime(vadStartFrames*vadFrame), -1, 0
		bc.pauseN++
		bc.silence = inputTime(s.vad.silence * vadFrame)
		if on {
			s.vad.SetPause(int(voice.Backchannel.Pause / time.Millisecond))
		}
		return
	}
	bc.mu.Lock()
	defer bc.mu.Unlock()
	if !bc.on {
		return
	}
	switch {
	case ev.Pause:
		bc.advance(at)
		bc.pause, bc.pauseN = at-voice.Backchannel.Pause, bc.pauseN+1
		s.offerLocked(at)
	case ev.Resume:
		// The speech came back at the start of this frame: a clip still playing stops there.
		start := at - inputTime(vadFrame)
		bc.advance(at)
		bc.pause, bc.pauseN = -1, bc.pauseN+1
		if c := bc.active; c != nil && c.stop > start {
			s.cancelLocked(start, "speech")
		}
	default: // the end by silence: a clip always ends before it (Check)
		bc.advance(at)
	}
}

// backchannelEnd stops acknowledgements when the utterance ends, however it ends.
func (s *Session) backchannelEnd() {
	bc := &s.bc
	bc.mu.Lock()
	defer bc.mu.Unlock()
	if !bc.on {
		return
	}
	if c := bc.active; c != nil && c.stop > bc.pos {
		s.cancelLocked(bc.pos, "utterance_end")
	}
	bc.on, bc.pause, bc.active = false, -1, nil
	bc.pauseN++
	s.vad.SetPause(0)
}

// backchannelDecided notes how far the VAD has decided (after each input frame).
func (s *Session) backchannelDecided() {
	bc := &s.bc
	bc.mu.Lock()
	bc.advance(bc.received - inputTime(len(s.vad.rest)))
	bc.mu.Unlock()
}

func (bc *backchannel) advance(pos time.Duration) {
	bc.pos = max(bc.pos, pos)
	if bc.active != nil && bc.active.stop <= bc.pos {
		bc.active = nil
	}
}

// offerLocked starts fetching the next phrase's clip for the pause found at position at,
// when the rules could allow one here (bc.mu held).
func (s *Session) offerLocked(at time.Duration) {
	bc := &s.bc
	if bc.offering || voice.Backchannel.Check(bc.moment(at, 0)) != "" {
		return
	}
	bc.offering = true
	phrase := voice.BackchannelPhrases[bc.phrase%len(voice.BackchannelPhrases)]
	bc.phrase++ // a phrase that cannot be synthesised does not block the others
	s.h.wg.Add(1)
	go s.offer(bc.pauseN, at, s.h.cfg.Clock.Now(), phrase)
}

func (bc *backchannel) moment(at, clip time.Duration) voice.BackchannelMoment {
	return voice.BackchannelMoment{Onset: bc.onset, PauseStart: bc.pause, EndSilence: bc.silence,
		At: at, Clip: clip, Count: bc.count, Last: bc.last}
}

// offer gets the clip (synthesised on first use) and sends it if the pause it was meant for
// is still going on and it still fits. While it waited, a client streaming in real time kept
// capturing: the clip starts no earlier than the decision plus the wait on the voice clock.
func (s *Session) offer(pauseN int, decided time.Duration, since time.Time, phrase string) {
	defer s.h.wg.Done()
	pcm, err := s.h.clips.Clip(s.ctx, s.actor(), s.voiceID, phrase, s.h.cfg.OutputSampleRate)
	waited := max(0, s.h.cfg.Clock.Now().Sub(since))
	bc := &s.bc
	bc.mu.Lock()
	defer bc.mu.Unlock()
	bc.offering = false
	if err != nil {
		if s.ctx.Err() == nil {
			s.log.Warn("voice session: backchannel clip not synthesised", "phrase", phrase, "err", err)
		}
		return
	}
	if !bc.on || bc.pauseN != pauseN || bc.pause < 0 {
		return // the pause is over
	}
	at := ceilMS(max(bc.pos, decided+waited))
	clip := ceilMS(pcm.Duration())
	if voice.Backchannel.Check(bc.moment(at, clip)) != "" {
		return
	}
	bc.id++
	bc.count, bc.last = bc.count+1, at
	bc.active = &bcClip{id: bc.id, at: at, stop: at + clip}
	chunk := pcm.Rate * chunkMS / 1000
	s.send(backchannelEvent{Type: EvBackchannel, ID: bc.id, Phrase: phrase, AtMS: at.Milliseconds(),
		DurationMS: clip.Milliseconds(), SampleRate: pcm.Rate, Samples: len(pcm.Samples),
		Frames: (len(pcm.Samples) + chunk - 1) / chunk})
	for i := 0; i < len(pcm.Samples); i += chunk {
		frame := audioFrame(bc.id, pcm.Samples[i:min(i+chunk, len(pcm.Samples))])
		frame[0] = frameBackchannel
		if s.binary {
			s.conn.SendBinary(evBackchannelAudio, frame)
		} else {
			data, _ := json.Marshal(backchannelAudioEvent{Type: evBackchannelAudio, ID: bc.id,
				Audio: base64.StdEncoding.EncodeToString(frame[frameHeader:])})
			s.conn.SendText(evBackchannelAudio, data)
		}
	}
}

// cancelLocked tells the client to stop the playing clip at position at (bc.mu held).
func (s *Session) cancelLocked(at time.Duration, reason string) {
	bc := &s.bc
	s.send(backchannelCancelEvent{Type: evBackchannelCancel, ID: bc.active.id, AtMS: at.Milliseconds(), Reason: reason})
	bc.active = nil
}
