package tests

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/app"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/clock"
	"github.com/voiceassist/gateway/internal/llm/llmtest"
)

// What each fake provider call costs on the session clock: the fake providers move the
// injected clock, so every timing of a turn is known exactly.
const (
	fakeSTT    = 300 * time.Millisecond
	fakeModel  = 200 * time.Millisecond
	fakeSpeech = 50 * time.Millisecond
)

// timedProviders makes the fake OpenAI advance fc by the cost of each call. While hold is
// set, a speech request after the first of the turn waits until the gateway gives up on it
// (a barge-in) and costs nothing.
func timedProviders(fake *llmtest.Server, fc *clock.Fake) (hold func(bool)) {
	var mu sync.Mutex
	holding, spoken := false, 0
	fake.SetHandler(func(w http.ResponseWriter, r *http.Request, req llmtest.Request) bool {
		switch req.Endpoint {
		case llmtest.Transcriptions:
			fc.Advance(fakeSTT)
		case llmtest.Chat:
			fc.Advance(fakeModel)
		case llmtest.Speech:
			mu.Lock()
			spoken++
			held := holding && spoken > 1
			mu.Unlock()
			if held {
				<-r.Context().Done()
				return true
			}
			fc.Advance(fakeSpeech)
		}
		return false
	})
	return func(on bool) {
		mu.Lock()
		holding, spoken = on, 0
		mu.Unlock()
	}
}

func (s *testServer) voiceAnalytics(t *testing.T, tok string, id uuid.UUID, p *client.GetVoiceSessionAnalyticsParams) *client.GetVoiceSessionAnalyticsResponse {
	t.Helper()
	res, err := s.Client.GetVoiceSessionAnalyticsWithResponse(context.Background(), id, p, bearerAuth(tok))
	require.NoError(t, err)
	return res
}

func msp(d time.Duration) *float64 {
	v := float64(d) / float64(time.Millisecond)
	return &v
}

// A scripted session (spoken, typed, barged-in and failed turns) stores one analytics row
// per turn whose timings, words, outcomes and barge-ins are what happened, on the injected
// clock; the flag off stores nothing; only the owner reads them; the admin aggregate is for
// viewers; the stage histograms move for every turn, flag or not.
func TestVoiceAnalytics(t *testing.T) {
	t.Parallel()
	fc := clock.NewFake(time.Now().UTC())
	s, fake, _ := voiceServer(t, map[string]string{"VOICE_FLAGS_CREATE": "true", "CHAT_PROVIDER": "openai"}, app.WithVoiceClock(fc))
	hold := timedProviders(fake, fc)
	oneSentence := func(llmtest.Request) []string { return []string{"Thiazide diuretics are a first line treatment."} }
	fake.SetChat(oneSentence)
	ctx := context.Background()
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	a, b := s.account(t, auth.RoleUser), s.account(t, auth.RoleUser)
	ta, tb := s.token(t, a), s.token(t, b)
	s.enableVoiceFlag(t, admin, "analytics", a.User.ID)
	before := s.scrape(t)

	// b (flag off) has a turn answered: no row.
	vb := dialVoice(t, s, tb)
	sb := uuid.MustParse(vb.start(nil)["session_id"].(string))
	vb.send(map[string]any{"type": "message", "content": "How is hypertension treated?"})
	vb.until("response.complete")

	va := dialVoice(t, s, ta)
	ready := va.start(map[string]any{"features": []string{"binary_audio"}, "vad": map[string]any{"silence_ms": 300}})
	sa := uuid.MustParse(ready["session_id"].(string))
	va.until("voice.state") // listening
	// 1. Spoken and answered.
	seq := va.stream(1, speech(0.4, 1.0, 0.6))
	done, _ := va.until("response.complete")
	require.Equal(t, false, done.Ev["interrupted"])
	// 2. Typed and answered.
	va.send(map[string]any{"type": "message", "content": "How is hypertension treated?"})
	va.until("response.complete")
	// 3. Typed, barged in while the second sentence is being synthesised.
	fake.SetChat(threeSentences)
	hold(true)
	va.send(map[string]any{"type": "message", "content": "And what else?"})
	meta, _ := va.until("audio.output.meta")
	for i := 0; i < int(meta.Ev["frames"].(float64)); i++ {
		require.Equal(t, "audio.output", va.next().Type)
	}
	va.send(map[string]any{"type": "barge_in"})
	done, _ = va.until("response.complete")
	require.Equal(t, true, done.Ev["interrupted"])
	hold(false)
	// 4. Spoken, nothing recognised: failed.
	fake.SetTranscript(func(llmtest.Request) llmtest.Transcript {
		return llmtest.Transcript{Text: "", Language: "english", Duration: 1}
	})
	va.stream(seq, speech(0.4, 1.0, 0.6))
	errEv, _ := va.until("error")
	require.Equal(t, "NO_SPEECH", errEv.Ev["code"], "%v", errEv.Ev)

	var got *client.VoiceSessionAnalytics
	require.Eventually(t, func() bool {
		res := s.voiceAnalytics(t, ta, sa, nil)
		require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)
		got = &res.JSON200.Data
		return len(got.Turns) == 4
	}, 10*time.Second, 10*time.Millisecond, "the rows are written after response.complete")
	zero := msp(0)
	want := []struct {
		input                            client.VoiceTurnAnalyticsInput
		outcome                          client.VoiceTurnAnalyticsOutcome
		stt, retrieval, token, audio     *float64
		total                            time.Duration
		bargeIns, userWords, answerWords int
	}{
		{"voice", "answered", msp(fakeSTT), zero, msp(fakeSTT + fakeModel), msp(fakeSTT + fakeModel + fakeSpeech),
			fakeSTT + fakeModel + fakeSpeech, 0, 8, 7},
		{"text", "answered", nil, zero, msp(fakeModel), msp(fakeModel + fakeSpeech), fakeModel + fakeSpeech, 0, 4, 7},
		{"text", "interrupted", nil, zero, msp(fakeModel), msp(fakeModel + fakeSpeech), fakeModel + fakeSpeech, 1, 3, 7},
		{"voice", "failed", msp(fakeSTT), nil, nil, nil, fakeSTT, 0, 0, 0},
	}
	for i, w := range want {
		g := got.Turns[i]
		require.Equal(t, w.input, g.Input, "turn %d", i+1)
		require.Equal(t, w.outcome, g.Outcome, "turn %d", i+1)
		require.Equal(t, w.stt, g.SttMs, "turn %d stt", i+1)
		require.Equal(t, w.retrieval, g.RetrievalMs, "turn %d retrieval", i+1)
		require.Equal(t, w.token, g.FirstTokenMs, "turn %d first token", i+1)
		require.Equal(t, w.audio, g.FirstAudioMs, "turn %d first audio", i+1)
		require.Equal(t, *msp(w.total), g.TotalMs, "turn %d total", i+1)
		require.Equal(t, w.bargeIns, g.BargeIns, "turn %d barge-ins", i+1)
		require.Equal(t, 0, g.Repairs, "turn %d repairs", i+1)
		require.Equal(t, w.userWords, g.UserWords, "turn %d user words", i+1)
		require.Equal(t, w.answerWords, g.AnswerWords, "turn %d answer words", i+1)
		require.Len(t, g.Variants, len(voiceCapabilities))
		require.Equal(t, "off", g.Variants["backend.voice_memory"])
		require.NotEqual(t, "off", g.Variants["backend.voice_analytics"])
	}
	sum := got.Summary
	require.EqualValues(t, 4, sum.Turns)
	require.EqualValues(t, 2, sum.Answered)
	require.EqualValues(t, 1, sum.Interrupted)
	require.EqualValues(t, 1, sum.Failed)
	require.EqualValues(t, 1, sum.BargeIns)
	require.InDelta(t, 300, *sum.Stt.P50, 1e-9)
	require.InDelta(t, 275, *sum.Total.P50, 1e-9) // 250, 250, 300, 550

	// Pages of two, then a cursor that is not one.
	p1 := s.voiceAnalytics(t, ta, sa, &client.GetVoiceSessionAnalyticsParams{Limit: ptr(2)})
	require.Equal(t, http.StatusOK, p1.StatusCode(), "%s", p1.Body)
	require.Len(t, p1.JSON200.Data.Turns, 2)
	require.True(t, p1.JSON200.Metadata.Pagination.HasMore)
	p2 := s.voiceAnalytics(t, ta, sa, &client.GetVoiceSessionAnalyticsParams{Limit: ptr(2), Cursor: p1.JSON200.Metadata.Pagination.NextCursor})
	require.Equal(t, http.StatusOK, p2.StatusCode(), "%s", p2.Body)
	require.Equal(t, got.Turns[2:], p2.JSON200.Data.Turns)
	require.False(t, p2.JSON200.Metadata.Pagination.HasMore)
	require.EqualValues(t, 4, p2.JSON200.Data.Summary.Turns, "the summary covers every page")
	bad := s.voiceAnalytics(t, ta, sa, &client.GetVoiceSessionAnalyticsParams{Cursor: ptr("not-a-cursor")})
	require.Equal(t, http.StatusBadRequest, bad.StatusCode(), "%s", bad.Body)

	// The flag off stored nothing; only the owner reads a session.
	off := s.voiceAnalytics(t, tb, sb, nil)
	require.Equal(t, http.StatusOK, off.StatusCode(), "%s", off.Body)
	require.Empty(t, off.JSON200.Data.Turns)
	require.EqualValues(t, 0, off.JSON200.Data.Summary.Turns)
	require.Nil(t, off.JSON200.Data.Summary.Total.P50)
	for _, res := range []*client.GetVoiceSessionAnalyticsResponse{s.voiceAnalytics(t, tb, sa, nil), s.voiceAnalytics(t, ta, uuid.New(), nil)} {
		require.Equal(t, http.StatusNotFound, res.StatusCode(), "%s", res.Body)
		require.Equal(t, "NOT_FOUND", errorOf(t, res.Body).Error.Code)
	}

	// The admin aggregate: viewers only, days 1–90.
	viewer := s.token(t, s.account(t, auth.RoleViewer))
	denied, err := s.Client.GetVoiceAnalyticsWithResponse(ctx, nil, bearerAuth(ta))
	require.NoError(t, err)
	require.Equal(t, http.StatusForbidden, denied.StatusCode())
	for _, days := range []int{0, 91} {
		res, err := s.Client.GetVoiceAnalyticsWithResponse(ctx, &client.GetVoiceAnalyticsParams{Days: ptr(days)}, bearerAuth(viewer))
		require.NoError(t, err)
		require.Contains(t, []int{http.StatusBadRequest, http.StatusUnprocessableEntity}, res.StatusCode(), "%d: %s", days, res.Body)
		require.Equal(t, "VALIDATION_ERROR", errorOf(t, res.Body).Error.Code)
	}
	agg, err := s.Client.GetVoiceAnalyticsWithResponse(ctx, &client.GetVoiceAnalyticsParams{Days: ptr(3)}, bearerAuth(viewer))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, agg.StatusCode(), "%s", agg.Body)
	require.Len(t, agg.JSON200.Data.Series, 3)
	today := agg.JSON200.Data.Series[2]
	require.EqualValues(t, 1, today.Sessions)
	require.EqualValues(t, 4, today.Turns)
	require.EqualValues(t, 1, today.BargeIns)
	require.InDelta(t, 275, *today.Total.P50, 1e-9)
	require.InDelta(t, 300+0.97*250, *today.Total.P99, 1e-9)
	require.InDelta(t, 300, *today.Stt.P99, 1e-9)
	require.Nil(t, agg.JSON200.Data.Series[0].Total.P50, "a day without turns")
	require.EqualValues(t, 0, agg.JSON200.Data.Series[0].Turns)

	// Histograms: every turn, b's included.
	after := s.scrape(t)
	const h = "voiceassist_voice_turn_stage_seconds"
	require.Equal(t, 5.0, after.value(h, "stage", "total")-before.value(h, "stage", "total"))
	require.Equal(t, 2.0, after.value(h, "stage", "stt")-before.value(h, "stage", "stt"))
	require.Equal(t, 4.0, after.value(h, "stage", "first_audio")-before.value(h, "stage", "first_audio"))
	require.InDelta(t, 0.55+0.25+0.25+0.3+0.25, after.histogramSum(h, "stage", "total")-before.histogramSum(h, "stage", "total"), 1e-9)
}
