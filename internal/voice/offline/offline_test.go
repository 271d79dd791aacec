//go:build offlinevoice && cgo

package offline

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/voice"
)

var (
	sttOnce sync.Once
	sttP    *STT
)

// clinicalSTT is the recogniser the service runs: clinical terms added, two decoders.
func clinicalSTT(t *testing.T) *STT {
	sttOnce.Do(func() {
		s, err := NewSTT(STTOptions{Workers: 2, Words: voice.ClinicalTerms()})
		require.NoError(t, err)
		sttP = s
	})
	require.NotNil(t, sttP)
	return sttP
}

func transcribe(t *testing.T, s *STT, audio voice.PCM) voice.Transcript {
	tr, err := s.Transcribe(context.Background(), audio, voice.TranscribeOptions{Language: "en", Timestamps: true})
	require.NoError(t, err)
	return tr
}

func TestAvailable(t *testing.T) {
	require.NoError(t, Available())
}

func TestPronounce(t *testing.T) {
	p, ok := Pronounce("hello")
	require.True(t, ok)
	require.Equal(t, "HH AH L OW", p)
	p, ok = Pronounce("Metformin") // not in flite's lexicon: letter-to-sound
	require.True(t, ok)
	require.Regexp(t, `^M EH T F AO R M (IH|AH) N$`, p)
	for _, w := range append(voice.ClinicalTerms(), DrugNames()[:200]...) {
		p, ok := Pronounce(w)
		require.True(t, ok, w)
		for _, ph := range strings.Fields(p) {
			require.True(t, sphinxPhones[ph], "%s: %s", w, p)
		}
	}
	_, ok = Pronounce("c3po")
	require.False(t, ok)
}

func TestNewSTTLoadsNothing(t *testing.T) {
	s, err := NewSTT(STTOptions{Workers: 3})
	require.NoError(t, err)
	require.Zero(t, s.Loaded())
	_, err = NewSTT(STTOptions{ModelDir: t.TempDir()})
	require.ErrorIs(t, err, voice.ErrUnavailable)
}

// TestRoundTrip synthesises sentences with kal16 and slt and transcribes them. The bounds
// are the measured WER (kal16 0.030 general, 0.037 clinical; slt 0.061, 0.111) with headroom.
func TestRoundTrip(t *testing.T) {
	s := clinicalSTT(t)
	general, clinical := generalSentences[:3], clinicalSentences[:3]
	for _, c := range []struct {
		voice             string
		general, clinical float64
	}{
		{"kal16", 0.10, 0.10},
		{"slt", 0.15, 0.15},
	} {
		g := wer(t, s, c.voice, general)
		m := wer(t, s, c.voice, clinical)
		t.Logf("%s: WER general %.3f clinical %.3f", c.voice, g, m)
		require.LessOrEqual(t, g, c.general, c.voice)
		require.LessOrEqual(t, m, c.clinical, c.voice)
	}
}

func TestTimestampsAndConfidence(t *testing.T) {
	audio := say(t, "kal16", clinicalSentences[0])
	tr := transcribe(t, clinicalSTT(t), audio)
	require.Equal(t, "en", tr.Language)
	require.Equal(t, "offline", tr.Provider)
	require.Equal(t, audio.Duration(), tr.Duration)
	require.Len(t, tr.Segments, 1)
	seg := tr.Segments[0]
	require.Equal(t, tr.Text, seg.Text)
	require.Equal(t, len(strings.Fields(tr.Text)), len(seg.Words))
	var prev time.Duration
	for _, w := range seg.Words {
		require.GreaterOrEqual(t, w.Start, prev, w.Word)
		require.Greater(t, w.End, w.Start, w.Word)
		require.LessOrEqual(t, w.End, audio.Duration(), w.Word)
		require.True(t, w.Confidence >= 0 && w.Confidence <= 1, "%s: %v", w.Word, w.Confidence)
		prev = w.End
	}
	require.Contains(t, tr.Text, "metformin")

	plain, err := clinicalSTT(t).Transcribe(context.Background(), audio, voice.TranscribeOptions{})
	require.NoError(t, err)
	require.Equal(t, tr.Text, plain.Text)
	require.Empty(t, plain.Segments)
}

// TestAddedWords: a drug name is recognised only once it is added.
func TestAddedWords(t *testing.T) {
	audio := say(t, "kal16", "start lisinopril ten milligrams once a day")
	bare, err := NewSTT(STTOptions{Workers: 1})
	require.NoError(t, err)
	before := transcribe(t, bare, audio)
	require.NotContains(t, before.Text, "lisinopril")
	after := transcribe(t, clinicalSTT(t), audio)
	require.Contains(t, after.Text, "lisinopril")
	t.Logf("before %q after %q", before.Text, after.Text)
}

// TestDeterministic: transcribing A then B on one decoder gives B exactly as a fresh decoder
// does. Without the CMN reset the estimate from A leaks into B.
func TestDeterministic(t *testing.T) {
	a := say(t, "slt", generalSentences[4])
	b := say(t, "kal16", generalSentences[0])
	run := func(audio ...voice.PCM) voice.Transcript {
		s, err := NewSTT(STTOptions{Workers: 1})
		require.NoError(t, err)
		var tr voice.Transcript
		for _, p := range audio {
			tr = transcribe(t, s, p)
		}
		require.Equal(t, 1, s.Loaded())
		return tr
	}
	fresh := run(b)
	require.Equal(t, fresh, run(a, b))

	resetCMN = false
	defer func() { resetCMN = true }()
	require.NotEqual(t, fresh, run(a, b), "without the reset the earlier utterance should change B")
}

func TestOverloaded(t *testing.T) {
	s, err := NewSTT(STTOptions{Workers: 1, Acquire: 20 * time.Millisecond})
	require.NoError(t, err)
	held := <-s.pool // the only decoder is busy
	audio := voice.PCM{Samples: make([]int16, 1600), Rate: voice.SampleRate}
	_, err = s.Transcribe(context.Background(), audio, voice.TranscribeOptions{})
	require.ErrorIs(t, err, voice.ErrOverloaded)

	s.opt.Acquire = 0 // wait for ctx only
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = s.Transcribe(ctx, audio, voice.TranscribeOptions{})
	require.ErrorIs(t, err, context.Canceled)
	s.pool <- held
	require.Zero(t, s.Loaded())
}

func TestTranscribeInvalid(t *testing.T) {
	s := clinicalSTT(t)
	audio := voice.PCM{Samples: make([]int16, 1600), Rate: voice.SampleRate}
	_, err := s.Transcribe(context.Background(), audio, voice.TranscribeOptions{Language: "de"})
	require.ErrorIs(t, err, voice.ErrInvalidInput)
	_, err = s.Transcribe(context.Background(), voice.PCM{Rate: voice.SampleRate}, voice.TranscribeOptions{})
	require.ErrorIs(t, err, voice.ErrUndecodable)
	tr, err := s.Transcribe(context.Background(), audio, voice.TranscribeOptions{Language: "en-US"})
	require.NoError(t, err)
	require.Equal(t, "", tr.Text) // 0.1 s of silence
}

func TestTranscribeResamples(t *testing.T) {
	ref := clinicalSentences[1]
	audio := voice.Resample(say(t, "kal16", ref), 44100)
	require.Equal(t, 44100, audio.Rate)
	tr := transcribe(t, clinicalSTT(t), audio)
	e, n := voice.WERCounts(ref, tr.Text)
	require.LessOrEqual(t, float64(e)/float64(n), 0.2, tr.Text)
}

// TestConcurrent runs transcriptions and syntheses from several goroutines (run once with
// -race); each result equals the serial one.
func TestConcurrent(t *testing.T) {
	s := clinicalSTT(t)
	texts := []string{generalSentences[1], clinicalSentences[2], generalSentences[3], clinicalSentences[3]}
	want := make([]string, len(texts))
	for i, x := range texts {
		want[i] = transcribe(t, s, say(t, "kal16", x)).Text
	}
	got := make([]string, len(texts))
	speech := make([]voice.PCM, len(texts))
	var wg sync.WaitGroup
	for i, x := range texts {
		wg.Go(func() { got[i] = transcribe(t, s, say(t, "kal16", x)).Text })
		wg.Go(func() {
			p, err := testTTS(t).Synthesize(context.Background(), x, voice.SynthesizeOptions{Voice: "slt"})
			require.NoError(t, err)
			speech[i] = p
		})
	}
	wg.Wait()
	require.Equal(t, want, got)
	require.LessOrEqual(t, s.Loaded(), 2)
	for i, x := range texts {
		require.Equal(t, say(t, "slt", x), speech[i]) // deterministic: flite's rand() is seeded
	}
}

func TestSynthesize(t *testing.T) {
	tts := testTTS(t)
	ctx := context.Background()
	vs := tts.Voices()
	require.Len(t, vs, 4)
	require.Equal(t, "kal16", vs[0].ID)
	require.True(t, vs[0].Default)
	for _, v := range vs {
		require.Equal(t, "en-US", v.Language)
		require.Equal(t, "offline", v.Provider)
		require.NotEmpty(t, v.Gender)
		p, err := tts.Synthesize(ctx, "Good morning.", voice.SynthesizeOptions{Voice: v.ID})
		require.NoError(t, err, v.ID)
		require.Equal(t, voice.SampleRate, p.Rate, v.ID)
		require.Greater(t, p.Duration(), 300*time.Millisecond, v.ID)
	}

	normal, err := tts.Synthesize(ctx, "The patient is stable.", voice.SynthesizeOptions{})
	require.NoError(t, err)
	fast, err := tts.Synthesize(ctx, "The patient is stable.", voice.SynthesizeOptions{Speed: 2})
	require.NoError(t, err)
	slow, err := tts.Synthesize(ctx, "The patient is stable.", voice.SynthesizeOptions{Speed: 0.5})
	require.NoError(t, err)
	require.Less(t, fast.Duration(), normal.Duration()*3/4)
	require.Greater(t, slow.Duration(), normal.Duration()*3/2)
	again, err := tts.Synthesize(ctx, "The patient is stable.", voice.SynthesizeOptions{Voice: "kal16", Speed: 1})
	require.NoError(t, err)
	require.Equal(t, normal, again, "speed must not stick to the shared voice")

	require.Equal(t, "caf\xe9 ok   ", latin1("café ok ✓\n"))
	_, err = tts.Synthesize(ctx, "Café – naïve ✓", voice.SynthesizeOptions{})
	require.NoError(t, err)

	two, err := tts.Synthesize(ctx, "First sentence. Second sentence!", voice.SynthesizeOptions{})
	require.NoError(t, err)
	require.Greater(t, two.Duration(), normal.Duration())

	for _, c := range []struct {
		text string
		opt  voice.SynthesizeOptions
	}{
		{"", voice.SynthesizeOptions{}},
		{" \n\t", voice.SynthesizeOptions{}},
		{"hello", voice.SynthesizeOptions{Voice: "nope"}},
		{"hello", voice.SynthesizeOptions{Speed: 2.5}},
		{"hello", voice.SynthesizeOptions{Speed: 0.2}},
		{strings.Repeat("a", tts.MaxChars()+1), voice.SynthesizeOptions{}},
	} {
		_, err := tts.Synthesize(ctx, c.text, c.opt)
		require.ErrorIs(t, err, voice.ErrInvalidInput, "%.20q %+v", c.text, c.opt)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	fliteLock <- struct{}{} // busy, so the cancelled caller must give up waiting
	_, err = tts.Synthesize(cctx, "hello", voice.SynthesizeOptions{})
	unlockFlite()
	require.ErrorIs(t, err, context.Canceled)
}

// TestCommandGrammar: with a grammar the decoder hears only its phrases (a paused dictation
// listens for commands), and the same decoder transcribes freely again afterwards.
func TestCommandGrammar(t *testing.T) {
	s, err := NewSTT(STTOptions{Workers: 1})
	require.NoError(t, err)
	grammar := []string{"resume dictation", "pause dictation", "next section", "save note", "read back", "zyxwvut frobnicate"}
	for _, phrase := range []string{"resume dictation", "save note", "next section"} {
		tr, err := s.Transcribe(context.Background(), say(t, "kal16", phrase), voice.TranscribeOptions{Grammar: grammar})
		require.NoError(t, err)
		require.Equal(t, phrase, tr.Text)
	}
	free := transcribe(t, s, say(t, "kal16", generalSentences[0]))
	require.NotContains(t, grammar, free.Text, "back to the language model: %q", free.Text)
	require.Greater(t, len(strings.Fields(free.Text)), 3)
	_, err = s.Transcribe(context.Background(), say(t, "kal16", "hello"), voice.TranscribeOptions{Grammar: []string{"zyxwvut frobnicate"}})
	require.ErrorIs(t, err, voice.ErrInvalidInput)
}
