package tests

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/app"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/clock"
)

// replicaOf starts a second gateway on the same database, Redis prefix and fake providers.
func replicaOf(t *testing.T, s *testServer, env map[string]string) *testServer {
	t.Helper()
	vars := map[string]string{}
	for k, v := range s.Env {
		vars[k] = v
	}
	delete(vars, "DATA_DIR")
	for k, v := range env {
		vars[k] = v
	}
	return startServer(t, vars)
}

// A client that lost its connection mid-answer resumes on another replica: the frames after
// its last_seq are replayed, the answer still being produced on the first replica follows,
// and the session goes on there.
func TestVoiceSessionResumeOnAnotherReplica(t *testing.T) {
	t.Parallel()
	a, fake, tok := voiceServer(t, map[string]string{"CHAT_PROVIDER": "openai"})
	fake.SetChat(threeSentences)
	b := replicaOf(t, a, nil)
	release := gateSpeech(fake, 1)
	defer release()

	v := dialVoice(t, a, tok)
	ready := v.start(map[string]any{"features": []string{"binary_audio"}})
	id := ready["session_id"].(string)
	conv := uuid.MustParse(ready["conversation_id"].(string))
	v.send(map[string]any{"type": "message", "content": "How is hypertension treated?"})
	meta, _ := v.until("audio.output.meta")
	first := v.next() // one audio frame of the first sentence, then the connection drops
	require.Equal(t, "audio.output", first.Type)
	require.NoError(t, v.conn.UnderlyingConn().Close())

	w := dialVoice(t, b, tok)
	w.send(map[string]any{"type": "session.resume", "session_id": id, "last_seq": first.Seq, "features": []string{"binary_audio"}})
	ack, _ := w.until("session.resume.ack")
	require.Equal(t, false, ack.Ev["incomplete"], "the first replica still produces the answer")
	require.Equal(t, conv.String(), ack.Ev["conversation_id"])
	release()
	seq := first.Seq
	var audio int
	var frames []voiceFrame
	done, frames := w.until("response.complete")
	for _, f := range frames {
		require.Equal(t, seq+1, f.Seq, "replayed and followed frames continue the sequence without a gap")
		seq = f.Seq
		if f.Type == "audio.output" {
			audio++
		}
	}
	require.Equal(t, seq+1, done.Seq)
	require.Greater(t, audio, int(meta.Ev["frames"].(float64))-1, "the rest of sentence one and the others")
	require.Equal(t, false, done.Ev["interrupted"])
	require.Equal(t, "Thiazide diuretics are a first line treatment. ACE inhibitors are another option. Recheck blood pressure in four weeks.", done.Ev["content"])

	// The session continues on B with the next sequence numbers.
	w.until("voice.state")
	w.send(map[string]any{"type": "message", "content": "Thanks"})
	think, _ := w.until("voice.state")
	require.Equal(t, "thinking", think.Ev["state"])
	require.Greater(t, think.Seq, done.Seq)
	w.until("response.complete")
	require.Len(t, a.messages(t, tok, conv), 4)

	// Resume refusals: someone else's session, an unknown one, and malformed requests.
	other := b.token(t, b.account(t, auth.RoleUser))
	x := dialVoice(t, b, other)
	x.send(map[string]any{"type": "session.resume", "session_id": id, "last_seq": 0})
	nak, _ := x.until("session.resume.nak")
	require.Equal(t, "not_found", nak.Ev["reason"])
	x.send(map[string]any{"type": "session.resume", "session_id": uuid.NewString(), "last_seq": 0})
	nak, _ = x.until("session.resume.nak")
	require.Equal(t, "not_found", nak.Ev["reason"])
	x.send(map[string]any{"type": "session.resume", "session_id": "nope"})
	nak, _ = x.until("session.resume.nak")
	require.Equal(t, "invalid", nak.Ev["reason"])
}

// A client that leaves mid-answer and does not come back: the turn goes on for the detach
// grace (30 s on the session clock), then stops, and what was said is stored as interrupted.
func TestVoiceSessionDetachedTurnIsCutAfterGrace(t *testing.T) {
	t.Parallel()
	fc := clock.NewFake(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC))
	s, fake, tok := voiceServer(t, map[string]string{"CHAT_PROVIDER": "openai"}, app.WithVoiceClock(fc))
	fake.SetChat(threeSentences)
	release := gateSpeech(fake, 1)
	defer release()
	v := dialVoice(t, s, tok)
	ready := v.start(nil)
	conv := uuid.MustParse(ready["conversation_id"].(string))
	v.send(map[string]any{"type": "message", "content": "How is hypertension treated?"})
	v.until("audio.output.meta")
	require.NoError(t, v.conn.Close())

	// Before the grace is over nothing is cut: the model's answer is stored whole (its text
	// was streamed) while its speech is still being produced.
	require.Eventually(t, func() bool { return len(s.messages(t, tok, conv)) == 2 }, 10*time.Second, 10*time.Millisecond)
	fc.Advance(29 * time.Second)
	require.False(t, s.messages(t, tok, conv)[1].Interrupted)
	require.Eventually(t, func() bool {
		fc.Advance(2 * time.Second)
		msgs := s.messages(t, tok, conv)
		return len(msgs) == 2 && msgs[1].Interrupted &&
			msgs[1].Content == "Thiazide diuretics are a first line treatment."
	}, 20*time.Second, 20*time.Millisecond, "the turn is cut after the grace and what was said is stored")
	var ended *time.Time
	var reason *string
	require.Eventually(t, func() bool {
		_ = s.App.Pool.QueryRow(context.Background(), `SELECT ended_at, end_reason FROM voice_sessions WHERE id = $1`,
			ready["session_id"]).Scan(&ended, &reason)
		return ended != nil
	}, 10*time.Second, 20*time.Millisecond)
	require.Equal(t, "client_closed", *reason)
}

// When the replica producing an answer dies (killed, no chance to store anything), a client
// resuming elsewhere is told the answer is incomplete once the replica's lease lapses, and
// gets the newest stored message of the conversation instead.
func TestVoiceSessionResumeAfterProducerKilled(t *testing.T) {
	t.Parallel()
	s, fake, tok := voiceServer(t, map[string]string{"CHAT_PROVIDER": "openai"})
	fake.SetChat(threeSentences)
	gateSpeech(fake, 1) // never released: the producer is stuck on the second sentence
	env := map[string]string{"VOICE_RESUME_LEASE_SECONDS": "1"}
	for _, k := range []string{"DATABASE_URL", "REDIS_KEY_PREFIX", "JWT_SECRET_KEY", "OPENAI_BASE_URL", "OPENAI_API_KEY",
		"CHAT_PROVIDER", "EMBEDDING_PROVIDER", "VOICE_STT_PROVIDER", "VOICE_TTS_PROVIDER", "OPENAI_STT_MODEL", "OPENAI_TTS_MODEL"} {
		env[k] = s.Env[k]
	}
	env["VOICE_STT_PROVIDER"], env["VOICE_TTS_PROVIDER"] = "openai", "openai" // the binary has no offline voice
	child := startBinary(t, env)

	c, _, err := (&websocket.Dialer{Subprotocols: []string{"bearer", tok}}).Dial("ws"+strings.TrimPrefix(child.base, "http")+"/api/voice/pipeline-ws", nil)
	require.NoError(t, err)
	v := wrapVoice(t, c)
	ready := v.start(map[string]any{"features": []string{"binary_audio"}})
	id := ready["session_id"].(string)
	v.send(map[string]any{"type": "message", "content": "How is hypertension treated?"})
	meta, _ := v.until("audio.output.meta")
	var last uint32
	for i := 0; i < int(meta.Ev["frames"].(float64)); i++ {
		last = v.next().Seq
	}
	conv := uuid.MustParse(ready["conversation_id"].(string))
	require.Eventually(t, func() bool { return len(s.messages(t, tok, conv)) == 2 }, 10*time.Second, 10*time.Millisecond,
		"the model's answer is stored (its text was streamed) while the speech is held")
	require.NoError(t, child.cmd.Process.Kill())
	_ = child.cmd.Wait()

	w := dialVoice(t, s, tok)
	w.send(map[string]any{"type": "session.resume", "session_id": id, "last_seq": last})
	for {
		ack, _ := w.until("session.resume.ack")
		if ack.Ev["incomplete"] != true {
			continue // the lease had not lapsed yet: the follow-up acknowledgement says it
		}
		// The model had finished (its text was streamed and stored); the speech was cut.
		msg := ack.Ev["message"].(map[string]any)
		require.Equal(t, "assistant", msg["role"])
		require.Equal(t, "Thiazide diuretics are a first line treatment. ACE inhibitors are another option. Recheck blood pressure in four weeks.", msg["content"])
		break
	}
	// The session goes on here.
	w.send(map[string]any{"type": "message", "content": "Again please"})
	think, _ := w.until("voice.state")
	require.Equal(t, "thinking", think.Ev["state"])
	require.Greater(t, think.Seq, last)
}
