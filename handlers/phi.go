package handlers

import (
	"context"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/phi"
)

func (s *Server) DetectPhi(ctx context.Context, r api.DetectPhiRequestObject) (api.DetectPhiResponseObject, error) {
	fs, err := s.PHI.Detect(ctx, owner(ctx), r.Body.Text, phiTypes(r.Body.Types))
	if err != nil {
		return nil, err
	}
	return api.DetectPhi200JSONResponse{Success: true, Data: api.PhiDetection{Findings: phiFindings(r.Body.Text, fs), Counts: phi.Counts(fs)},
		Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) RedactPhi(ctx context.Context, r api.RedactPhiRequestObject) (api.RedactPhiResponseObject, error) {
	text, fs, err := s.PHI.Redact(ctx, owner(ctx), r.Body.Text, phiTypes(r.Body.Types))
	if err != nil {
		return nil, err
	}
	return api.RedactPhi200JSONResponse{Success: true, Data: api.PhiRedaction{Text: text, Findings: phiFindings(r.Body.Text, fs)},
		Metadata: meta(ctx), Timestamp: now()}, nil
}

func phiTypes(ts *[]api.PhiType) []string {
	return mapAll(valueOf(ts), func(t api.PhiType) string { return string(t) })
}

func phiFindings(text string, fs []phi.Finding) []api.PhiFinding {
	runes := []rune(text)
	return mapAll(fs, func(f phi.Finding) api.PhiFinding {
		return api.PhiFinding{Type: api.PhiType(f.Type), Start: f.Start, End: f.End, Text: string(runes[f.Start:f.End]), Confidence: f.Confidence}
	})
}
