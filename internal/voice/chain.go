package voice

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrTransient marks a provider failure worth trying elsewhere: a timeout, a 5xx or a
// dropped connection of a cloud provider. Providers wrap their errors with it.
var ErrTransient = errors.New("voice: transient provider error")

// IsRetryable reports whether another provider may succeed where one failed with err: the
// provider was unavailable, overloaded or transiently broken. Input errors
// (ErrInvalidInput, ErrUndecodable, ErrTooLong, ...) would fail everywhere, and a finished
// context means the caller stopped waiting, so neither is retried.
func IsRetryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) {
		return false
	}
	return errors.Is(err, ErrUnavailable) || errors.Is(err, ErrOverloaded) || errors.Is(err, ErrTransient)
}

// Route says which provider answered a chained call.
type Route struct {
	Provider string  // the provider that answered ("" when none did)
	Fallback bool    // it was not the first provider tried
	Failed   []error // the retryable failures of the providers tried before, wrapped with their names
}

// chainError picks the error a failed chain returns: an overloaded provider first (the
// caller can retry later, so the API answers 503 with Retry-After), else the last failure.
func chainError(failed []error) error {
	if len(failed) == 0 {
		return fmt.Errorf("%w: no provider configured", ErrUnavailable)
	}
	for _, err := range failed {
		if errors.Is(err, ErrOverloaded) {
			return err
		}
	}
	return failed[len(failed)-1]
}

// STTChain tries speech-to-text providers in order, moving to the next only when one fails
// retryably (IsRetryable); any other error is returned at once.
type STTChain struct{ providers []STT }

// NewSTTChain chains providers, the preferred first.
func NewSTTChain(providers ...STT) *STTChain { return &STTChain{providers: providers} }

// Providers returns the chained providers in order.
func (c *STTChain) Providers() []STT { return c.providers }

// Transcribe runs the first provider that answers. The transcript's Provider is set.
func (c *STTChain) Transcribe(ctx context.Context, audio PCM, opt TranscribeOptions) (Transcript, Route, error) {
	var route Route
	for i, p := range c.providers {
		t, err := p.Transcribe(ctx, audio, opt)
		if err == nil {
			route.Provider, route.Fallback = p.Name(), i > 0
			if t.Provider == "" {
				t.Provider = p.Name()
			}
			return t, route, nil
		}
		err = fmt.Errorf("%s: %w", p.Name(), err)
		if !IsRetryable(err) || ctx.Err() != nil {
			return Transcript{}, route, err
		}
		route.Failed = append(route.Failed, err)
	}
	return Transcript{}, route, chainError(route.Failed)
}

// TTSChain tries text-to-speech providers in order, moving on only when one fails
// retryably (IsRetryable). A requested voice routes to the providers that offer it first;
// a fallback provider that lacks it speaks in its default voice rather than fail.
//
// SynthesizeStream falls back only before the first audio is handed to the caller: once a
// client has received audio in one voice, a failure ends the stream with the error
// instead of continuing in another voice or repeating speech.
type TTSChain struct{ providers []TTS }

// NewTTSChain chains providers, the preferred first.
func NewTTSChain(providers ...TTS) *TTSChain { return &TTSChain{providers: providers} }

// Providers returns the chained providers in order.
func (c *TTSChain) Providers() []TTS { return c.providers }

// Voices lists the voices of every provider, in chain order.
func (c *TTSChain) Voices() []Voice {
	var out []Voice
	for _, p := range c.providers {
		out = append(out, p.Voices()...)
	}
	return out
}

// MaxChars is the longest text every provider accepts, so a fallback never refuses a text
// the first provider took (0 without providers).
func (c *TTSChain) MaxChars() int {
	n := 0
	for i, p := range c.providers {
		if i == 0 || p.MaxChars() < n {
			n = p.MaxChars()
		}
	}
	return n
}

// attempt is one provider with the options it is called with.
type attempt struct {
	tts TTS
	opt SynthesizeOptions
}

// plan orders the providers for a request: those offering opt.Voice first (all, in order,
// when no voice is asked for), then the others with their default voice. An unknown voice
// is ErrInvalidInput.
func (c *TTSChain) plan(opt SynthesizeOptions) ([]attempt, error) {
	var first, rest []attempt
	for _, p := range c.providers {
		if opt.Voice == "" || hasVoice(p, opt.Voice) {
			first = append(first, attempt{p, opt})
		} else {
			o := opt
			o.Voice = ""
			rest = append(rest, attempt{p, o})
		}
	}
	if len(first) == 0 && len(c.providers) > 0 {
		return nil, fmt.Errorf("%w: unknown voice %q", ErrInvalidInput, opt.Voice)
	}
	return append(first, rest...), nil
}

func hasVoice(p TTS, id string) bool {
	for _, v := range p.Voices() {
		if v.ID == id {
			return true
		}
	}
	return false
}

// Synthesize renders text with the first provider that answers.
func (c *TTSChain) Synthesize(ctx context.Context, text string, opt SynthesizeOptions) (PCM, Route, error) {
	var route Route
	plan, err := c.plan(opt)
	if err != nil {
		return PCM{}, route, err
	}
	for i, a := range plan {
		p, err := a.tts.Synthesize(ctx, text, a.opt)
		if err == nil {
			route.Provider, route.Fallback = a.tts.Name(), i > 0
			return p, route, nil
		}
		err = fmt.Errorf("%s: %w", a.tts.Name(), err)
		if !IsRetryable(err) || ctx.Err() != nil {
			return PCM{}, route, err
		}
		route.Failed = append(route.Failed, err)
	}
	return PCM{}, route, chainError(route.Failed)
}

// Speaker speaks one sentence at a time with a provider chosen on the first sentence
// (with fallback) and kept for the rest: a listener who has heard one voice must not hear the
// next sentence in another or hear a sentence twice. Not safe for concurrent use.
type Speaker struct {
	plan        []attempt
	chosen      *attempt
	route       Route
	perSentence time.Duration
}

// Speaker starts a sentence-by-sentence synthesis; each sentence gets at most perSentence
// (0 = no limit beyond the caller's context).
func (c *TTSChain) Speaker(opt SynthesizeOptions, perSentence time.Duration) (*Speaker, error) {
	plan, err := c.plan(opt)
	if err != nil {
		return nil, err
	}
	return &Speaker{plan: plan, perSentence: perSentence}, nil
}

// Route is the provider that speaks (valid once a sentence was spoken).
func (s *Speaker) Route() Route { return s.route }

// Speak renders one sentence. Before a provider is chosen a retryable failure moves on to
// the next provider; afterwards every failure is returned as is.
func (s *Speaker) Speak(ctx context.Context, sentence string) (PCM, error) {
	if s.chosen != nil {
		p, err := s.try(ctx, *s.chosen, sentence)
		if err != nil {
			return PCM{}, fmt.Errorf("%s: %w", s.chosen.tts.Name(), err)
		}
		return p, nil
	}
	for i := range s.plan {
		a := s.plan[i]
		p, err := s.try(ctx, a, sentence)
		if err == nil {
			s.chosen = &s.plan[i]
			s.route.Provider, s.route.Fallback = a.tts.Name(), i > 0
			return p, nil
		}
		err = fmt.Errorf("%s: %w", a.tts.Name(), err)
		if !IsRetryable(err) || ctx.Err() != nil {
			return PCM{}, err
		}
		s.route.Failed = append(s.route.Failed, err)
	}
	return PCM{}, chainError(s.route.Failed)
}

func (s *Speaker) try(ctx context.Context, a attempt, sentence string) (PCM, error) {
	sctx := ctx
	if s.perSentence > 0 {
		var cancel context.CancelFunc
		sctx, cancel = context.WithTimeout(ctx, s.perSentence)
		defer cancel()
	}
	p, err := a.tts.Synthesize(sctx, sentence, a.opt)
	if err != nil && sctx.Err() == context.DeadlineExceeded && ctx.Err() == nil {
		err = fmt.Errorf("%w: %w", ErrTransient, context.DeadlineExceeded)
	}
	return p, err
}

// SynthesizeStream speaks text sentence by sentence (Sentences) with a Speaker, calling emit
// with each sentence's audio (and the route) as soon as it is rendered, so playback starts
// before the whole text is synthesised. An error from emit stops the stream and is returned.
// The Route is valid whenever some audio was emitted.
func (c *TTSChain) SynthesizeStream(ctx context.Context, text string, opt SynthesizeOptions, emit func(PCM, Route) error, perSentence time.Duration) (Route, error) {
	sentences := Sentences(text)
	if len(sentences) == 0 {
		return Route{}, fmt.Errorf("%w: empty text", ErrInvalidInput)
	}
	sp, err := c.Speaker(opt, perSentence)
	if err != nil {
		return Route{}, err
	}
	for _, s := range sentences {
		p, err := sp.Speak(ctx, s)
		if err != nil {
			return sp.Route(), err
		}
		if err := emit(p, sp.Route()); err != nil {
			return sp.Route(), err
		}
	}
	return sp.Route(), nil
}
