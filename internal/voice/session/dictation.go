package session

import (
	"context"
	"errors"
	"net/http"

	"github.com/google/uuid"

	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/dictation"
	"github.com/voiceassist/gateway/internal/voice"
)

// Dictation is the dictation service a session in dictation mode appends to.
type Dictation interface {
	Create(ctx context.Context, actor audit.Actor, user uuid.UUID, in dictation.CreateInput) (dictation.Session, error)
	Get(ctx context.Context, user, id uuid.UUID) (dictation.Session, error)
	AppendAudio(ctx context.Context, actor audit.Actor, user, id uuid.UUID, audio []byte, version int32) (dictation.Result, error)
	AppendText(ctx context.Context, actor audit.Actor, user, id uuid.UUID, text string, version int32) (dictation.Result, error)
}

const (
	evDictation = "dictation.update"
	modeConv    = "conversation"
	modeDict    = "dictation"
)

type dictationEvent struct {
	Type           string                 `json:"type"`
	Seq            uint32                 `json:"seq"`
	TurnID         uuid.UUID              `json:"turn_id"`
	DictationID    uuid.UUID              `json:"dictation_session_id"`
	Version        int32                  `json:"version"`
	Status         string                 `json:"status"`
	CurrentSection string                 `json:"current_section"`
	Text           string                 `json:"text"`
	Commands       []dictationCommandJSON `json:"commands"`
	ReadBack       *string                `json:"read_back"`
	NoteMarkdown   *string                `json:"note_markdown"`
}

type dictationCommandJSON struct {
	Kind    string `json:"kind"`
	Arg     string `json:"arg,omitempty"`
	Applied bool   `json:"applied"`
}

type phiAlertEvent struct {
	Type   string         `json:"type"`
	Seq    uint32         `json:"seq"`
	TurnID uuid.UUID      `json:"turn_id"`
	Alerts []phiAlertJSON `json:"alerts"`
}

type phiAlertJSON struct {
	Type       string  `json:"type"`
	Start      int     `json:"start"`
	End        int     `json:"end"`
	Confidence float64 `json:"confidence"`
}

type modeActivatedEvent struct {
	Type        string     `json:"type"`
	Mode        string     `json:"mode"`
	DictationID *uuid.UUID `json:"dictation_session_id,omitempty"`
	Version     *int32     `json:"version,omitempty"`
}

// setMode switches between conversation and dictation. Dictation appends to the named
// dictation session (the caller's) or to a new one of note_type (default soap) linked to the
// session's conversation.
func (s *Session) setMode(in inbound) {
	switch in.Mode {
	case modeConv:
		s.outMu.Lock()
		s.mode = modeConv
		s.outMu.Unlock()
		s.send(modeActivatedEvent{Type: evModeActivated, Mode: modeConv})
		return
	case modeDict:
	default:
		s.fail(codeValidation, `mode must be "conversation" or "dictation"`)
		return
	}
	if s.h.cfg.Dictation == nil {
		s.fail(codeNotAvailable, "dictation is not available on this server")
		return
	}
	var d dictation.Session
	var err error
	if in.DictationID != nil {
		id, perr := uuid.Parse(*in.DictationID)
		if perr != nil {
			s.fail(codeValidation, "dictation_session_id must be a UUID")
			return
		}
		d, err = s.h.cfg.Dictation.Get(s.ctx, s.user.UserID, id)
	} else {
		noteType := in.NoteType
		if noteType == "" {
			noteType = "soap"
		}
		conv := s.conv
		d, err = s.h.cfg.Dictation.Create(s.ctx, s.actor(), s.user.UserID, dictation.CreateInput{NoteType: noteType, ConversationID: &conv})
	}
	if err != nil {
		s.failErr(err, "could not open the dictation session")
		return
	}
	s.outMu.Lock()
	s.mode, s.dictID, s.dictVersion = modeDict, d.ID, d.Version
	s.outMu.Unlock()
	id, v := d.ID, d.Version
	s.send(modeActivatedEvent{Type: evModeActivated, Mode: modeDict, DictationID: &id, Version: &v})
}

// dictate appends a turn's utterance (or typed text) to the dictation session: commands in it
// run, the note grows, PHI found outside a linked patient raises phi.alert, and a read-back is
// spoken. A version conflict (the note was changed through the API meanwhile) is retried once
// at the current version.
func (s *Session) dictate(t *turn, in turnInput) {
	s.say(t, false, func(seq uint32) any { return stateEvent{Type: evState, Seq: seq, State: stateThinking} })
	s.outMu.Lock()
	id, version := s.dictID, s.dictVersion
	s.outMu.Unlock()
	appendOnce := func(v int32) (dictation.Result, error) {
		if in.pcm != nil {
			wav := voice.EncodeWAV(voice.PCM{Samples: in.pcm, Rate: voice.SampleRate})
			return s.h.cfg.Dictation.AppendAudio(t.ctx, s.actor(), s.user.UserID, id, wav, v)
		}
		return s.h.cfg.Dictation.AppendText(t.ctx, s.actor(), s.user.UserID, id, in.text, v)
	}
	res, err := appendOnce(version)
	var ae *apierr.Error
	if errors.As(err, &ae) && ae.Status == http.StatusConflict && ae.Code == "VERSION_CONFLICT" {
		if cur, gerr := s.h.cfg.Dictation.Get(t.ctx, s.user.UserID, id); gerr == nil {
			res, err = appendOnce(cur.Version)
		}
	}
	if err != nil {
		if t.ctx.Err() == nil {
			s.failErr(err, "the dictation could not be appended")
		}
		s.finishEarly(t)
		return
	}
	s.outMu.Lock()
	s.dictVersion = res.Session.Version
	s.outMu.Unlock()
	if res.Transcript != nil {
		text := res.Transcript.Text
		s.say(t, false, func(seq uint32) any {
			return transcriptEvent{Type: evTranscript, Seq: seq, TurnID: t.id, Text: text}
		})
	}
	if len(res.PHIAlerts) > 0 {
		alerts := make([]phiAlertJSON, len(res.PHIAlerts))
		for i, a := range res.PHIAlerts {
			alerts[i] = phiAlertJSON{Type: a.Type, Start: a.Start, End: a.End, Confidence: a.Confidence}
		}
		s.say(t, false, func(seq uint32) any {
			return phiAlertEvent{Type: EvPHIAlert, Seq: seq, TurnID: t.id, Alerts: alerts}
		})
	}
	ev := dictationEvent{Type: evDictation, TurnID: t.id, DictationID: id, Version: res.Session.Version,
		Status: res.Session.Status, CurrentSection: res.Session.Current, Text: res.Applied.Text,
		Commands: []dictationCommandJSON{}, ReadBack: res.Applied.ReadBack}
	for _, c := range res.Applied.Commands {
		ev.Commands = append(ev.Commands, dictationCommandJSON{Kind: string(c.Kind), Arg: c.Arg, Applied: c.Applied})
	}
	if res.Note != nil {
		md := res.Note.Markdown
		ev.NoteMarkdown = &md
	}
	s.say(t, false, func(seq uint32) any { ev.Seq = seq; return ev })
	if rb := res.Applied.ReadBack; rb != nil && *rb != "" {
		s.readBack(t, *rb)
	}
	s.outMu.Lock()
	t.finished = true
	s.emitLocked(true, func(seq uint32) any { return stateEvent{Type: evState, Seq: seq, State: stateListening} })
	s.outMu.Unlock()
	s.h.turns.WithLabelValues("dictated").Inc()
	s.buf.flush()
}

// readBack speaks text sentence by sentence (a "read back" command).
func (s *Session) readBack(t *turn, text string) {
	sp, err := s.h.cfg.Voice.Speaker(t.ctx, s.actor(), s.voiceID)
	if err != nil {
		s.fail(codeVoice, "speech output is unavailable; the read-back is in dictation.update")
		return
	}
	for i, sentence := range voice.Sentences(text) {
		pcm, err := sp.Speak(t.ctx, sentence)
		if err != nil {
			if t.ctx.Err() == nil {
				s.fail(codeVoice, "speech output failed; the read-back is in dictation.update")
			}
			return
		}
		if pcm.Rate != s.h.cfg.OutputSampleRate {
			pcm = voice.Resample(pcm, s.h.cfg.OutputSampleRate)
		}
		if !s.speakSentence(t, i+1, sentence, pcm) {
			return
		}
	}
}
