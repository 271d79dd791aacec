package tests

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/app"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/clock"
	"github.com/voiceassist/gateway/internal/llm/llmtest"
)

// closeOf dials and returns the close frame the server answers with.
func closeOf(t *testing.T, url string, protos []string) (int, string) {
	t.Helper()
	c, _, err := (&websocket.Dialer{Subprotocols: protos}).Dial(url, nil)
	require.NoError(t, err)
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err = c.ReadMessage()
	var ce *websocket.CloseError
	require.True(t, errors.As(err, &ce), "%v", err)
	return ce.Code, ce.Text
}

// Authentication as on /ws, the per-user quota across replicas, the frame limit and every
// protocol error get clear answers.
func TestVoiceSessionAuthLimitsAndErrors(t *testing.T) {
	t.Parallel()
	s, _, tok := voiceServer(t, map[string]string{"VOICE_MAX_FRAME_BYTES": "16384", "VOICE_MAX_SESSIONS_PER_USER": "2"})
	b := replicaOf(t, s, nil)
	url := voiceURL(s)

	code, _ := closeOf(t, url, nil)
	require.Equal(t, websocket.ClosePolicyViolation, code, "no token")
	code, _ = closeOf(t, url, []string{"bearer", "not-a-token"})
	require.Equal(t, websocket.ClosePolicyViolation, code, "bad token")
	res := s.send(t, "GET", "/api/voice/pipeline-ws", "", nil)
	res.Body.Close()
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)
	res = s.send(t, "GET", "/api/voice/pipeline-ws", "", map[string]string{"Authorization": "Bearer " + tok})
	res.Body.Close()
	require.Equal(t, http.StatusBadRequest, res.StatusCode, "a plain request with a good token is not a handshake")

	// The token in the query works too; two sessions (one per replica) fill the quota.
	c, _, err := websocket.DefaultDialer.Dial(url+"?token="+tok, nil)
	require.NoError(t, err)
	first := wrapVoice(t, c)
	first.start(nil)
	second := dialVoice(t, b, tok)
	second.start(nil)
	code, reason := closeOf(t, url, []string{"bearer", tok})
	require.Equal(t, websocket.CloseTryAgainLater, code)
	require.Contains(t, reason, "TOO_MANY_SESSIONS")
	require.NoError(t, second.conn.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "")))
	second.closed()
	require.Eventually(t, func() bool {
		c, _, err := (&websocket.Dialer{Subprotocols: []string{"bearer", tok}}).Dial(url, nil)
		if err != nil {
			return false
		}
		v := wrapVoice(t, c)
		v.send(map[string]any{"type": "ping"})
		f, ok := <-v.frames
		c.Close()
		return ok && f.Type == "pong"
	}, 10*time.Second, 50*time.Millisecond, "a closed session frees its place")

	// Protocol errors on a fresh user's socket.
	other := s.token(t, s.account(t, auth.RoleUser))
	v := dialVoice(t, s, other)
	expect := func(code string) {
		t.Helper()
		ev, _ := v.until("error")
		require.Equal(t, code, ev.Ev["code"], "%v", ev.Ev)
		require.NotEmpty(t, ev.Ev["message"])
	}
	v.send(map[string]any{"type": "message", "content": "hello"})
	expect("SESSION_NOT_INITIALIZED")
	v.audio(1, make([]int16, 10))
	expect("SESSION_NOT_INITIALIZED")
	require.NoError(t, v.conn.WriteMessage(websocket.TextMessage, []byte("not json")))
	expect("VALIDATION_ERROR")
	for _, bad := range []map[string]any{
		{"vad": map[string]any{"silence_ms": 100}},
		{"vad": map[string]any{"sensitivity": 101}},
		{"conversation_id": "nope"},
		{"voice": "no-such-voice"},
	} {
		bad["type"] = "session.init"
		v.send(bad)
		expect("VALIDATION_ERROR")
	}
	v.send(map[string]any{"type": "session.init", "conversation_id": uuid.NewString()})
	expect("NOT_FOUND")
	v.start(nil)
	v.send(map[string]any{"type": "session.init"})
	expect("SESSION_ALREADY_INITIALIZED")
	v.send(map[string]any{"type": "dance"})
	expect("VALIDATION_ERROR")
	v.send(map[string]any{"type": "message", "content": "  "})
	expect("VALIDATION_ERROR")
	v.send(map[string]any{"type": "message", "content": strings.Repeat("a", 8001)})
	expect("VALIDATION_ERROR")
	v.send(map[string]any{"type": "audio.input", "audio": "%%%"})
	expect("VALIDATION_ERROR")
	v.send(map[string]any{"type": "voice.mode", "mode": "karaoke"})
	expect("VALIDATION_ERROR")
	v.send(map[string]any{"type": "voice.mode", "mode": "conversation"})
	mode, _ := v.until("voice.mode.activated")
	require.Equal(t, "conversation", mode.Ev["mode"])
	require.NoError(t, v.conn.WriteMessage(websocket.BinaryMessage, []byte{0x07, 0, 0, 0, 1, 0, 0}))
	expect("VALIDATION_ERROR")
	require.NoError(t, v.conn.WriteMessage(websocket.BinaryMessage, []byte{0x01, 0, 0, 0, 1, 0}))
	expect("VALIDATION_ERROR")
	// A frame over VOICE_MAX_FRAME_BYTES ends the socket with 1009.
	v.audio(2, make([]int16, 10000))
	code, _ = v.closed()
	require.Equal(t, websocket.CloseMessageTooBig, code)
}

// Timers run on the session clock: heartbeats, the token re-check (a revoked token ends the
// session with TOKEN_EXPIRED and 1008) and the session time limit.
func TestVoiceSessionTimers(t *testing.T) {
	t.Parallel()
	fc := clock.NewFake(time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC))
	s, _, _ := voiceServer(t, nil, app.WithVoiceClock(fc))
	ctx := context.Background()

	tok := s.token(t, s.account(t, auth.RoleUser))
	v := dialVoice(t, s, tok)
	v.start(nil)
	advanceUntil(t, fc, v, 30*time.Second, "heartbeat")
	out, err := s.Client.LogoutWithResponse(ctx, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, out.StatusCode(), string(out.Body))
	ev := advanceUntil(t, fc, v, 30*time.Second, "error")
	require.Equal(t, "TOKEN_EXPIRED", ev.Ev["code"])
	code, _ := v.closed()
	require.Equal(t, websocket.ClosePolicyViolation, code)

	w := dialVoice(t, s, s.token(t, s.account(t, auth.RoleUser)))
	w.start(nil)
	fc.Advance(time.Hour)
	ev, _ = w.until("error")
	require.Equal(t, "SESSION_TIME_LIMIT", ev.Ev["code"])
	code, _ = w.closed()
	require.Equal(t, websocket.ClosePolicyViolation, code)
}

// advanceUntil moves the fake clock by step until a frame of type typ arrives.
func advanceUntil(t *testing.T, fc *clock.Fake, v *voiceWS, step time.Duration, typ string) voiceFrame {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		fc.Advance(step)
		select {
		case f, ok := <-v.frames:
			require.True(t, ok, "socket closed while waiting for %s", typ)
			if f.Type == typ {
				return f
			}
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("no %s", typ)
	return voiceFrame{}
}

// A client that stops reading is closed (1013, too slow) instead of being buffered without
// bound: the fake speaks long sentences, far more audio than the socket buffers hold.
func TestVoiceSessionSlowClientIsClosed(t *testing.T) {
	t.Parallel()
	s, fake, tok := voiceServer(t, map[string]string{"CHAT_PROVIDER": "openai"})
	fake.SetChat(func(llmtest.Request) []string {
		return []string{strings.Repeat("Take the tablet with water every morning. ", 40)}
	})
	fake.SetSpeech(func(llmtest.Request) []int16 { return make([]int16, 20*llmtest.SpeechRate) })
	d := websocket.Dialer{Subprotocols: []string{"bearer", tok}, ReadBufferSize: 1024}
	c, _, err := d.Dial(voiceURL(s), nil)
	require.NoError(t, err)
	defer c.Close()
	require.NoError(t, c.WriteJSON(map[string]any{"type": "session.init", "features": []string{"binary_audio"}}))
	require.NoError(t, c.WriteJSON(map[string]any{"type": "message", "content": "How do I take it?"}))
	// Do not read until the server has produced everything it will.
	require.Eventually(t, func() bool {
		var n float64
		_ = s.App.Pool.QueryRow(context.Background(), `SELECT count(*) FROM messages WHERE role = 'assistant'`).Scan(&n)
		return n > 0 && len(fake.Requests(llmtest.Speech)) >= 3
	}, 30*time.Second, 50*time.Millisecond)
	time.Sleep(200 * time.Millisecond) // let the writer fill the socket (not an assertion)
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	for {
		_, data, err := c.ReadMessage()
		if err != nil {
			var ce *websocket.CloseError
			require.True(t, errors.As(err, &ce), "%v", err)
			require.Equal(t, websocket.CloseTryAgainLater, ce.Code)
			require.Equal(t, "too slow", ce.Text)
			return
		}
		var ev map[string]any
		if json.Unmarshal(data, &ev) == nil && ev["type"] == "response.complete" {
			t.Fatal("a client that did not read got the whole answer: nothing was bounded")
		}
	}
}

// Turns share the relay's per-user rate limit; an utterance without words is NO_SPEECH.
func TestVoiceSessionTurnLimitAndNoSpeech(t *testing.T) {
	t.Parallel()
	s, fake, tok := voiceServer(t, map[string]string{"RATE_LIMIT_VOICE_RELAY_PER_MINUTE": "2"})
	fake.SetTranscript(func(llmtest.Request) llmtest.Transcript { return llmtest.Transcript{Text: "  ", Language: "english"} })
	v := dialVoice(t, s, tok)
	v.start(map[string]any{"vad": map[string]any{"enabled": false}})
	v.audio(1, speech(0, 0.3, 0))
	v.send(map[string]any{"type": "audio.input.complete"})
	ev, _ := v.until("error")
	require.Equal(t, "NO_SPEECH", ev.Ev["code"])
	state, _ := v.until("voice.state")
	require.Equal(t, "listening", state.Ev["state"])
	v.send(map[string]any{"type": "message", "content": "Which drugs treat hypertension?"})
	v.until("response.complete")
	v.send(map[string]any{"type": "message", "content": "And then?"})
	ev, _ = v.until("error")
	require.Equal(t, "RATE_LIMIT_EXCEEDED", ev.Ev["code"])
}
