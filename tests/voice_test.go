package tests

import (
	"bytes"
	"context"
	"encoding/binary"
	"io"
	"math"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"os"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/app"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/llm/llmtest"
	"github.com/voiceassist/gateway/internal/voice"
	"github.com/voiceassist/gateway/internal/voice/offline"
)

func init() {
	// Synthesised audio is bytes the response validator reads as a file.
	for _, ct := range []string{"audio/wav", "audio/mpeg", "audio/ogg", "audio/l16"} {
		openapi3filter.RegisterBodyDecoder(ct, openapi3filter.FileBodyDecoder)
	}
}

// needOfflineVoice skips without the offline voice on a developer machine; CI installs it
// (make test runs scripts/voice-deps.sh), so there a missing voice fails.
func needOfflineVoice(t *testing.T) {
	t.Helper()
	if err := offline.Available(); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("offline voice missing in CI: %v", err)
		}
		t.Skipf("offline voice not built in: %v", err)
	}
}

// audioForm builds the multipart body of a transcription.
func audioForm(t *testing.T, audio []byte, partType string, fields map[string]string) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	if audio != nil {
		h := textproto.MIMEHeader{}
		h.Set("Content-Disposition", `form-data; name="audio"; filename="speech.bin"`)
		if partType == "" {
			partType = "application/octet-stream"
		}
		h.Set("Content-Type", partType)
		p, err := w.CreatePart(h)
		require.NoError(t, err)
		_, err = p.Write(audio)
		require.NoError(t, err)
	}
	for k, v := range fields {
		require.NoError(t, w.WriteField(k, v))
	}
	require.NoError(t, w.Close())
	return w.FormDataContentType(), &buf
}

func (s *testServer) transcribe(t *testing.T, tok string, audio []byte, fields map[string]string) *client.TranscribeAudioResponse {
	t.Helper()
	ct, body := audioForm(t, audio, "audio/wav", fields)
	res, err := s.Client.TranscribeAudioWithBodyWithResponse(context.Background(), ct, body, bearerAuth(tok))
	require.NoError(t, err)
	return res
}

func (s *testServer) synthesize(t *testing.T, tok string, in client.SynthesisInput) *client.SynthesizeSpeechResponse {
	t.Helper()
	res, err := s.Client.SynthesizeSpeechWithResponse(context.Background(), in, bearerAuth(tok))
	require.NoError(t, err)
	return res
}

// tone is a WAV of a sine at rate Hz for the given seconds (not speech: a decodable file).
func tone(rate int, seconds float64) []byte {
	n := int(float64(rate) * seconds)
	p := voice.PCM{Rate: rate, Samples: make([]int16, n)}
	for i := range p.Samples {
		p.Samples[i] = int16(8000 * math.Sin(2*math.Pi*440*float64(i)/float64(rate)))
	}
	return voice.EncodeWAV(p)
}

// The offline providers understand what they say: synthesise sentences through the API,
// transcribe the audio through the API, and bound the word error rate.
func TestVoiceOfflineRoundTrip(t *testing.T) {
	t.Parallel()
	needOfflineVoice(t)
	s := startServer(t, nil)
	tok := s.token(t, s.account(t, auth.RoleUser))
	sentences := []string{
		"Please schedule a follow up visit for next Tuesday morning.",
		"The patient reports chest pain and shortness of breath since yesterday.",
		"Take one tablet by mouth twice daily with food.",
		"What is the weather like in the city today?",
	}
	edits, words := 0, 0
	for _, text := range sentences {
		res := s.synthesize(t, tok, client.SynthesisInput{Text: text, Voice: ptr("kal16"), Format: ptr(client.Wav)})
		require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)
		require.Equal(t, "audio/wav", res.HTTPResponse.Header.Get("Content-Type"))
		require.Equal(t, "offline", res.HTTPResponse.Header.Get("X-TTS-Provider"))
		require.Equal(t, "false", res.HTTPResponse.Header.Get("X-TTS-Fallback"))
		require.Equal(t, "kal16", res.HTTPResponse.Header.Get("X-TTS-Voice"))

		tr := s.transcribe(t, tok, res.Body, map[string]string{"language": "en", "timestamps": "true"})
		require.Equal(t, http.StatusOK, tr.StatusCode(), "%s", tr.Body)
		got := tr.JSON200.Data
		require.Equal(t, "offline", got.Provider)
		require.Equal(t, "en", got.Language)
		require.Greater(t, got.Duration, 1.0)
		require.NotNil(t, got.Segments, "timestamps were asked for")
		var last float64
		for _, sg := range *got.Segments {
			for _, w := range sg.Words {
				require.GreaterOrEqual(t, w.Start, last, "words in time order")
				require.GreaterOrEqual(t, w.End, w.Start)
				last = w.Start
			}
		}
		e, n := voice.WERCounts(text, got.Text)
		edits, words = edits+e, words+n
		t.Logf("%q -> %q", text, got.Text)
	}
	wer := float64(edits) / float64(words)
	t.Logf("WER %.3f over %d words", wer, words)
	require.LessOrEqual(t, wer, 0.25, "measured 0.205 on these four sentences with kal16; deterministic")
}

func TestVoiceTranscribeErrors(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"VOICE_MAX_AUDIO_SECONDS": "2", "VOICE_MAX_AUDIO_BYTES": "262144"})
	tok := s.token(t, s.account(t, auth.RoleUser))

	cases := []struct {
		name   string
		audio  []byte
		fields map[string]string
		status int
		field  string
	}{
		{"not audio", []byte("this is plain text, not a recording at all"), nil, http.StatusUnsupportedMediaType, "audio"},
		{"wav without samples", voice.EncodeWAV(voice.PCM{Rate: 16000}), nil, http.StatusUnprocessableEntity, "audio"},
		{"truncated wav header", voice.EncodeWAV(voice.PCM{Rate: 16000, Samples: make([]int16, 100)})[:20], nil, http.StatusUnprocessableEntity, "audio"},
		{"too long", tone(8000, 3), nil, http.StatusRequestEntityTooLarge, "audio"},
		{"bad language", tone(16000, 0.5), map[string]string{"language": "not a language"}, http.StatusUnprocessableEntity, "language"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			res := s.transcribe(t, tok, c.audio, c.fields)
			require.Equal(t, c.status, res.StatusCode(), "%s", res.Body)
			require.Equal(t, c.field, errField(t, res.Body), "%s", res.Body)
		})
	}

	// No audio part at all.
	ct, body := audioForm(t, nil, "", map[string]string{"language": "en"})
	res, err := s.Client.TranscribeAudioWithBodyWithResponse(context.Background(), ct, body, bearerAuth(tok))
	require.NoError(t, err)
	require.Contains(t, []int{http.StatusBadRequest, http.StatusUnprocessableEntity}, res.StatusCode(), "%s", res.Body)

	// Over VOICE_MAX_AUDIO_BYTES: 413 before the body is read.
	big := tone(48000, 2.5) // 240 KB of header + samples is under; make it surely over
	big = append(big, make([]byte, 300000)...)
	res = s.transcribe(t, tok, big, nil)
	require.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode(), "%s", res.Body)

	// A limit below MAX_BODY_BYTES holds too.
	small := startServer(t, map[string]string{"VOICE_MAX_AUDIO_BYTES": "65536"})
	res = small.transcribe(t, small.token(t, small.account(t, auth.RoleUser)), tone(16000, 6), nil) // 192 KB
	require.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode(), "%s", res.Body)

	// Anonymous callers are refused.
	ct, body = audioForm(t, tone(16000, 0.5), "audio/wav", nil)
	res, err = s.Client.TranscribeAudioWithBodyWithResponse(context.Background(), ct, body)
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, res.StatusCode())
}

// errField is the field an error envelope names ("" when none).
func errField(t *testing.T, body []byte) string {
	t.Helper()
	e := errorOf(t, body)
	if e.Error.Field == nil {
		return ""
	}
	return *e.Error.Field
}

func TestVoiceSynthesizeErrorsAndFormats(t *testing.T) {
	t.Parallel()
	needOfflineVoice(t)
	s := startServer(t, nil)
	tok := s.token(t, s.account(t, auth.RoleUser))

	vs, err := s.Client.ListVoicesWithResponse(context.Background(), bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, vs.StatusCode(), "%s", vs.Body)
	require.Equal(t, []string{"offline"}, vs.JSON200.Data.Providers)
	ids := map[string]bool{}
	for _, v := range vs.JSON200.Data.Voices {
		ids[v.Id] = true
		require.Equal(t, "offline", v.Provider)
		require.Equal(t, v.Id == "kal16", v.Default, v.Id)
	}
	require.True(t, ids["kal16"] && ids["slt"] && ids["awb"] && ids["rms"], "%v", ids)

	for _, c := range []struct {
		name  string
		in    client.SynthesisInput
		field string
	}{
		{"blank text", client.SynthesisInput{Text: "   "}, "text"},
		{"unknown voice", client.SynthesisInput{Text: "Hello.", Voice: ptr("no-such-voice")}, "voice"},
		{"speed out of range", client.SynthesisInput{Text: "Hello.", Speed: ptr(float32(3))}, "speed"},
		{"too long", client.SynthesisInput{Text: strings.Repeat("a", 5001)}, "text"},
	} {
		res := s.synthesize(t, tok, c.in)
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode(), "%s: %s", c.name, res.Body)
		require.Equal(t, c.field, errField(t, res.Body), c.name)
	}

	// pcm is audio/L16: big-endian samples at 16 kHz, and as many as the WAV holds.
	wav := s.synthesize(t, tok, client.SynthesisInput{Text: "Blood pressure is normal.", Format: ptr(client.Wav)})
	require.Equal(t, http.StatusOK, wav.StatusCode())
	pcm := s.synthesize(t, tok, client.SynthesisInput{Text: "Blood pressure is normal.", Format: ptr(client.Pcm)})
	require.Equal(t, http.StatusOK, pcm.StatusCode())
	require.Equal(t, "audio/L16; rate=16000; channels=1", pcm.HTTPResponse.Header.Get("Content-Type"))
	dec, _, err := voice.Decode(context.Background(), wav.Body, 60)
	require.NoError(t, err)
	require.Len(t, pcm.Body, 2*len(dec.Samples))
	require.Equal(t, dec.Samples[len(dec.Samples)/2], int16(binary.BigEndian.Uint16(pcm.Body[len(dec.Samples)/2*2:])))

	if voice.FFmpegAvailable() {
		mp3 := s.synthesize(t, tok, client.SynthesisInput{Text: "Blood pressure is normal.", Format: ptr(client.Mp3)})
		require.Equal(t, http.StatusOK, mp3.StatusCode(), "%s", mp3.Body)
		require.Equal(t, "audio/mpeg", mp3.HTTPResponse.Header.Get("Content-Type"))
		require.Equal(t, voice.Container("mp3"), voice.Sniff(mp3.Body))
	}
}

func TestVoiceSynthesizeStream(t *testing.T) {
	t.Parallel()
	needOfflineVoice(t)
	s := startServer(t, nil)
	tok := s.token(t, s.account(t, auth.RoleUser))
	text := "First sentence here. A second, longer sentence follows it. And a third one ends the text."

	res, err := s.Client.StreamSpeech(context.Background(), client.SynthesisInput{Text: text}, bearerAuth(tok))
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	require.Equal(t, "audio/L16; rate=16000; channels=1", res.Header.Get("Content-Type"))
	require.Equal(t, "offline", res.Header.Get("X-TTS-Provider"))
	body, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	require.Greater(t, len(body), 16000*2, "three sentences are more than a second of audio")
	require.Zero(t, len(body)%2)

	// wav cannot be streamed.
	bad, err := s.Client.StreamSpeechWithResponse(context.Background(), client.SynthesisInput{Text: text, Format: ptr(client.Wav)}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnprocessableEntity, bad.StatusCode(), "%s", bad.Body)
	require.Equal(t, "format", errField(t, bad.Body))
}

func TestVoicePreferences(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	tok := s.token(t, s.account(t, auth.RoleUser))
	ctx := context.Background()

	got, err := s.Client.GetVoicePreferencesWithResponse(ctx, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, got.StatusCode())
	require.Equal(t, float32(1), got.JSON200.Data.Speed)
	require.Nil(t, got.JSON200.Data.UpdatedAt, "defaults are not stored")

	up, err := s.Client.UpdateVoicePreferencesWithResponse(ctx, client.VoicePreferencesInput{Speed: ptr(float32(7)), Style: ptr(client.Calm), AutoPlay: ptr(false)}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, up.StatusCode(), "%s", up.Body)
	require.Equal(t, float32(2), up.JSON200.Data.Speed, "speed is clamped to 2.0")
	require.Equal(t, client.Calm, up.JSON200.Data.Style)
	require.NotNil(t, up.JSON200.Data.UpdatedAt)

	// Stored: a second read sees them; an unknown voice is refused and changes nothing.
	bad, err := s.Client.UpdateVoicePreferencesWithResponse(ctx, client.VoicePreferencesInput{Voice: ptr("no-such-voice")}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnprocessableEntity, bad.StatusCode())
	require.Equal(t, "voice", errField(t, bad.Body))
	got, err = s.Client.GetVoicePreferencesWithResponse(ctx, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, float32(2), got.JSON200.Data.Speed)
	require.False(t, got.JSON200.Data.AutoPlay)

	// Empty body and unknown fields are refused.
	empty, err := s.Client.UpdateVoicePreferencesWithResponse(ctx, client.VoicePreferencesInput{}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnprocessableEntity, empty.StatusCode())

	// Another user still has the defaults.
	other := s.token(t, s.account(t, auth.RoleUser))
	o, err := s.Client.GetVoicePreferencesWithResponse(ctx, bearerAuth(other))
	require.NoError(t, err)
	require.Equal(t, float32(1), o.JSON200.Data.Speed)

	reset, err := s.Client.ResetVoicePreferencesWithResponse(ctx, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, reset.StatusCode())
	require.Equal(t, float32(1), reset.JSON200.Data.Speed)
	got, err = s.Client.GetVoicePreferencesWithResponse(ctx, bearerAuth(tok))
	require.NoError(t, err)
	require.Nil(t, got.JSON200.Data.UpdatedAt)

	presets, err := s.Client.ListVoiceStylePresetsWithResponse(ctx, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, presets.StatusCode())
	require.NotEmpty(t, presets.JSON200.Data)
}

// openAIVoice starts a gateway whose speech goes to a fake OpenAI-compatible server first,
// with the offline providers as the fallback.
func openAIVoice(t *testing.T, env map[string]string, opts ...app.Option) (*testServer, *llmtest.Server) {
	t.Helper()
	fake := llmtest.New(t)
	cfg := map[string]string{"OPENAI_BASE_URL": fake.BaseURL(), "OPENAI_API_KEY": "test-key",
		"CHAT_PROVIDER": "offline", "EMBEDDING_PROVIDER": "offline",
		"VOICE_STT_PROVIDER": "openai,offline", "VOICE_TTS_PROVIDER": "openai,offline",
		"OPENAI_STT_MODEL": "whisper-test", "OPENAI_TTS_MODEL": "tts-test"}
	for k, v := range env {
		cfg[k] = v
	}
	return startServer(t, cfg, opts...), fake
}

func TestVoiceOpenAIProvider(t *testing.T) {
	t.Parallel()
	s, fake := openAIVoice(t, nil)
	tok := s.token(t, s.account(t, auth.RoleUser))
	fake.SetTranscript(func(llmtest.Request) llmtest.Transcript {
		return llmtest.Transcript{Text: "Start metformin twice daily.", Language: "english", Duration: 1,
			Segments: []llmtest.Segment{{Text: "Start metformin twice daily.", Start: 0, End: 1, AvgLogprob: -0.1}},
			Words:    []llmtest.Word{{Word: "Start", Start: 0, End: 0.3}, {Word: "metformin", Start: 0.3, End: 0.8}}}
	})

	res := s.transcribe(t, tok, tone(44100, 1), map[string]string{"language": "en-GB", "prompt": "metformin", "timestamps": "true"})
	require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)
	require.Equal(t, "openai", res.JSON200.Data.Provider)
	require.False(t, res.JSON200.Data.Fallback)
	require.Equal(t, "Start metformin twice daily.", res.JSON200.Data.Text)
	require.NotNil(t, res.JSON200.Data.Segments)
	reqs := fake.Requests(llmtest.Transcriptions)
	require.Len(t, reqs, 1)
	r := reqs[0]
	require.Equal(t, "whisper-test", r.Model)
	require.Equal(t, "en", r.Language, "the primary language tag")
	require.Equal(t, "metformin", r.Prompt)
	require.True(t, strings.HasSuffix(r.Filename, ".wav"), r.Filename)
	require.Equal(t, voice.Container("wav"), voice.Sniff(r.File), "the upload is re-encoded as WAV")
	require.Contains(t, r.TimestampGranularities, "word")

	// A provider error on the caller's input (4xx) is a 422, not a fallback.
	fake.Fail(llmtest.Transcriptions, llmtest.Fault{Status: http.StatusBadRequest, Message: "audio too short"})
	res = s.transcribe(t, tok, tone(16000, 1), nil)
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode(), "%s", res.Body)

	// Synthesis: the fake answers 24 kHz PCM; the gateway serves WAV.
	sp := s.synthesize(t, tok, client.SynthesisInput{Text: "Hello there.", Voice: ptr("nova"), Speed: ptr(float32(1.25))})
	require.Equal(t, http.StatusOK, sp.StatusCode(), "%s", sp.Body)
	require.Equal(t, "openai", sp.HTTPResponse.Header.Get("X-TTS-Provider"))
	require.Equal(t, "nova", sp.HTTPResponse.Header.Get("X-TTS-Voice"))
	speech := fake.Requests(llmtest.Speech)
	require.Len(t, speech, 1)
	require.Equal(t, "tts-test", speech[0].Model)
	require.Equal(t, "pcm", speech[0].ResponseFormat)
	require.Equal(t, "Hello there.", speech[0].JSON["input"])
	require.NotNil(t, speech[0].Speed)
	require.InDelta(t, 1.25, *speech[0].Speed, 1e-6)
}

// When the first provider fails (5xx after its retries), the next one answers and the
// response says so.
func TestVoiceFallback(t *testing.T) {
	t.Parallel()
	needOfflineVoice(t)
	s, fake := openAIVoice(t, nil)
	tok := s.token(t, s.account(t, auth.RoleUser))

	fake.Fail(llmtest.Speech, llmtest.Fault{Status: http.StatusServiceUnavailable, Times: 10})
	sp := s.synthesize(t, tok, client.SynthesisInput{Text: "The clinic opens at nine."})
	require.Equal(t, http.StatusOK, sp.StatusCode(), "%s", sp.Body)
	require.Equal(t, "offline", sp.HTTPResponse.Header.Get("X-TTS-Provider"))
	require.Equal(t, "true", sp.HTTPResponse.Header.Get("X-TTS-Fallback"))
	require.Greater(t, len(fake.Requests(llmtest.Speech)), 1, "the cloud provider was retried before the fallback")

	fake.Fail(llmtest.Transcriptions, llmtest.Fault{Status: http.StatusInternalServerError, Times: 10})
	tr := s.transcribe(t, tok, sp.Body, nil)
	require.Equal(t, http.StatusOK, tr.StatusCode(), "%s", tr.Body)
	require.Equal(t, "offline", tr.JSON200.Data.Provider)
	require.True(t, tr.JSON200.Data.Fallback)

	// The status report names the failing provider.
	admin := s.token(t, s.account(t, auth.RoleViewer))
	st, err := s.Client.GetVoiceStatusWithResponse(context.Background(), bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, st.StatusCode(), "%s", st.Body)
	states := map[string]client.VoiceProviderStatusState{}
	for _, p := range st.JSON200.Data.Providers {
		states[string(p.Kind)+":"+p.Name] = p.State
		if p.Name == "openai" {
			require.True(t, p.External)
		}
	}
	require.Equal(t, client.Failing, states["tts:openai"])
	require.Equal(t, client.Ok, states["tts:offline"])
	require.Equal(t, client.Failing, states["stt:openai"])
}

func TestVoiceTimeoutAndOverload(t *testing.T) {
	t.Parallel()
	s, fake := openAIVoice(t, map[string]string{"VOICE_STT_PROVIDER": "openai", "VOICE_TTS_PROVIDER": "openai",
		"VOICE_STT_TIMEOUT_SECONDS": "1"})
	tok := s.token(t, s.account(t, auth.RoleUser))

	fake.Fail(llmtest.Transcriptions, llmtest.Fault{Hang: true})
	res := s.transcribe(t, tok, tone(16000, 1), nil)
	require.Equal(t, http.StatusGatewayTimeout, res.StatusCode(), "%s", res.Body)
	require.Equal(t, "VOICE_TIMEOUT", errorOf(t, res.Body).Error.Code)

	fake.Fail(llmtest.Speech, llmtest.Fault{Status: http.StatusTooManyRequests, RetryAfter: "0", Times: 10})
	sp := s.synthesize(t, tok, client.SynthesisInput{Text: "Hello."})
	require.Equal(t, http.StatusServiceUnavailable, sp.StatusCode(), "%s", sp.Body)
	require.Equal(t, "VOICE_OVERLOADED", errorOf(t, sp.Body).Error.Code)
	require.NotEmpty(t, sp.HTTPResponse.Header.Get("Retry-After"))
}

// VOICE_ALLOW_CLOUD=false keeps audio away from an external provider; without any other
// provider the answer is 503 naming why.
func TestVoiceCloudNotAllowed(t *testing.T) {
	t.Parallel()
	s, fake := openAIVoice(t, map[string]string{"VOICE_STT_PROVIDER": "openai", "VOICE_TTS_PROVIDER": "openai",
		"VOICE_ALLOW_CLOUD": "false"})
	tok := s.token(t, s.account(t, auth.RoleUser))
	res := s.transcribe(t, tok, tone(16000, 1), nil)
	require.Equal(t, http.StatusServiceUnavailable, res.StatusCode(), "%s", res.Body)
	e := errorOf(t, res.Body)
	require.Equal(t, "VOICE_UNAVAILABLE", e.Error.Code)
	require.Contains(t, e.Error.Message, "VOICE_ALLOW_CLOUD")
	require.Empty(t, fake.Requests(llmtest.Transcriptions), "no audio left the deployment")

	// Readiness stays 200 (voice is optional) but says degraded.
	rd, err := s.Client.GetReadyWithResponse(context.Background())
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, rd.StatusCode(), "%s", rd.Body)
	require.Equal(t, client.Degraded, rd.JSON200.Status)
	require.Equal(t, client.Down, rd.JSON200.Checks.Voice.Status)
}

func TestVoiceRelay(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"RATE_LIMIT_VOICE_RELAY_PER_MINUTE": "2"})
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	doc := s.addText(t, admin, "Hypertension guideline", "First-line treatment of hypertension is a thiazide diuretic, an ACE inhibitor or a calcium channel blocker.")
	s.waitIndexed(t, admin, doc.Id)

	user := s.account(t, auth.RoleUser)
	tok := s.token(t, user)
	ctx := context.Background()
	conv, err := s.Client.CreateConversationWithResponse(ctx, client.ConversationInput{}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, conv.StatusCode(), "%s", conv.Body)
	id := conv.JSON201.Data.Id

	res, err := s.Client.RelayVoiceTranscriptWithResponse(ctx, client.VoiceRelayInput{ConversationId: id,
		Transcript: "what is the first line treatment of hypertension"}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, res.StatusCode(), "%s", res.Body)
	ex := res.JSON201.Data
	require.Equal(t, client.Voice, ex.UserMessage.Source)
	require.Equal(t, client.Voice, ex.AssistantMessage.Source)
	require.False(t, ex.AssistantMessage.Interrupted)
	require.NotEmpty(t, ex.AssistantMessage.Citations, "a cited answer")

	// Stored with their source; typed messages stay chat.
	sent, err := s.Client.SendMessageWithResponse(ctx, id, client.MessageInput{Content: "and for diabetes?"}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, client.Chat, sent.JSON201.Data.UserMessage.Source)
	list, err := s.Client.ListMessagesWithResponse(ctx, id, nil, bearerAuth(tok))
	require.NoError(t, err)
	require.Len(t, list.JSON200.Data, 4)
	require.Equal(t, client.Voice, list.JSON200.Data[0].Source)
	require.Equal(t, client.Chat, list.JSON200.Data[2].Source)

	// Another user's conversation is a 404; the per-user limit answers 429.
	other := s.token(t, s.account(t, auth.RoleUser))
	nf, err := s.Client.RelayVoiceTranscriptWithResponse(ctx, client.VoiceRelayInput{ConversationId: id, Transcript: "hello"}, bearerAuth(other))
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, nf.StatusCode(), "%s", nf.Body)
	lim, err := s.Client.RelayVoiceTranscriptWithResponse(ctx, client.VoiceRelayInput{ConversationId: id, Transcript: "hello again"}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, lim.StatusCode(), "%s", lim.Body)
	lim, err = s.Client.RelayVoiceTranscriptWithResponse(ctx, client.VoiceRelayInput{ConversationId: id, Transcript: "third"}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusTooManyRequests, lim.StatusCode(), "%s", lim.Body)
	require.Equal(t, "RATE_LIMIT_EXCEEDED", errorOf(t, lim.Body).Error.Code)
	require.NotEmpty(t, lim.HTTPResponse.Header.Get("Retry-After"))

	// Blank transcript.
	blank, err := s.Client.RelayVoiceTranscriptWithResponse(ctx, client.VoiceRelayInput{ConversationId: id, Transcript: "  "}, bearerAuth(other))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnprocessableEntity, blank.StatusCode(), "%s", blank.Body)
}

// The voice audit rows say that speech was processed, never what was said.
func TestVoiceAuditHasNoContent(t *testing.T) {
	t.Parallel()
	needOfflineVoice(t)
	s := startServer(t, nil)
	tok := s.token(t, s.account(t, auth.RoleUser))
	const secret = "Patient Zebediah Quinlan takes warfarin."
	sp := s.synthesize(t, tok, client.SynthesisInput{Text: secret})
	require.Equal(t, http.StatusOK, sp.StatusCode())
	tr := s.transcribe(t, tok, sp.Body, nil)
	require.Equal(t, http.StatusOK, tr.StatusCode())

	sa := s.token(t, s.account(t, auth.RoleSuperadmin))
	logs, err := s.Client.ListAuditLogsWithResponse(context.Background(), &client.ListAuditLogsParams{ResourceType: ptr("voice")}, bearerAuth(sa))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, logs.StatusCode(), "%s", logs.Body)
	actions := map[string]bool{}
	for _, e := range logs.JSON200.Data {
		actions[e.Action] = true
	}
	require.True(t, actions["voice.synthesized"] && actions["voice.transcribed"], "%v", actions)
	require.NotContains(t, strings.ToLower(string(logs.Body)), "zebediah")
	require.NotContains(t, strings.ToLower(s.Logs()), "zebediah", "no text in logs")
}
