package app

import (
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/voiceassist/gateway/internal/conversation"
	"github.com/voiceassist/gateway/internal/dictation"
	"github.com/voiceassist/gateway/internal/patient"
	"github.com/voiceassist/gateway/internal/phi"
	"github.com/voiceassist/gateway/internal/voice"
)

// newDictation builds the dictation sessions over the voice service's speech-to-text, with the
// patient records a session may link and the PHI detector that raises alerts for identifiers
// dictated outside a linked patient.
func newDictation(pool *pgxpool.Pool, v *voice.Service, chats *conversation.Service, patients *patient.Service) *dictation.Service {
	return dictation.NewService(dictation.Config{Pool: pool, Voice: v, Chats: chats, Patients: patients, PHI: phiAlerts{}})
}

// phiAlerts adapts the PHI detector to dictation's alerts (offsets in code points).
type phiAlerts struct{}

func (phiAlerts) Detect(text string) []dictation.PHIAlert {
	found := phi.Detect(text)
	out := make([]dictation.PHIAlert, len(found))
	for i, f := range found {
		out[i] = dictation.PHIAlert{Type: f.Type, Start: f.Start, End: f.End, Confidence: f.Confidence}
	}
	return out
}
