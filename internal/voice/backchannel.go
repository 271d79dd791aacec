package voice

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/voiceassist/gateway/internal/audit"
)

// BackchannelRules are the timing rules of backchannel acknowledgements ("mm-hmm" while the
// user talks, issue 20). Every position is on the input audio timeline: the audio the client
// sent, so the same audio always gives the same decisions. docs/voice.md § Backchannel.
type BackchannelRules struct {
	Pause           time.Duration // silence inside an utterance that is a natural pause
	MinSpeech       time.Duration // the utterance has run this long (onset to the pause) first
	Spacing         time.Duration // between the starts of two acknowledgements
	MaxPerUtterance int
}

// Backchannel holds the rules the voice socket applies.
var Backchannel = BackchannelRules{Pause: 200 * time.Millisecond, MinSpeech: 3 * time.Second,
	Spacing: 4 * time.Second, MaxPerUtterance: 3}

// BackchannelPhrases are spoken in turn, one after the other, over a session.
var BackchannelPhrases = []string{"mm-hmm", "I see", "go on", "right"}

// BackchannelMoment is a candidate acknowledgement, positions on the input timeline.
type BackchannelMoment struct {
	Onset      time.Duration // the utterance's speech started here
	PauseStart time.Duration // the current silence started here
	EndSilence time.Duration // the silence that ends the utterance (vad.silence_ms)
	At         time.Duration // the clip would start here
	Clip       time.Duration // the clip's length (0: not known yet)
	Count      int           // acknowledgements already given in this utterance
	Last       time.Duration // the previous one started here (when Count > 0)
}

// Check says why the acknowledgement may not start ("" when it may). A clip must end before
// the utterance could end by silence, so none is playing when the answer comes; speech that
// resumes during it cancels it (the socket's part).
func (r BackchannelRules) Check(m BackchannelMoment) string {
	switch {
	case m.Count >= r.MaxPerUtterance:
		return "max_per_utterance"
	case m.PauseStart-m.Onset < r.MinSpeech:
		return "utterance_too_short"
	case m.At-m.PauseStart < r.Pause:
		return "no_pause"
	case m.Count > 0 && m.At-m.Last < r.Spacing:
		return "spacing"
	case m.At+m.Clip > m.PauseStart+m.EndSilence:
		return "clip_too_long"
	}
	return ""
}

// Clips synthesises acknowledgement clips lazily, on first use, with the voice the session
// speaks with, and keeps them in process: at most max clips (voice × phrase × rate), the
// oldest going first. Concurrent requests for one clip share its synthesis; a failure is not
// kept, so a later pause tries again.
type Clips struct {
	svc   *Service
	max   int
	mu    sync.Mutex
	clips map[clipKey]*clip
	order []clipKey
}

type clipKey struct {
	voice, phrase string
	rate          int
}

type clip struct {
	ready chan struct{}
	pcm   PCM
	err   error
}

// NewClips returns a cache of at most max clips (default 64: 16 voices × 4 phrases).
func NewClips(svc *Service, max int) *Clips {
	if max <= 0 {
		max = 64
	}
	return &Clips{svc: svc, max: max, clips: map[clipKey]*clip{}}
}

// Clip returns phrase spoken by voiceID (else the user's preferred voice, else the default)
// at normal speed, resampled to rate, without leading or trailing silence.
func (c *Clips) Clip(ctx context.Context, actor audit.Actor, voiceID, phrase string, rate int) (PCM, error) {
	if c == nil || c.svc == nil || len(c.svc.tts.Providers()) == 0 {
		return PCM{}, errors.New("voice: no speech provider")
	}
	opt, err := c.svc.options(ctx, actor, voiceID, 1)
	if err != nil {
		return PCM{}, err
	}
	if opt.Voice == "" { // the first provider's default: a voice named or not is one voice
		opt.Voice = c.svc.voiceOf(c.svc.tts.Providers()[0].Name(), "")
	}
	key := clipKey{voice: opt.Voice, phrase: phrase, rate: rate}
	c.mu.Lock()
	e, ok := c.clips[key]
	if !ok {
		e = &clip{ready: make(chan struct{})}
		c.clips[key] = e
		c.order = append(c.order, key)
		for len(c.order) > c.max {
			delete(c.clips, c.order[0])
			c.order = c.order[1:]
		}
	}
	c.mu.Unlock()
	if !ok {
		e.pcm, e.err = c.synthesize(ctx, opt, phrase, rate)
		if e.err != nil {
			c.forget(key, e)
		}
		close(e.ready)
	}
	select {
	case <-e.ready:
		return e.pcm, e.err
	case <-ctx.Done():
		return PCM{}, ctx.Err()
	}
}

func (c *Clips) synthesize(ctx context.Context, opt SynthesizeOptions, phrase string, rate int) (PCM, error) {
	sp, err := c.svc.tts.Speaker(opt, c.svc.limits.TTSTimeout)
	if err != nil {
		return PCM{}, err
	}
	p, err := sp.Speak(ctx, phrase)
	if err != nil {
		return PCM{}, err
	}
	p = trimSilence(Resample(p, rate))
	if len(p.Samples) == 0 {
		return PCM{}, errors.New("voice: the clip is silent")
	}
	return p, nil
}

func (c *Clips) forget(key clipKey, e *clip) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.clips[key] != e {
		return
	}
	delete(c.clips, key)
	for i, k := range c.order {
		if k == key {
			c.order = append(c.order[:i], c.order[i+1:]...)
			break
		}
	}
}

// trimSilence cuts what is quieter than -40 dBFS at both ends, keeping 10 ms around the
// sound: providers pad short phrases, and every millisecond of a clip must fit in a pause.
func trimSilence(p PCM) PCM {
	const level = 328
	first, last := -1, -1
	for i, s := range p.Samples {
		if s > level || s < -level {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return PCM{Rate: p.Rate}
	}
	margin := p.Rate / 100
	p.Samples = p.Samples[max(0, first-margin):min(len(p.Samples), last+1+margin)]
	return p
}
