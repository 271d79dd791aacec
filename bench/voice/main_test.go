package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/voiceassist/gateway/internal/voice"
)

// echo is a TTS+STT pair that round-trips text through the sample count, dropping the
// word "metformin" unless it was given as an extra word: enough to check the driver's
// bookkeeping without the offline engines.
type echo struct {
	mu    sync.Mutex
	texts map[int]string
	words []string
}

func (e *echo) Name() string          { return "echo" }
func (e *echo) Voices() []voice.Voice { return []voice.Voice{{ID: "a"}, {ID: "b"}} }
func (e *echo) MaxChars() int         { return 1000 }
func (e *echo) Synthesize(_ context.Context, text string, _ voice.SynthesizeOptions) (voice.PCM, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	n := 16000 + 100*len(e.texts)
	e.texts[n] = text
	return voice.PCM{Samples: make([]int16, n), Rate: voice.SampleRate}, nil
}

func (e *echo) Transcribe(_ context.Context, p voice.PCM, _ voice.TranscribeOptions) (voice.Transcript, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	text := e.texts[len(p.Samples)]
	if len(e.words) == 0 {
		text = strings.ReplaceAll(strings.ToLower(text), "metformin", "met for men")
	}
	return voice.Transcript{Text: text}, nil
}

func TestRunWithFakeEngines(t *testing.T) {
	t.Parallel()
	sentences, err := load("testdata", "heldout")
	require.NoError(t, err)
	require.Len(t, sentences, 50)
	require.Equal(t, 25, count(sentences, "general"))
	all, err := load("testdata", "all")
	require.NoError(t, err)
	require.Len(t, all, 100)

	tts := &echo{texts: map[int]string{}}
	e := engines{
		tts:    tts,
		voices: []string{"a", "b"},
		newSTT: func(words []string) (voice.STT, error) {
			return &echo{texts: tts.texts, words: words}, nil
		},
		medical: dedupe([]string{"Metformin", "insulin"}, []string{"metformin"}),
	}
	require.Equal(t, []string{"metformin", "insulin"}, e.medical)

	s := []sentence{{"g1", "general", "Set a timer."}, {"c1", "clinical", "Start metformin twice daily"}}
	var out bytes.Buffer
	require.NoError(t, run(context.Background(), e, s, nil, &out, true))
	got := out.String()
	// Stock dictionary: "metformin" -> "met for men" = 1 substitution + 2 insertions over 4 words.
	require.Contains(t, got, "| a | stock | 0.0% | 75.0% | 42.9% |")
	require.Contains(t, got, "| b | clinical | 0.0% | 75.0% | 42.9% |", "the clinical words lack metformin here")
	require.Contains(t, got, "| b | clinical+drugs | 0.0% | 0.0% | 0.0% |")
	require.Contains(t, got, "hyp: start met for men twice daily")

	// -dicts runs only the named conditions.
	out.Reset()
	require.NoError(t, run(context.Background(), e, s, []string{"clinical+drugs"}, &out, false))
	got = out.String()
	require.Contains(t, got, "| a | clinical+drugs | 0.0% | 0.0% | 0.0% |")
	require.NotContains(t, got, "| stock |")
	require.NotContains(t, got, "| clinical |")
}
