package tests

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/chat"
	"github.com/voiceassist/gateway/internal/llm/llmtest"
)

var voiceCapabilities = []string{"memory", "repair", "prosody", "emotion", "backchannel", "analytics", "feedback"}

// voiceIntelServer is a voice gateway that creates the backend.voice_* flags at start-up.
func voiceIntelServer(t *testing.T, env map[string]string) *testServer {
	t.Helper()
	cfg := map[string]string{"VOICE_FLAGS_CREATE": "true"}
	for k, v := range env {
		cfg[k] = v
	}
	s, _ := openAIVoice(t, cfg)
	return s
}

// voiceSession opens a voice socket for the token's user and returns its session id.
func voiceSession(t *testing.T, s *testServer, tok string) uuid.UUID {
	t.Helper()
	v := dialVoice(t, s, tok)
	ready := v.start(map[string]any{})
	return uuid.MustParse(ready["session_id"].(string))
}

// enableVoiceFlag turns a capability on for exactly the listed users (a rule on user_id,
// nobody else: rollout 0).
func (s *testServer) enableVoiceFlag(t *testing.T, admin, capability string, users ...uuid.UUID) {
	t.Helper()
	ids := make([]any, len(users))
	for i, u := range users {
		ids[i] = u.String()
	}
	res, err := s.Client.UpdateFlagWithResponse(context.Background(), "backend.voice_"+capability, nil, client.FlagPatch{
		Enabled: ptr(true), RolloutPercentage: ptr(0.0),
		Rules: &[]client.FlagRule{{Id: "listed", Value: anyv(true), Conditions: []client.FlagCondition{
			{Attribute: "user_id", Operator: client.FlagConditionOperator("in"), Value: anyv(ids)}}}},
	}, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)
}

func (s *testServer) feedback(t *testing.T, tok string, id uuid.UUID, in client.VoiceFeedbackInput) *client.SubmitVoiceSessionFeedbackResponse {
	t.Helper()
	res, err := s.Client.SubmitVoiceSessionFeedbackWithResponse(context.Background(), id, in, bearerAuth(tok))
	require.NoError(t, err)
	return res
}

// Start-up creates every backend.voice_* flag disabled; a second start on the same database
// changes none of them (an operator's change survives).
func TestVoiceIntelFlagsCreatedDisabled(t *testing.T) {
	t.Parallel()
	s := voiceIntelServer(t, nil)
	ctx := context.Background()
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	for _, c := range voiceCapabilities {
		f, err := s.Client.GetFlagWithResponse(ctx, "backend.voice_"+c, bearerAuth(admin))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, f.StatusCode(), "%s: %s", c, f.Body)
		require.False(t, f.JSON200.Data.Enabled, c)
		require.Equal(t, client.FlagTypeBoolean, f.JSON200.Data.Type)
	}
	s.enableVoiceFlag(t, admin, "memory", uuid.New())
	before, err := s.Client.GetFlagWithResponse(ctx, "backend.voice_memory", bearerAuth(admin))
	require.NoError(t, err)

	again := startServer(t, map[string]string{"DATABASE_URL": s.Env["DATABASE_URL"], "VOICE_FLAGS_CREATE": "true"})
	after, err := again.Client.GetFlagWithResponse(ctx, "backend.voice_memory", bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, after.StatusCode(), "%s", after.Body)
	require.True(t, after.JSON200.Data.Enabled)
	require.Equal(t, before.JSON200.Data.Version, after.JSON200.Data.Version, "an existing flag is never rewritten")
}

// Feedback is behind backend.voice_feedback per user, only for the session's owner, validated,
// and its comment redacted under PHI_POLICY=redact; the summary counts it.
func TestVoiceIntelFeedback(t *testing.T) {
	t.Parallel()
	s := voiceIntelServer(t, nil)
	ctx := context.Background()
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	a, b, c := s.account(t, auth.RoleUser), s.account(t, auth.RoleUser), s.account(t, auth.RoleUser)
	ta, tb, tc := s.token(t, a), s.token(t, b), s.token(t, c)
	sa := voiceSession(t, s, ta)
	sc := voiceSession(t, s, tc)
	good := client.VoiceFeedbackInput{Thumbs: ptr(client.VoiceFeedbackInputThumbsUp), Naturalness: ptr(4), Accuracy: ptr(5), Latency: ptr(3)}

	// Off for everyone (the flag as created).
	off := s.feedback(t, ta, sa, good)
	require.Equal(t, http.StatusNotFound, off.StatusCode(), "%s", off.Body)
	require.Equal(t, "FEATURE_DISABLED", errorOf(t, off.Body).Error.Code)

	// On for a and b only: c stays off.
	s.enableVoiceFlag(t, admin, "feedback", a.User.ID, b.User.ID)
	ok := s.feedback(t, ta, sa, good)
	require.Equal(t, http.StatusOK, ok.StatusCode(), "%s", ok.Body)
	require.Equal(t, sa, ok.JSON200.Data.SessionId)
	require.Equal(t, 4, *ok.JSON200.Data.Naturalness)
	require.Nil(t, ok.JSON200.Data.Comment)
	offC := s.feedback(t, tc, sc, good)
	require.Equal(t, http.StatusNotFound, offC.StatusCode(), "%s", offC.Body)
	require.Equal(t, "FEATURE_DISABLED", errorOf(t, offC.Body).Error.Code)

	// Another user's session, or none, is not found.
	other := s.feedback(t, tb, sa, good)
	require.Equal(t, http.StatusNotFound, other.StatusCode(), "%s", other.Body)
	require.Equal(t, "NOT_FOUND", errorOf(t, other.Body).Error.Code)
	missing := s.feedback(t, ta, uuid.New(), good)
	require.Equal(t, http.StatusNotFound, missing.StatusCode(), "%s", missing.Body)

	// Validation: nothing given, blank comment, out of range, too long, unknown field.
	for name, in := range map[string]client.VoiceFeedbackInput{
		"empty":        {},
		"blank":        {Comment: ptr("   \n ")},
		"rating 0":     {Naturalness: ptr(0)},
		"rating 6":     {Latency: ptr(6)},
		"long comment": {Comment: ptr(strings.Repeat("é", 2001))},
		"bad thumbs":   {Thumbs: ptr(client.VoiceFeedbackInputThumbs("sideways"))},
	} {
		res := s.feedback(t, ta, sa, in)
		require.Contains(t, []int{http.StatusBadRequest, http.StatusUnprocessableEntity}, res.StatusCode(), "%s: %s", name, res.Body)
		require.Equal(t, "VALIDATION_ERROR", errorOf(t, res.Body).Error.Code, name)
	}
	raw, err := s.Client.SubmitVoiceSessionFeedbackWithBodyWithResponse(ctx, sa, "application/json",
		strings.NewReader(`{"thumbs":"up","stars":5}`), bearerAuth(ta))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnprocessableEntity, raw.StatusCode(), "%s", raw.Body)
	require.Equal(t, "stars", *errorOf(t, raw.Body).Error.Field)

	// PHI in the comment is redacted before it is stored; a second submission replaces the first.
	red := s.feedback(t, ta, sa, client.VoiceFeedbackInput{Thumbs: ptr(client.VoiceFeedbackInputThumbsDown), Naturalness: ptr(2),
		Comment: ptr("It misheard my MRN 12345678 and my phone 312-555-0199, answers were slow.")})
	require.Equal(t, http.StatusOK, red.StatusCode(), "%s", red.Body)
	require.True(t, red.JSON200.Data.CommentRedacted)
	require.NotContains(t, *red.JSON200.Data.Comment, "12345678")
	require.NotContains(t, *red.JSON200.Data.Comment, "555-0199")
	require.Contains(t, *red.JSON200.Data.Comment, "answers were slow")
	require.Nil(t, red.JSON200.Data.Accuracy, "the second submission replaced the first")

	// The summary: viewers only, today's row counts the one feedback of a.
	viewer := s.token(t, s.account(t, auth.RoleViewer))
	denied, err := s.Client.GetVoiceFeedbackSummaryWithResponse(ctx, nil, bearerAuth(ta))
	require.NoError(t, err)
	require.Equal(t, http.StatusForbidden, denied.StatusCode())
	bad, err := s.Client.GetVoiceFeedbackSummaryWithResponse(ctx, &client.GetVoiceFeedbackSummaryParams{Days: ptr(0)}, bearerAuth(viewer))
	require.NoError(t, err)
	require.Contains(t, []int{http.StatusBadRequest, http.StatusUnprocessableEntity}, bad.StatusCode(), "%s", bad.Body)
	sum, err := s.Client.GetVoiceFeedbackSummaryWithResponse(ctx, &client.GetVoiceFeedbackSummaryParams{Days: ptr(3)}, bearerAuth(viewer))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, sum.StatusCode(), "%s", sum.Body)
	d := sum.JSON200.Data
	require.Len(t, d.Series, 3)
	today := d.Series[2]
	require.EqualValues(t, 1, today.Count)
	require.EqualValues(t, 0, today.ThumbsUp)
	require.EqualValues(t, 1, today.ThumbsDown)
	require.InDelta(t, 2.0, *today.Naturalness, 1e-6)
	require.Nil(t, today.Accuracy)
	require.InDelta(t, 0.0, *d.ThumbsUpRatio, 1e-6)
	require.EqualValues(t, 0, d.Series[0].Count)
	require.Nil(t, d.Series[0].ThumbsUpRatio)
	require.Equal(t, client.VoiceFeedbackSummaryTrendDirection("insufficient_data"), d.Trend.Direction)
}

// Under PHI_POLICY=block a comment with identifiers is refused and nothing is stored.
func TestVoiceIntelFeedbackPHIBlocked(t *testing.T) {
	t.Parallel()
	s := voiceIntelServer(t, map[string]string{"PHI_POLICY": "block"})
	ctx := context.Background()
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	a := s.account(t, auth.RoleUser)
	ta := s.token(t, a)
	sa := voiceSession(t, s, ta)
	s.enableVoiceFlag(t, admin, "feedback", a.User.ID)

	res := s.feedback(t, ta, sa, client.VoiceFeedbackInput{Thumbs: ptr(client.VoiceFeedbackInputThumbsUp), Comment: ptr("Call me at 312-555-0199.")})
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode(), "%s", res.Body)
	e := errorOf(t, res.Body).Error
	require.Equal(t, "PHI_BLOCKED", e.Code)
	require.NotContains(t, string(res.Body), "555-0199")

	viewer := s.token(t, s.account(t, auth.RoleViewer))
	sum, err := s.Client.GetVoiceFeedbackSummaryWithResponse(ctx, nil, bearerAuth(viewer))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, sum.StatusCode(), "%s", sum.Body)
	require.EqualValues(t, 0, sum.JSON200.Data.Count, "a refused comment stores nothing")
	require.Len(t, sum.JSON200.Data.Series, 7)

	clean := s.feedback(t, ta, sa, client.VoiceFeedbackInput{Comment: ptr("Lovely voice, a bit slow.")})
	require.Equal(t, http.StatusOK, clean.StatusCode(), "%s", clean.Body)
	require.False(t, clean.JSON200.Data.CommentRedacted)
}

// Memory is written from voice turns (typed and spoken) only for users with
// backend.voice_memory on, kept across sessions, and erased completely, resume buffers included.
func TestVoiceIntelMemory(t *testing.T) {
	t.Parallel()
	s, fake := openAIVoice(t, map[string]string{"VOICE_FLAGS_CREATE": "true", "CHAT_PROVIDER": "openai"})
	fake.SetTranscript(func(llmtest.Request) llmtest.Transcript {
		return llmtest.Transcript{Text: "Can I take metformin with my blood pressure pills?", Language: "english", Duration: 1}
	})
	ctx := context.Background()
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	a, b := s.account(t, auth.RoleUser), s.account(t, auth.RoleUser)
	ta, tb := s.token(t, a), s.token(t, b)
	s.enableVoiceFlag(t, admin, "memory", a.User.ID)
	typed := "I prefer metric units and brief answers. What is the first line treatment for hypertension?"

	// Session 1 of a: a typed turn.
	v1 := dialVoice(t, s, ta)
	s1 := uuid.MustParse(v1.start(map[string]any{})["session_id"].(string))
	v1.send(map[string]any{"type": "message", "content": typed})
	v1.until("response.complete")
	// Session 2 of a: a spoken turn.
	v2 := dialVoice(t, s, ta)
	s2 := uuid.MustParse(v2.start(map[string]any{"vad": map[string]any{"silence_ms": 300}})["session_id"].(string))
	v2.stream(1, speech(0.4, 1.0, 0.6))
	v2.until("response.complete")
	// The second session's answer was prompted with what the first one remembered (topics
	// included); the first turn's own statement already applied to its answer.
	chats := fake.Requests(llmtest.Chat)
	prompt := func(r llmtest.Request) string {
		var b strings.Builder
		for _, m := range r.Messages {
			b.WriteString(m.Content + "\n")
		}
		return b.String()
	}
	require.Len(t, chats, 2)
	require.Contains(t, prompt(chats[0]), "Preferred units: metric.", "a turn's own stated preference applies at once")
	require.Contains(t, prompt(chats[1]), "Preferred units: metric.")
	require.Contains(t, prompt(chats[1]), "Preferred level of detail: brief.")
	require.Contains(t, prompt(chats[1]), "hypertension")
	// What is remembered reaches the model as answer guidance, not as a patient record.
	var guidance string
	for _, m := range chats[1].Messages {
		require.False(t, strings.HasPrefix(m.Content, "Patient context"), "preferences are not patient data")
		if strings.HasPrefix(m.Content, chat.GuidanceHeading) {
			guidance = m.Content
		}
	}
	require.Equal(t, "system", chats[1].Messages[1].Role)
	require.Contains(t, guidance, "Preferred level of detail: brief.")
	// b has the flag off: nothing is remembered.
	vb := dialVoice(t, s, tb)
	vb.start(map[string]any{})
	vb.send(map[string]any{"type": "message", "content": typed})
	vb.until("response.complete")
	require.NotContains(t, prompt(fake.Requests(llmtest.Chat)[2]), "Preferred units", "b's memory is off")

	mem := func(tok string) client.VoiceMemory {
		t.Helper()
		res, err := s.Client.GetVoiceMemoryWithResponse(ctx, bearerAuth(tok))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)
		return res.JSON200.Data
	}
	ma := mem(ta)
	require.Len(t, ma.Sessions, 2)
	bySession := map[uuid.UUID]client.VoiceSessionMemory{}
	for _, x := range ma.Sessions {
		bySession[x.SessionId] = x
	}
	first := bySession[s1]
	require.Contains(t, first.Entities, "disease:hypertension", "%+v", first)
	require.Contains(t, first.Topics, "hypertension")
	require.Equal(t, []string{"What is the first line treatment for hypertension?"}, first.OpenQuestions)
	second := bySession[s2]
	require.Equal(t, []string{"Can I take metformin with my blood pressure pills?"}, second.OpenQuestions)
	require.Contains(t, second.Topics, "metformin", "%+v", second)
	require.NotNil(t, ma.Profile)
	p := ma.Profile
	require.Equal(t, client.MemoryUnitsMetric, *p.Units)
	require.Equal(t, client.MemoryDetailBrief, *p.DetailLevel)
	require.Nil(t, p.Language)
	require.Equal(t, 2, p.Turns)
	require.EqualValues(t, 15+9, p.Words)
	require.NotNil(t, p.SpeakingRateWpm, "the spoken turn gives a speaking rate")
	require.Greater(t, p.VocabularySize, 15)

	mb := mem(tb)
	require.Empty(t, mb.Sessions)
	require.Nil(t, mb.Profile)

	// The erase is complete: rows and resume buffers; a second erase finds nothing.
	rdb := redisOf(t, s)
	bufs := []string{s.Env["REDIS_KEY_PREFIX"] + "voice:buf:" + s1.String(), s.Env["REDIS_KEY_PREFIX"] + "voice:buf:" + s2.String()}
	n, err := rdb.Exists(ctx, bufs...).Result()
	require.NoError(t, err)
	require.Positive(t, n, "the sessions left resume buffers")
	del, err := s.Client.EraseVoiceMemoryWithResponse(ctx, bearerAuth(ta))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, del.StatusCode(), "%s", del.Body)
	require.EqualValues(t, 3, del.JSON200.Data.RowsRemoved)
	after := mem(ta)
	require.Empty(t, after.Sessions)
	require.Nil(t, after.Profile)
	n, err = rdb.Exists(ctx, bufs...).Result()
	require.NoError(t, err)
	require.Zero(t, n)
	logs, err := s.Client.ListAuditLogsWithResponse(ctx, &client.ListAuditLogsParams{Action: ptr("voice.memory.erased"),
		ResourceId: ptr(a.User.ID.String())}, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, logs.StatusCode(), "%s", logs.Body)
	require.Len(t, logs.JSON200.Data, 1, "the erase is audited")
	again, err := s.Client.EraseVoiceMemoryWithResponse(ctx, bearerAuth(ta))
	require.NoError(t, err)
	require.EqualValues(t, 0, again.JSON200.Data.RowsRemoved)
}

func redisOf(t *testing.T, s *testServer) *redis.Client {
	t.Helper()
	opt, err := redis.ParseURL(s.Env["REDIS_URL"])
	require.NoError(t, err)
	c := redis.NewClient(opt)
	t.Cleanup(func() { _ = c.Close() })
	return c
}
