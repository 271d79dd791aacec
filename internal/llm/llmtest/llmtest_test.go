package llmtest_test

import (
	"context"
	"encoding/binary"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/openai/openai-go/v3"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/llm"
	"github.com/voiceassist/gateway/internal/llm/llmtest"
)

func TestChat(t *testing.T) {
	t.Parallel()
	s := llmtest.New(t)
	api := s.NewClient(llm.Config{MaxRetries: -1}).API()
	s.SetChat(func(r llmtest.Request) []string { return []string{"Answer ", r.Messages[len(r.Messages)-1].Content} })
	ctx := context.Background()
	params := openai.ChatCompletionNewParams{Model: "fake-model", MaxTokens: openai.Int(7),
		Messages: []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("sys"), openai.UserMessage("one")}}

	res, err := api.Chat.Completions.New(ctx, params)
	require.NoError(t, err)
	require.Equal(t, "Answer one", res.Choices[0].Message.Content)

	params.Messages[1] = openai.UserMessage("two")
	stream := api.Chat.Completions.NewStreaming(ctx, params)
	var deltas []string
	for stream.Next() {
		if c := stream.Current(); len(c.Choices) > 0 && c.Choices[0].Delta.Content != "" {
			deltas = append(deltas, c.Choices[0].Delta.Content)
		}
	}
	require.NoError(t, stream.Err())
	require.Equal(t, []string{"Answer ", "two"}, deltas)

	reqs := s.Requests(llmtest.Chat)
	require.Len(t, reqs, 2)
	require.False(t, reqs[0].Stream)
	require.True(t, reqs[1].Stream)
	require.Equal(t, "fake-model", reqs[1].Model)
	require.Equal(t, 7, *reqs[1].MaxTokens)
	require.Nil(t, reqs[1].Temperature)
	require.Equal(t, []llmtest.Message{{Role: "system", Content: "sys"}, {Role: "user", Content: "two"}}, reqs[1].Messages)
	require.Equal(t, 1, reqs[1].N)
}

func TestAudioFormats(t *testing.T) {
	t.Parallel()
	s := llmtest.New(t)
	api := s.NewClient(llm.Config{MaxRetries: -1}).API()
	ctx := context.Background()

	res, err := api.Audio.Speech.New(ctx, openai.AudioSpeechNewParams{Input: "Hi", Model: "tts-1",
		Voice:          openai.AudioSpeechNewParamsVoiceUnion{OfString: openai.String("alloy")},
		ResponseFormat: openai.AudioSpeechNewParamsResponseFormatWAV})
	require.NoError(t, err)
	wav, err := io.ReadAll(res.Body)
	require.NoError(t, res.Body.Close())
	require.NoError(t, err)
	require.Equal(t, "RIFF", string(wav[:4]))
	require.Equal(t, uint32(llmtest.SpeechRate), binary.LittleEndian.Uint32(wav[24:]))
	require.Len(t, wav, 44+2*200)

	// The WAV goes back as a transcription; the default transcript spans its duration.
	tr, err := api.Audio.Transcriptions.New(ctx, openai.AudioTranscriptionNewParams{
		File: openai.File(strings.NewReader(string(wav)), "a.wav", "audio/wav"), Model: "whisper-1",
		ResponseFormat: openai.AudioResponseFormatVerboseJSON, TimestampGranularities: []string{"word"}})
	require.NoError(t, err)
	require.Equal(t, "hello world", tr.Text)
	require.InDelta(t, 200.0/llmtest.SpeechRate, tr.Duration, 1e-9)
	require.Len(t, tr.Words, 2)
	require.Empty(t, tr.Segments) // only words were asked for
	r := s.Requests(llmtest.Transcriptions)[0]
	require.Equal(t, wav, r.File)
	require.Equal(t, "a.wav", r.Filename)
	require.Equal(t, []string{"word"}, r.TimestampGranularities)
}

func TestFaultsAndUnknownPaths(t *testing.T) {
	t.Parallel()
	s := llmtest.New(t)
	s.Fail(llmtest.Speech, llmtest.Fault{Status: http.StatusServiceUnavailable, RetryAfter: "7", Times: 2})
	post := func(path string) *http.Response {
		req, err := http.NewRequest(http.MethodPost, s.BaseURL()+path, strings.NewReader(`{"input":"x"}`))
		require.NoError(t, err)
		req.Header.Set("Authorization", "Bearer "+llmtest.APIKey)
		res, err := s.Server.Client().Do(req)
		require.NoError(t, err)
		_ = res.Body.Close()
		return res
	}
	require.Equal(t, http.StatusNotFound, post("/nope").StatusCode)
	res := post("/audio/speech")
	require.Equal(t, http.StatusServiceUnavailable, res.StatusCode)
	require.Equal(t, "7", res.Header.Get("Retry-After"))
	require.Equal(t, http.StatusServiceUnavailable, post("/audio/speech").StatusCode)
	require.Equal(t, http.StatusBadRequest, post("/audio/speech").StatusCode) // no response_format: mp3, which the fake cannot make
	require.Len(t, s.Requests(""), 4)
	require.Equal(t, "nope", s.Requests("")[0].Endpoint)
}
