package session

import (
	"context"
	"math"
	"time"

	"github.com/voiceassist/gateway/internal/voice"
)

// Where the VAD silence of a session came from (session.ready vad_silence_source).
const (
	silenceClient  = "client"  // vad.silence_ms of session.init: it wins for the session
	silenceProfile = "profile" // learned from the user's earlier turns (backend.voice_prosody)
	silenceDefault = "default" // nothing learned yet
)

const defaultSilenceMS = 500

// prosodyJSON is the prosody object of transcript.complete (backend.voice_prosody on).
type prosodyJSON struct {
	Words             int        `json:"words"`
	WPM               float64    `json:"wpm"`
	VoicedMS          int64      `json:"voiced_ms"`
	Pauses            pausesJSON `json:"pauses"`
	MeanWordMS        int64      `json:"mean_word_ms"`
	FinalLengthening  float64    `json:"final_lengthening"`
	TrailingSilenceMS int64      `json:"trailing_silence_ms"`
	Question          bool       `json:"question"`
	LearnedSilenceMS  *int       `json:"learned_silence_ms"`
	VADSilenceMS      int        `json:"vad_silence_ms"`
}

type pausesJSON struct {
	Count     int   `json:"count"`
	P50MS     int64 `json:"p50_ms"`
	P90MS     int64 `json:"p90_ms"`
	LongestMS int64 `json:"longest_ms"`
}

// startSilence is the VAD silence a session starts with: the client's (explicit), else with
// backend.voice_prosody on the one learned for the user, else the default. source is "" with
// the flag off, so session.ready stays as it was.
func (s *Session) startSilence(ctx context.Context, silence int, explicit bool) (int, string) {
	if !s.h.cfg.Switches.Enabled(voice.CapProsody, s.user.UserID, s.user.Email, s.user.Role) {
		return silence, ""
	}
	if explicit {
		return silence, silenceClient
	}
	if m := s.h.cfg.Memory; m != nil {
		learned, err := m.LearnedSilence(ctx, s.user.UserID)
		if err != nil {
			s.log.Warn("voice session: speech profile not read", "err", err)
		}
		if learned > 0 {
			return learned, silenceProfile
		}
	}
	return silence, silenceDefault
}

// learnProsody analyses a spoken turn, folds it into the user's speech profile and, unless
// the client chose the silence, hands the learned silence to the reader's VAD (from its next
// frame on). nil when the transcript has too few timed words.
func (s *Session) learnProsody(ctx context.Context, tr voice.Transcript, text string, audio time.Duration) *prosodyJSON {
	p, ok := voice.AnalyzeProsody(tr.Segments, text, audio)
	if !ok {
		return nil
	}
	out := &prosodyJSON{Words: p.Words, WPM: round(p.WPM, 10), VoicedMS: p.Voiced.Milliseconds(),
		Pauses:     pausesJSON{Count: p.Pauses, P50MS: p.PauseP50.Milliseconds(), P90MS: p.PauseP90.Milliseconds(), LongestMS: p.PauseLongest.Milliseconds()},
		MeanWordMS: p.MeanWord.Milliseconds(), FinalLengthening: round(p.FinalLengthening, 100),
		TrailingSilenceMS: p.TrailingSilence.Milliseconds(), Question: p.Question}
	if m := s.h.cfg.Memory; m != nil {
		sp, err := m.LearnSpeech(ctx, s.user.UserID, p)
		if err != nil {
			if ctx.Err() == nil { // not a barge-in
				s.log.Warn("voice session: speech profile not written", "err", err)
			}
		} else {
			out.LearnedSilenceMS = sp.EndSilenceMS
			if !s.silenceFixed && sp.EndSilenceMS != nil {
				s.silence.Store(int32(*sp.EndSilenceMS))
			}
		}
	}
	out.VADSilenceMS = int(s.silence.Load())
	return out
}

// adaptVAD gives the reader's VAD the newest learned silence (reader goroutine).
func (s *Session) adaptVAD() {
	if n := int(s.silence.Load()); n != 0 && n != s.vadSilence {
		s.vad.setSilence(n)
		s.vadSilence = n
	}
}

// setSilence changes the silence that ends speech, from the next frame on.
func (v *VAD) setSilence(ms int) { v.silence = max(1, ms/20) }

func round(x, unit float64) float64 { return math.Round(x*unit) / unit }
