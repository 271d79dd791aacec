package handlers

import (
	"context"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/voice"
)

func (s *Server) GetVoiceSessionAnalytics(ctx context.Context, r api.GetVoiceSessionAnalyticsRequestObject) (api.GetVoiceSessionAnalyticsResponseObject, error) {
	limit := limitOf(r.Params.Limit)
	a, err := s.VoiceAnalytics.Session(ctx, owner(ctx), r.Id, valueOf(r.Params.Cursor), limit)
	if err != nil {
		return nil, err
	}
	out := api.VoiceSessionAnalytics{SessionId: r.Id, Turns: mapAll(a.Turns, turnAnalyticsOf)}
	sum := &out.Summary
	sum.Turns, sum.Answered, sum.Interrupted, sum.Failed = a.Count, a.Answered, a.Interrupted, a.Failed
	sum.BargeIns, sum.Repairs = a.BargeIns, a.Repairs
	p95 := func(p voice.Percentiles) api.VoiceTimingP95 { return api.VoiceTimingP95{P50: p.P50, P95: p.P95} }
	sum.Stt, sum.Retrieval, sum.FirstToken = p95(a.Timings.STT), p95(a.Timings.Retrieval), p95(a.Timings.FirstToken)
	sum.FirstAudio, sum.Total = p95(a.Timings.FirstAudio), p95(a.Timings.Total)
	return api.GetVoiceSessionAnalytics200JSONResponse{Success: true, Data: out, Metadata: pageMeta(ctx, limit, a.Next), Timestamp: now()}, nil
}

func turnAnalyticsOf(t voice.TurnStats) api.VoiceTurnAnalytics {
	return api.VoiceTurnAnalytics{Id: t.ID, TurnId: t.Turn, StartedAt: t.At.UTC(), Input: api.VoiceTurnAnalyticsInput(t.Input),
		Outcome: api.VoiceTurnAnalyticsOutcome(t.Outcome), SttMs: msOf(t.STT), RetrievalMs: msOf(t.Retrieval),
		FirstTokenMs: msOf(t.FirstToken), FirstAudioMs: msOf(t.Audio), TotalMs: ms(t.Total), BargeIns: t.BargeIns,
		Repairs: t.Repairs, UserWords: t.UserWords, AnswerWords: t.AnswerWords, Variants: t.Variants}
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func msOf(d *time.Duration) *float64 {
	if d == nil {
		return nil
	}
	v := ms(*d)
	return &v
}

func (s *Server) GetVoiceAnalytics(ctx context.Context, r api.GetVoiceAnalyticsRequestObject) (api.GetVoiceAnalyticsResponseObject, error) {
	days := 7
	if r.Params.Days != nil {
		days = *r.Params.Days
	}
	series, err := s.VoiceAnalytics.Daily(ctx, days)
	if err != nil {
		return nil, err
	}
	p99 := func(p voice.Percentiles) api.VoiceTimingP99 {
		return api.VoiceTimingP99{P50: p.P50, P95: p.P95, P99: p.P99}
	}
	out := api.VoiceAnalyticsDaily{Days: days, Series: mapAll(series, func(d voice.AnalyticsDay) api.VoiceAnalyticsDay {
		return api.VoiceAnalyticsDay{Day: openapi_types.Date{Time: d.Day}, Sessions: d.Sessions, Turns: d.Turns,
			BargeIns: d.BargeIns, Repairs: d.Repairs, Stt: p99(d.Timings.STT), Retrieval: p99(d.Timings.Retrieval),
			FirstToken: p99(d.Timings.FirstToken), FirstAudio: p99(d.Timings.FirstAudio), Total: p99(d.Timings.Total)}
	})}
	return api.GetVoiceAnalytics200JSONResponse{Success: true, Data: out, Metadata: meta(ctx), Timestamp: now()}, nil
}
