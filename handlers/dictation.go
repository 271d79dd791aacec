package handlers

import (
	"context"
	"errors"
	"io"
	"mime/multipart"
	"strconv"
	"strings"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/dictation"
)

func dictationSessionOf(s dictation.Session) api.DictationSession {
	return api.DictationSession{Id: s.ID, NoteType: api.DictationNoteType(s.NoteType), AbbreviationPolicy: api.AbbreviationPolicy(s.Policy),
		Status: api.DictationStatus(s.Status), CurrentSection: s.Current, Sections: mapAll(s.Sections, dictationSectionOf),
		Version: s.Version, ConversationId: s.ConversationID, PatientId: s.PatientID, CreatedAt: s.CreatedAt,
		UpdatedAt: s.UpdatedAt, FinalizedAt: s.FinalizedAt}
}

func dictationSectionOf(s dictation.SectionText) api.DictationSection {
	return api.DictationSection{Id: s.ID, Title: s.Title, Text: s.Text}
}

func dictationNoteOf(n dictation.Note) api.DictationNote {
	return api.DictationNote{Title: n.Title, Markdown: n.Markdown, Sections: mapAll(n.Sections, dictationSectionOf)}
}

func dictationResultOf(r dictation.Result) api.DictationAppendResult {
	out := api.DictationAppendResult{Session: dictationSessionOf(r.Session),
		Applied: api.DictationApplied{Text: r.Applied.Text, ReadBack: r.Applied.ReadBack, Ignored: r.Applied.Ignored,
			Commands: mapAll(r.Applied.Commands, func(c dictation.AppliedCommand) api.DictationCommandResult {
				out := api.DictationCommandResult{Kind: api.DictationCommandKind(c.Kind), Applied: c.Applied}
				if c.Arg != "" {
					out.Arg = ptrTo(c.Arg)
				}
				return out
			})},
		PhiAlerts: mapAll(r.PHIAlerts, func(a dictation.PHIAlert) api.PHIAlert {
			return api.PHIAlert{Type: a.Type, Start: a.Start, End: a.End, Confidence: a.Confidence}
		}),
	}
	if r.Transcript != nil {
		out.Transcript = &api.DictationTranscript{Text: r.Transcript.Text, Provider: r.Transcript.Provider, Fallback: r.Transcript.Fallback,
			Corrections: mapAll(r.Transcript.Corrections, func(c dictation.Correction) api.DictationCorrection {
				return api.DictationCorrection{From: c.From, To: c.To}
			})}
	}
	if r.Note != nil {
		out.Note = ptrTo(dictationNoteOf(*r.Note))
	}
	return out
}

func (s *Server) ListDictationSessions(ctx context.Context, r api.ListDictationSessionsRequestObject) (api.ListDictationSessionsResponseObject, error) {
	f := dictation.Filter{Status: stringOf(r.Params.Status), Cursor: valueOf(r.Params.Cursor), Limit: limitOf(r.Params.Limit)}
	items, next, err := s.Dictation.List(ctx, owner(ctx), f)
	if err != nil {
		return nil, err
	}
	return api.ListDictationSessions200JSONResponse{Success: true, Data: mapAll(items, dictationSessionOf),
		Metadata: pageMeta(ctx, f.Limit, next), Timestamp: now()}, nil
}

func (s *Server) CreateDictationSession(ctx context.Context, r api.CreateDictationSessionRequestObject) (api.CreateDictationSessionResponseObject, error) {
	b := r.Body
	in := dictation.CreateInput{NoteType: string(b.NoteType), ConversationID: b.ConversationId, PatientID: b.PatientId}
	if b.AbbreviationPolicy != nil {
		in.Policy = string(*b.AbbreviationPolicy)
	}
	sess, err := s.Dictation.Create(ctx, actorOf(ctx), owner(ctx), in)
	if err != nil {
		return nil, err
	}
	return api.CreateDictationSession201JSONResponse{Success: true, Data: dictationSessionOf(sess), Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) GetDictationSession(ctx context.Context, r api.GetDictationSessionRequestObject) (api.GetDictationSessionResponseObject, error) {
	sess, err := s.Dictation.Get(ctx, owner(ctx), r.Id)
	if err != nil {
		return nil, err
	}
	return api.GetDictationSession200JSONResponse{Success: true, Data: dictationSessionOf(sess), Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) DeleteDictationSession(ctx context.Context, r api.DeleteDictationSessionRequestObject) (api.DeleteDictationSessionResponseObject, error) {
	if err := s.Dictation.Delete(ctx, actorOf(ctx), owner(ctx), r.Id); err != nil {
		return nil, err
	}
	return api.DeleteDictationSession204Response{}, nil
}

func (s *Server) AppendDictationText(ctx context.Context, r api.AppendDictationTextRequestObject) (api.AppendDictationTextResponseObject, error) {
	res, err := s.Dictation.AppendText(ctx, actorOf(ctx), owner(ctx), r.Id, r.Body.Text, r.Body.Version)
	if err != nil {
		return nil, err
	}
	return api.AppendDictationText200JSONResponse{Success: true, Data: dictationResultOf(res), Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) AppendDictationAudio(ctx context.Context, r api.AppendDictationAudioRequestObject) (api.AppendDictationAudioResponseObject, error) {
	audio, version, err := readDictationAudio(r.Body)
	if err != nil {
		return nil, err
	}
	res, err := s.Dictation.AppendAudio(ctx, actorOf(ctx), owner(ctx), r.Id, audio, version)
	if err != nil {
		return nil, err
	}
	return api.AppendDictationAudio200JSONResponse{Success: true, Data: dictationResultOf(res), Metadata: meta(ctx), Timestamp: now()}, nil
}

// readDictationAudio reads the audio and version parts; the validator has checked their shapes.
func readDictationAudio(mr *multipart.Reader) ([]byte, int32, error) {
	var audio []byte
	var version int64
	seen, versioned := false, false
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, uploadError(err)
		}
		data, err := io.ReadAll(p)
		if err != nil {
			return nil, 0, uploadError(err)
		}
		switch p.FormName() {
		case "audio":
			audio, seen = data, true
		case "version":
			version, err = strconv.ParseInt(strings.TrimSpace(string(data)), 10, 32)
			versioned = err == nil && version >= 1
		}
	}
	if !seen || len(audio) == 0 {
		return nil, 0, apierr.Invalid("audio", "is required and must not be empty")
	}
	if !versioned {
		return nil, 0, apierr.Invalid("version", "is required: the session version the recording is based on")
	}
	return audio, int32(version), nil
}

func (s *Server) RunDictationCommand(ctx context.Context, r api.RunDictationCommandRequestObject) (api.RunDictationCommandResponseObject, error) {
	res, err := s.Dictation.Command(ctx, actorOf(ctx), owner(ctx), r.Id, r.Body.Command, r.Body.Version)
	if err != nil {
		return nil, err
	}
	return api.RunDictationCommand200JSONResponse{Success: true, Data: dictationResultOf(res), Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) FinalizeDictationSession(ctx context.Context, r api.FinalizeDictationSessionRequestObject) (api.FinalizeDictationSessionResponseObject, error) {
	sess, note, err := s.Dictation.Finalize(ctx, actorOf(ctx), owner(ctx), r.Id, r.Body.Version)
	if err != nil {
		return nil, err
	}
	return api.FinalizeDictationSession200JSONResponse{Success: true,
		Data:     api.DictationFinalizeResult{Session: dictationSessionOf(sess), Note: dictationNoteOf(note)},
		Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) ListDictationTemplates(ctx context.Context, _ api.ListDictationTemplatesRequestObject) (api.ListDictationTemplatesResponseObject, error) {
	out := api.DictationTemplates{
		Notes: mapAll(dictation.Templates(), func(t dictation.NoteTemplate) api.DictationNoteTemplate {
			return api.DictationNoteTemplate{Type: api.DictationNoteType(t.Type), Title: t.Title,
				Sections: mapAll(t.Sections, func(s dictation.Section) api.DictationSectionTemplate {
					return api.DictationSectionTemplate{Id: s.ID, Title: s.Title}
				})}
		}),
		Inserts: mapAll(dictation.Inserts(), func(i dictation.InsertTemplate) api.DictationInsertTemplate {
			return api.DictationInsertTemplate{Id: i.ID, Title: i.Title, Text: i.Text}
		}),
	}
	return api.ListDictationTemplates200JSONResponse{Success: true, Data: out, Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) GetVoiceVocabulary(ctx context.Context, r api.GetVoiceVocabularyRequestObject) (api.GetVoiceVocabularyResponseObject, error) {
	v, err := s.Dictation.Vocabulary(ctx, owner(ctx), strings.TrimSpace(valueOf(r.Params.Specialty)))
	if err != nil {
		return nil, err
	}
	out := api.VoiceVocabulary{Specialties: nonNil(v.Specialties), BuiltinTerms: nonNil(v.Builtin), UserTerms: nonNil(v.User)}
	if v.Specialty != "" {
		out.Specialty = ptrTo(v.Specialty)
	}
	return api.GetVoiceVocabulary200JSONResponse{Success: true, Data: out, Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) AddVoiceVocabulary(ctx context.Context, r api.AddVoiceVocabularyRequestObject) (api.AddVoiceVocabularyResponseObject, error) {
	terms, added, err := s.Dictation.AddTerms(ctx, actorOf(ctx), owner(ctx), r.Body.Terms)
	if err != nil {
		return nil, err
	}
	return api.AddVoiceVocabulary200JSONResponse{Success: true, Data: api.UserVocabulary{Terms: nonNil(terms), Added: added, Limit: dictation.MaxUserTerms},
		Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) DeleteVoiceVocabularyTerm(ctx context.Context, r api.DeleteVoiceVocabularyTermRequestObject) (api.DeleteVoiceVocabularyTermResponseObject, error) {
	if err := s.Dictation.DeleteTerm(ctx, actorOf(ctx), owner(ctx), r.Term); err != nil {
		return nil, err
	}
	return api.DeleteVoiceVocabularyTerm204Response{}, nil
}

// nonNil keeps an empty list [] in JSON.
func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
