package voice

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the voiceassist_voice_* series.
type Metrics struct {
	stt       *prometheus.HistogramVec
	tts       *prometheus.HistogramVec
	audio     *prometheus.CounterVec
	errors    *prometheus.CounterVec
	fallbacks *prometheus.CounterVec
}

// NewMetrics registers the voice metrics (reg nil: unregistered, for tests).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	buckets := []float64{.025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}
	m := &Metrics{
		stt: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "voiceassist_voice_stt_duration_seconds",
			Help: "Speech-to-text call duration by provider.", Buckets: buckets}, []string{"provider"}),
		tts: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "voiceassist_voice_tts_duration_seconds",
			Help: "Text-to-speech call (one text or one sentence of a stream) duration by provider.", Buckets: buckets}, []string{"provider"}),
		audio: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "voiceassist_voice_audio_seconds_total",
			Help: "Seconds of audio processed: in (transcribed) and out (synthesised)."}, []string{"direction"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "voiceassist_voice_errors_total",
			Help: "Voice request failures by operation (stt, tts) and kind."}, []string{"op", "kind"}),
		fallbacks: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "voiceassist_voice_fallbacks_total",
			Help: "Requests answered by a provider after an earlier one failed, by operation."}, []string{"op"}),
	}
	if reg != nil {
		reg.MustRegister(m.stt, m.tts, m.audio, m.errors, m.fallbacks)
	}
	return m
}

// observedSTT times a provider and records its health in the registry.
type observedSTT struct {
	STT
	s *Service
}

func (o observedSTT) Transcribe(ctx context.Context, audio PCM, opt TranscribeOptions) (Transcript, error) {
	start := time.Now()
	t, err := o.STT.Transcribe(ctx, audio, opt)
	o.s.observe("stt", o.Name(), time.Since(start), err)
	return t, err
}

// observedTTS times a provider and records its health in the registry.
type observedTTS struct {
	TTS
	s *Service
}

func (o observedTTS) Synthesize(ctx context.Context, text string, opt SynthesizeOptions) (PCM, error) {
	start := time.Now()
	p, err := o.TTS.Synthesize(ctx, text, opt)
	o.s.observe("tts", o.Name(), time.Since(start), err)
	return p, err
}

// observe records a provider call: its duration, and its health unless the failure was the
// caller's (bad input, a cancelled request say nothing about the provider).
func (s *Service) observe(op, provider string, d time.Duration, err error) {
	h := s.metrics.stt
	if op == "tts" {
		h = s.metrics.tts
	}
	h.WithLabelValues(provider).Observe(d.Seconds())
	reason := ""
	if err != nil {
		switch reason = kindOf(err); reason {
		case "invalid", "undecodable", "too_long", "unsupported", "canceled":
			return
		}
	}
	s.health.Observe(op+":"+provider, d, reason)
}
