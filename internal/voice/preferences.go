package voice

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/conversation"
	"github.com/voiceassist/gateway/internal/ratelimit"
)

// Preferences are a user's voice settings; UpdatedAt is nil for the defaults.
type Preferences struct {
	Provider  string // auto, offline, openai
	Voice     *string
	Speed     float64
	AutoPlay  bool
	Language  string
	Style     string
	UpdatedAt *time.Time
}

// DefaultPreferences are what a user without stored preferences gets.
func DefaultPreferences() Preferences {
	return Preferences{Provider: "auto", Speed: 1, AutoPlay: true, Language: "en", Style: "neutral"}
}

// PreferencesPatch changes the fields that are set; SetVoice with a nil Voice clears it.
type PreferencesPatch struct {
	Provider *string
	SetVoice bool
	Voice    *string
	Speed    *float64
	AutoPlay *bool
	Language *string
	Style    *string
}

// Preferences returns the user's stored preferences or the defaults.
func (s *Service) Preferences(ctx context.Context, user uuid.UUID) (Preferences, error) {
	row, err := s.q.GetVoicePreferences(ctx, user)
	if errors.Is(err, pgx.ErrNoRows) {
		return DefaultPreferences(), nil
	}
	if err != nil {
		return Preferences{}, fmt.Errorf("voice: preferences: %w", err)
	}
	return fromRow(row), nil
}

// UpdatePreferences applies a patch: speed is clamped to 0.5–2.0, a voice must belong to a
// configured provider.
func (s *Service) UpdatePreferences(ctx context.Context, user uuid.UUID, p PreferencesPatch) (Preferences, error) {
	cur, err := s.Preferences(ctx, user)
	if err != nil {
		return Preferences{}, err
	}
	if p.Provider != nil {
		cur.Provider = *p.Provider
	}
	if p.SetVoice {
		if p.Voice != nil && !s.hasVoice(*p.Voice) {
			return Preferences{}, apierr.Invalid("voice", "is not a voice of the configured providers (GET /api/voice/voices)")
		}
		cur.Voice = p.Voice
	}
	if p.Speed != nil {
		cur.Speed = clampSpeed(*p.Speed)
		if *p.Speed == 0 {
			cur.Speed = 0.5
		}
	}
	if p.AutoPlay != nil {
		cur.AutoPlay = *p.AutoPlay
	}
	if p.Language != nil {
		cur.Language = *p.Language
	}
	if p.Style != nil {
		cur.Style = *p.Style
	}
	row, err := s.q.UpsertVoicePreferences(ctx, db.UpsertVoicePreferencesParams{
		UserID: user, Provider: cur.Provider, Voice: cur.Voice, Speed: float32(cur.Speed),
		AutoPlay: cur.AutoPlay, Language: cur.Language, Style: cur.Style,
	})
	if err != nil {
		return Preferences{}, fmt.Errorf("voice: store preferences: %w", err)
	}
	return fromRow(row), nil
}

// ResetPreferences forgets the stored preferences.
func (s *Service) ResetPreferences(ctx context.Context, user uuid.UUID) (Preferences, error) {
	if err := s.q.DeleteVoicePreferences(ctx, user); err != nil {
		return Preferences{}, fmt.Errorf("voice: reset preferences: %w", err)
	}
	return DefaultPreferences(), nil
}

func fromRow(r db.VoicePreference) Preferences {
	at := r.UpdatedAt
	return Preferences{Provider: r.Provider, Voice: r.Voice, Speed: round(float64(r.Speed)), AutoPlay: r.AutoPlay,
		Language: r.Language, Style: r.Style, UpdatedAt: &at}
}

// StylePreset is a named speaking style a client can offer.
type StylePreset struct {
	ID, Name, Description string
	Speed                 float64
}

// StylePresets are the styles of the preferences, with the speed each suggests.
func StylePresets() []StylePreset {
	return []StylePreset{
		{"neutral", "Neutral", "The provider's natural delivery.", 1},
		{"calm", "Calm", "Slower, for reassurance and complex explanations.", 0.9},
		{"clear", "Clear", "Deliberate pace for dosages, numbers and instructions.", 0.85},
		{"brisk", "Brisk", "Faster, for experienced users and short answers.", 1.2},
		{"warm", "Warm", "Slightly slower, conversational.", 0.95},
	}
}

// AllowTurn spends one of the user's voice turns per minute (RATE_LIMIT_VOICE_RELAY_PER_MINUTE),
// shared by the relay and voice sessions: each turn is a transcription and a model answer.
func (s *Service) AllowTurn(ctx context.Context, user uuid.UUID) error {
	if s.limiter == nil {
		return nil
	}
	rule := ratelimit.Rule{Name: "voice_relay_user", Limit: s.limits.RelayPerMinute, Window: time.Minute}
	return s.limiter.Check(ctx, rule, user.String(), true, "Too many voice requests; retry later")
}

// Relay answers a spoken question through the chat pipeline: the transcript and its answer
// are stored with source voice. Each user may relay RATE_LIMIT_VOICE_RELAY_PER_MINUTE a minute.
func (s *Service) Relay(ctx context.Context, user, conv uuid.UUID, transcript string) (question, answer conversation.Message, err error) {
	if err := s.AllowTurn(ctx, user); err != nil {
		return question, answer, err
	}
	if s.chats == nil {
		return question, answer, apierr.Unavailable("The assistant is not available", nil)
	}
	return s.chats.SendFrom(ctx, user, conv, transcript, conversation.SourceVoice, nil)
}
