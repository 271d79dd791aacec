package session

import (
	"context"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/voiceassist/gateway/internal/chat"
	"github.com/voiceassist/gateway/internal/conversation"
	"github.com/voiceassist/gateway/internal/voice"
)

// Stages of a turn as the histogram labels them.
const (
	stageSTT        = "stt"
	stageRetrieval  = "retrieval"
	stageFirstToken = "first_token"
	stageFirstAudio = "first_audio"
	stageTotal      = "total"
)

func newStageHistogram() *prometheus.HistogramVec {
	return prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "voiceassist_voice_turn_stage_seconds",
		Help: "Voice conversation turns by stage: stt and retrieval are the stage's length; first_token, first_audio " +
			"and total count from the turn's start.",
		Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, .75, 1, 1.5, 2, 3, 5, 10, 30},
	}, []string{"stage"})
}

// turnMarks are the moments of a conversation turn that analytics measures, read on the
// session clock (Config.Clock) so that tests can drive them. The run and speak goroutines
// set them, hence the lock. The zero value (a dictation turn) records nothing.
type turnMarks struct {
	mu                   sync.Mutex
	start                time.Time
	input                string // voice or text; "" for a dictation turn
	sttStart, sttEnd     time.Time
	retStart, retEnd     time.Time
	firstToken, firstAud time.Time
	userWords            int
}

func (s *Session) mark(t *turn, at *time.Time) {
	now := s.h.cfg.Clock.Now()
	t.marks.mu.Lock()
	if at.IsZero() {
		*at = now
	}
	t.marks.mu.Unlock()
}

// beginTurn marks a turn as a conversation turn (its start is when startTurn made it: the
// client's utterance or message ended, a previous answer may still be being stored).
func (s *Session) beginTurn(t *turn, spoken bool) {
	t.marks.mu.Lock()
	defer t.marks.mu.Unlock()
	t.marks.input = voice.InputText
	if spoken {
		t.marks.input = voice.InputVoice
	}
}

// withStageMarks times the chat pipeline's retrieval on the session clock.
func (s *Session) withStageMarks(t *turn) context.Context {
	return chat.WithStageMarks(t.ctx, func(stage string, done bool) {
		if stage != "retrieval" {
			return
		}
		if done {
			s.mark(t, &t.marks.retEnd)
		} else {
			s.mark(t, &t.marks.retStart)
		}
	})
}

// record observes the turn's stage histograms (every turn) and, when backend.voice_analytics
// is on for it, stores its row in the background: nothing of it is on the way to the
// client, which has the turn's last frames queued already.
func (s *Session) record(t *turn, outcome string, answer *conversation.Message) {
	end := s.h.cfg.Clock.Now()
	t.marks.mu.Lock()
	m := &t.marks
	if m.input == "" {
		t.marks.mu.Unlock()
		return
	}
	st := voice.TurnStats{Session: s.id, Turn: t.id, Input: m.input, Outcome: outcome, At: m.start, Total: end.Sub(m.start),
		STT: span(m.sttStart, m.sttEnd), Retrieval: span(m.retStart, m.retEnd),
		FirstToken: span(m.start, m.firstToken), Audio: span(m.start, m.firstAud), UserWords: m.userWords}
	t.marks.mu.Unlock()
	if answer != nil {
		st.AnswerWords = voice.CountWords(answer.Content)
	}
	s.outMu.Lock()
	if t.stopReason == "barge_in" || t.stopReason == "speech" {
		st.BargeIns = 1
	}
	if t.repair != "" {
		st.Repairs = 1
	}
	s.outMu.Unlock()

	for stage, d := range map[string]*time.Duration{stageSTT: st.STT, stageRetrieval: st.Retrieval,
		stageFirstToken: st.FirstToken, stageFirstAudio: st.Audio, stageTotal: &st.Total} {
		if d != nil {
			s.h.stages.WithLabelValues(stage).Observe(d.Seconds())
		}
	}
	if s.h.cfg.Analytics == nil || s.id == uuid.Nil || !t.caps.On(voice.CapAnalytics) {
		return
	}
	st.Variants = t.caps.Variants()
	s.h.wg.Add(1)
	go func() {
		defer s.h.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), s.h.cfg.WriteWait)
		defer cancel()
		if err := s.h.cfg.Analytics.Record(ctx, st); err != nil {
			s.log.Warn("voice session: analytics not written", "err", err)
		}
	}()
}

// span is the time from a to b, nil unless both happened.
func span(a, b time.Time) *time.Duration {
	if a.IsZero() || b.IsZero() {
		return nil
	}
	d := b.Sub(a)
	return &d
}
