package handlers

import (
	"context"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/voice"
)

func (s *Server) SubmitVoiceSessionFeedback(ctx context.Context, r api.SubmitVoiceSessionFeedbackRequestObject) (api.SubmitVoiceSessionFeedbackResponseObject, error) {
	p, _ := auth.From(ctx)
	b := r.Body
	in := voice.Feedback{SessionID: r.Id, Naturalness: b.Naturalness, Accuracy: b.Accuracy, Latency: b.Latency, Comment: b.Comment}
	if b.Thumbs != nil {
		t := string(*b.Thumbs)
		in.Thumbs = &t
	}
	var email, role string
	if p != nil {
		email, role = p.Email, string(p.Role)
	}
	f, err := s.VoiceFeedback.Submit(ctx, owner(ctx), email, role, in)
	if err != nil {
		return nil, err
	}
	out := api.VoiceFeedback{SessionId: f.SessionID, Naturalness: f.Naturalness, Accuracy: f.Accuracy, Latency: f.Latency,
		Comment: f.Comment, CommentRedacted: f.CommentRedacted, CreatedAt: f.CreatedAt.UTC(), UpdatedAt: f.UpdatedAt.UTC()}
	if f.Thumbs != nil {
		t := api.VoiceFeedbackThumbs(*f.Thumbs)
		out.Thumbs = &t
	}
	return api.SubmitVoiceSessionFeedback200JSONResponse{Success: true, Data: out, Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) GetVoiceFeedbackSummary(ctx context.Context, r api.GetVoiceFeedbackSummaryRequestObject) (api.GetVoiceFeedbackSummaryResponseObject, error) {
	days := 7
	if r.Params.Days != nil {
		days = *r.Params.Days
	}
	sum, err := s.VoiceFeedback.Summary(ctx, days)
	if err != nil {
		return nil, err
	}
	out := api.VoiceFeedbackSummary{Days: sum.Days, Series: make([]api.VoiceFeedbackDay, 0, len(sum.Series)),
		Count: sum.Count, ThumbsUp: sum.ThumbsUp, ThumbsDown: sum.ThumbsDown, ThumbsUpRatio: f32(sum.ThumbsUpRatio),
		Naturalness: f32(sum.Naturalness), Accuracy: f32(sum.Accuracy), Latency: f32(sum.Latency)}
	for _, d := range sum.Series {
		out.Series = append(out.Series, api.VoiceFeedbackDay{Day: openapi_types.Date{Time: d.Day}, Count: d.Count,
			ThumbsUp: d.ThumbsUp, ThumbsDown: d.ThumbsDown, ThumbsUpRatio: f32(d.ThumbsUpRatio),
			Naturalness: f32(d.Naturalness), Accuracy: f32(d.Accuracy), Latency: f32(d.Latency)})
	}
	out.Trend.Direction = api.VoiceFeedbackSummaryTrendDirection(sum.Trend.Direction)
	out.Trend.Earlier, out.Trend.Recent = f32(sum.Trend.Earlier), f32(sum.Trend.Recent)
	return api.GetVoiceFeedbackSummary200JSONResponse{Success: true, Data: out, Metadata: meta(ctx), Timestamp: now()}, nil
}

// f32 narrows an optional figure to the contract's number type.
func f32(v *float64) *float32 {
	if v == nil {
		return nil
	}
	x := float32(*v)
	return &x
}

func (s *Server) GetVoiceMemory(ctx context.Context, _ api.GetVoiceMemoryRequestObject) (api.GetVoiceMemoryResponseObject, error) {
	m, err := s.VoiceMemory.Get(ctx, owner(ctx))
	if err != nil {
		return nil, err
	}
	out := api.VoiceMemory{Sessions: make([]api.VoiceSessionMemory, 0, len(m.Sessions))}
	for _, x := range m.Sessions {
		out.Sessions = append(out.Sessions, api.VoiceSessionMemory{SessionId: x.SessionID, Topics: x.Topics,
			Entities: x.Entities, OpenQuestions: x.OpenQuestions, UpdatedAt: x.UpdatedAt.UTC()})
	}
	if p := m.Profile; p != nil {
		prof := api.VoiceMemoryProfile{Language: p.Language, Turns: p.Turns, Words: p.Words, SpeakingRateWpm: f32(p.SpeakingRate),
			VocabularySize: p.VocabularySize, UpdatedAt: p.UpdatedAt.UTC(),
			Speech: api.VoiceSpeechProfile{Turns: p.Speech.Turns, SpeakingRateWpm: f32(p.Speech.WPM),
				PauseP50Ms: f32(p.Speech.PauseP50), PauseP90Ms: f32(p.Speech.PauseP90), EndOfSpeechSilenceMs: p.Speech.EndSilenceMS}}
		if p.Units != nil {
			u := api.VoiceMemoryProfileUnits(*p.Units)
			prof.Units = &u
		}
		if p.DetailLevel != nil {
			d := api.VoiceMemoryProfileDetailLevel(*p.DetailLevel)
			prof.DetailLevel = &d
		}
		out.Profile = &prof
	}
	return api.GetVoiceMemory200JSONResponse{Success: true, Data: out, Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) EraseVoiceMemory(ctx context.Context, _ api.EraseVoiceMemoryRequestObject) (api.EraseVoiceMemoryResponseObject, error) {
	n, err := s.VoiceMemory.Erase(ctx, actorOf(ctx), owner(ctx))
	if err != nil {
		return nil, err
	}
	res := api.EraseVoiceMemory200JSONResponse{Success: true, Metadata: meta(ctx), Timestamp: now()}
	res.Data.RowsRemoved = n
	return res, nil
}
