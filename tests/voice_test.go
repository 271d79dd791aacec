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
	"github.com/voiceassist/gateway/internal/auth"
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

func ptr[T any](v T) *T { return &v }

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
	require.LessOrEqual(t, wer, 0.25, "measured about 0.1 with kal16 (docs/benchmarks.md)")
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
			env := errorEnvelope(t, res.Body)
			require.Equal(t, c.field, env.Field, "%s", res.Body)
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

	// Anonymous callers are refused.
	ct, body = audioForm(t, tone(16000, 0.5), "audio/wav", nil)
	res, err = s.Client.TranscribeAudioWithBodyWithResponse(context.Background(), ct, body)
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, res.StatusCode())
}

// errorFields is the error part of an envelope.
type errorFields struct {
	Code  string
	Field string
}

func errorEnvelope(t *testing.T, body []byte) errorFields {
	t.Helper()
	var env struct {
		Success bool `json:"success"`
		Error   struct {
			Code  string  `json:"code"`
			Field *string `json:"field"`
		} `json:"error"`
	}
	require.NoError(t, jsonUnmarshal(body, &env), "%s", body)
	require.False(t, env.Success)
	out := errorFields{Code: env.Error.Code}
	if env.Error.Field != nil {
		out.Field = *env.Error.Field
	}
	return out
}

func TestVoiceSynthesizeErrorsAndFormats(t *testing.T) {
	t.Parallel()
	needOfflineVoice(t)
	s := startServer(t, nil)
	tok := s.token(t, s.account(t, auth.RoleUser))

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
		require.Equal(t, c.field, errorEnvelope(t, res.Body).Field, c.name)
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
	require.Equal(t, "format", errorEnvelope(t, bad.Body).Field)
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
	require.Equal(t, "voice", errorEnvelope(t, bad.Body).Field)
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
