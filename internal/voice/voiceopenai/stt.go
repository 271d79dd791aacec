package voiceopenai

import (
	"bytes"
	"context"
	"math"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/voiceassist/gateway/internal/llm"
	"github.com/voiceassist/gateway/internal/voice"
)

// STT is voice.STT through audio/transcriptions. It is safe for concurrent use.
type STT struct {
	client *llm.Client
	model  string
}

var _ voice.STT = (*STT)(nil)

// NewSTT returns speech-to-text with model (DefaultSTTModel if empty) on client.
func NewSTT(client *llm.Client, model string) *STT {
	if model == "" {
		model = DefaultSTTModel
	}
	return &STT{client: client, model: model}
}

// Name implements voice.STT.
func (s *STT) Name() string { return Name }

// Transcribe implements voice.STT. The audio is sent as a WAV at its own rate (the server
// resamples). With opt.Timestamps the answer is verbose_json with word and segment times;
// opt.Words are appended to the prompt, Whisper's only way to hint vocabulary.
func (s *STT) Transcribe(ctx context.Context, audio voice.PCM, opt voice.TranscribeOptions) (voice.Transcript, error) {
	const op = "transcribe"
	if len(audio.Samples) == 0 || audio.Rate <= 0 {
		return voice.Transcript{}, invalid(op, "no audio")
	}
	wav := voice.EncodeWAV(audio)
	lang := primaryTag(opt.Language)
	prompt := strings.TrimSpace(opt.Prompt)
	if len(opt.Words) > 0 {
		prompt = strings.TrimSpace(prompt + " " + strings.Join(opt.Words, ", "))
	}
	var res *openai.AudioTranscriptionNewResponseUnion
	err := s.client.Do(ctx, func(ctx context.Context) error {
		// A fresh reader per attempt: the last one was consumed.
		p := openai.AudioTranscriptionNewParams{
			File:           openai.File(bytes.NewReader(wav), "audio.wav", "audio/wav"),
			Model:          s.model,
			ResponseFormat: openai.AudioResponseFormatJSON,
		}
		if lang != "" {
			p.Language = openai.String(lang)
		}
		if prompt != "" {
			p.Prompt = openai.String(prompt)
		}
		if opt.Timestamps {
			p.ResponseFormat = openai.AudioResponseFormatVerboseJSON
			p.TimestampGranularities = []string{"word", "segment"}
		}
		var err error
		res, err = s.client.API().Audio.Transcriptions.New(ctx, p)
		return err
	})
	if err != nil {
		return voice.Transcript{}, mapError(op, err)
	}
	t := voice.Transcript{
		Text:     strings.TrimSpace(res.Text),
		Language: languageCode(res.Language),
		Duration: seconds(res.Duration),
		Provider: Name,
	}
	if t.Language == "" {
		t.Language = lang
	}
	if t.Duration <= 0 {
		t.Duration = audio.Duration()
	}
	if opt.Timestamps {
		t.Segments = segments(res.Text, res.Segments, res.Words)
	}
	return t, nil
}

// segments converts verbose_json segments, placing each word in the segment its middle falls
// in (OpenAI lists words apart from segments).
func segments(text string, segs []openai.TranscriptionSegment, words []openai.TranscriptionWord) []voice.Segment {
	out := make([]voice.Segment, 0, len(segs))
	for _, sg := range segs {
		conf := -1.0
		if sg.JSON.AvgLogprob.Valid() {
			conf = math.Exp(min(sg.AvgLogprob, 0))
		}
		out = append(out, voice.Segment{Text: strings.TrimSpace(sg.Text), Start: seconds(sg.Start),
			End: seconds(sg.End), Confidence: conf})
	}
	if len(out) == 0 && len(words) > 0 {
		// Words but no segments: one segment over all of them.
		out = append(out, voice.Segment{Text: strings.TrimSpace(text), Start: seconds(words[0].Start),
			End: seconds(words[len(words)-1].End), Confidence: -1})
	}
	for _, w := range words {
		mid := seconds((w.Start + w.End) / 2)
		i := 0
		for j := range out {
			if out[j].Start <= mid {
				i = j
			}
		}
		out[i].Words = append(out[i].Words, voice.Word{Word: strings.TrimSpace(w.Word),
			Start: seconds(w.Start), End: seconds(w.End), Confidence: -1})
	}
	return out
}

func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// primaryTag is the language subtag of a BCP 47 tag ("en-GB" -> "en"), which is what
// Whisper takes.
func primaryTag(tag string) string {
	tag, _, _ = strings.Cut(strings.ReplaceAll(strings.TrimSpace(tag), "_", "-"), "-")
	return strings.ToLower(tag)
}
