package tests

import (
	"context"
	"net/http"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/app"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/llm/llmtest"
)

const hypertensionDoc = `Hypertension is treated first with lifestyle changes. Thiazide diuretics, ACE inhibitors,
calcium channel blockers and angiotensin receptor blockers are first line drug treatments for hypertension.
Blood pressure should be rechecked within four weeks of starting treatment.`

// voiceServer is a gateway whose speech goes to a fake OpenAI-compatible server and whose
// answers come from the offline extractive model over a knowledge base about hypertension.
func voiceServer(t *testing.T, env map[string]string, opts ...app.Option) (*testServer, *llmtest.Server, string) {
	t.Helper()
	s, fake := openAIVoice(t, env, opts...)
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	doc := s.addText(t, admin, "Hypertension treatment", hypertensionDoc)
	s.waitIndexed(t, admin, doc.Id)
	fake.SetTranscript(func(llmtest.Request) llmtest.Transcript {
		return llmtest.Transcript{Text: "What is the first line treatment for hypertension?", Language: "english", Duration: 1}
	})
	return s, fake, s.token(t, s.account(t, auth.RoleUser))
}

// messages lists a conversation's stored messages.
func (s *testServer) messages(t *testing.T, tok string, conv uuid.UUID) []client.Message {
	t.Helper()
	res, err := s.Client.ListMessagesWithResponse(context.Background(), conv, nil, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), string(res.Body))
	return res.JSON200.Data
}

// A spoken question, found by voice activity detection in binary frames, gets a transcript,
// a streamed cited answer and its speech; the turn is stored with source voice, and the
// server counted every input frame.
func TestVoiceSessionSpokenTurn(t *testing.T) {
	t.Parallel()
	s, fake, tok := voiceServer(t, nil)
	v := dialVoice(t, s, tok)
	ready := v.start(map[string]any{"features": []string{"binary_audio", "emotions"}, "vad": map[string]any{"silence_ms": 300}})
	require.EqualValues(t, 24000, ready["output_sample_rate"])
	require.EqualValues(t, 16000, ready["input_sample_rate"])
	conv := uuid.MustParse(ready["conversation_id"].(string))
	listening := v.next()
	require.Equal(t, "voice.state", listening.Type)
	require.Equal(t, "listening", listening.Ev["state"])

	next := v.stream(1, speech(0.4, 1.0, 0.6))
	thinking, _ := v.until("voice.state")
	require.Equal(t, "thinking", thinking.Ev["state"])
	tr, _ := v.until("transcript.complete")
	require.Equal(t, "What is the first line treatment for hypertension?", tr.Ev["text"])
	done, frames := v.until("response.complete")
	last, _ := v.until("voice.state")
	require.Equal(t, "listening", last.Ev["state"])

	// Order and content: deltas, speaking, per sentence meta then its binary frames.
	var text string
	var audio, sentences int
	seq := tr.Seq
	for _, f := range frames {
		require.Greater(t, f.Seq, seq, "sequence numbers increase: %+v", f)
		seq = f.Seq
		switch f.Type {
		case "response.delta":
			text += f.Ev["delta"].(string)
		case "audio.output.meta":
			sentences++
			require.EqualValues(t, 24000, f.Ev["sample_rate"])
		case "audio.output":
			require.True(t, f.Binary, "binary_audio was negotiated")
			require.Positive(t, f.Samples)
			audio++
		}
	}
	require.Greater(t, done.Seq, seq)
	require.Positive(t, sentences)
	require.GreaterOrEqual(t, audio, sentences)
	require.Equal(t, text, done.Ev["content"])
	require.Equal(t, false, done.Ev["interrupted"])
	cites := done.Ev["citations"].([]any)
	require.NotEmpty(t, cites, "the answer cites the knowledge base: %v", done.Ev)
	require.Equal(t, "Hypertension treatment", cites[0].(map[string]any)["title"])
	require.NotEmpty(t, fake.Requests(llmtest.Speech))

	msgs := s.messages(t, tok, conv)
	require.Len(t, msgs, 2)
	require.Equal(t, client.MessageSource("voice"), msgs[0].Source)
	require.Equal(t, "What is the first line treatment for hypertension?", msgs[0].Content)
	require.Equal(t, client.MessageSource("voice"), msgs[1].Source)
	require.Equal(t, done.Ev["content"], msgs[1].Content)
	require.Equal(t, done.Ev["message_id"], msgs[1].Id.String())
	require.False(t, msgs[1].Interrupted)

	v.send(map[string]any{"type": "ping", "ts": 7})
	pong, _ := v.until("pong")
	require.EqualValues(t, 7, pong.Ev["ts"])
	require.EqualValues(t, next-1, pong.Ev["input_frames"], "every frame sent was counted")
	require.EqualValues(t, next-1, pong.Ev["last_input_seq"])
	require.EqualValues(t, 0, pong.Ev["input_gaps"])
}

// Without binary_audio, audio goes both ways as base64 JSON; with VAD off the utterance ends
// at audio.input.complete; a typed message is a turn too (source chat).
func TestVoiceSessionJSONAudioAndTypedTurn(t *testing.T) {
	t.Parallel()
	s, _, tok := voiceServer(t, nil)
	v := dialVoice(t, s, tok)
	ready := v.start(map[string]any{"vad": map[string]any{"enabled": false}})
	conv := uuid.MustParse(ready["conversation_id"].(string))
	pcm := speech(0, 0.5, 0)
	b := make([]byte, 2*len(pcm))
	for i, x := range pcm {
		b[2*i], b[2*i+1] = byte(uint16(x)), byte(uint16(x)>>8)
	}
	v.send(map[string]any{"type": "audio.input", "audio": b64(b), "seq": 1})
	v.send(map[string]any{"type": "audio.input.complete"})
	_, frames := v.until("response.complete")
	var audio int
	for _, f := range frames {
		if f.Type == "audio.output" {
			require.False(t, f.Binary)
			require.Positive(t, f.Samples)
			audio++
		}
	}
	require.Positive(t, audio)
	v.until("voice.state")

	v.send(map[string]any{"type": "message", "content": "Which drugs treat hypertension?"})
	done, _ := v.until("response.complete")
	require.NotEmpty(t, done.Ev["citations"])
	msgs := s.messages(t, tok, conv)
	require.Len(t, msgs, 4)
	require.Equal(t, client.MessageSource("chat"), msgs[2].Source)
	require.Equal(t, "Which drugs treat hypertension?", msgs[2].Content)
}

// gateSpeech makes the fake's speech endpoint answer the first n sentences at once and hold
// the rest until release is closed (or the gateway gives up on the request).
func gateSpeech(fake *llmtest.Server, n int) (release func()) {
	var mu sync.Mutex
	count := 0
	gate := make(chan struct{})
	fake.SetHandler(func(w http.ResponseWriter, r *http.Request, req llmtest.Request) bool {
		if req.Endpoint != llmtest.Speech {
			return false
		}
		mu.Lock()
		count++
		held := count > n
		mu.Unlock()
		if held {
			select {
			case <-gate:
			case <-r.Context().Done():
				return true
			}
		}
		return false
	})
	var once sync.Once
	return func() { once.Do(func() { close(gate) }) }
}

// voice.mode dictation: utterances and typed text go to a dictation session (commands run,
// the note grows, a read-back is spoken) instead of the chat; conversation mode comes back.
func TestVoiceSessionDictationMode(t *testing.T) {
	t.Parallel()
	s, fake, tok := voiceServer(t, nil)
	fake.SetTranscript(func(llmtest.Request) llmtest.Transcript {
		return llmtest.Transcript{Text: "blood pressure one hundred forty over ninety period next section", Language: "english", Duration: 1}
	})
	v := dialVoice(t, s, tok)
	v.start(map[string]any{"features": []string{"binary_audio"}, "vad": map[string]any{"enabled": false}})
	v.send(map[string]any{"type": "voice.mode", "mode": "dictation", "note_type": "soap"})
	mode, _ := v.until("voice.mode.activated")
	require.Equal(t, "dictation", mode.Ev["mode"])
	id := uuid.MustParse(mode.Ev["dictation_session_id"].(string))

	v.send(map[string]any{"type": "message", "content": "Patient reports chest pain since yesterday period next section"})
	up, _ := v.until("dictation.update")
	require.Equal(t, "objective", up.Ev["current_section"])
	require.Contains(t, up.Ev["text"], "Patient reports chest pain since yesterday.")
	v.until("voice.state")

	v.audio(1, speech(0, 0.5, 0))
	v.send(map[string]any{"type": "audio.input.complete"})
	tr, _ := v.until("transcript.complete")
	require.Equal(t, "blood pressure one hundred forty over ninety period next section", tr.Ev["text"])
	up, _ = v.until("dictation.update")
	require.Contains(t, up.Ev["text"], "BP 140/90 mmHg")
	require.Equal(t, "assessment", up.Ev["current_section"])
	v.until("voice.state")

	v.send(map[string]any{"type": "message", "content": "go to objective read back"})
	up, frames := v.until("dictation.update")
	_ = frames
	require.NotNil(t, up.Ev["read_back"])
	meta, _ := v.until("audio.output.meta")
	require.Contains(t, meta.Ev["text"], "140/90")
	v.until("voice.state")

	// An identifier dictated without a linked patient raises phi.alert.
	v.send(map[string]any{"type": "message", "content": "call her back at 617-555-0142 period"})
	alert, _ := v.until("phi.alert")
	alerts := alert.Ev["alerts"].([]any)
	require.NotEmpty(t, alerts)
	require.Equal(t, "phone", alerts[0].(map[string]any)["type"])
	v.until("voice.state")

	res, err := s.Client.GetDictationSessionWithResponse(context.Background(), id, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), string(res.Body))
	var subjective, objective string
	for _, sec := range res.JSON200.Data.Sections {
		switch sec.Id {
		case "subjective":
			subjective = sec.Text
		case "objective":
			objective = sec.Text
		}
	}
	require.Equal(t, "Patient reports chest pain since yesterday.", subjective)
	require.Contains(t, objective, "BP 140/90 mmHg")
	require.Contains(t, objective, "617-555-0142")

	// Another user's dictation session cannot be opened; conversation mode answers again.
	other := s.token(t, s.account(t, auth.RoleUser))
	x := dialVoice(t, s, other)
	x.start(nil)
	x.send(map[string]any{"type": "voice.mode", "mode": "dictation", "dictation_session_id": id.String()})
	ev, _ := x.until("error")
	require.Equal(t, "NOT_FOUND", ev.Ev["code"])
	v.send(map[string]any{"type": "voice.mode", "mode": "conversation"})
	v.until("voice.mode.activated")
	v.send(map[string]any{"type": "message", "content": "Which drugs treat hypertension?"})
	done, _ := v.until("response.complete")
	require.NotEmpty(t, done.Ev["citations"])
}
