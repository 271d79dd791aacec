package voice

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/health"
)

// A build without the offline voice answers 503 VOICE_UNAVAILABLE naming what is missing.
func TestServiceWithoutProviders(t *testing.T) {
	t.Parallel()
	missing := fmt.Errorf("%w: offline voice not built in: install libpocketsphinx-dev and build with -tags offlinevoice", ErrUnavailable)
	s := NewService(Config{STT: []string{"offline"}, TTS: []string{"openai", "offline"},
		Providers: map[string]Provider{"offline": {Ready: func() error { return missing }}},
		Limits:    Limits{MaxAudioSeconds: 10, STTTimeout: time.Second, TTSTimeout: time.Second},
		Metrics:   NewMetrics(nil)})

	_, err := s.Transcribe(context.Background(), audit.Actor{}, TranscribeRequest{Audio: EncodeWAV(PCM{Rate: 16000, Samples: make([]int16, 1600)})})
	var ae *apierr.Error
	require.ErrorAs(t, err, &ae)
	require.Equal(t, http.StatusServiceUnavailable, ae.Status)
	require.Equal(t, "VOICE_UNAVAILABLE", ae.Code)
	require.Contains(t, ae.Message, "libpocketsphinx-dev")
	require.Empty(t, ae.Headers["Retry-After"], "waiting will not install packages")

	_, err = s.Synthesize(context.Background(), audit.Actor{}, SynthesizeRequest{Text: "Hello."})
	require.ErrorAs(t, err, &ae)
	require.Equal(t, "VOICE_UNAVAILABLE", ae.Code)
	require.Contains(t, ae.Message, "openai: not configured")

	st := s.Status()
	require.Len(t, st.Providers, 3)
	for _, p := range st.Providers {
		require.Equal(t, "unavailable", p.State, p.Name)
	}
	require.Error(t, s.Probe(context.Background()))
}

type failingSTT struct{ err error }

func (failingSTT) Name() string { return "fake" }
func (f failingSTT) Transcribe(ctx context.Context, a PCM, _ TranscribeOptions) (Transcript, error) {
	if f.err != nil {
		return Transcript{}, f.err
	}
	return Transcript{Text: "ok", Duration: a.Duration()}, nil
}

func TestServiceErrorMapping(t *testing.T) {
	t.Parallel()
	wav := EncodeWAV(PCM{Rate: 16000, Samples: make([]int16, 1600)})
	for _, c := range []struct {
		err    error
		status int
		code   string
	}{
		{fmt.Errorf("%w: busy", ErrOverloaded), http.StatusServiceUnavailable, "VOICE_OVERLOADED"},
		{fmt.Errorf("%w: bad language", ErrInvalidInput), http.StatusUnprocessableEntity, "VALIDATION_ERROR"},
		{fmt.Errorf("%w: upstream 502", ErrTransient), http.StatusServiceUnavailable, "VOICE_UNAVAILABLE"},
		{context.DeadlineExceeded, http.StatusGatewayTimeout, "VOICE_TIMEOUT"},
		{errors.New("provider said: the patient John Smith ..."), http.StatusServiceUnavailable, "VOICE_UNAVAILABLE"},
	} {
		reg := &health.Registry{}
		s := NewService(Config{STT: []string{"fake"}, Providers: map[string]Provider{"fake": {STT: failingSTT{c.err}}},
			Limits: Limits{MaxAudioSeconds: 10, STTTimeout: time.Second}, Metrics: NewMetrics(nil), Health: reg})
		_, err := s.Transcribe(context.Background(), audit.Actor{}, TranscribeRequest{Audio: wav})
		var ae *apierr.Error
		require.ErrorAs(t, err, &ae, "%v", c.err)
		require.Equal(t, c.status, ae.Status, "%v", c.err)
		require.Equal(t, c.code, ae.Code, "%v", c.err)
		require.NotContains(t, ae.Message, "John Smith", "a provider's own message may echo input: never passed on")
		if c.code == "VOICE_OVERLOADED" {
			require.NotEmpty(t, ae.Headers["Retry-After"])
		}
		o, seen := reg.Get("stt:fake")
		if c.code == "VALIDATION_ERROR" {
			require.False(t, seen, "the caller's bad input says nothing about the provider's health")
		} else {
			require.True(t, seen)
			require.False(t, o.OK)
		}
	}
}

func TestReasonAndSpeed(t *testing.T) {
	t.Parallel()
	require.Equal(t, "Invalid input: empty text", publicReason(fmt.Errorf("offline: %w", fmt.Errorf("%w: empty text", ErrInvalidInput))))
	require.Equal(t, "The speech provider failed", publicReason(errors.New("boom")))
	require.Equal(t, 1.0, clampSpeed(0))
	require.Equal(t, 0.5, clampSpeed(0.1))
	require.Equal(t, 2.0, clampSpeed(9))
	require.Equal(t, 1.3, clampSpeed(1.3))
}
