package voiceopenai

import (
	"context"
	"encoding/binary"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/llm"
	"github.com/voiceassist/gateway/internal/llm/llmtest"
	"github.com/voiceassist/gateway/internal/voice"
)

func start(t *testing.T, cfg llm.Config) (*llmtest.Server, *llm.Client) {
	t.Helper()
	s := llmtest.New(t)
	return s, s.NewClient(cfg)
}

// tone is one second of a 440 Hz tone at 16 kHz.
func tone() voice.PCM {
	p := voice.PCM{Samples: make([]int16, voice.SampleRate), Rate: voice.SampleRate}
	for i := range p.Samples {
		p.Samples[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/voice.SampleRate))
	}
	return p
}

func TestTranscribeSendsAWAVForm(t *testing.T) {
	t.Parallel()
	s, c := start(t, llm.Config{})
	stt := NewSTT(c, "")
	var _ voice.STT = stt
	require.Equal(t, "openai", stt.Name())

	audio := tone()
	tr, err := stt.Transcribe(context.Background(), audio, voice.TranscribeOptions{
		Language: "en-GB", Prompt: "Cardiology clinic.", Words: []string{"metoprolol", "apixaban"},
	})
	require.NoError(t, err)
	require.Equal(t, voice.Transcript{Text: "hello world", Language: "en", Duration: time.Second, Provider: "openai"}, tr)

	reqs := s.Requests(llmtest.Transcriptions)
	require.Len(t, reqs, 1)
	r := reqs[0]
	require.Equal(t, "whisper-1", r.Model)
	require.True(t, strings.HasSuffix(r.Filename, ".wav"), r.Filename)
	require.Equal(t, "audio/wav", r.FileType)
	require.Equal(t, "en", r.Language)
	require.Equal(t, "Cardiology clinic. metoprolol, apixaban", r.Prompt)
	require.Equal(t, "json", r.ResponseFormat)
	require.Empty(t, r.TimestampGranularities)
	require.Equal(t, "Bearer "+llmtest.APIKey, r.Header.Get("Authorization"))

	// The file is a 16 kHz mono PCM16 WAV of the samples.
	f := r.File
	require.Len(t, f, 44+2*len(audio.Samples))
	require.Equal(t, "RIFF", string(f[0:4]))
	require.Equal(t, "WAVE", string(f[8:12]))
	require.Equal(t, uint16(1), binary.LittleEndian.Uint16(f[20:])) // PCM
	require.Equal(t, uint16(1), binary.LittleEndian.Uint16(f[22:])) // mono
	require.Equal(t, uint32(16000), binary.LittleEndian.Uint32(f[24:]))
	require.Equal(t, uint16(16), binary.LittleEndian.Uint16(f[34:])) // bits
	require.Equal(t, "data", string(f[36:40]))
	for _, i := range []int{0, 1, 100, len(audio.Samples) - 1} {
		require.Equal(t, audio.Samples[i], int16(binary.LittleEndian.Uint16(f[44+2*i:])))
	}
}

func TestTranscribeWithoutOptions(t *testing.T) {
	t.Parallel()
	s, c := start(t, llm.Config{})
	tr, err := NewSTT(c, "my-whisper").Transcribe(context.Background(), tone(), voice.TranscribeOptions{})
	require.NoError(t, err)
	require.Equal(t, "hello world", tr.Text)
	require.Empty(t, tr.Language) // json answers have none, and none was asked for
	r := s.Requests("")[0]
	require.Equal(t, "my-whisper", r.Model)
	require.Empty(t, r.Language)
	require.Empty(t, r.Prompt)
}

func TestTranscribeTimestamps(t *testing.T) {
	t.Parallel()
	s, c := start(t, llm.Config{})
	s.SetTranscript(func(llmtest.Request) llmtest.Transcript {
		return llmtest.Transcript{
			Text: "Start metformin. Check renal function.", Language: "english", Duration: 3.5,
			Segments: []llmtest.Segment{
				{Start: 0, End: 1.5, Text: " Start metformin.", AvgLogprob: -0.2},
				{Start: 1.5, End: 3.5, Text: " Check renal function.", AvgLogprob: -0.5},
			},
			Words: []llmtest.Word{
				{Word: "Start", Start: 0, End: 0.5}, {Word: "metformin", Start: 0.5, End: 1.4},
				{Word: "Check", Start: 1.6, End: 2}, {Word: "renal", Start: 2, End: 2.5}, {Word: "function", Start: 2.5, End: 3.4},
			},
		}
	})
	tr, err := NewSTT(c, "").Transcribe(context.Background(), tone(), voice.TranscribeOptions{Timestamps: true})
	require.NoError(t, err)

	r := s.Requests("")[0]
	require.Equal(t, "verbose_json", r.ResponseFormat)
	require.ElementsMatch(t, []string{"word", "segment"}, r.TimestampGranularities)

	require.Equal(t, "Start metformin. Check renal function.", tr.Text)
	require.Equal(t, "en", tr.Language)
	require.Equal(t, 3500*time.Millisecond, tr.Duration)
	require.Len(t, tr.Segments, 2)
	s0, s1 := tr.Segments[0], tr.Segments[1]
	require.Equal(t, "Start metformin.", s0.Text)
	require.Equal(t, time.Duration(0), s0.Start)
	require.Equal(t, 1500*time.Millisecond, s0.End)
	require.InDelta(t, math.Exp(-0.2), s0.Confidence, 1e-9)
	require.Equal(t, "Check renal function.", s1.Text)
	require.Equal(t, 3500*time.Millisecond, s1.End)
	require.InDelta(t, math.Exp(-0.5), s1.Confidence, 1e-9)
	require.Equal(t, []voice.Word{
		{Word: "Start", Start: 0, End: 500 * time.Millisecond, Confidence: -1},
		{Word: "metformin", Start: 500 * time.Millisecond, End: 1400 * time.Millisecond, Confidence: -1},
	}, s0.Words)
	require.Len(t, s1.Words, 3)
	require.Equal(t, "function", s1.Words[2].Word)
	require.Equal(t, 3400*time.Millisecond, s1.Words[2].End)
}

func TestTranscribeRetriesServerErrors(t *testing.T) {
	t.Parallel()
	s, c := start(t, llm.Config{MaxRetries: 2})
	s.Fail(llmtest.Transcriptions, llmtest.Fault{Status: http.StatusInternalServerError})
	tr, err := NewSTT(c, "").Transcribe(context.Background(), tone(), voice.TranscribeOptions{})
	require.NoError(t, err)
	require.Equal(t, "hello world", tr.Text)
	reqs := s.Requests("")
	require.Len(t, reqs, 2)
	require.Equal(t, reqs[0].File, reqs[1].File) // the retry sends the whole file again
	require.Len(t, reqs[1].File, 44+2*voice.SampleRate)
}

func TestTranscribeDoesNotRetryClientErrors(t *testing.T) {
	t.Parallel()
	s, c := start(t, llm.Config{MaxRetries: 3})
	s.Fail("", llmtest.Fault{Status: http.StatusBadRequest, Message: "Audio file is too short.", Times: 10})
	_, err := NewSTT(c, "").Transcribe(context.Background(), tone(), voice.TranscribeOptions{})
	require.ErrorIs(t, err, voice.ErrInvalidInput)
	require.ErrorContains(t, err, "Audio file is too short.")
	require.Len(t, s.Requests(""), 1)
}

func TestTranscribeRejectsNoAudio(t *testing.T) {
	t.Parallel()
	s, c := start(t, llm.Config{})
	stt := NewSTT(c, "")
	_, err := stt.Transcribe(context.Background(), voice.PCM{Rate: 16000}, voice.TranscribeOptions{})
	require.ErrorIs(t, err, voice.ErrInvalidInput)
	_, err = stt.Transcribe(context.Background(), voice.PCM{Samples: []int16{1}}, voice.TranscribeOptions{})
	require.ErrorIs(t, err, voice.ErrInvalidInput)
	require.Empty(t, s.Requests(""))
}

// TestErrorMapping is the one mapping, through both providers.
func TestErrorMapping(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		fault llmtest.Fault
		cfg   llm.Config
		want  error
		tries int
	}{
		{"400", llmtest.Fault{Status: 400, Times: 10}, llm.Config{MaxRetries: 2}, voice.ErrInvalidInput, 1},
		{"404 unknown model", llmtest.Fault{Status: 404, Times: 10}, llm.Config{MaxRetries: 2}, voice.ErrInvalidInput, 1},
		{"401", llmtest.Fault{Status: 401, Times: 10}, llm.Config{MaxRetries: 2}, voice.ErrUnavailable, 1},
		{"429", llmtest.Fault{Status: 429, Times: 10}, llm.Config{MaxRetries: 2}, voice.ErrOverloaded, 3},
		{"503", llmtest.Fault{Status: 503, Times: 10}, llm.Config{MaxRetries: 2}, voice.ErrUnavailable, 3},
		{"dropped", llmtest.Fault{Drop: true, Times: 10}, llm.Config{MaxRetries: 1}, voice.ErrUnavailable, 2},
		{"hung", llmtest.Fault{Hang: true}, llm.Config{Timeout: 50 * time.Millisecond}, voice.ErrUnavailable, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s, c := start(t, tc.cfg)
			s.Fail("", tc.fault)
			_, err := NewSTT(c, "").Transcribe(context.Background(), tone(), voice.TranscribeOptions{})
			require.ErrorIs(t, err, tc.want)
			require.Len(t, s.Requests(""), tc.tries)

			s, c = start(t, tc.cfg)
			s.Fail("", tc.fault)
			_, err = NewTTS(c, "").Synthesize(context.Background(), "Hello.", voice.SynthesizeOptions{})
			require.ErrorIs(t, err, tc.want)
			require.Len(t, s.Requests(""), tc.tries)
		})
	}
}

func TestCancelledIsNotUnavailable(t *testing.T) {
	t.Parallel()
	s, c := start(t, llm.Config{})
	s.Fail("", llmtest.Fault{Hang: true})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := NewTTS(c, "").Synthesize(ctx, "Hello.", voice.SynthesizeOptions{})
	require.ErrorIs(t, err, context.DeadlineExceeded)
	require.NotErrorIs(t, err, voice.ErrUnavailable)
}

func TestSynthesize(t *testing.T) {
	t.Parallel()
	s, c := start(t, llm.Config{})
	tts := NewTTS(c, "")
	var _ voice.TTS = tts
	text := "Take one tablet twice daily."
	pcm, err := tts.Synthesize(context.Background(), text, voice.SynthesizeOptions{})
	require.NoError(t, err)
	require.Equal(t, 24000, pcm.Rate)
	require.Equal(t, llmtest.FakeSpeech(llmtest.Request{Input: []string{text}}), pcm.Samples)

	_, err = tts.Synthesize(context.Background(), "Faster.", voice.SynthesizeOptions{Voice: "nova", Speed: 1.5})
	require.NoError(t, err)

	reqs := s.Requests(llmtest.Speech)
	require.Len(t, reqs, 2)
	r := reqs[0]
	require.Equal(t, "tts-1", r.Model)
	require.Equal(t, "alloy", r.Voice)
	require.Equal(t, []string{text}, r.Input)
	require.Equal(t, "pcm", r.ResponseFormat)
	require.Nil(t, r.Speed)
	require.Equal(t, map[string]any{"model": "tts-1", "voice": "alloy", "input": text, "response_format": "pcm"}, r.JSON)
	r = reqs[1]
	require.Equal(t, "nova", r.Voice)
	require.NotNil(t, r.Speed)
	require.InDelta(t, 1.5, *r.Speed, 1e-9)
}

func TestSynthesizeRetriesServerErrors(t *testing.T) {
	t.Parallel()
	s, c := start(t, llm.Config{MaxRetries: 2})
	s.Fail(llmtest.Speech, llmtest.Fault{Status: http.StatusInternalServerError})
	pcm, err := NewTTS(c, "tts-1-hd").Synthesize(context.Background(), "Hi.", voice.SynthesizeOptions{})
	require.NoError(t, err)
	require.Len(t, pcm.Samples, 300)
	reqs := s.Requests("")
	require.Len(t, reqs, 2)
	require.Equal(t, "tts-1-hd", reqs[1].Model)
}

func TestSynthesizeDoesNotRetryClientErrors(t *testing.T) {
	t.Parallel()
	s, c := start(t, llm.Config{MaxRetries: 3})
	s.Fail("", llmtest.Fault{Status: http.StatusBadRequest, Message: "Input contains unsupported characters.", Times: 10})
	_, err := NewTTS(c, "").Synthesize(context.Background(), "Hi.", voice.SynthesizeOptions{})
	require.ErrorIs(t, err, voice.ErrInvalidInput)
	require.ErrorContains(t, err, "Input contains unsupported characters.")
	require.Len(t, s.Requests(""), 1)
}

func TestSynthesizeRejectsBeforeAnyRequest(t *testing.T) {
	t.Parallel()
	s, c := start(t, llm.Config{})
	tts := NewTTS(c, "")
	for name, tc := range map[string]struct {
		text string
		opt  voice.SynthesizeOptions
	}{
		"empty":         {"  ", voice.SynthesizeOptions{}},
		"too long":      {strings.Repeat("é", MaxChars+1), voice.SynthesizeOptions{}},
		"unknown voice": {"Hi.", voice.SynthesizeOptions{Voice: "kal16"}},
		"too fast":      {"Hi.", voice.SynthesizeOptions{Speed: 5}},
	} {
		_, err := tts.Synthesize(context.Background(), tc.text, tc.opt)
		require.ErrorIs(t, err, voice.ErrInvalidInput, name)
	}
	require.Empty(t, s.Requests(""))
	// The limit counts characters, not bytes.
	_, err := tts.Synthesize(context.Background(), strings.Repeat("é", MaxChars), voice.SynthesizeOptions{})
	require.NoError(t, err)
}

func TestSynthesizeMalformedAudio(t *testing.T) {
	t.Parallel()
	s, c := start(t, llm.Config{})
	s.SetSpeech(func(llmtest.Request) []int16 { return nil })
	_, err := NewTTS(c, "").Synthesize(context.Background(), "Hi.", voice.SynthesizeOptions{})
	require.ErrorIs(t, err, voice.ErrUnavailable)
}

func TestVoices(t *testing.T) {
	t.Parallel()
	tts := NewTTS(llm.New(llm.Config{APIKey: "unused"}), "")
	require.Equal(t, "openai", tts.Name())
	require.Equal(t, 4096, tts.MaxChars())
	var ids []string
	var defaults []string
	for _, v := range tts.Voices() {
		require.Equal(t, "openai", v.Provider)
		ids = append(ids, v.ID)
		if v.Default {
			defaults = append(defaults, v.ID)
		}
	}
	require.Equal(t, []string{"alloy", "echo", "fable", "onyx", "nova", "shimmer"}, ids)
	require.Equal(t, []string{"alloy"}, defaults)
	require.Equal(t, "Shimmer", tts.Voices()[5].Name)
}

func TestLanguageTags(t *testing.T) {
	t.Parallel()
	require.Equal(t, "en", primaryTag("en-US"))
	require.Equal(t, "pt", primaryTag("pt_BR"))
	require.Equal(t, "", primaryTag(""))
	require.Equal(t, "en", languageCode("English"))
	require.Equal(t, "yue", languageCode("cantonese"))
	require.Equal(t, "de", languageCode("de"))
	require.Equal(t, "", languageCode("klingon"))
}
