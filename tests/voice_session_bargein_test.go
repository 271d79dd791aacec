package tests

import (
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/llm/llmtest"
)

// threeSentences is what the fake model answers.
func threeSentences(llmtest.Request) []string {
	return []string{"Thiazide diuretics are a first line treatment. ", "ACE inhibitors are another option. ", "Recheck blood pressure in four weeks."}
}

// Barge-in: once the acknowledgement is out no audio follows it, and the stored answer keeps
// the sentences whose audio was sent, marked interrupted. The fake speech holds the second
// sentence until the gateway gives up on it, so the order is fixed without any timing.
func TestVoiceSessionBargeIn(t *testing.T) {
	t.Parallel()
	for _, how := range []string{"message", "speech"} {
		t.Run(how, func(t *testing.T) {
			t.Parallel()
			s, fake, tok := voiceServer(t, map[string]string{"CHAT_PROVIDER": "openai"})
			fake.SetChat(threeSentences)
			release := gateSpeech(fake, 1)
			defer release()
			v := dialVoice(t, s, tok)
			ready := v.start(map[string]any{"features": []string{"binary_audio"}, "vad": map[string]any{"silence_ms": 300}})
			conv := uuid.MustParse(ready["conversation_id"].(string))
			v.send(map[string]any{"type": "message", "content": "How is hypertension treated?"})

			meta, _ := v.until("audio.output.meta")
			require.EqualValues(t, 1, meta.Ev["sentence"])
			frames := int(meta.Ev["frames"].(float64))
			for i := 0; i < frames; i++ {
				require.Equal(t, "audio.output", v.next().Type)
			}
			// The second sentence is being synthesised (held): interrupt.
			if how == "message" {
				v.send(map[string]any{"type": "barge_in"})
			} else {
				v.stream(1, speech(0.1, 0.5, 0))
			}
			var ack voiceFrame
			for {
				f := v.next()
				require.NotEqual(t, "audio.output", f.Type, "no audio between the last sentence and the acknowledgement")
				if f.Type == "voice.state" && f.Ev["reason"] == "barge_in" {
					ack = f
					break
				}
			}
			require.Equal(t, "listening", ack.Ev["state"])
			done, after := v.until("response.complete")
			for _, f := range after {
				require.NotContains(t, []string{"audio.output", "audio.output.meta"}, f.Type, "audio after the acknowledgement")
			}
			require.Greater(t, done.Seq, ack.Seq)
			require.Equal(t, true, done.Ev["interrupted"])
			require.Equal(t, "Thiazide diuretics are a first line treatment.", done.Ev["content"])

			msgs := s.messages(t, tok, conv)
			require.Len(t, msgs, 2)
			require.True(t, msgs[1].Interrupted)
			require.Equal(t, "Thiazide diuretics are a first line treatment.", msgs[1].Content)

			// The session goes on: the next turn is answered whole.
			release()
			v.send(map[string]any{"type": "message", "content": "And after that?"})
			next, _ := v.until("response.complete")
			require.Equal(t, false, next.Ev["interrupted"])
			require.Equal(t, "Thiazide diuretics are a first line treatment. ACE inhibitors are another option. Recheck blood pressure in four weeks.", next.Ev["content"])
		})
	}
}
