package tests

import (
	"context"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/llm/llmtest"
)

// emotionTone is an utterance framed by silence: a 180 Hz tone whose amplitude follows amp
// (one value per 100 ms, cycled) for voiced seconds.
func emotionTone(voiced float64, amp ...float64) []int16 {
	pre, post := 6400, 9600 // 0.4 s before, 0.6 s after
	out := make([]int16, pre+int(voiced*16000)+post)
	for i := range out {
		out[i] = int16(i%7 - 3)
		if j := i - pre; j >= 0 && j < int(voiced*16000) {
			out[i] += int16(amp[(j/1600)%len(amp)] * math.Sin(2*math.Pi*180*float64(j)/16000))
		}
	}
	return out
}

// emotionTurn is what one turn sent to the client and to the fake providers.
type emotionTurn struct {
	events  []voiceFrame // the turn's JSON events up to response.complete
	emotion map[string]any
	prompt  string     // the chat request's messages
	speeds  []*float64 // the speed of every speech request
}

// typeIndex is the position of the first event of that type (-1: none).
func (e emotionTurn) typeIndex(typ string) int {
	for i, f := range e.events {
		if f.Type == typ {
			return i
		}
	}
	return -1
}

// Emotion detection (backend.voice_emotion): contrasting utterances are read differently
// (a quiet steady voice as calm, a loud uneven one with worried words as anxious, typed
// frustration as frustrated); emotion.detected comes after the transcript and before the
// answer; an anxious or frustrated turn's prompt carries the style hint and its speech the
// adapted speed (a factor within 0.9–1.1 on the user's preferred speed); a neutral turn
// changes nothing; with the flag off nothing of it happens.
func TestVoiceEmotion(t *testing.T) {
	t.Parallel()
	s, fake := openAIVoice(t, map[string]string{"VOICE_FLAGS_CREATE": "true", "CHAT_PROVIDER": "openai"})
	var mu sync.Mutex
	var said llmtest.Transcript
	fake.SetTranscript(func(llmtest.Request) llmtest.Transcript {
		mu.Lock()
		defer mu.Unlock()
		return said
	})
	say := func(tr llmtest.Transcript) {
		mu.Lock()
		said = tr
		mu.Unlock()
	}
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	on, off := s.account(t, auth.RoleUser), s.account(t, auth.RoleUser)
	s.enableVoiceFlag(t, admin, "emotion", on.User.ID)
	tokOn := s.token(t, on)
	// The adapted speed is a factor on the user's own speed.
	pref, err := s.Client.UpdateVoicePreferencesWithResponse(context.Background(), client.VoicePreferencesInput{Speed: ptr(float32(1.5))}, bearerAuth(tokOn))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, pref.StatusCode(), "%s", pref.Body)

	turn := func(v *voiceWS, send func()) emotionTurn {
		t.Helper()
		chats, speech := len(fake.Requests(llmtest.Chat)), len(fake.Requests(llmtest.Speech))
		send()
		var e emotionTurn
		for {
			f := v.next()
			if f.Binary || f.Type == "audio.output" {
				continue
			}
			e.events = append(e.events, f)
			if f.Type == "emotion.detected" {
				e.emotion = f.Ev
			}
			if f.Type == "response.complete" {
				break
			}
		}
		last, _ := v.until("voice.state")
		require.Equal(t, "listening", last.Ev["state"])
		c := fake.Requests(llmtest.Chat)
		require.Len(t, c, chats+1)
		var b strings.Builder
		for _, m := range c[chats].Messages {
			b.WriteString(m.Content + "\n")
		}
		e.prompt = b.String()
		for _, r := range fake.Requests(llmtest.Speech)[speech:] {
			e.speeds = append(e.speeds, r.Speed)
		}
		require.NotEmpty(t, e.speeds, "the answer was spoken")
		return e
	}
	speeds := func(e emotionTurn, want float64) {
		t.Helper()
		for _, sp := range e.speeds {
			require.NotNil(t, sp)
			require.InDelta(t, want, *sp, 1e-9)
		}
	}
	const hintMark = "Do not mention the user's emotional state."

	v := dialVoice(t, s, tokOn)
	v.start(map[string]any{"vad": map[string]any{"silence_ms": 300}})
	v.until("voice.state")

	// A quiet, steady, unhurried voice with plain words (timed by the speech-to-text:
	// 7 words over 3 s): calm, and calm changes nothing.
	calmWords := []llmtest.Word{}
	for i, w := range strings.Fields("I have a question about my medication") {
		calmWords = append(calmWords, llmtest.Word{Word: w, Start: 0.4 * float64(i), End: 0.4*float64(i) + 0.3})
	}
	say(llmtest.Transcript{Text: "I have a question about my medication.", Language: "english", Duration: 3, Words: calmWords,
		Segments: []llmtest.Segment{{Start: 0, End: 3, Text: "I have a question about my medication.", AvgLogprob: -0.1}}})
	calm := turn(v, func() { v.stream(1, emotionTone(3, 1500)) })
	require.NotNil(t, calm.emotion, "emotion.detected was sent")
	require.Equal(t, "calm", calm.emotion["label"], "%v", calm.emotion)
	require.Less(t, calm.emotion["arousal"].(float64), 0.3)
	require.Equal(t, "offline", calm.emotion["source"])
	require.Less(t, calm.typeIndex("transcript.complete"), calm.typeIndex("emotion.detected"), "after the transcript")
	require.Less(t, calm.typeIndex("emotion.detected"), calm.typeIndex("response.delta"), "before the answer")
	require.Equal(t, calm.events[calm.typeIndex("transcript.complete")].Ev["turn_id"], calm.emotion["turn_id"])
	require.NotContains(t, calm.prompt, hintMark, "calm: no style hint")
	speeds(calm, 1.5)

	// A loud, uneven voice saying worried words: anxious, a calming hint, slower speech.
	worried := "I'm really worried, what if this chest pain is my heart?"
	say(llmtest.Transcript{Text: worried, Language: "english", Duration: 2})
	anxious := turn(v, func() { v.stream(1000, emotionTone(2, 24000, 2500, 16000, 1200, 28000, 4000)) })
	require.NotNil(t, anxious.emotion)
	require.Equal(t, "anxious", anxious.emotion["label"], "%v", anxious.emotion)
	require.Negative(t, anxious.emotion["valence"].(float64))
	require.Greater(t, anxious.emotion["arousal"].(float64), calm.emotion["arousal"].(float64))
	require.GreaterOrEqual(t, anxious.emotion["confidence"].(float64), 0.7)
	require.Contains(t, anxious.prompt, "calmly and reassuringly")
	require.Contains(t, anxious.prompt, hintMark)
	speeds(anxious, 1.5*0.9)

	// A typed turn is read from its words alone, with less confidence.
	frustrated := turn(v, func() {
		v.send(map[string]any{"type": "message", "content": "This is ridiculous, the app is useless."})
	})
	require.Equal(t, "frustrated", frustrated.emotion["label"], "%v", frustrated.emotion)
	require.Less(t, frustrated.emotion["confidence"].(float64), anxious.emotion["confidence"].(float64))
	require.Contains(t, frustrated.prompt, "brief and direct")
	speeds(frustrated, 1.5*1.05)

	// Plain typed words: neutral; nothing changes.
	neutral := turn(v, func() { v.send(map[string]any{"type": "message", "content": "What is the usual dose of metformin?"}) })
	require.Equal(t, "neutral", neutral.emotion["label"], "%v", neutral.emotion)
	require.NotContains(t, neutral.prompt, hintMark)
	speeds(neutral, 1.5)

	// Flag off for this user: the same worried utterance gets no event, no hint, the usual speed.
	w := dialVoice(t, s, s.token(t, off))
	w.start(map[string]any{"vad": map[string]any{"silence_ms": 300}})
	w.until("voice.state")
	say(llmtest.Transcript{Text: worried, Language: "english", Duration: 2})
	plain := turn(w, func() { w.stream(1, emotionTone(2, 24000, 2500, 16000, 1200, 28000, 4000)) })
	require.Nil(t, plain.emotion, "no emotion.detected with the flag off")
	require.Equal(t, -1, plain.typeIndex("emotion.detected"))
	require.NotContains(t, plain.prompt, hintMark)
	require.NotContains(t, plain.prompt, "calmly")
	speeds(plain, 1)
}
