package app

import (
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/voiceassist/gateway/internal/conversation"
	"github.com/voiceassist/gateway/internal/dictation"
	"github.com/voiceassist/gateway/internal/patient"
	"github.com/voiceassist/gateway/internal/voice"
)

// newDictation builds the dictation sessions over the voice service's speech-to-text, with the
// patient records a session may link. No PHI detector yet: appends answer phi_alerts: [] until
// one is wired here.
func newDictation(pool *pgxpool.Pool, v *voice.Service, chats *conversation.Service, patients *patient.Service) *dictation.Service {
	return dictation.NewService(dictation.Config{Pool: pool, Voice: v, Chats: chats, Patients: patients})
}
