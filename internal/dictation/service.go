package dictation

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/conversation"
	"github.com/voiceassist/gateway/internal/page"
	"github.com/voiceassist/gateway/internal/voice"
)

// Limits of the API.
const (
	MaxTextChars     = 20_000 // one text append
	MaxCommandChars  = 200    // one spoken command
	MaxTermChars     = 64     // one vocabulary term
	MaxTermsPerCall  = 100
	MaxUserTerms     = 1000
	maxHintTerms     = 50 // user terms sent as STT hints (Whisper reads a short prompt only)
	resourceSession  = "dictation_session"
	resourceVocabary = "voice_vocabulary"
)

// PHIAlert is one identifier found in dictated text: its type, its span (character offsets
// in the text given to Detect) and the detector's confidence.
type PHIAlert struct {
	Type       string
	Start, End int
	Confidence float64
}

// PHIDetector finds protected health information in text. Optional: without one no alerts
// are raised.
type PHIDetector interface {
	Detect(text string) []PHIAlert
}

// Transcriber is the speech-to-text the audio appends go through (voice.Service).
type Transcriber interface {
	Transcribe(ctx context.Context, actor audit.Actor, req voice.TranscribeRequest) (voice.TranscribeResult, error)
}

// Conversations confirms that a linked conversation is the caller's (conversation.Service).
type Conversations interface {
	Get(ctx context.Context, user, id uuid.UUID) (conversation.Conversation, error)
}

// Patients confirms that the caller may write a linked patient's record (patient.Service).
type Patients interface {
	CheckWrite(ctx context.Context, user audit.Actor, id uuid.UUID) error
}

// Config assembles a Service; Voice, Chats, Patients and PHI may be nil.
type Config struct {
	Pool     *pgxpool.Pool
	Voice    Transcriber
	Chats    Conversations
	Patients Patients
	PHI      PHIDetector
}

// Service stores dictation sessions and user vocabularies. Every session operation is scoped
// to its owner: another user's session does not exist for the caller (404). Dictated text is
// PHI: it is never logged or put into audit details.
type Service struct {
	pool     *pgxpool.Pool
	q        *db.Queries
	voice    Transcriber
	chats    Conversations
	patients Patients
	phi      PHIDetector
}

// NewService returns a Service.
func NewService(c Config) *Service {
	return &Service{pool: c.Pool, q: db.New(c.Pool), voice: c.Voice, chats: c.Chats, patients: c.Patients, phi: c.PHI}
}

// Session is a dictation and its note so far.
type Session struct {
	ID             uuid.UUID
	UserID         uuid.UUID
	NoteType       string
	Policy         Policy
	Status         string
	Current        string
	Sections       []SectionText // every section of the template, in order
	Version        int32
	ConversationID *uuid.UUID
	PatientID      *uuid.UUID
	CreatedAt      time.Time
	UpdatedAt      time.Time
	FinalizedAt    *time.Time
}

// Result is the outcome of an append or a command.
type Result struct {
	Session    Session
	Applied    Applied
	PHIAlerts  []PHIAlert
	Transcript *Transcript // audio appends
	Note       *Note       // when the session was finalized ("save note")
}

// Transcript is what the STT heard, after vocabulary corrections.
type Transcript struct {
	Text        string
	Provider    string
	Fallback    bool
	Corrections []Correction
}

func notFound() error { return apierr.NotFound("Dictation session") }

// CreateInput starts a session.
type CreateInput struct {
	NoteType       string
	Policy         string // "" = clinical
	ConversationID *uuid.UUID
	PatientID      *uuid.UUID
}

// Create starts a session at the first section of the note type's template, audited.
func (s *Service) Create(ctx context.Context, actor audit.Actor, user uuid.UUID, in CreateInput) (Session, error) {
	t, ok := TemplateFor(in.NoteType)
	if !ok {
		return Session{}, apierr.Invalid("note_type", "is not a note type of GET /api/voice/dictation/templates")
	}
	policy := Policy(in.Policy)
	if policy == "" {
		policy = Clinical
	}
	if policy != Clinical && policy != Expanded {
		return Session{}, apierr.Invalid("abbreviation_policy", "must be clinical or expanded")
	}
	if in.ConversationID != nil {
		if s.chats == nil {
			return Session{}, apierr.Unavailable("Conversations are not available", nil)
		}
		if _, err := s.chats.Get(ctx, user, *in.ConversationID); err != nil {
			var ae *apierr.Error
			if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
				return Session{}, apierr.Invalid("conversation_id", "is not one of your conversations")
			}
			return Session{}, err
		}
	}
	if in.PatientID != nil {
		if s.patients == nil {
			return Session{}, apierr.Unavailable("Patient records are not available", nil)
		}
		if err := s.patients.CheckWrite(ctx, actor, *in.PatientID); err != nil {
			var ae *apierr.Error
			if errors.As(err, &ae) && ae.Status == http.StatusNotFound {
				return Session{}, apierr.Invalid("patient_id", "is not a patient record you may write")
			}
			return Session{}, err
		}
	}
	var out Session
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		row, err := s.q.WithTx(tx).InsertDictationSession(ctx, db.InsertDictationSessionParams{
			UserID: user, NoteType: t.Type, AbbreviationPolicy: string(policy), CurrentSection: t.Sections[0].ID,
			Sections: json.RawMessage(`{}`), ConversationID: in.ConversationID, PatientID: in.PatientID,
		})
		if err != nil {
			return err
		}
		if out, err = sessionOf(row); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "dictation.created", ResourceType: resourceSession,
			ResourceID: row.ID.String(), Success: true, Details: map[string]any{"note_type": t.Type,
				"abbreviation_policy": string(policy), "conversation": in.ConversationID != nil, "patient": in.PatientID != nil}})
	})
	return out, err
}

// Get returns one of the user's sessions.
func (s *Service) Get(ctx context.Context, user, id uuid.UUID) (Session, error) {
	row, err := s.row(ctx, user, id)
	if err != nil {
		return Session{}, err
	}
	return sessionOf(row)
}

func (s *Service) row(ctx context.Context, user, id uuid.UUID) (db.DictationSession, error) {
	row, err := s.q.GetDictationSession(ctx, db.GetDictationSessionParams{ID: id, UserID: user})
	if errors.Is(err, pgx.ErrNoRows) {
		return row, notFound()
	}
	return row, err
}

// Filter selects sessions.
type Filter struct {
	Status *string
	Cursor string // the previous page's next cursor; "" for the first page
	Limit  int
}

// List returns a page of the user's sessions, most recently changed first, and the cursor of
// the next page ("" at the end).
func (s *Service) List(ctx context.Context, user uuid.UUID, f Filter) ([]Session, string, error) {
	p := db.ListDictationSessionsParams{UserID: user, Status: f.Status, Lim: page.Limit(f.Limit)}
	var convErr error
	items, next, err := page.KeysetList(page.LayoutAt, f.Cursor, f.Limit, func(after *page.Keyset) ([]db.DictationSession, error) {
		if after != nil {
			p.BeforeAt, p.BeforeID = &after.At, &after.ID
		}
		return s.q.ListDictationSessions(ctx, p)
	}, func(r db.DictationSession) Session {
		out, err := sessionOf(r)
		if err != nil {
			convErr = err
		}
		return out
	}, func(x Session) page.Keyset { return page.Keyset{At: x.UpdatedAt, ID: x.ID} })
	if err == nil {
		err = convErr
	}
	return items, next, err
}

// Delete removes a session in any status, audited.
func (s *Service) Delete(ctx context.Context, actor audit.Actor, user, id uuid.UUID) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		n, err := s.q.WithTx(tx).DeleteDictationSession(ctx, db.DeleteDictationSessionParams{ID: id, UserID: user})
		if err != nil {
			return err
		}
		if n == 0 {
			return notFound()
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "dictation.deleted", ResourceType: resourceSession,
			ResourceID: id.String(), Success: true})
	})
}

// AppendText applies dictated text (with the commands inside it) at version.
func (s *Service) AppendText(ctx context.Context, actor audit.Actor, user, id uuid.UUID, text string, version int32) (Result, error) {
	if n := utf8.RuneCountInString(text); n > MaxTextChars {
		return Result{}, apierr.Invalid("text", fmt.Sprintf("is %d characters; at most %d per append", n, MaxTextChars))
	}
	if strings.TrimSpace(text) == "" {
		return Result{}, apierr.Invalid("text", "must not be blank")
	}
	return s.appendText(ctx, actor, user, id, text, version, "text")
}

func (s *Service) appendText(ctx context.Context, actor audit.Actor, user, id uuid.UUID, text string, version int32, field string) (Result, error) {
	return s.mutate(ctx, actor, user, id, version, func(st *state, t NoteTemplate, p Policy) (Applied, error) {
		pieces := Parse(text, t)
		if st.Status == StatusPaused && (len(pieces) == 0 || pieces[0].Command == nil || pieces[0].Command.Kind != Resume) {
			return Applied{}, paused()
		}
		a := st.apply(pieces, t, p)
		if n := st.chars(); n > MaxNoteChars {
			return Applied{}, apierr.New(http.StatusUnprocessableEntity, "NOTE_TOO_LONG",
				fmt.Sprintf("The note would have %d characters; at most %d", n, MaxNoteChars)).WithField(field)
		}
		return a, nil
	})
}

// AppendAudio transcribes a recording with the user's vocabulary as hints, corrects near-miss
// spellings of known terms and applies the transcript like AppendText.
func (s *Service) AppendAudio(ctx context.Context, actor audit.Actor, user, id uuid.UUID, audio []byte, version int32) (Result, error) {
	if s.voice == nil {
		return Result{}, apierr.Unavailable("Speech-to-text is not available", nil)
	}
	// Refuse what cannot succeed before spending the transcription on it.
	row, err := s.row(ctx, user, id)
	if err != nil {
		return Result{}, err
	}
	if err := writable(row, version); err != nil {
		return Result{}, err
	}
	terms, err := s.q.ListUserVocabulary(ctx, user)
	if err != nil {
		return Result{}, err
	}
	hints := terms
	if len(hints) > maxHintTerms {
		hints = hints[:maxHintTerms]
	}
	opts := voice.TranscribeOptions{Language: "en", Words: hints}
	if row.Status == StatusPaused {
		// Paused, only commands count: a provider with grammars (offline) listens for them alone.
		opts.Grammar = CommandPhrases()
	}
	res, err := s.voice.Transcribe(ctx, actor, voice.TranscribeRequest{Audio: audio, Options: opts})
	if err != nil {
		return Result{}, err
	}
	text, corrections := NewCorrector(append(builtinTerms(), terms...)).Correct(res.Text)
	tr := &Transcript{Text: text, Provider: res.Provider, Fallback: res.Fallback, Corrections: corrections}
	if strings.TrimSpace(text) == "" { // silence: nothing to apply
		sess, err := sessionOf(row)
		return Result{Session: sess, Transcript: tr, PHIAlerts: []PHIAlert{}}, err
	}
	out, err := s.appendText(ctx, actor, user, id, text, version, "audio")
	out.Transcript = tr
	return out, err
}

// Command runs one spoken command at version; text that is no command is 422 UNKNOWN_COMMAND.
func (s *Service) Command(ctx context.Context, actor audit.Actor, user, id uuid.UUID, command string, version int32) (Result, error) {
	if utf8.RuneCountInString(command) > MaxCommandChars {
		return Result{}, apierr.Invalid("command", fmt.Sprintf("is longer than %d characters", MaxCommandChars))
	}
	return s.mutate(ctx, actor, user, id, version, func(st *state, t NoteTemplate, p Policy) (Applied, error) {
		c, ok := ParseCommand(command, t)
		if !ok {
			return Applied{}, apierr.New(http.StatusUnprocessableEntity, "UNKNOWN_COMMAND",
				"Not a dictation command (see POST /api/voice/dictation/sessions/{id}/commands)").WithField("command")
		}
		if st.Status == StatusPaused && !PausedAllows(c.Kind) {
			return Applied{}, paused()
		}
		return st.apply([]Piece{{Command: &c}}, t, p), nil
	})
}

// Finalize closes the session at version and returns the note.
func (s *Service) Finalize(ctx context.Context, actor audit.Actor, user, id uuid.UUID, version int32) (Session, Note, error) {
	r, err := s.mutate(ctx, actor, user, id, version, func(st *state, _ NoteTemplate, _ Policy) (Applied, error) {
		st.Status = StatusFinalized
		return Applied{}, nil
	})
	if err != nil {
		return Session{}, Note{}, err
	}
	return r.Session, *r.Note, nil
}

func paused() error {
	return apierr.Conflict("DICTATION_PAUSED", "Dictation is paused; resume it first (\"resume dictation\")")
}

// writable refuses changes to a finalized session and at a stale version.
func writable(row db.DictationSession, version int32) error {
	if row.Status == StatusFinalized {
		return apierr.Conflict("DICTATION_FINALIZED", "The note is finalized and read-only")
	}
	if row.Version != version {
		return versionConflict(row.Version)
	}
	return nil
}

func versionConflict(current int32) error {
	e := apierr.Conflict("VERSION_CONFLICT", fmt.Sprintf("The session is at version %d; reload it and retry", current)).WithField("version")
	e.Details = map[string]any{"current_version": current}
	return e
}

// mutate loads the session, lets change edit its state and stores the result only if the row
// is still at version (UPDATE ... WHERE version = $n): a concurrent change wins and the caller
// gets VERSION_CONFLICT, so no accepted text is overwritten. A change that changes nothing
// (read back, a failed undo) keeps the version.
func (s *Service) mutate(ctx context.Context, actor audit.Actor, user, id uuid.UUID, version int32,
	change func(st *state, t NoteTemplate, p Policy) (Applied, error)) (Result, error) {
	row, err := s.row(ctx, user, id)
	if err != nil {
		return Result{}, err
	}
	if err := writable(row, version); err != nil {
		return Result{}, err
	}
	t, st, err := stateOf(row)
	if err != nil {
		return Result{}, err
	}
	before, err := json.Marshal(st)
	if err != nil {
		return Result{}, err
	}
	applied, err := change(&st, t, Policy(row.AbbreviationPolicy))
	if err != nil {
		return Result{}, err
	}
	out := Result{Applied: applied, PHIAlerts: []PHIAlert{}}
	if s.phi != nil && row.PatientID == nil && applied.Text != "" {
		if alerts := s.phi.Detect(applied.Text); alerts != nil {
			out.PHIAlerts = alerts
		}
	}
	after, err := json.Marshal(st)
	if err != nil {
		return Result{}, err
	}
	if string(before) != string(after) {
		err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			sections, _ := json.Marshal(st.Sections)
			history, _ := json.Marshal(st.History)
			next, err := s.q.WithTx(tx).UpdateDictationSession(ctx, db.UpdateDictationSessionParams{ID: id, UserID: user, Version: version,
				Status: st.Status, CurrentSection: st.Current, Sections: sections, History: history})
			if errors.Is(err, pgx.ErrNoRows) {
				return s.lost(ctx, user, id)
			}
			if err != nil {
				return err
			}
			row = next
			return s.audit(ctx, tx, actor, row, st, out.PHIAlerts)
		})
		if err != nil {
			return Result{}, err
		}
	}
	if out.Session, err = sessionOf(row); err != nil {
		return Result{}, err
	}
	if row.Status == StatusFinalized {
		n := noteOf(t, st.Sections)
		out.Note = &n
	}
	return out, nil
}

// lost explains an update that matched no row: the session was deleted or moved on.
func (s *Service) lost(ctx context.Context, user, id uuid.UUID) error {
	row, err := s.row(ctx, user, id)
	if err != nil {
		return err
	}
	if row.Status == StatusFinalized {
		return apierr.Conflict("DICTATION_FINALIZED", "The note is finalized and read-only")
	}
	return versionConflict(row.Version)
}

// audit records a finalization and detected PHI (types and counts, never the text).
func (s *Service) audit(ctx context.Context, tx pgx.Tx, actor audit.Actor, row db.DictationSession, st state, alerts []PHIAlert) error {
	if len(alerts) > 0 {
		counts := map[string]int{}
		var types []string
		for _, a := range alerts {
			if counts[a.Type] == 0 {
				types = append(types, a.Type)
			}
			counts[a.Type]++
		}
		slices.Sort(types)
		if err := audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "phi.detected", ResourceType: resourceSession,
			ResourceID: row.ID.String(), Success: true, Details: map[string]any{"types": types, "counts": counts}}); err != nil {
			return err
		}
	}
	if row.Status != StatusFinalized {
		return nil
	}
	filled := 0
	for _, v := range st.Sections {
		if strings.TrimSpace(v) != "" {
			filled++
		}
	}
	return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "dictation.finalized", ResourceType: resourceSession,
		ResourceID: row.ID.String(), Success: true, Details: map[string]any{"note_type": row.NoteType,
			"sections_filled": filled, "characters": st.chars()}})
}

// stateOf reads the stored state of a session.
func stateOf(row db.DictationSession) (NoteTemplate, state, error) {
	t, ok := TemplateFor(row.NoteType)
	if !ok {
		return t, state{}, fmt.Errorf("dictation: session %s has unknown note type %q", row.ID, row.NoteType)
	}
	st := state{Status: row.Status, Current: row.CurrentSection, Sections: map[string]string{}}
	if err := json.Unmarshal(row.Sections, &st.Sections); err != nil {
		return t, st, fmt.Errorf("dictation: session %s sections: %w", row.ID, err)
	}
	if len(row.History) > 0 {
		if err := json.Unmarshal(row.History, &st.History); err != nil {
			return t, st, fmt.Errorf("dictation: session %s history: %w", row.ID, err)
		}
	}
	if st.Sections == nil {
		st.Sections = map[string]string{}
	}
	return t, st, nil
}

func sessionOf(row db.DictationSession) (Session, error) {
	t, st, err := stateOf(row)
	if err != nil {
		return Session{}, err
	}
	return Session{ID: row.ID, UserID: row.UserID, NoteType: row.NoteType, Policy: Policy(row.AbbreviationPolicy),
		Status: row.Status, Current: row.CurrentSection, Sections: sectionsOf(t, st.Sections), Version: row.Version,
		ConversationID: row.ConversationID, PatientID: row.PatientID, CreatedAt: row.CreatedAt, UpdatedAt: row.UpdatedAt,
		FinalizedAt: row.FinalizedAt}, nil
}

// builtinTerms is every built-in term of every specialty, once.
func builtinTerms() []string {
	seen := map[string]bool{}
	var out []string
	for _, sp := range Specialties() {
		for _, term := range Terms(sp) {
			if k := strings.ToLower(term); !seen[k] {
				seen[k] = true
				out = append(out, term)
			}
		}
	}
	return out
}

// Vocabulary is the built-in terms (of one specialty or all) and the user's own.
type Vocabulary struct {
	Specialty   string // "" = all
	Specialties []string
	Builtin     []string
	User        []string
}

// Vocabulary returns the built-in terms of specialty ("" = all) and the user's terms.
func (s *Service) Vocabulary(ctx context.Context, user uuid.UUID, specialty string) (Vocabulary, error) {
	v := Vocabulary{Specialty: specialty, Specialties: Specialties()}
	if specialty == "" {
		v.Builtin = builtinTerms()
	} else {
		if !slices.Contains(v.Specialties, specialty) {
			return v, apierr.Invalid("specialty", "is not one of the built-in specialties")
		}
		v.Builtin = Terms(specialty)
	}
	var err error
	v.User, err = s.q.ListUserVocabulary(ctx, user)
	return v, err
}

// NormalizeTerm trims a term and collapses its inner spaces.
func NormalizeTerm(term string) string { return strings.Join(strings.Fields(term), " ") }

// AddTerms adds terms to the user's vocabulary (a term already there, in any case, is kept
// once) and returns the user's terms and how many were new. A call that would pass
// MaxUserTerms adds nothing. Audited with counts only.
func (s *Service) AddTerms(ctx context.Context, actor audit.Actor, user uuid.UUID, terms []string) ([]string, int, error) {
	if len(terms) == 0 || len(terms) > MaxTermsPerCall {
		return nil, 0, apierr.Invalid("terms", fmt.Sprintf("must hold 1 to %d terms", MaxTermsPerCall))
	}
	var clean []string
	seen := map[string]bool{}
	for i, t := range terms {
		t = NormalizeTerm(t)
		field := fmt.Sprintf("terms[%d]", i)
		switch {
		case t == "":
			return nil, 0, apierr.Invalid(field, "must not be blank")
		case utf8.RuneCountInString(t) > MaxTermChars:
			return nil, 0, apierr.Invalid(field, fmt.Sprintf("is longer than %d characters", MaxTermChars))
		case strings.IndexFunc(t, func(r rune) bool { return r < ' ' || r == 0x7f }) >= 0:
			return nil, 0, apierr.Invalid(field, "must not hold control characters")
		}
		if k := strings.ToLower(t); !seen[k] {
			seen[k] = true
			clean = append(clean, t)
		}
	}
	var out []string
	var added int
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		q := s.q.WithTx(tx)
		if err := q.LockUserVocabulary(ctx, user); err != nil {
			return err
		}
		existing, err := q.ListUserVocabulary(ctx, user)
		if err != nil {
			return err
		}
		have := map[string]bool{}
		for _, e := range existing {
			have[strings.ToLower(e)] = true
		}
		fresh := 0
		for _, t := range clean {
			if !have[strings.ToLower(t)] {
				fresh++
			}
		}
		if len(existing)+fresh > MaxUserTerms {
			return apierr.New(http.StatusUnprocessableEntity, "VOCABULARY_FULL",
				fmt.Sprintf("You have %d terms; %d more would pass the limit of %d", len(existing), fresh, MaxUserTerms)).WithField("terms")
		}
		n, err := q.InsertUserVocabulary(ctx, db.InsertUserVocabularyParams{UserID: user, Terms: clean})
		if err != nil {
			return err
		}
		added = int(n)
		if out, err = q.ListUserVocabulary(ctx, user); err != nil {
			return err
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "voice.vocabulary_added", ResourceType: resourceVocabary,
			ResourceID: user.String(), Success: true, Details: map[string]any{"added": added, "total": len(out)}})
	})
	return out, added, err
}

// DeleteTerm removes a term (case-insensitively) from the user's vocabulary, audited.
func (s *Service) DeleteTerm(ctx context.Context, actor audit.Actor, user uuid.UUID, term string) error {
	term = NormalizeTerm(term)
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		n, err := s.q.WithTx(tx).DeleteUserVocabulary(ctx, db.DeleteUserVocabularyParams{UserID: user, Term: term})
		if err != nil {
			return err
		}
		if n == 0 {
			return apierr.NotFound("Vocabulary term")
		}
		return audit.Record(ctx, tx, audit.Entry{Actor: actor, Action: "voice.vocabulary_deleted", ResourceType: resourceVocabary,
			ResourceID: user.String(), Success: true, Details: map[string]any{"deleted": n}})
	})
}
