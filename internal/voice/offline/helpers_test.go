//go:build offlinevoice && cgo

package offline

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/voice"
)

// Test sentences, written for these tests (not the benchmark fixtures).
var (
	generalSentences = []string{
		"the weather is nice today and we are going to the park",
		"please call me back when you get home tonight",
		"i would like to book a table for two people at seven",
		"the meeting has been moved to next thursday afternoon",
		"she read the book in one evening and loved the ending",
		"can you tell me how to get to the train station",
		"we need to buy milk bread and eggs before the store closes",
		"my brother moved to a small town near the coast last year",
		"the children played football in the garden all afternoon",
		"turn left at the second light and park behind the bank",
		"he forgot his keys and had to wait outside for an hour",
		"the price of coffee has gone up again this month",
	}
	clinicalSentences = []string{
		"the patient takes metformin five hundred milligrams twice daily",
		"start lisinopril ten milligrams once a day for hypertension",
		"chest pain with shortness of breath and elevated troponin",
		"give furosemide forty milligrams intravenous for edema",
		"history of atrial fibrillation on warfarin and metoprolol",
		"the patient has pneumonia and was started on azithromycin",
	}
)

var (
	ttsOnce sync.Once
	ttsP    *TTS
	ttsErr  error
	speech  sync.Map // voice + "|" + text -> voice.PCM
)

func testTTS(t testing.TB) *TTS {
	ttsOnce.Do(func() { ttsP, ttsErr = NewTTS() })
	require.NoError(t, ttsErr)
	return ttsP
}

// say synthesises text once per voice and caches it.
func say(t testing.TB, voiceID, text string) voice.PCM {
	key := voiceID + "|" + text
	if p, ok := speech.Load(key); ok {
		return p.(voice.PCM)
	}
	p, err := testTTS(t).Synthesize(context.Background(), text, voice.SynthesizeOptions{Voice: voiceID})
	require.NoError(t, err)
	speech.Store(key, p)
	return p
}

// wer transcribes each sentence spoken by voiceID and returns the corpus word error rate.
func wer(t testing.TB, s *STT, voiceID string, sentences []string) float64 {
	var errs, words int
	for _, ref := range sentences {
		tr, err := s.Transcribe(context.Background(), say(t, voiceID, ref), voice.TranscribeOptions{Language: "en"})
		require.NoError(t, err)
		e, n := voice.WERCounts(ref, tr.Text)
		if testing.Verbose() && e > 0 {
			t.Logf("%s: %q -> %q (%d errors)", voiceID, ref, tr.Text, e)
		}
		errs += e
		words += n
	}
	return float64(errs) / float64(words)
}
