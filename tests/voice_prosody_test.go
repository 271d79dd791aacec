package tests

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/llm/llmtest"
)

// timedTranscript makes the fake STT answer text with words at the given (start, end)
// seconds; times are binary fractions so the figures are exact.
func timedTranscript(fake *llmtest.Server, text string, spans ...float64) {
	var words []llmtest.Word
	for i := 0; i+1 < len(spans); i += 2 {
		words = append(words, llmtest.Word{Word: "w", Start: spans[i], End: spans[i+1]})
	}
	fake.SetTranscript(func(llmtest.Request) llmtest.Transcript {
		return llmtest.Transcript{Text: text, Language: "english", Duration: spans[len(spans)-1],
			Segments: []llmtest.Segment{{Start: spans[0], End: spans[len(spans)-1], Text: text, AvgLogprob: -0.1}}, Words: words}
	})
}

// pushToTalk sends samples as one utterance (VAD off) and returns its transcript.complete.
func (v *voiceWS) pushToTalk(seq uint32, samples []int16) (map[string]any, uint32) {
	v.t.Helper()
	seq = v.stream(seq, samples)
	v.send(map[string]any{"type": "audio.input.complete"})
	tc, _ := v.until("transcript.complete")
	v.until("response.complete")
	return tc.Ev, seq
}

func (s *testServer) speechProfile(t *testing.T, tok string) *client.VoiceMemoryProfile {
	t.Helper()
	res, err := s.Client.GetVoiceMemoryWithResponse(context.Background(), bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)
	return res.JSON200.Data.Profile
}

// wavSeconds is the length of the 16 kHz WAV a transcription request carried.
func wavSeconds(r llmtest.Request) float64 { return float64(len(r.File)-44) / 32000 }

// The figures of a spoken turn from known word timings, in transcript.complete and in the
// stored profile; the next session starts with the learned silence, an explicit silence_ms
// wins, the flag off changes nothing, and the erase removes the profile.
func TestVoiceProsodyFiguresAndProfile(t *testing.T) {
	t.Parallel()
	s, fake := openAIVoice(t, map[string]string{"VOICE_FLAGS_CREATE": "true", "VOICE_MAX_SESSIONS_PER_USER": "10"})
	ctx := context.Background()
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	a, off := s.account(t, auth.RoleUser), s.account(t, auth.RoleUser)
	ta, toff := s.token(t, a), s.token(t, off)
	s.enableVoiceFlag(t, admin, "prosody", a.User.ID)
	// Four words: pauses of 250 and 500 ms (the 0-gap join is no pause), the last word 500 ms
	// against a mean of 312.5; voiced 2.0 − 0.75 = 1.25 s → 192 wpm. The utterance is 2.5 s.
	timedTranscript(fake, "What about the dose", 0, 0.25, 0.5, 0.75, 0.75, 1.0, 1.5, 2.0)
	utterance := speech(0.5, 1.5, 0.5)

	v1 := dialVoice(t, s, ta)
	ready := v1.start(map[string]any{"vad": map[string]any{"enabled": false}})
	require.EqualValues(t, 500, ready["vad_silence_ms"])
	require.Equal(t, "default", ready["vad_silence_source"])
	tc, _ := v1.pushToTalk(1, utterance)
	require.Equal(t, map[string]any{
		"words": 4.0, "wpm": 192.0, "voiced_ms": 1250.0,
		"pauses":       map[string]any{"count": 2.0, "p50_ms": 250.0, "p90_ms": 500.0, "longest_ms": 500.0},
		"mean_word_ms": 312.0, "final_lengthening": 1.6, "trailing_silence_ms": 500.0, "question": true,
		"learned_silence_ms": 750.0, "vad_silence_ms": 750.0,
	}, tc["prosody"])
	req := fake.Requests(llmtest.Transcriptions)
	require.Equal(t, "verbose_json", req[len(req)-1].ResponseFormat, "the voice turn asks for word timings")

	p := s.speechProfile(t, ta)
	require.NotNil(t, p, "the speech profile is remembered with backend.voice_memory off")
	require.Equal(t, 0, p.Turns, "memory itself stays off")
	require.Equal(t, 1, p.Speech.Turns)
	require.InDelta(t, 192, *p.Speech.SpeakingRateWpm, 1e-3)
	require.InDelta(t, 250, *p.Speech.PauseP50Ms, 1e-3)
	require.InDelta(t, 500, *p.Speech.PauseP90Ms, 1e-3)
	require.Equal(t, 750, *p.Speech.EndOfSpeechSilenceMs)

	// The next session starts with the learned silence.
	v2 := dialVoice(t, s, ta)
	ready = v2.start(map[string]any{})
	require.EqualValues(t, 750, ready["vad_silence_ms"])
	require.Equal(t, "profile", ready["vad_silence_source"])

	// An explicit silence_ms wins for the session, even after a turn was learned; the profile
	// still learns (the same turn again: the averages stay, the turn count grows).
	v3 := dialVoice(t, s, ta)
	ready = v3.start(map[string]any{"vad": map[string]any{"enabled": false, "silence_ms": 300}})
	require.EqualValues(t, 300, ready["vad_silence_ms"])
	require.Equal(t, "client", ready["vad_silence_source"])
	tc, _ = v3.pushToTalk(1, utterance)
	pr := tc["prosody"].(map[string]any)
	require.EqualValues(t, 750, pr["learned_silence_ms"])
	require.EqualValues(t, 300, pr["vad_silence_ms"], "the client's silence wins")
	require.Equal(t, 2, s.speechProfile(t, ta).Speech.Turns)

	// Flag off: no prosody, session.ready as before, nothing stored.
	vo := dialVoice(t, s, toff)
	ready = vo.start(map[string]any{"vad": map[string]any{"enabled": false}})
	require.NotContains(t, ready, "vad_silence_ms")
	require.NotContains(t, ready, "vad_silence_source")
	tc, _ = vo.pushToTalk(1, utterance)
	require.NotContains(t, tc, "prosody")
	require.Nil(t, s.speechProfile(t, toff))

	// The erase removes the profile: the next session starts from the default again.
	del, err := s.Client.EraseVoiceMemoryWithResponse(ctx, bearerAuth(ta))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, del.StatusCode(), "%s", del.Body)
	require.EqualValues(t, 1, del.JSON200.Data.RowsRemoved)
	require.Nil(t, s.speechProfile(t, ta))
	v4 := dialVoice(t, s, ta)
	ready = v4.start(map[string]any{})
	require.EqualValues(t, 500, ready["vad_silence_ms"])
	require.Equal(t, "default", ready["vad_silence_source"])
}

// A transcript without word timings (or a single word) gives no prosody and learns nothing.
func TestVoiceProsodyNeedsTimedWords(t *testing.T) {
	t.Parallel()
	s, fake := openAIVoice(t, map[string]string{"VOICE_FLAGS_CREATE": "true", "VOICE_MAX_SESSIONS_PER_USER": "10"})
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	a := s.account(t, auth.RoleUser)
	ta := s.token(t, a)
	s.enableVoiceFlag(t, admin, "prosody", a.User.ID)
	v := dialVoice(t, s, ta)
	v.start(map[string]any{"vad": map[string]any{"enabled": false}})
	fake.SetTranscript(func(llmtest.Request) llmtest.Transcript {
		return llmtest.Transcript{Text: "Hello there", Language: "english", Duration: 1}
	})
	tc, seq := v.pushToTalk(1, speech(0.25, 0.5, 0.25))
	require.NotContains(t, tc, "prosody")
	timedTranscript(fake, "Yes", 0, 0.5)
	tc, _ = v.pushToTalk(seq, speech(0.25, 0.5, 0.25))
	require.NotContains(t, tc, "prosody")
	require.Nil(t, s.speechProfile(t, ta))
}

// The learned silence is clamped to 200–800 ms and drives the VAD: within a session from the
// next utterance on, and in the next session from its start. Observable: whether a 600 ms
// pause splits an utterance.
func TestVoiceProsodyAdaptsVAD(t *testing.T) {
	t.Parallel()
	s, fake := openAIVoice(t, map[string]string{"VOICE_FLAGS_CREATE": "true", "VOICE_MAX_SESSIONS_PER_USER": "10"})
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	slow, fast := s.account(t, auth.RoleUser), s.account(t, auth.RoleUser)
	tslow, tfast := s.token(t, slow), s.token(t, fast)
	s.enableVoiceFlag(t, admin, "prosody", slow.User.ID, fast.User.ID)
	// speech, a 600 ms pause, speech, then silence long enough to end any utterance.
	paused := append(speech(0.2, 0.5, 0.6), speech(0, 0.5, 1.2)...)
	transcriptions := func() int { return len(fake.Requests(llmtest.Transcriptions)) }

	// A slow speaker (one pause of 1 s: 1.5 s, clamped to 800) in a session with the default
	// 500 ms: the next utterance is cut after 800 ms of silence, so the 600 ms pause stays in it.
	timedTranscript(fake, "I have been taking it daily", 0, 0.25, 1.25, 1.5)
	v := dialVoice(t, s, tslow)
	ready := v.start(map[string]any{})
	require.EqualValues(t, 500, ready["vad_silence_ms"])
	seq := v.stream(1, speech(0.4, 1.0, 1.0))
	tc, _ := v.until("transcript.complete")
	pr := tc.Ev["prosody"].(map[string]any)
	require.EqualValues(t, 1000, pr["pauses"].(map[string]any)["p90_ms"])
	require.EqualValues(t, 800, pr["learned_silence_ms"], "clamped at 800")
	require.EqualValues(t, 800, pr["vad_silence_ms"])
	v.until("response.complete")
	before := transcriptions()
	v.stream(seq, paused)
	v.until("transcript.complete")
	v.until("response.complete")
	reqs := fake.Requests(llmtest.Transcriptions)
	require.Len(t, reqs, before+1, "one utterance: the pause did not split it")
	require.Greater(t, wavSeconds(reqs[len(reqs)-1]), 2.0, "both halves were transcribed together")

	// A fast speaker (one pause of 125 ms: 188, clamped to 200): the next session starts at
	// 200 ms and the 600 ms pause ends the utterance (its transcript arrives before the rest
	// of the audio is sent).
	timedTranscript(fake, "It is fine", 0, 0.25, 0.375, 0.625)
	v = dialVoice(t, s, tfast)
	v.start(map[string]any{"vad": map[string]any{"enabled": false}})
	tc2, _ := v.pushToTalk(1, speech(0.25, 0.75, 0.25))
	require.EqualValues(t, 200, tc2["prosody"].(map[string]any)["learned_silence_ms"], "clamped at 200")
	v = dialVoice(t, s, tfast)
	ready = v.start(map[string]any{})
	require.EqualValues(t, 200, ready["vad_silence_ms"])
	require.Equal(t, "profile", ready["vad_silence_source"])
	v.stream(1, speech(0.2, 0.5, 0.6))
	v.until("transcript.complete")
	v.until("response.complete")

	// The same user asking for 800 ms keeps the pause in one utterance.
	v = dialVoice(t, s, tfast)
	ready = v.start(map[string]any{"vad": map[string]any{"silence_ms": 800}})
	require.EqualValues(t, 800, ready["vad_silence_ms"])
	require.Equal(t, "client", ready["vad_silence_source"])
	before = transcriptions()
	v.stream(1, paused)
	v.until("transcript.complete")
	v.until("response.complete")
	reqs = fake.Requests(llmtest.Transcriptions)
	require.Len(t, reqs, before+1)
	require.Greater(t, wavSeconds(reqs[len(reqs)-1]), 2.0)
}

// A resumed session starts from the learned silence too: after a resume, a 600 ms pause does not
// split an utterance of a user who learned 800 ms (the default 500 would).
func TestVoiceProsodyResume(t *testing.T) {
	t.Parallel()
	s, fake := openAIVoice(t, map[string]string{"VOICE_FLAGS_CREATE": "true", "VOICE_MAX_SESSIONS_PER_USER": "10"})
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	a := s.account(t, auth.RoleUser)
	ta := s.token(t, a)
	s.enableVoiceFlag(t, admin, "prosody", a.User.ID)
	timedTranscript(fake, "I have been taking it daily", 0, 0.25, 1.25, 1.5)
	v := dialVoice(t, s, ta)
	id := v.start(map[string]any{"vad": map[string]any{"enabled": false}})["session_id"]
	tc, _ := v.pushToTalk(1, speech(0.25, 1.5, 0.25))
	require.EqualValues(t, 800, tc["prosody"].(map[string]any)["learned_silence_ms"])
	listening, _ := v.until("voice.state")
	require.Equal(t, "listening", listening.Ev["state"])

	w := dialVoice(t, s, ta)
	w.send(map[string]any{"type": "session.resume", "session_id": id, "last_seq": listening.Seq})
	w.until("session.resume.ack")
	before := len(fake.Requests(llmtest.Transcriptions))
	w.stream(1, append(speech(0.2, 0.5, 0.6), speech(0, 0.5, 1.2)...))
	w.until("transcript.complete")
	w.until("response.complete")
	reqs := fake.Requests(llmtest.Transcriptions)
	require.Len(t, reqs, before+1, "one utterance: the pause did not split it")
	require.Greater(t, wavSeconds(reqs[len(reqs)-1]), 2.0)
}
