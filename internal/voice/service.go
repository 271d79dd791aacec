package voice

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/conversation"
	"github.com/voiceassist/gateway/internal/health"
	"github.com/voiceassist/gateway/internal/ratelimit"
)

// Limits bound what one request may ask of the providers.
type Limits struct {
	MaxAudioSeconds int
	STTTimeout      time.Duration
	TTSTimeout      time.Duration
	RelayPerMinute  int
}

// Provider is one configured provider with what the status report says about it.
type Provider struct {
	STT      STT
	TTS      TTS
	External bool         // audio leaves the deployment
	Loaded   func() int   // models loaded in this process (nil when not applicable)
	Ready    func() error // nil when the provider can serve at all (packages present, ...)
}

// Service is the voice domain: transcription and synthesis through provider chains,
// preferences, and the status of the providers. Audio and transcripts are PHI: they are
// never logged and never put into audit details.
type Service struct {
	stt       *STTChain
	tts       *TTSChain
	providers map[string]Provider
	limits    Limits
	pool      *pgxpool.Pool
	q         *db.Queries
	health    *health.Registry
	limiter   *ratelimit.Limiter
	chats     *conversation.Service
	metrics   *Metrics
	log       *slog.Logger
	cloud     bool
	// missing says why no provider of a chain is available (packages not installed, cloud
	// not allowed), for the 503 a request then gets.
	missing []string
	// sttNames and ttsNames are the configured chains, usable or not (for Status).
	sttNames, ttsNames []string
}

// Config assembles a Service.
type Config struct {
	// STT and TTS name the providers of each chain in the order they are tried.
	STT, TTS   []string
	Providers  map[string]Provider
	AllowCloud bool // when false, external providers are left out of both chains
	Limits     Limits
	Pool       *pgxpool.Pool
	Health     *health.Registry
	Limiter    *ratelimit.Limiter
	Chats      *conversation.Service // answers relayed transcripts
	Metrics    *Metrics
	Log        *slog.Logger
}

// NewService builds the chains from the configured order.
func NewService(c Config) *Service {
	s := &Service{providers: c.Providers, limits: c.Limits, pool: c.Pool, q: db.New(c.Pool),
		health: c.Health, limiter: c.Limiter, chats: c.Chats, metrics: c.Metrics, log: c.Log, cloud: c.AllowCloud,
		sttNames: c.STT, ttsNames: c.TTS}
	if s.health == nil {
		s.health = &health.Registry{}
	}
	var stt []STT
	var tts []TTS
	var seen []string
	for _, name := range append(slices.Clone(c.STT), c.TTS...) {
		if slices.Contains(seen, name) {
			continue
		}
		seen = append(seen, name)
		p, ok := c.Providers[name]
		switch {
		case !ok:
			s.missing = append(s.missing, name+": not configured")
			continue
		case p.External && !c.AllowCloud:
			s.missing = append(s.missing, name+": VOICE_ALLOW_CLOUD=false keeps audio from external providers")
			continue
		case p.Ready != nil && p.Ready() != nil:
			s.missing = append(s.missing, name+": "+strings.TrimPrefix(p.Ready().Error(), ErrUnavailable.Error()+": "))
			continue
		}
		if p.STT != nil && slices.Contains(c.STT, name) {
			stt = append(stt, observedSTT{p.STT, s})
		}
		if p.TTS != nil && slices.Contains(c.TTS, name) {
			tts = append(tts, observedTTS{p.TTS, s})
		}
	}
	s.stt, s.tts = NewSTTChain(stt...), NewTTSChain(tts...)
	return s
}

// unavailable is the error of a chain without providers, with the reasons.
func (s *Service) unavailable(what string) error {
	reason := "none is configured"
	if len(s.missing) > 0 {
		reason = strings.Join(s.missing, "; ")
	}
	return fmt.Errorf("%w: %w: no %s provider can run here: %s", ErrUnavailable, errNoProvider, what, reason)
}

// errNoProvider marks an unavailable error that waiting will not cure (nothing can run here):
// it gets no Retry-After.
var errNoProvider = errors.New("not installed or configured")

// TranscribeRequest is one upload to transcribe.
type TranscribeRequest struct {
	Audio   []byte
	Options TranscribeOptions
}

// TranscribeResult is a transcript and the route that produced it.
type TranscribeResult struct {
	Transcript
	Fallback bool
}

// Transcribe decodes the upload (the container is sniffed from its bytes), runs the STT
// chain within the STT timeout and audits that a transcription happened.
func (s *Service) Transcribe(ctx context.Context, actor audit.Actor, req TranscribeRequest) (TranscribeResult, error) {
	ctx, cancel := context.WithTimeout(ctx, s.limits.STTTimeout)
	defer cancel()
	pcm, container, err := Decode(ctx, req.Audio, float64(s.limits.MaxAudioSeconds))
	if err != nil {
		return TranscribeResult{}, s.fail("stt", ctx, err)
	}
	t, fallback, err := s.transcribe(ctx, pcm, req.Options)
	if err != nil {
		return TranscribeResult{}, err
	}
	s.audit(actor, "voice.transcribed", map[string]any{
		"bytes": len(req.Audio), "container": string(container), "duration_seconds": round(pcm.Duration().Seconds()),
		"provider": t.Provider, "fallback": fallback,
	})
	return TranscribeResult{Transcript: t, Fallback: fallback}, nil
}

// TranscribePCM transcribes audio that is already PCM (an utterance of a voice session),
// within the STT timeout; it is not audited (the session is, once).
func (s *Service) TranscribePCM(ctx context.Context, pcm PCM, opt TranscribeOptions) (Transcript, error) {
	ctx, cancel := context.WithTimeout(ctx, s.limits.STTTimeout)
	defer cancel()
	t, _, err := s.transcribe(ctx, pcm, opt)
	return t, err
}

func (s *Service) transcribe(ctx context.Context, pcm PCM, opt TranscribeOptions) (Transcript, bool, error) {
	if len(s.stt.Providers()) == 0 {
		return Transcript{}, false, s.fail("stt", ctx, s.unavailable("speech-to-text"))
	}
	t, route, err := s.stt.Transcribe(ctx, pcm, opt)
	if err != nil {
		return Transcript{}, false, s.fail("stt", ctx, err)
	}
	if route.Fallback {
		s.metrics.fallbacks.WithLabelValues("stt").Inc()
	}
	s.metrics.audio.WithLabelValues("in").Add(pcm.Duration().Seconds())
	if t.Duration == 0 {
		t.Duration = pcm.Duration()
	}
	if t.Language == "" {
		t.Language = "en"
	}
	return t, route.Fallback, nil
}

// SynthesizeRequest is one text to speak.
type SynthesizeRequest struct {
	Text   string
	Voice  string  // "" = the caller's preference, else the provider default
	Format string  // wav, mp3, opus, pcm
	Speed  float64 // 0 = the caller's preference
}

// Speech is synthesised audio and how it was made.
type Speech struct {
	Audio       []byte
	ContentType string
	Provider    string
	Fallback    bool
	Voice       string
}

// Synthesize renders the whole text in the requested format.
func (s *Service) Synthesize(ctx context.Context, actor audit.Actor, req SynthesizeRequest) (Speech, error) {
	opt, err := s.prepare(ctx, actor, &req, FormatWAV)
	if err != nil {
		return Speech{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.limits.TTSTimeout)
	defer cancel()
	pcm, route, err := s.tts.Synthesize(ctx, req.Text, opt)
	if err != nil {
		return Speech{}, s.fail("tts", ctx, err)
	}
	audio, ct, err := Encode(ctx, pcm, req.Format)
	if err != nil {
		return Speech{}, s.fail("tts", ctx, err)
	}
	s.synthesized(actor, route, req, pcm.Duration(), false)
	return Speech{Audio: audio, ContentType: ct, Provider: route.Provider, Fallback: route.Fallback, Voice: s.voiceOf(route.Provider, opt.Voice)}, nil
}

// StreamStart is what a stream's headers say, known once the first sentence is rendered.
type StreamStart struct {
	ContentType string
	Provider    string
	Fallback    bool
	Voice       string
}

// Stream speaks the text sentence by sentence into w. start is called once, before the
// first byte, when the provider is chosen (fallback happens only before it); an error
// before start is a normal API error, one after it ends the stream early. Each sentence
// has the TTS timeout.
func (s *Service) Stream(ctx context.Context, actor audit.Actor, req SynthesizeRequest, w io.Writer, start func(StreamStart) error) error {
	if req.Format == FormatWAV {
		return apierr.Invalid("format", "wav cannot be streamed (its header needs the length); use pcm, mp3 or opus")
	}
	opt, err := s.prepare(ctx, actor, &req, FormatPCM)
	if err != nil {
		return err
	}
	var enc io.WriteCloser
	var total time.Duration
	route, err := s.tts.SynthesizeStream(ctx, req.Text, opt, func(p PCM, r Route) error {
		if enc == nil {
			e, ct, err := NewStreamEncoder(ctx, req.Format, w)
			if err != nil {
				return err
			}
			if err := start(StreamStart{ContentType: ct, Provider: r.Provider, Fallback: r.Fallback, Voice: s.voiceOf(r.Provider, opt.Voice)}); err != nil {
				_ = e.Close()
				return err
			}
			enc = e
		}
		total += p.Duration()
		_, err := enc.Write(PCMBytes(p))
		return err
	}, s.limits.TTSTimeout)
	if enc != nil {
		if cerr := enc.Close(); err == nil {
			err = cerr
		}
		s.synthesized(actor, route, req, total, true)
	}
	if err != nil {
		if enc != nil {
			s.log.WarnContext(ctx, "voice stream ended early", "provider", route.Provider, "error_kind", kindOf(err))
			return err
		}
		return s.fail("tts", ctx, err)
	}
	return nil
}

// Speaker starts sentence-by-sentence speech for a voice session: voice and speed from the
// request, else from the user's preferences; each sentence gets the TTS timeout.
func (s *Service) Speaker(ctx context.Context, actor audit.Actor, voiceID string) (*Speaker, error) {
	return s.SpeakerAt(ctx, actor, voiceID, 1)
}

// SpeakerAt is Speaker with the user's speed multiplied by factor (0 = 1), as emotion
// adaptation asks; the result stays within the providers' 0.5–2.
func (s *Service) SpeakerAt(ctx context.Context, actor audit.Actor, voiceID string, factor float64) (*Speaker, error) {
	if len(s.tts.Providers()) == 0 {
		return nil, s.fail("tts", ctx, s.unavailable("text-to-speech"))
	}
	opt, err := s.options(ctx, actor, voiceID, 0)
	if err != nil {
		return nil, err
	}
	if factor > 0 && factor != 1 {
		opt.Speed = clampSpeed(opt.Speed * factor)
	}
	sp, err := s.tts.Speaker(opt, s.limits.TTSTimeout)
	if err != nil {
		return nil, s.fail("tts", ctx, err)
	}
	return sp, nil
}

// Spoken counts speech a voice session produced (metrics), like a synthesis.
func (s *Service) Spoken(route Route, d time.Duration) {
	if route.Fallback {
		s.metrics.fallbacks.WithLabelValues("tts").Inc()
	}
	s.metrics.audio.WithLabelValues("out").Add(d.Seconds())
}

// prepare validates a synthesis request and fills voice and speed from the preferences.
func (s *Service) prepare(ctx context.Context, actor audit.Actor, req *SynthesizeRequest, format string) (SynthesizeOptions, error) {
	if req.Format == "" {
		req.Format = format
	}
	if err := checkFormat(req.Format); err != nil {
		return SynthesizeOptions{}, s.fail("tts", ctx, err)
	}
	if len(s.tts.Providers()) == 0 {
		return SynthesizeOptions{}, s.fail("tts", ctx, s.unavailable("text-to-speech"))
	}
	if n := len([]rune(req.Text)); n > s.tts.MaxChars() {
		return SynthesizeOptions{}, apierr.Invalid("text", fmt.Sprintf("is %d characters; the speech providers take at most %d", n, s.tts.MaxChars()))
	}
	if len(Sentences(req.Text)) == 0 {
		return SynthesizeOptions{}, apierr.Invalid("text", "has nothing to speak")
	}
	return s.options(ctx, actor, req.Voice, req.Speed)
}

// options fills voice and speed from the user's preferences where not given.
func (s *Service) options(ctx context.Context, actor audit.Actor, voiceID string, speed float64) (SynthesizeOptions, error) {
	if (voiceID == "" || speed == 0) && actor.ID != nil {
		p, err := s.Preferences(ctx, *actor.ID)
		if err != nil {
			return SynthesizeOptions{}, err
		}
		if voiceID == "" && p.Voice != nil && s.hasVoice(*p.Voice) {
			voiceID = *p.Voice
		}
		if speed == 0 {
			speed = p.Speed
		}
	}
	if voiceID != "" && !s.hasVoice(voiceID) {
		return SynthesizeOptions{}, apierr.Invalid("voice", "is not a voice of the configured providers (GET /api/voice/voices)")
	}
	return SynthesizeOptions{Voice: voiceID, Speed: clampSpeed(speed)}, nil
}

func (s *Service) synthesized(actor audit.Actor, route Route, req SynthesizeRequest, d time.Duration, stream bool) {
	if route.Fallback {
		s.metrics.fallbacks.WithLabelValues("tts").Inc()
	}
	s.metrics.audio.WithLabelValues("out").Add(d.Seconds())
	s.audit(actor, "voice.synthesized", map[string]any{
		"characters": len([]rune(req.Text)), "duration_seconds": round(d.Seconds()), "format": req.Format,
		"provider": route.Provider, "fallback": route.Fallback, "stream": stream,
	})
}

func (s *Service) hasVoice(id string) bool {
	for _, v := range s.tts.Voices() {
		if v.ID == id {
			return true
		}
	}
	return false
}

// voiceOf names the voice a provider spoke with: the requested one or its default.
func (s *Service) voiceOf(provider, requested string) string {
	for _, v := range s.tts.Voices() {
		if v.Provider == provider && (v.ID == requested || (requested == "" && v.Default)) {
			return v.ID
		}
	}
	return requested
}

// Voices lists every configured provider's voices, the preferred provider first.
func (s *Service) Voices() ([]Voice, []string) {
	var names []string
	for _, p := range s.tts.Providers() {
		names = append(names, p.Name())
	}
	return s.tts.Voices(), names
}

// audit records that speech was processed: sizes, durations, provider; never content.
// It runs after the response is decided, on its own context, so a client hanging up does
// not lose the record.
func (s *Service) audit(actor audit.Actor, action string, details map[string]any) {
	if s.pool == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := audit.RecordNow(ctx, s.pool, audit.Entry{Actor: actor, Action: action, ResourceType: "voice", Success: true, Details: details}); err != nil {
		s.log.Error("voice: audit", "action", action, "error", err)
	}
}

// fail maps a provider or decoder error to the API error, and counts it.
func (s *Service) fail(kind string, ctx context.Context, err error) error {
	var ae *apierr.Error
	if errors.As(err, &ae) {
		return ae
	}
	k := kindOf(err)
	if ctx.Err() == context.DeadlineExceeded {
		k = "timeout"
	}
	s.metrics.errors.WithLabelValues(kind, k).Inc()
	switch k {
	case "unsupported":
		return apierr.New(http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", publicReason(err)).WithField("audio")
	case "undecodable":
		return apierr.New(http.StatusUnprocessableEntity, "VALIDATION_ERROR", publicReason(err)).WithField("audio")
	case "too_long":
		return apierr.New(http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE",
			fmt.Sprintf("The audio is longer than %d seconds", s.limits.MaxAudioSeconds)).WithField("audio")
	case "invalid":
		return apierr.New(http.StatusUnprocessableEntity, "VALIDATION_ERROR", publicReason(err))
	case "timeout":
		return apierr.New(http.StatusGatewayTimeout, "VOICE_TIMEOUT", "The speech provider did not answer in time")
	case "overloaded":
		return apierr.New(http.StatusServiceUnavailable, "VOICE_OVERLOADED", "Every speech worker is busy; retry shortly").
			WithHeader("Retry-After", strconv.Itoa(2))
	case "canceled":
		return apierr.New(499, "CLIENT_CLOSED", "The client went away")
	}
	e := apierr.New(http.StatusServiceUnavailable, "VOICE_UNAVAILABLE", publicReason(err))
	if !errors.Is(err, errNoProvider) {
		e = e.WithHeader("Retry-After", "30") // a provider failed: it may recover
	}
	return e
}

// kindOf classifies an error for metrics and status mapping.
func kindOf(err error) string {
	switch {
	case errors.Is(err, ErrUnsupportedContainer):
		return "unsupported"
	case errors.Is(err, ErrUndecodable):
		return "undecodable"
	case errors.Is(err, ErrTooLong):
		return "too_long"
	case errors.Is(err, ErrInvalidInput):
		return "invalid"
	case errors.Is(err, ErrOverloaded):
		return "overloaded"
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "canceled"
	case errors.Is(err, ErrUnavailable):
		return "unavailable"
	}
	return "provider"
}

// publicReason is an error's message without the chain's provider prefixes when it is one
// of ours (the sentinel texts and their wrapped reasons are written for clients); anything
// else gets a generic sentence, since a provider's message may echo the input.
func publicReason(err error) string {
	for _, sentinel := range []error{ErrUnsupportedContainer, ErrUndecodable, ErrInvalidInput, ErrUnavailable} {
		if errors.Is(err, sentinel) {
			return reasonAfter(err.Error(), sentinel.Error())
		}
	}
	return "The speech provider failed"
}

// reasonAfter turns "offline: voice: invalid input: empty text" into "Invalid input: empty text".
func reasonAfter(msg, sentinel string) string {
	for i := 0; i+len(sentinel) <= len(msg); i++ {
		if msg[i:i+len(sentinel)] == sentinel {
			msg = msg[i:]
			break
		}
	}
	const prefix = "voice: "
	if len(msg) > len(prefix) && msg[:len(prefix)] == prefix {
		msg = msg[len(prefix):]
	}
	r, n := utf8.DecodeRuneInString(msg)
	return string(unicode.ToUpper(r)) + msg[n:]
}

func clampSpeed(v float64) float64 {
	switch {
	case v == 0:
		return 1
	case v < 0.5:
		return 0.5
	case v > 2:
		return 2
	}
	return v
}

func round(v float64) float64 { return float64(int64(v*1000+0.5)) / 1000 }
