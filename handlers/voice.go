package handlers

import (
	"context"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/voice"
)

func (s *Server) TranscribeAudio(ctx context.Context, r api.TranscribeAudioRequestObject) (api.TranscribeAudioResponseObject, error) {
	req, err := readTranscribeForm(r.Body)
	if err != nil {
		return nil, err
	}
	res, err := s.Voice.Transcribe(ctx, actorOf(ctx), req)
	if err != nil {
		return nil, err
	}
	out := api.Transcription{Text: res.Text, Language: res.Language, Duration: res.Duration.Seconds(),
		Provider: res.Provider, Fallback: res.Fallback}
	if req.Options.Timestamps {
		segs := make([]api.TranscriptSegment, 0, len(res.Segments))
		for _, sg := range res.Segments {
			words := make([]api.TranscriptWord, 0, len(sg.Words))
			for _, w := range sg.Words {
				words = append(words, api.TranscriptWord{Word: w.Word, Start: w.Start.Seconds(), End: w.End.Seconds(), Confidence: confidence(w.Confidence)})
			}
			segs = append(segs, api.TranscriptSegment{Text: sg.Text, Start: sg.Start.Seconds(), End: sg.End.Seconds(),
				Confidence: confidence(sg.Confidence), Words: words})
		}
		out.Segments = &segs
	}
	return api.TranscribeAudio200JSONResponse{Success: true, Data: out, Metadata: meta(ctx), Timestamp: now()}, nil
}

// confidence is nil when the provider gave none (negative).
func confidence(c float64) *float64 {
	if c < 0 {
		return nil
	}
	return &c
}

// readTranscribeForm reads the multipart fields; the validator has checked their shapes.
func readTranscribeForm(mr *multipart.Reader) (voice.TranscribeRequest, error) {
	var req voice.TranscribeRequest
	seen := false
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return req, uploadError(err)
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return req, uploadError(err)
		}
		switch p.FormName() {
		case "audio":
			req.Audio, seen = data, true
		case "language":
			req.Options.Language = strings.TrimSpace(string(data))
		case "prompt":
			req.Options.Prompt = string(data)
		case "timestamps":
			req.Options.Timestamps, _ = strconv.ParseBool(strings.TrimSpace(string(data)))
		}
	}
	if !seen || len(req.Audio) == 0 {
		return req, apierr.Invalid("audio", "is required and must not be empty")
	}
	return req, nil
}

func synthesisOf(b *api.SynthesisInput) voice.SynthesizeRequest {
	req := voice.SynthesizeRequest{Text: b.Text}
	if b.Voice != nil {
		req.Voice = *b.Voice
	}
	if b.Format != nil {
		req.Format = string(*b.Format)
	}
	if b.Speed != nil {
		req.Speed = float64(*b.Speed)
	}
	return req
}

func (s *Server) SynthesizeSpeech(ctx context.Context, r api.SynthesizeSpeechRequestObject) (api.SynthesizeSpeechResponseObject, error) {
	sp, err := s.Voice.Synthesize(ctx, actorOf(ctx), synthesisOf(r.Body))
	if err != nil {
		return nil, err
	}
	return speechResponse{sp}, nil
}

// speechResponse writes the audio with its full media type (audio/L16 carries its rate).
type speechResponse struct{ voice.Speech }

func (sp speechResponse) VisitSynthesizeSpeechResponse(w http.ResponseWriter) error {
	ttsHeaders(w.Header(), sp.ContentType, sp.Provider, sp.Voice, sp.Fallback)
	w.Header().Set("Content-Length", strconv.Itoa(len(sp.Audio)))
	w.WriteHeader(http.StatusOK)
	_, err := w.Write(sp.Audio)
	return err
}

func ttsHeaders(h http.Header, contentType, provider, voiceID string, fallback bool) {
	h.Set("Content-Type", contentType)
	h.Set("X-TTS-Provider", provider)
	h.Set("X-TTS-Voice", voiceID)
	h.Set("X-TTS-Fallback", strconv.FormatBool(fallback))
	h.Set("Cache-Control", "no-store")
}

func (s *Server) StreamSpeech(ctx context.Context, r api.StreamSpeechRequestObject) (api.StreamSpeechResponseObject, error) {
	return &speechStream{ctx: ctx, s: s, req: synthesisOf(r.Body)}, nil
}

// speechStream synthesises while it writes: the status and headers go out with the first
// sentence, so errors found before it (bad voice, every provider down) are still envelopes.
type speechStream struct {
	ctx context.Context
	s   *Server
	req voice.SynthesizeRequest
}

func (st *speechStream) VisitStreamSpeechResponse(w http.ResponseWriter) error {
	started := false
	err := st.s.Voice.Stream(st.ctx, actorOf(st.ctx), st.req, w, func(start voice.StreamStart) error {
		ttsHeaders(w.Header(), start.ContentType, start.Provider, start.Voice, start.Fallback)
		w.WriteHeader(http.StatusOK)
		started = true
		return http.NewResponseController(w).Flush()
	})
	if err != nil && !started {
		return err // nothing sent yet: the error handler writes the envelope
	}
	return nil
}

func (s *Server) ListVoices(ctx context.Context, _ api.ListVoicesRequestObject) (api.ListVoicesResponseObject, error) {
	voices, providers := s.Voice.Voices()
	out := api.VoiceList{Voices: make([]api.VoiceInfo, 0, len(voices)), Providers: providers}
	for _, v := range voices {
		out.Voices = append(out.Voices, api.VoiceInfo{Provider: v.Provider, Id: v.ID, Name: v.Name, Language: v.Language,
			Gender: optString(v.Gender), Style: optString(v.Style), Default: v.Default})
	}
	if out.Providers == nil {
		out.Providers = []string{}
	}
	return api.ListVoices200JSONResponse{Success: true, Data: out, Metadata: meta(ctx), Timestamp: now()}, nil
}

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func preferencesOf(p voice.Preferences) api.VoicePreferences {
	return api.VoicePreferences{Provider: p.Provider, Voice: p.Voice, Speed: float32(p.Speed), AutoPlay: p.AutoPlay,
		Language: p.Language, Style: api.VoiceStyle(p.Style), UpdatedAt: p.UpdatedAt}
}

func (s *Server) GetVoicePreferences(ctx context.Context, _ api.GetVoicePreferencesRequestObject) (api.GetVoicePreferencesResponseObject, error) {
	p, err := s.Voice.Preferences(ctx, owner(ctx))
	if err != nil {
		return nil, err
	}
	return api.GetVoicePreferences200JSONResponse{Success: true, Data: preferencesOf(p), Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) UpdateVoicePreferences(ctx context.Context, r api.UpdateVoicePreferencesRequestObject) (api.UpdateVoicePreferencesResponseObject, error) {
	b := r.Body
	patch := voice.PreferencesPatch{AutoPlay: b.AutoPlay, Language: b.Language}
	if b.Provider != nil {
		v := string(*b.Provider)
		patch.Provider = &v
	}
	if b.Voice != nil {
		patch.SetVoice = true
		if *b.Voice != "" {
			patch.Voice = b.Voice
		}
	}
	if b.Speed != nil {
		v := float64(*b.Speed)
		patch.Speed = &v
	}
	if b.Style != nil {
		v := string(*b.Style)
		patch.Style = &v
	}
	p, err := s.Voice.UpdatePreferences(ctx, owner(ctx), patch)
	if err != nil {
		return nil, err
	}
	return api.UpdateVoicePreferences200JSONResponse{Success: true, Data: preferencesOf(p), Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) ResetVoicePreferences(ctx context.Context, _ api.ResetVoicePreferencesRequestObject) (api.ResetVoicePreferencesResponseObject, error) {
	p, err := s.Voice.ResetPreferences(ctx, owner(ctx))
	if err != nil {
		return nil, err
	}
	return api.ResetVoicePreferences200JSONResponse{Success: true, Data: preferencesOf(p), Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) ListVoiceStylePresets(ctx context.Context, _ api.ListVoiceStylePresetsRequestObject) (api.ListVoiceStylePresetsResponseObject, error) {
	presets := voice.StylePresets()
	out := make([]api.VoiceStylePreset, 0, len(presets))
	for _, p := range presets {
		out = append(out, api.VoiceStylePreset{Id: api.VoiceStyle(p.ID), Name: p.Name, Description: p.Description, Speed: float32(p.Speed)})
	}
	return api.ListVoiceStylePresets200JSONResponse{Success: true, Data: out, Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) RelayVoiceTranscript(ctx context.Context, r api.RelayVoiceTranscriptRequestObject) (api.RelayVoiceTranscriptResponseObject, error) {
	b := r.Body
	ground := func(ctx context.Context) (string, error) {
		return s.patientContext(ctx, b.ConversationId, b.PatientId, b.Purpose)
	}
	q, a, err := s.Voice.RelayWith(ctx, owner(ctx), b.ConversationId, b.Transcript, ground)
	if err != nil {
		return nil, err
	}
	return api.RelayVoiceTranscript201JSONResponse{Success: true, Data: api.Exchange{UserMessage: messageOf(q), AssistantMessage: messageOf(a)},
		Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) GetVoiceStatus(ctx context.Context, _ api.GetVoiceStatusRequestObject) (api.GetVoiceStatusResponseObject, error) {
	st := s.Voice.Status()
	out := api.VoiceStatus{Decoders: st.Decoders, Ffmpeg: st.FFmpeg, CloudAllowed: st.CloudAllowed,
		Providers: make([]api.VoiceProviderStatus, 0, len(st.Providers))}
	for _, p := range st.Providers {
		ps := api.VoiceProviderStatus{Name: p.Name, Kind: api.VoiceProviderStatusKind(p.Kind),
			State: api.VoiceProviderStatusState(p.State), External: p.External, Detail: optString(p.Detail), Loaded: p.Loaded}
		if p.Latency != nil {
			ms := float64(p.Latency.Microseconds()) / 1000
			ps.LatencyMs = &ms
		}
		out.Providers = append(out.Providers, ps)
	}
	return api.GetVoiceStatus200JSONResponse{Success: true, Data: out, Metadata: meta(ctx), Timestamp: now()}, nil
}
