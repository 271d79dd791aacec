package voice

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/audit"
)

func TestBackchannelRules(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	// A pause at 3600 ms of an utterance that started at 400, end-of-speech silence 800 ms.
	ok := BackchannelMoment{Onset: ms(400), PauseStart: ms(3600), EndSilence: ms(800), At: ms(3800), Clip: ms(400)}
	for _, c := range []struct {
		name string
		edit func(*BackchannelMoment)
		want string
	}{
		{"fits", func(*BackchannelMoment) {}, ""},
		{"exactly 3 s of utterance", func(m *BackchannelMoment) { m.Onset = ms(600) }, ""},
		{"utterance too short", func(m *BackchannelMoment) { m.Onset = ms(601) }, "utterance_too_short"},
		{"pause not yet 200 ms", func(m *BackchannelMoment) { m.At = ms(3799) }, "no_pause"},
		{"clip ends where the utterance could end", func(m *BackchannelMoment) { m.Clip = ms(600) }, ""},
		{"clip runs past it", func(m *BackchannelMoment) { m.Clip = ms(601) }, "clip_too_long"},
		{"late start after a wait", func(m *BackchannelMoment) { m.At = ms(4100) }, "clip_too_long"},
		{"unknown clip length yet", func(m *BackchannelMoment) { m.Clip = 0; m.At = ms(4400) }, ""},
		{"second, 4 s after the first", func(m *BackchannelMoment) { m.Count, m.Last = 1, ms(-200) }, ""},
		{"second, too soon", func(m *BackchannelMoment) { m.Count, m.Last = 1, ms(-199) }, "spacing"},
		{"third allowed", func(m *BackchannelMoment) { m.Count, m.Last = 2, ms(-1000) }, ""},
		{"fourth refused", func(m *BackchannelMoment) { m.Count, m.Last = 3, 0 }, "max_per_utterance"},
	} {
		m := ok
		c.edit(&m)
		if got := Backchannel.Check(m); got != c.want {
			t.Errorf("%s: Check = %q, want %q", c.name, got, c.want)
		}
	}
}

func TestTrimSilence(t *testing.T) {
	p := PCM{Rate: 1000, Samples: make([]int16, 200)}
	for i := 50; i < 120; i++ {
		p.Samples[i] = 5000
	}
	p.Samples[10] = 300 // below -40 dBFS: trimmed as silence
	got := trimSilence(p)
	if len(got.Samples) != 70+2*10 || got.Samples[10] != 5000 {
		t.Fatalf("trimmed to %d samples (want 90: the sound and 10 ms on each side)", len(got.Samples))
	}
	if s := trimSilence(PCM{Rate: 1000, Samples: make([]int16, 50)}); len(s.Samples) != 0 {
		t.Fatal("a silent clip is empty")
	}
}

// loudTTS speaks every text as a short tone and counts its calls; it fails while fail is set.
type loudTTS struct {
	fakeTTS
	fail bool
}

func (f *loudTTS) Synthesize(_ context.Context, text string, opt SynthesizeOptions) (PCM, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, opt)
	if f.fail {
		return PCM{}, ErrInvalidInput
	}
	p := PCM{Rate: SampleRate, Samples: make([]int16, 100*len(text))}
	for i := range p.Samples {
		p.Samples[i] = 8000
	}
	return p, nil
}

// Clips are synthesised once per voice and phrase, the oldest go beyond the bound, and a
// failure is not kept.
func TestClipsCache(t *testing.T) {
	tts := &loudTTS{fakeTTS: fakeTTS{name: "fake", voices: []string{"a", "b"}, max: 100}}
	s := NewService(Config{TTS: []string{"fake"}, Providers: map[string]Provider{"fake": {TTS: tts}},
		Limits: Limits{MaxAudioSeconds: 10, STTTimeout: time.Second, TTSTimeout: time.Second}, Metrics: NewMetrics(nil)})
	c := NewClips(s, 3)
	ctx := context.Background()
	calls := func() int { tts.mu.Lock(); defer tts.mu.Unlock(); return len(tts.calls) }
	get := func(voice, phrase string) {
		t.Helper()
		p, err := c.Clip(ctx, audit.Actor{}, voice, phrase, SampleRate)
		require.NoError(t, err)
		require.Len(t, p.Samples, 100*len(phrase))
	}
	get("", "mm-hmm")
	get("a", "mm-hmm") // "" is the default voice a: the same clip
	get("a", "I see")
	require.Equal(t, 2, calls())
	get("b", "mm-hmm") // another voice
	require.Equal(t, 3, calls())
	get("b", "go on") // over the bound of 3: a/mm-hmm goes
	get("a", "I see")
	require.Equal(t, 4, calls())
	get("a", "mm-hmm")
	require.Equal(t, 5, calls())

	tts.mu.Lock()
	tts.fail = true
	tts.mu.Unlock()
	_, err := c.Clip(ctx, audit.Actor{}, "a", "right", SampleRate)
	require.Error(t, err)
	tts.mu.Lock()
	tts.fail = false
	tts.mu.Unlock()
	get("a", "right") // tried again
	require.Equal(t, 7, calls())
}
