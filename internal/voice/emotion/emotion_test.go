package emotion_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/voice"
	"github.com/voiceassist/gateway/internal/voice/emotion"
)

// tone is seconds of a 180 Hz tone whose amplitude follows amp (one value per 100 ms,
// cycled), over a faint hiss.
func tone(seconds float64, amp ...float64) []int16 {
	out := make([]int16, int(seconds*16000))
	for i := range out {
		a := amp[(i/1600)%len(amp)]
		out[i] = int16(a*math.Sin(2*math.Pi*180*float64(i)/16000)) + int16(i%5-2)
	}
	return out
}

var (
	quietSteady  = tone(2, 1500)
	loudVariable = tone(2, 24000, 2500, 16000, 1200, 28000, 4000)
)

const plain = "I have a question about my medication"

func detect(t *testing.T, pcm []int16, text string) emotion.Estimate {
	t.Helper()
	e, err := emotion.Offline{}.Detect(context.Background(), emotion.Input{PCM: pcm, Text: text})
	require.NoError(t, err)
	require.Equal(t, "offline", e.Source)
	require.GreaterOrEqual(t, e.Valence, -1.0)
	require.LessOrEqual(t, e.Valence, 1.0)
	require.GreaterOrEqual(t, e.Arousal, 0.0)
	require.LessOrEqual(t, e.Arousal, 1.0)
	require.GreaterOrEqual(t, e.Confidence, 0.0)
	require.LessOrEqual(t, e.Confidence, 1.0)
	return e
}

func TestOfflineLabels(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		pcm   []int16
		text  string
		label emotion.Label
	}{
		{"quiet steady voice, plain words", quietSteady, plain, emotion.Calm},
		{"loud uneven voice, plain words", loudVariable, plain, emotion.Anxious},
		{"worried", nil, "I'm really worried about these chest pains, what if it's my heart?", emotion.Anxious},
		{"can't stop worrying", nil, "I can't stop worrying about the biopsy", emotion.Anxious},
		{"not worried", nil, "I'm not worried, just curious about the dose.", emotion.Calm},
		{"no longer scared", nil, "I am no longer scared of the injection", emotion.Calm},
		{"frustrated", nil, "This is ridiculous, the app is useless.", emotion.Frustrated},
		{"fed up, shouting", nil, "I am FED UP with waiting!!", emotion.Frustrated},
		{"not happy, agitated", nil, "I am not happy with this answer!", emotion.Frustrated},
		{"not happy, subdued", nil, "I am not happy lately", emotion.Sad},
		{"sad", nil, "I feel so hopeless and lonely since the diagnosis", emotion.Sad},
		{"grateful", nil, "Thank you, that was really helpful!", emotion.Positive},
		{"not a problem is not a cue", nil, "What is the usual dose of metformin?", emotion.Neutral},
		{"empty", nil, "", emotion.Neutral},
		{"clinical senses are no cues", nil, "I have an upset stomach and tense muscles", emotion.Neutral},
		{"acronyms are not shouting", nil, "Are ACE inhibitors and NSAIDs OK together?", emotion.Neutral},
		{"worried words in a tense voice", loudVariable, "I'm scared it is getting worse", emotion.Anxious},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := detect(t, tc.pcm, tc.text)
			require.Equal(t, tc.label, e.Label, "%+v", e)
		})
	}
}

// The contrasting fixtures differ in arousal as in label; the same input gives the same
// estimate (no randomness, no clock).
func TestOfflineContrastAndDeterminism(t *testing.T) {
	t.Parallel()
	calm, tense := detect(t, quietSteady, plain), detect(t, loudVariable, plain)
	require.Less(t, calm.Arousal, 0.3, "%+v", calm)
	require.Greater(t, tense.Arousal, 0.65, "%+v", tense)
	require.Equal(t, tense, detect(t, loudVariable, plain))

	worried := detect(t, nil, "I'm worried about the side effects.")
	relaxed := detect(t, nil, "I'm not worried about the side effects.")
	require.Negative(t, worried.Valence)
	require.GreaterOrEqual(t, relaxed.Valence, 0.0)
	require.Less(t, relaxed.Arousal, worried.Arousal)

	// A typed turn is read from its words only, with less confidence than the same words
	// spoken in a voice that agrees with them.
	spoken := detect(t, loudVariable, "I'm worried about the side effects.")
	require.Equal(t, emotion.Anxious, spoken.Label)
	require.Greater(t, spoken.Confidence, worried.Confidence)
	require.GreaterOrEqual(t, worried.Confidence, emotion.MinAdaptConfidence, "one clear typed cue adapts: %+v", worried)
	// A condition named in a question is half a cue: alone it says nothing; with another
	// cue it counts.
	require.Equal(t, emotion.Neutral, detect(t, nil, "What is the treatment for anxiety?").Label)
	require.Equal(t, emotion.Neutral, detect(t, quietSteady[:8000], "What is the treatment for anxiety?").Label)
	require.Equal(t, emotion.Anxious, detect(t, nil, "My anxiety and panic are back").Label)
	// Exclamation raises the arousal of the same words.
	require.Greater(t, detect(t, nil, "Thank you!!").Arousal, detect(t, nil, "Thank you.").Arousal)
}

func TestAnalyze(t *testing.T) {
	t.Parallel()
	a := emotion.Analyze(append(make([]int16, 8000), quietSteady...), 16000, 7, nil)
	require.Equal(t, 2*time.Second, a.Voiced, "silence is not voiced")
	require.InDelta(t, 20*math.Log10(1500/math.Sqrt2/32768), a.Level, 0.2)
	require.Less(t, a.Variability, 0.5)
	require.InDelta(t, 3.5, a.WordsPerSec, 1e-9)

	b := emotion.Analyze(loudVariable, 16000, 0, nil)
	require.Greater(t, b.Variability, 8.0)
	require.Zero(t, b.WordsPerSec)

	// Word timings, when given, set the rate: 4 words over 1 s.
	words := []voice.Word{{Start: 0, End: 200 * time.Millisecond}, {Start: 300 * time.Millisecond, End: 500 * time.Millisecond},
		{Start: 600 * time.Millisecond, End: 800 * time.Millisecond}, {Start: 900 * time.Millisecond, End: time.Second}}
	require.InDelta(t, 4.0, emotion.Analyze(quietSteady, 16000, 4, words).WordsPerSec, 1e-9)

	_, ok := emotion.Analyze(make([]int16, 16000), 16000, 3, nil).Arousal()
	require.False(t, ok, "digital silence has no voice to read")
}

func TestAdapt(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		e     emotion.Estimate
		speed float64
		hint  string
	}{
		{emotion.Estimate{Label: emotion.Anxious, Confidence: 0.7}, 0.9, "calmly and reassuringly"},
		{emotion.Estimate{Label: emotion.Frustrated, Confidence: 0.5}, 1.05, "brief and direct"},
		{emotion.Estimate{Label: emotion.Sad, Confidence: 0.5}, 0.95, "warm and gentle"},
		{emotion.Estimate{Label: emotion.Anxious, Confidence: 0.39}, 1, ""},
		{emotion.Estimate{Label: emotion.Neutral, Confidence: 0.9}, 1, ""},
		{emotion.Estimate{Label: emotion.Calm, Confidence: 0.9}, 1, ""},
		{emotion.Estimate{Label: emotion.Positive, Confidence: 0.9}, 1, ""},
	} {
		st := emotion.Adapt(tc.e)
		require.InDelta(t, tc.speed, st.Speed, 1e-9, "%+v", tc.e)
		require.GreaterOrEqual(t, st.Speed, emotion.MinSpeed)
		require.LessOrEqual(t, st.Speed, emotion.MaxSpeed)
		if tc.hint == "" {
			require.Empty(t, st.Hint)
		} else {
			require.Contains(t, st.Hint, tc.hint)
		}
	}
	_, err := emotion.New("cloud")
	require.Error(t, err)
	p, err := emotion.New("offline")
	require.NoError(t, err)
	require.Equal(t, "offline", p.Name())
}
