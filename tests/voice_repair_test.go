package tests

import (
	"context"
	"math"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/llm/llmtest"
)

// repairTranscripts makes the fake transcription answer the queued transcripts in order (the
// last one again when the queue is empty).
type repairTranscripts struct {
	mu   sync.Mutex
	next []llmtest.Transcript
	last llmtest.Transcript
}

func (q *repairTranscripts) push(tr ...llmtest.Transcript) {
	q.mu.Lock()
	q.next = append(q.next, tr...)
	q.mu.Unlock()
}

func (q *repairTranscripts) answer(llmtest.Request) llmtest.Transcript {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.next) > 0 {
		q.last, q.next = q.next[0], q.next[1:]
	}
	return q.last
}

// repairHeard is a transcript of one segment whose confidence (exp(avg_logprob), as OpenAI's
// verbose_json gives it) is conf.
func repairHeard(text string, conf float64) llmtest.Transcript {
	return llmtest.Transcript{Text: text, Language: "english", Duration: 1,
		Segments: []llmtest.Segment{{Start: 0, End: 1, Text: " " + text, AvgLogprob: math.Log(conf)}}}
}

// repairTurn reads one turn to its response.complete and returns that, the turn's
// repair.strategy event (nil when none) and the spoken sentences. The repair event comes
// after the transcript and before any part of the answer.
func repairTurn(t *testing.T, v *voiceWS) (resp map[string]any, repair map[string]any, spoken []string) {
	t.Helper()
	done, before := v.until("response.complete")
	answered := false
	for _, f := range before {
		switch f.Type {
		case "repair.strategy":
			require.Nil(t, repair, "one repair.strategy per turn")
			require.False(t, answered, "repair.strategy comes before the response")
			require.Equal(t, done.Ev["turn_id"], f.Ev["turn_id"])
			repair = f.Ev
		case "response.delta", "audio.output.meta":
			answered = true
			if f.Type == "audio.output.meta" {
				spoken = append(spoken, f.Ev["text"].(string))
			}
		}
	}
	return done.Ev, repair, spoken
}

func repairPrompt(r llmtest.Request) string {
	var b strings.Builder
	for _, m := range r.Messages {
		b.WriteString(m.Content + "\n")
	}
	return b.String()
}

func (s *testServer) repairMessages(t *testing.T, tok string, conv uuid.UUID) []client.Message {
	t.Helper()
	n := 100
	res, err := s.Client.ListMessagesWithResponse(context.Background(), conv, &client.ListMessagesParams{Limit: &n}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)
	return res.JSON200.Data
}

// Each trigger gives its repair.strategy and the strategy is applied to the turn's answer:
// a repeated question and an explicit "I didn't catch that" are answered again by the model
// told to be simpler; after two repairs in a row a low-confidence utterance escalates to
// text; a low-confidence utterance alone is echo-checked and a correction echoes the
// corrected words, both answered by the gateway without the model, spoken and stored.
func TestVoiceRepairTriggers(t *testing.T) {
	t.Parallel()
	s, fake := openAIVoice(t, map[string]string{"VOICE_FLAGS_CREATE": "true", "CHAT_PROVIDER": "openai"})
	q := &repairTranscripts{}
	fake.SetTranscript(q.answer)
	fake.SetChat(func(r llmtest.Request) []string {
		if strings.Contains(repairPrompt(r), "Conversation repair") {
			return []string{"Simply put: ", "thiazides first."}
		}
		return []string{"Thiazide diuretics, ACE inhibitors ", "or calcium channel blockers."}
	})
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	a := s.account(t, auth.RoleUser)
	ta := s.token(t, a)
	s.enableVoiceFlag(t, admin, "repair", a.User.ID)
	chats := func() int { return len(fake.Requests(llmtest.Chat)) }

	v := dialVoice(t, s, ta)
	ready := v.start(map[string]any{"vad": map[string]any{"silence_ms": 300}})
	conv := uuid.MustParse(ready["conversation_id"].(string))
	seq := uint32(1)
	say := func(tr llmtest.Transcript) {
		q.push(tr)
		seq = v.stream(seq, speech(0.4, 1.0, 0.6))
	}

	// An ordinary question: no repair.
	v.send(map[string]any{"type": "message", "content": "What is the first line treatment for hypertension?"})
	resp, rep, _ := repairTurn(t, v)
	require.Nil(t, rep)
	require.Equal(t, "Thiazide diuretics, ACE inhibitors or calcium channel blockers.", resp["content"])

	// The same question again (near-duplicate): rephrase, the model told so with its previous answer.
	say(repairHeard("What's the first-line treatment of hypertension?", 0.9))
	resp, rep, _ = repairTurn(t, v)
	require.NotNil(t, rep)
	require.Equal(t, "repeated_question", rep["trigger"])
	require.Equal(t, "rephrase", rep["strategy"])
	require.InDelta(t, 0.9, rep["confidence"], 1e-6)
	require.NotContains(t, rep, "text", "the model answers a rephrase")
	require.Equal(t, "Simply put: thiazides first.", resp["content"])
	require.Equal(t, 2, chats())
	p := repairPrompt(fake.Requests(llmtest.Chat)[1])
	require.Contains(t, p, "asked the same question again")
	require.Contains(t, p, "Thiazide diuretics, ACE inhibitors or calcium channel blockers.", "the previous answer is given")

	// An explicit request to hear it again: rephrase of the last answer.
	say(repairHeard("Sorry, I didn't catch that.", 0.95))
	resp, rep, _ = repairTurn(t, v)
	require.Equal(t, "explicit_request", rep["trigger"])
	require.Equal(t, "rephrase", rep["strategy"])
	require.Equal(t, 3, chats())
	require.Contains(t, repairPrompt(fake.Requests(llmtest.Chat)[2]), "did not catch or understand your previous answer")
	require.Contains(t, repairPrompt(fake.Requests(llmtest.Chat)[2]), "Simply put: thiazides first.")

	// A third repair in a row: escalate to text, answered by the gateway, spoken and stored.
	say(repairHeard("what is the doze of met for men", 0.4))
	resp, rep, spoken := repairTurn(t, v)
	require.Equal(t, "low_confidence", rep["trigger"])
	require.Equal(t, "escalate_to_text", rep["strategy"])
	require.InDelta(t, 0.4, rep["confidence"], 1e-6)
	require.Contains(t, rep["text"], "type your question")
	require.Equal(t, rep["text"], resp["content"])
	require.Equal(t, rep["text"], strings.Join(spoken, " "), "the reply is spoken")
	require.Equal(t, 3, chats(), "the gateway answered without the model")
	escalated := resp["message_id"].(string)

	// An ordinary turn ends the streak.
	v.send(map[string]any{"type": "message", "content": "Thanks, that helps a lot."})
	_, rep, _ = repairTurn(t, v)
	require.Nil(t, rep)
	require.Equal(t, 4, chats())

	// Low confidence alone: echo-check.
	say(repairHeard("can i take i be profen with lisinopril", 0.4))
	resp, rep, spoken = repairTurn(t, v)
	require.Equal(t, "low_confidence", rep["trigger"])
	require.Equal(t, "echo_check", rep["strategy"])
	require.Equal(t, `Did you say: "can i take i be profen with lisinopril"?`, rep["text"])
	require.Equal(t, rep["text"], resp["content"])
	require.NotEmpty(t, spoken)
	require.Equal(t, 4, chats())

	// A correction: echo-check of the corrected words (a typed one never escalates).
	v.send(map[string]any{"type": "message", "content": "No, I said ibuprofen with lisinopril"})
	resp, rep, _ = repairTurn(t, v)
	require.Equal(t, "correction", rep["trigger"])
	require.Equal(t, "echo_check", rep["strategy"])
	require.NotContains(t, rep, "confidence", "a typed turn has no confidence")
	require.Equal(t, `Sorry about that. Did you say: "ibuprofen with lisinopril"?`, resp["content"])
	require.Equal(t, 4, chats())

	// Not a correction, not a repeat request: answered by the model, no repair.
	v.send(map[string]any{"type": "message", "content": "I have no idea what causes it, what does?"})
	_, rep, _ = repairTurn(t, v)
	require.Nil(t, rep)
	require.Equal(t, 5, chats())

	// The conversation holds what was said, the gateway's replies included.
	msgs := s.repairMessages(t, ta, conv)
	require.Len(t, msgs, 16)
	var found bool
	for i, m := range msgs {
		if m.Id.String() == escalated {
			found = true
			require.Equal(t, client.MessageRoleAssistant, m.Role)
			require.Equal(t, "gateway", *m.Model)
			require.Equal(t, "what is the doze of met for men", msgs[i-1].Content, "the question as heard precedes it")
			require.Equal(t, client.MessageSource("voice"), m.Source)
		}
	}
	require.True(t, found)
	require.Equal(t, `Did you say: "can i take i be profen with lisinopril"?`, msgs[11].Content)
	require.Equal(t, "No, I said ibuprofen with lisinopril", msgs[12].Content)
}

// With backend.voice_repair off the same turns are answered as before: no event, the model
// answers each one, no repair instruction.
func TestVoiceRepairFlagOff(t *testing.T) {
	t.Parallel()
	s, fake := openAIVoice(t, map[string]string{"VOICE_FLAGS_CREATE": "true", "CHAT_PROVIDER": "openai"})
	q := &repairTranscripts{}
	fake.SetTranscript(q.answer)
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	a, b := s.account(t, auth.RoleUser), s.account(t, auth.RoleUser)
	s.enableVoiceFlag(t, admin, "repair", a.User.ID) // on for someone else only
	v := dialVoice(t, s, s.token(t, b))
	v.start(map[string]any{"vad": map[string]any{"silence_ms": 300}})
	seq := uint32(1)
	turns := []llmtest.Transcript{repairHeard("What is the first line treatment for hypertension?", 0.9),
		repairHeard("What is the first line treatment for hypertension?", 0.9), repairHeard("What?", 0.9),
		repairHeard("what is the doze of met for men", 0.2), repairHeard("No, I said metformin", 0.5)}
	for i, tr := range turns {
		q.push(tr)
		seq = v.stream(seq, speech(0.4, 1.0, 0.6))
		resp, rep, _ := repairTurn(t, v)
		require.Nil(t, rep, tr.Text)
		require.Equal(t, "Hello world", resp["content"])
		require.Len(t, fake.Requests(llmtest.Chat), i+1)
		require.NotContains(t, repairPrompt(fake.Requests(llmtest.Chat)[i]), "Conversation repair")
	}
}

// With the offline extractive answerer a request to repeat still gets the answer to the
// previous question (the extractive model reads "what?" as a follow-up), and a low
// confidence utterance confirmed with "yes" is answered from the question it confirms.
func TestVoiceRepairOffline(t *testing.T) {
	t.Parallel()
	s, fake := openAIVoice(t, map[string]string{"VOICE_FLAGS_CREATE": "true"})
	q := &repairTranscripts{}
	fake.SetTranscript(q.answer)
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	d := s.addText(t, admin, "Hypertension", "# Hypertension\n\n## Treatment\n\nFirst-line drugs for hypertension are thiazide diuretics, ACE inhibitors and calcium channel blockers.\n\n## Targets\n\nThe blood pressure target for most adults is below 130/80 mmHg.")
	require.Equal(t, client.KbDocumentStatusIndexed, s.waitIndexed(t, admin, d.Id).Status)
	a := s.account(t, auth.RoleUser)
	ta := s.token(t, a)
	s.enableVoiceFlag(t, admin, "repair", a.User.ID)
	v := dialVoice(t, s, ta)
	v.start(map[string]any{"vad": map[string]any{"silence_ms": 300}})

	v.send(map[string]any{"type": "message", "content": "What are the first-line drugs for hypertension?"})
	first, rep, _ := repairTurn(t, v)
	require.Nil(t, rep)
	require.Contains(t, first["content"], "thiazide diuretics")

	v.send(map[string]any{"type": "message", "content": "Pardon?"})
	again, rep, _ := repairTurn(t, v)
	require.Equal(t, "rephrase", rep["strategy"])
	require.Contains(t, again["content"], "thiazide diuretics", "the previous answer again, not 'not found'")

	// Low confidence: echo-check; "yes" answers the confirmed question.
	q.push(repairHeard("what is the blood pressure target for adults", 0.4))
	v.stream(1, speech(0.4, 1.0, 0.6))
	echo, rep, _ := repairTurn(t, v)
	require.Equal(t, "echo_check", rep["strategy"])
	require.Equal(t, `Did you say: "what is the blood pressure target for adults"?`, echo["content"])
	v.send(map[string]any{"type": "message", "content": "Yes"})
	yes, rep, _ := repairTurn(t, v)
	require.Nil(t, rep)
	require.Contains(t, yes["content"], "130/80")
}

// A barge-in during a gateway reply cuts the stored reply down to what was heard, as for a
// model answer: the history holds exactly what was said.
func TestVoiceRepairReplyBargeIn(t *testing.T) {
	t.Parallel()
	s, fake := openAIVoice(t, map[string]string{"VOICE_FLAGS_CREATE": "true", "CHAT_PROVIDER": "openai"})
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	a := s.account(t, auth.RoleUser)
	ta := s.token(t, a)
	s.enableVoiceFlag(t, admin, "repair", a.User.ID)
	release := gateSpeech(fake, 1)
	defer release()
	v := dialVoice(t, s, ta)
	conv := uuid.MustParse(v.start(map[string]any{})["conversation_id"].(string))

	v.send(map[string]any{"type": "message", "content": "No, I said metformin"})
	meta, before := v.until("audio.output.meta")
	require.Equal(t, "Sorry about that.", meta.Ev["text"])
	var rep map[string]any
	for _, f := range before {
		if f.Type == "repair.strategy" {
			rep = f.Ev
		}
	}
	require.NotNil(t, rep)
	require.Equal(t, `Sorry about that. Did you say: "metformin"?`, rep["text"])
	v.send(map[string]any{"type": "barge_in"})
	done, _ := v.until("response.complete")
	require.Equal(t, true, done.Ev["interrupted"])
	require.Equal(t, "Sorry about that.", done.Ev["content"])

	msgs := s.repairMessages(t, ta, conv)
	require.Len(t, msgs, 2)
	require.Equal(t, "No, I said metformin", msgs[0].Content)
	require.Equal(t, "Sorry about that.", msgs[1].Content)
	require.True(t, msgs[1].Interrupted)
	require.Empty(t, fake.Requests(llmtest.Chat), "the model was never asked")
}

// An echo-check ("Did you say …?") answered "yes" after the connection dropped and the
// session was resumed on another replica is still a confirmation: the repair state travels
// with the session (Redis, beside the resume buffer), so the model is asked the confirmed
// words, not "yes".
func TestVoiceRepairStateSurvivesResume(t *testing.T) {
	t.Parallel()
	a, fake := openAIVoice(t, map[string]string{"VOICE_FLAGS_CREATE": "true", "CHAT_PROVIDER": "openai"})
	b := replicaOf(t, a, nil)
	q := &repairTranscripts{}
	fake.SetTranscript(q.answer)
	fake.SetChat(func(llmtest.Request) []string { return []string{"Avoid ibuprofen with lisinopril."} })
	admin := a.token(t, a.account(t, auth.RoleAdmin))
	u := a.account(t, auth.RoleUser)
	tok := a.token(t, u)
	a.enableVoiceFlag(t, admin, "repair", u.User.ID)

	v := dialVoice(t, a, tok)
	ready := v.start(map[string]any{"vad": map[string]any{"silence_ms": 300}})
	id := ready["session_id"].(string)
	q.push(repairHeard("can i take i be profen with lisinopril", 0.4))
	v.stream(1, speech(0.4, 1.0, 0.6))
	resp, rep, _ := repairTurn(t, v)
	require.NotNil(t, rep)
	require.Equal(t, "echo_check", rep["strategy"])
	require.Equal(t, `Did you say: "can i take i be profen with lisinopril"?`, resp["content"])
	state, _ := v.until("voice.state")
	require.Equal(t, "listening", state.Ev["state"])
	require.NoError(t, v.conn.UnderlyingConn().Close())

	// b has the flag change at once (not only when its NOTIFY arrives).
	require.NoError(t, b.App.Flags.Refresh(context.Background()))
	w := dialVoice(t, b, tok)
	w.send(map[string]any{"type": "session.resume", "session_id": id, "last_seq": state.Seq})
	w.until("session.resume.ack")
	chats := len(fake.Requests(llmtest.Chat))
	q.push(repairHeard("yes", 0.9))
	w.stream(1, speech(0.4, 1.0, 0.6))
	resp, rep, _ = repairTurn(t, w)
	require.Nil(t, rep, "a confirmation is no repair")
	require.Equal(t, "Avoid ibuprofen with lisinopril.", resp["content"])
	c := fake.Requests(llmtest.Chat)
	require.Len(t, c, chats+1)
	last := c[chats].Messages[len(c[chats].Messages)-1].Content
	require.Contains(t, last, "can i take i be profen with lisinopril", "the model is asked the confirmed words")
}
