package voice

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/voiceassist/gateway/gen/db"
)

// Prosody figures of one spoken turn, from the word timings of its transcript
// (docs/voice.md, "Prosody").
type Prosody struct {
	Words int
	// Voiced is the time from the first word's start to the last word's end minus the pauses.
	Voiced time.Duration
	// WPM is words per minute of voiced time.
	WPM float64
	// Pauses are the gaps between consecutive words of at least PauseMin.
	Pauses                           int
	PauseP50, PauseP90, PauseLongest time.Duration
	// End-of-turn cues: the last word's duration over the turn's mean word duration (a
	// speaker lengthens the last word of a finished thought), the audio after the last word,
	// and whether the words read as a question.
	MeanWord         time.Duration
	FinalLengthening float64
	TrailingSilence  time.Duration
	Question         bool
}

// Prosody constants (documented in docs/voice.md, "Prosody").
const (
	// PauseMin is the shortest gap between two words that counts as a pause: shorter gaps are
	// the joins of connected speech and the recogniser's timing jitter.
	PauseMin = 100 * time.Millisecond
	// ProsodyMinWords is the fewest timed words a turn needs to be analysed.
	ProsodyMinWords = 2
	// SpeechProfileAlpha is the weight of the newest turn in the profile's moving averages.
	SpeechProfileAlpha = 0.3
	// SilenceFactor times the typical long pause (p90) is the end-of-speech silence: longer
	// than most of the user's pauses, in proportion to how long they pause.
	SilenceFactor = 1.5
	// SilenceMinMS and SilenceMaxMS bound every end-of-speech silence, learned or asked for.
	SilenceMinMS = 200
	SilenceMaxMS = 800
)

// questionStarts are the words that open an English question when the recogniser writes no
// punctuation (the offline one never does).
var questionStarts = map[string]bool{
	"what": true, "how": true, "why": true, "when": true, "where": true, "who": true, "whom": true, "whose": true,
	"which": true, "can": true, "could": true, "should": true, "would": true, "will": true, "shall": true,
	"is": true, "are": true, "am": true, "was": true, "were": true, "do": true, "does": true, "did": true,
	"may": true, "might": true, "have": true, "has": true, "had": true,
}

// AnalyzeProsody computes the figures of a turn from its segments' words; audio is the
// utterance's length (for the trailing silence). ok is false with fewer than ProsodyMinWords
// timed words (a provider without timings, a one-word answer): nothing to learn from.
func AnalyzeProsody(segments []Segment, text string, audio time.Duration) (p Prosody, ok bool) {
	var words []Word
	for _, s := range segments {
		for _, w := range s.Words {
			if w.End > w.Start && w.Start >= 0 {
				words = append(words, w)
			}
		}
	}
	if len(words) < ProsodyMinWords {
		return Prosody{}, false
	}
	slices.SortStableFunc(words, func(a, b Word) int { return cmp.Compare(a.Start, b.Start) })
	var total time.Duration
	var pauses []time.Duration
	for i, w := range words {
		total += w.End - w.Start
		if i > 0 {
			if gap := w.Start - words[i-1].End; gap >= PauseMin {
				pauses = append(pauses, gap)
			}
		}
	}
	first, last := words[0], words[len(words)-1]
	p.Words = len(words)
	p.Voiced = last.End - first.Start
	for _, g := range pauses {
		p.Voiced -= g
	}
	p.WPM = float64(p.Words) / p.Voiced.Minutes()
	if len(pauses) > 0 {
		slices.Sort(pauses)
		p.Pauses = len(pauses)
		p.PauseP50, p.PauseP90 = Percentile(pauses, 50), Percentile(pauses, 90)
		p.PauseLongest = pauses[len(pauses)-1]
	}
	p.MeanWord = total / time.Duration(len(words))
	p.FinalLengthening = float64(last.End-last.Start) / float64(p.MeanWord)
	p.TrailingSilence = max(0, audio-last.End)
	p.Question = isQuestion(text)
	return p, true
}

// Percentile is the nearest-rank percentile (the smallest value with at least q% of the
// values at or below it) of sorted, non-empty values.
func Percentile(sorted []time.Duration, q int) time.Duration {
	rank := (q*len(sorted) + 99) / 100 // ceil(q/100 × n)
	return sorted[min(max(rank, 1), len(sorted))-1]
}

func isQuestion(text string) bool {
	text = strings.TrimSpace(text)
	if strings.HasSuffix(text, "?") {
		return true
	}
	first := strings.ToLower(strings.TrimRight(strings.SplitN(text+" ", " ", 2)[0], ",.!;:"))
	return questionStarts[first]
}

// SpeechProfile is the long-term speech memory of a user: moving averages over the analysed
// turns and the end-of-speech silence learned from them.
type SpeechProfile struct {
	Turns              int
	WPM                *float64
	PauseP50, PauseP90 *float64 // milliseconds
	EndSilenceMS       *int
}

// Learn folds one turn into the profile: each average moves SpeechProfileAlpha of the way to
// the turn's figure (the first turn sets it). A turn without pauses leaves the pause figures
// (and so the silence) as they were: it tells nothing about how long the user pauses.
func (sp SpeechProfile) Learn(p Prosody) SpeechProfile {
	ewma := func(old *float64, x float64) *float64 {
		if old != nil {
			x = *old + SpeechProfileAlpha*(x-*old)
		}
		return &x
	}
	out := sp
	out.Turns++
	out.WPM = ewma(sp.WPM, p.WPM)
	if p.Pauses > 0 {
		out.PauseP50 = ewma(sp.PauseP50, ms(p.PauseP50))
		out.PauseP90 = ewma(sp.PauseP90, ms(p.PauseP90))
		s := EndSilence(*out.PauseP90)
		out.EndSilenceMS = &s
	}
	return out
}

// EndSilence is the end-of-speech silence for a user whose long pauses (p90) last p90 ms:
// half as long again, so the VAD does not cut them, within SilenceMinMS–SilenceMaxMS.
func EndSilence(p90 float64) int {
	return min(max(int(math.Round(SilenceFactor*p90)), SilenceMinMS), SilenceMaxMS)
}

// LearnSpeech folds a turn's prosody into the user's speech profile (created when missing) and
// returns the profile as stored. The caller checks backend.voice_prosody.
func (m *MemoryService) LearnSpeech(ctx context.Context, user uuid.UUID, p Prosody) (SpeechProfile, error) {
	var out SpeechProfile
	err := pgx.BeginFunc(ctx, m.Pool, func(tx pgx.Tx) error {
		q := m.Q.WithTx(tx)
		row, err := q.LockVoiceSpeechProfile(ctx, user)
		if err != nil {
			return err
		}
		out = speechProfile(row.ProsodyTurns, row.SpeechWpm, row.PauseP50Ms, row.PauseP90Ms, row.EndSilenceMs).Learn(p)
		var silence *int32
		if out.EndSilenceMS != nil {
			s := int32(*out.EndSilenceMS)
			silence = &s
		}
		return q.UpdateVoiceSpeechProfile(ctx, db.UpdateVoiceSpeechProfileParams{UserID: user, ProsodyTurns: int32(out.Turns),
			SpeechWpm: out.WPM, PauseP50Ms: out.PauseP50, PauseP90Ms: out.PauseP90, EndSilenceMs: silence})
	})
	if err != nil {
		return SpeechProfile{}, fmt.Errorf("voice: speech profile: %w", err)
	}
	return out, nil
}

// LearnedSilence is the end-of-speech silence learned for the user (ms), or 0 when none was
// (no profile, or no turn with pauses yet).
func (m *MemoryService) LearnedSilence(ctx context.Context, user uuid.UUID) (int, error) {
	p, err := m.Q.GetVoiceMemoryProfile(ctx, user)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && p.EndSilenceMs == nil {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("voice: speech profile: %w", err)
	}
	return int(*p.EndSilenceMs), nil
}

func speechProfile(turns int32, wpm, p50, p90 *float64, silence *int32) SpeechProfile {
	sp := SpeechProfile{Turns: int(turns), WPM: wpm, PauseP50: p50, PauseP90: p90}
	if silence != nil {
		s := int(*silence)
		sp.EndSilenceMS = &s
	}
	return sp
}
