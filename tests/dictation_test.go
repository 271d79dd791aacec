package tests

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/llm/llmtest"
)

// dictationClient drives one user's dictation sessions on one server.
type dictationClient struct {
	s   *testServer
	tok string
}

func (d dictationClient) create(t *testing.T, in client.DictationSessionInput) client.DictationSession {
	t.Helper()
	res, err := d.s.Client.CreateDictationSessionWithResponse(context.Background(), in, bearerAuth(d.tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, res.StatusCode(), "%s", res.Body)
	return res.JSON201.Data
}

func (d dictationClient) get(t *testing.T, id uuid.UUID) *client.GetDictationSessionResponse {
	t.Helper()
	res, err := d.s.Client.GetDictationSessionWithResponse(context.Background(), id, bearerAuth(d.tok))
	require.NoError(t, err)
	return res
}

func (d dictationClient) text(t *testing.T, id uuid.UUID, text string, version int32) *client.AppendDictationTextResponse {
	t.Helper()
	res, err := d.s.Client.AppendDictationTextWithResponse(context.Background(), id,
		client.DictationTextInput{Text: text, Version: version}, bearerAuth(d.tok))
	require.NoError(t, err)
	return res
}

// say appends text and requires success; it returns the result.
func (d dictationClient) say(t *testing.T, id uuid.UUID, text string, version int32) client.DictationAppendResult {
	t.Helper()
	res := d.text(t, id, text, version)
	require.Equal(t, http.StatusOK, res.StatusCode(), "%q: %s", text, res.Body)
	return res.JSON200.Data
}

func (d dictationClient) command(t *testing.T, id uuid.UUID, command string, version int32) *client.RunDictationCommandResponse {
	t.Helper()
	res, err := d.s.Client.RunDictationCommandWithResponse(context.Background(), id,
		client.DictationCommandInput{Command: command, Version: version}, bearerAuth(d.tok))
	require.NoError(t, err)
	return res
}

// do runs a command and requires success.
func (d dictationClient) do(t *testing.T, id uuid.UUID, command string, version int32) client.DictationAppendResult {
	t.Helper()
	res := d.command(t, id, command, version)
	require.Equal(t, http.StatusOK, res.StatusCode(), "%q: %s", command, res.Body)
	return res.JSON200.Data
}

func (d dictationClient) finalize(t *testing.T, id uuid.UUID, version int32) *client.FinalizeDictationSessionResponse {
	t.Helper()
	res, err := d.s.Client.FinalizeDictationSessionWithResponse(context.Background(), id,
		client.DictationFinalizeInput{Version: version}, bearerAuth(d.tok))
	require.NoError(t, err)
	return res
}

func (d dictationClient) audio(t *testing.T, id uuid.UUID, audio []byte, version int32) *client.AppendDictationAudioResponse {
	t.Helper()
	ct, body := audioForm(t, audio, "audio/wav", map[string]string{"version": fmt.Sprint(version)})
	res, err := d.s.Client.AppendDictationAudioWithBodyWithResponse(context.Background(), id, ct, body, bearerAuth(d.tok))
	require.NoError(t, err)
	return res
}

func (s *testServer) dictation(t *testing.T) dictationClient {
	return dictationClient{s: s, tok: s.token(t, s.account(t, auth.RoleUser))}
}

// section is the text of one section of a session.
func section(t *testing.T, sess client.DictationSession, id string) string {
	t.Helper()
	for _, s := range sess.Sections {
		if s.Id == id {
			return s.Text
		}
	}
	t.Fatalf("no section %q in %+v", id, sess.Sections)
	return ""
}

func requireCode(t *testing.T, status int, body []byte, wantStatus int, code string) client.ErrorEnvelope {
	t.Helper()
	require.Equal(t, wantStatus, status, "%s", body)
	e := errorOf(t, body)
	require.Equal(t, code, e.Error.Code, "%s", body)
	return e
}

// A whole SOAP note dictated as text, commands inside the text, then finalized: Markdown and
// structured sections; afterwards the session is read-only.
func TestDictationSOAPByText(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	d := s.dictation(t)
	sess := d.create(t, client.DictationSessionInput{NoteType: client.Soap})
	require.Equal(t, client.Active, sess.Status)
	require.Equal(t, client.Clinical, sess.AbbreviationPolicy)
	require.Equal(t, "subjective", sess.CurrentSection)
	require.Equal(t, int32(1), sess.Version)
	require.Len(t, sess.Sections, 4)
	require.Nil(t, sess.ConversationId)

	r := d.say(t, sess.Id, "patient reports chest pain for two days period", 1)
	require.Equal(t, int32(2), r.Session.Version)
	require.Equal(t, "Patient reports chest pain for 2 days.", r.Applied.Text)
	require.Empty(t, r.PhiAlerts)
	r = d.say(t, sess.Id, "next section blood pressure one hundred forty over ninety period", r.Session.Version)
	require.Equal(t, "objective", r.Session.CurrentSection)
	require.Len(t, r.Applied.Commands, 1)
	require.Equal(t, client.NextSection, r.Applied.Commands[0].Kind)
	require.True(t, r.Applied.Commands[0].Applied)
	r = d.say(t, sess.Id, "next section chest pain comma likely musculoskeletal period", r.Session.Version)
	r = d.say(t, sess.Id, "next section start ibuprofen four hundred milligrams by mouth three times a day period", r.Session.Version)
	require.Equal(t, "plan", r.Session.CurrentSection)

	f := d.finalize(t, sess.Id, r.Session.Version)
	require.Equal(t, http.StatusOK, f.StatusCode(), "%s", f.Body)
	note := f.JSON200.Data.Note
	require.Equal(t, client.Finalized, f.JSON200.Data.Session.Status)
	require.NotNil(t, f.JSON200.Data.Session.FinalizedAt)
	require.Equal(t, "SOAP Note", note.Title)
	require.Len(t, note.Sections, 4)
	want := map[string]string{
		"subjective": "Patient reports chest pain for 2 days.",
		"objective":  "BP 140/90 mmHg.",
		"assessment": "Chest pain, likely musculoskeletal.",
		"plan":       "Start ibuprofen 400 mg PO TID.",
	}
	for _, sec := range note.Sections {
		require.Equal(t, want[sec.Id], sec.Text, sec.Id)
		require.Contains(t, note.Markdown, "## "+sec.Title+"\n\n"+sec.Text+"\n")
	}
	require.True(t, strings.HasPrefix(note.Markdown, "# SOAP Note\n"), note.Markdown)

	// Read-only from now on; reading still works.
	got := d.get(t, sess.Id)
	require.Equal(t, http.StatusOK, got.StatusCode())
	require.Equal(t, client.Finalized, got.JSON200.Data.Status)
	v := got.JSON200.Data.Version
	res := d.text(t, sess.Id, "more", v)
	requireCode(t, res.StatusCode(), res.Body, http.StatusConflict, "DICTATION_FINALIZED")
	cres := d.command(t, sess.Id, "undo", v)
	requireCode(t, cres.StatusCode(), cres.Body, http.StatusConflict, "DICTATION_FINALIZED")
	fres := d.finalize(t, sess.Id, v)
	requireCode(t, fres.StatusCode(), fres.Body, http.StatusConflict, "DICTATION_FINALIZED")
	require.Equal(t, v, d.get(t, sess.Id).JSON200.Data.Version)

	// Neither the audit log nor the server log carries dictated text.
	var actions []string
	rows, err := s.App.Pool.Query(context.Background(), `SELECT action, details::text FROM audit_log WHERE resource_id = $1 ORDER BY id`, sess.Id.String())
	require.NoError(t, err)
	for rows.Next() {
		var action, details string
		require.NoError(t, rows.Scan(&action, &details))
		actions = append(actions, action)
		require.NotContains(t, strings.ToLower(details), "chest", action)
	}
	require.NoError(t, rows.Err())
	require.Equal(t, []string{"dictation.created", "dictation.finalized"}, actions)
	for _, w := range []string{"chest", "ibuprofen", "musculoskeletal"} {
		require.NotContains(t, strings.ToLower(s.Logs()), w)
	}
}

// Every command through the commands endpoint, each with its effect.
func TestDictationCommands(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	d := s.dictation(t)
	sess := d.create(t, client.DictationSessionInput{NoteType: client.Soap, AbbreviationPolicy: ptr(client.Expanded)})
	require.Equal(t, client.Expanded, sess.AbbreviationPolicy)
	id := sess.Id
	v := sess.Version

	step := func(command string, kind client.DictationCommandKind) client.DictationAppendResult {
		t.Helper()
		r := d.do(t, id, command, v)
		require.Len(t, r.Applied.Commands, 1, command)
		require.Equal(t, kind, r.Applied.Commands[0].Kind, command)
		require.Empty(t, r.Applied.Text)
		v = r.Session.Version
		return r
	}
	text := func(s string) client.DictationAppendResult {
		t.Helper()
		r := d.say(t, id, s, v)
		v = r.Session.Version
		return r
	}

	text("first sentence period second sentence period")
	r := step("new paragraph", client.NewParagraph)
	text("third sentence period")
	r = step("new line", client.NewLine)
	text("fourth sentence period")
	require.Equal(t, "First sentence. Second sentence.\n\nThird sentence.\nFourth sentence.", section(t, d.get(t, id).JSON200.Data, "subjective"))

	r = step("scratch that", client.DeleteLastSentence)
	require.Equal(t, "First sentence. Second sentence.\n\nThird sentence.", section(t, r.Session, "subjective"))
	r = step("undo", client.Undo)
	require.Equal(t, "First sentence. Second sentence.\n\nThird sentence.\nFourth sentence.", section(t, r.Session, "subjective"))

	before := v
	r = step("read back", client.ReadBack)
	require.NotNil(t, r.Applied.ReadBack)
	require.Equal(t, "First sentence. Second sentence.\n\nThird sentence.\nFourth sentence.", *r.Applied.ReadBack)
	require.Equal(t, before, v, "reading back changes nothing, so the version stays")

	r = step("next section", client.NextSection)
	require.Equal(t, "objective", r.Session.CurrentSection)
	r = step("insert normal lung exam", client.InsertTemplate)
	require.NotNil(t, r.Applied.Commands[0].Arg)
	require.Equal(t, "normal_lung_exam", *r.Applied.Commands[0].Arg)
	require.Contains(t, section(t, r.Session, "objective"), "Lungs clear to auscultation bilaterally")
	r = step("previous section", client.PreviousSection)
	require.Equal(t, "subjective", r.Session.CurrentSection)
	r = step("go to plan", client.GoToSection)
	require.Equal(t, "plan", r.Session.CurrentSection)
	require.Equal(t, "plan", *r.Applied.Commands[0].Arg)
	text("take five hundred milligrams twice a day period")
	require.Equal(t, "Take 500 mg twice daily.", section(t, d.get(t, id).JSON200.Data, "plan"), "the expanded policy")

	r = step("pause dictation", client.Pause)
	require.Equal(t, client.Paused, r.Session.Status)
	r = step("resume dictation", client.Resume)
	require.Equal(t, client.Active, r.Session.Status)
	r = step("stop dictation", client.Stop)
	require.Equal(t, client.Paused, r.Session.Status, "stop pauses; nothing is lost")
	step("resume dictation", client.Resume)

	r = step("save note", client.Save)
	require.Equal(t, client.Finalized, r.Session.Status)
	require.NotNil(t, r.Note, "save returns the note")
	require.Contains(t, r.Note.Markdown, "## Plan\n\nTake 500 mg twice daily.")

	// Not a command.
	other := d.create(t, client.DictationSessionInput{NoteType: client.Progress})
	res := d.command(t, other.Id, "the patient is doing well", other.Version)
	e := requireCode(t, res.StatusCode(), res.Body, http.StatusUnprocessableEntity, "UNKNOWN_COMMAND")
	require.Equal(t, "command", *e.Error.Field)
	// A command with nothing to act on runs but reports it.
	r = d.do(t, other.Id, "undo", other.Version)
	require.False(t, r.Applied.Commands[0].Applied)
	require.Equal(t, other.Version, r.Session.Version)
}

// A stale version is refused with the current one in details, and nothing accepted is lost;
// of concurrent appends at one version exactly one wins.
func TestDictationVersionConflict(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	d := s.dictation(t)
	sess := d.create(t, client.DictationSessionInput{NoteType: client.Hp})
	r := d.say(t, sess.Id, "chest pain", 1)
	require.Equal(t, int32(2), r.Session.Version)

	res := d.text(t, sess.Id, "shortness of breath", 1)
	e := requireCode(t, res.StatusCode(), res.Body, http.StatusConflict, "VERSION_CONFLICT")
	require.NotNil(t, e.Error.Details)
	require.EqualValues(t, 2, (*e.Error.Details)["current_version"])
	cres := d.command(t, sess.Id, "next section", 1)
	requireCode(t, cres.StatusCode(), cres.Body, http.StatusConflict, "VERSION_CONFLICT")
	fres := d.finalize(t, sess.Id, 1)
	requireCode(t, fres.StatusCode(), fres.Body, http.StatusConflict, "VERSION_CONFLICT")
	got := d.get(t, sess.Id).JSON200.Data
	require.Equal(t, int32(2), got.Version)
	require.Equal(t, "Chest pain", section(t, got, "chief_complaint"))

	const n = 8
	var wg sync.WaitGroup
	codes := make([]int, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			res, err := s.Client.AppendDictationTextWithResponse(context.Background(), sess.Id,
				client.DictationTextInput{Text: fmt.Sprintf("word%d", i), Version: 2}, bearerAuth(d.tok))
			if err == nil {
				codes[i] = res.StatusCode()
			}
		}(i)
	}
	wg.Wait()
	ok := 0
	for _, c := range codes {
		require.Contains(t, []int{http.StatusOK, http.StatusConflict}, c)
		if c == http.StatusOK {
			ok++
		}
	}
	require.Equal(t, 1, ok, "exactly one append at version 2 wins")
	got = d.get(t, sess.Id).JSON200.Data
	require.Equal(t, int32(3), got.Version)
	require.Regexp(t, `^Chest pain Word\d$`, section(t, got, "chief_complaint"), "the first text is kept, one append added")
}

// The session lives in PostgreSQL: after the first gateway stops, a second one on the same
// database continues it where it was.
func TestDictationRestartMidSession(t *testing.T) {
	t.Parallel()
	a := startServer(t, nil)
	d := a.dictation(t)
	sess := d.create(t, client.DictationSessionInput{NoteType: client.Soap})
	r := d.say(t, sess.Id, "cough for one week period next section", 1)
	require.Equal(t, "objective", r.Session.CurrentSection)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	require.NoError(t, a.App.Shutdown(ctx))

	b := startServer(t, map[string]string{"DATABASE_URL": a.Env["DATABASE_URL"], "REDIS_KEY_PREFIX": a.Env["REDIS_KEY_PREFIX"]})
	db := dictationClient{s: b, tok: d.tok}
	got := db.get(t, sess.Id)
	require.Equal(t, http.StatusOK, got.StatusCode(), "%s", got.Body)
	require.Equal(t, r.Session.Version, got.JSON200.Data.Version)
	require.Equal(t, "objective", got.JSON200.Data.CurrentSection)
	r = db.say(t, sess.Id, "lungs clear period", got.JSON200.Data.Version)
	r = db.do(t, sess.Id, "undo", r.Session.Version)
	require.Empty(t, section(t, r.Session, "objective"), "the undo history survived too")
	r = db.do(t, sess.Id, "undo", r.Session.Version)
	require.Equal(t, "subjective", r.Session.CurrentSection)
	require.Empty(t, section(t, r.Session, "subjective"))
	f := db.finalize(t, sess.Id, r.Session.Version)
	require.Equal(t, http.StatusOK, f.StatusCode(), "%s", f.Body)
}

// Another user's session does not exist for the caller.
func TestDictationOwnerScoped(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	owner, other := s.dictation(t), s.dictation(t)
	sess := owner.create(t, client.DictationSessionInput{NoteType: client.Procedure})

	g := other.get(t, sess.Id)
	requireCode(t, g.StatusCode(), g.Body, http.StatusNotFound, "NOT_FOUND")
	tr := other.text(t, sess.Id, "text", 1)
	requireCode(t, tr.StatusCode(), tr.Body, http.StatusNotFound, "NOT_FOUND")
	cr := other.command(t, sess.Id, "next section", 1)
	requireCode(t, cr.StatusCode(), cr.Body, http.StatusNotFound, "NOT_FOUND")
	fr := other.finalize(t, sess.Id, 1)
	requireCode(t, fr.StatusCode(), fr.Body, http.StatusNotFound, "NOT_FOUND")
	ar := other.audio(t, sess.Id, tone(16000, 0.5), 1)
	requireCode(t, ar.StatusCode(), ar.Body, http.StatusNotFound, "NOT_FOUND")
	dr, err := s.Client.DeleteDictationSessionWithResponse(context.Background(), sess.Id, bearerAuth(other.tok))
	require.NoError(t, err)
	requireCode(t, dr.StatusCode(), dr.Body, http.StatusNotFound, "NOT_FOUND")
	l, err := s.Client.ListDictationSessionsWithResponse(context.Background(), nil, bearerAuth(other.tok))
	require.NoError(t, err)
	require.Empty(t, l.JSON200.Data)

	// The owner still has it, unchanged, and can delete it.
	require.Equal(t, int32(1), owner.get(t, sess.Id).JSON200.Data.Version)
	dr, err = s.Client.DeleteDictationSessionWithResponse(context.Background(), sess.Id, bearerAuth(owner.tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, dr.StatusCode(), "%s", dr.Body)
	g = owner.get(t, sess.Id)
	requireCode(t, g.StatusCode(), g.Body, http.StatusNotFound, "NOT_FOUND")

	// A conversation of another user cannot be linked; one's own can.
	conv, err := s.Client.CreateConversationWithResponse(context.Background(), client.ConversationInput{}, bearerAuth(other.tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, conv.StatusCode(), "%s", conv.Body)
	cres, err := s.Client.CreateDictationSessionWithResponse(context.Background(),
		client.DictationSessionInput{NoteType: client.Soap, ConversationId: &conv.JSON201.Data.Id}, bearerAuth(owner.tok))
	require.NoError(t, err)
	e := requireCode(t, cres.StatusCode(), cres.Body, http.StatusUnprocessableEntity, "VALIDATION_ERROR")
	require.Equal(t, "conversation_id", *e.Error.Field)
	// A patient record can be linked by who may write it; anyone else's is refused.
	unknown := uuid.New()
	pres, err := s.Client.CreateDictationSessionWithResponse(context.Background(),
		client.DictationSessionInput{NoteType: client.Soap, PatientId: &unknown}, bearerAuth(other.tok))
	require.NoError(t, err)
	e = requireCode(t, pres.StatusCode(), pres.Body, http.StatusUnprocessableEntity, "VALIDATION_ERROR")
	require.Equal(t, "patient_id", *e.Error.Field)
	theirs := s.createPatient(t, owner.tok, patientInput())
	pres, err = s.Client.CreateDictationSessionWithResponse(context.Background(),
		client.DictationSessionInput{NoteType: client.Soap, PatientId: &theirs.Id}, bearerAuth(other.tok))
	require.NoError(t, err)
	requireCode(t, pres.StatusCode(), pres.Body, http.StatusUnprocessableEntity, "VALIDATION_ERROR")
	patient := s.createPatient(t, other.tok, patientInput()).Id
	linked := other.create(t, client.DictationSessionInput{NoteType: client.Soap, ConversationId: &conv.JSON201.Data.Id, PatientId: &patient})
	require.Equal(t, conv.JSON201.Data.Id, *linked.ConversationId)
	require.Equal(t, patient, *linked.PatientId)
}

// A paused session takes only text that starts with resume; a pause inside text drops what
// follows it until a resume.
func TestDictationPausedRules(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	d := s.dictation(t)
	sess := d.create(t, client.DictationSessionInput{NoteType: client.Soap})
	r := d.do(t, sess.Id, "pause dictation", 1)
	require.Equal(t, client.Paused, r.Session.Status)
	v := r.Session.Version

	res := d.text(t, sess.Id, "fever since monday", v)
	requireCode(t, res.StatusCode(), res.Body, http.StatusConflict, "DICTATION_PAUSED")
	cres := d.command(t, sess.Id, "next section", v)
	requireCode(t, cres.StatusCode(), cres.Body, http.StatusConflict, "DICTATION_PAUSED")
	rb := d.do(t, sess.Id, "read back", v)
	require.Equal(t, v, rb.Session.Version)

	r = d.say(t, sess.Id, "resume dictation fever for three days period", v)
	require.Equal(t, client.Active, r.Session.Status)
	require.Equal(t, "Fever for 3 days.", section(t, r.Session, "subjective"))

	r = d.say(t, sess.Id, "no chills period pause dictation this is not for the note period", r.Session.Version)
	require.Equal(t, client.Paused, r.Session.Status)
	require.Equal(t, 1, r.Applied.Ignored)
	require.Equal(t, "Fever for 3 days. No chills.", section(t, r.Session, "subjective"))

	// A paused session can still be finalized.
	f := d.finalize(t, sess.Id, r.Session.Version)
	require.Equal(t, http.StatusOK, f.StatusCode(), "%s", f.Body)
}

// Input limits: text length, note type, vocabulary sizes; all 4xx naming the field.
func TestDictationLimits(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	d := s.dictation(t)
	ctx := context.Background()
	sess := d.create(t, client.DictationSessionInput{NoteType: client.Soap})

	res := d.text(t, sess.Id, strings.Repeat("a", 20001), 1)
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode(), "%s", res.Body)
	require.Contains(t, errorFields(t, res.Body), "text")
	res = d.text(t, sess.Id, "   ", 1)
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode(), "%s", res.Body)
	require.Equal(t, http.StatusOK, d.text(t, sess.Id, strings.Repeat("word ", 4000), 1).StatusCode(), "20,000 characters pass")
	cres := d.command(t, sess.Id, strings.Repeat("x", 201), 2)
	require.Equal(t, http.StatusUnprocessableEntity, cres.StatusCode(), "%s", cres.Body)
	res = d.text(t, sess.Id, "fine", 0)
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode(), "%s", res.Body)

	bad, err := s.Client.CreateDictationSessionWithBodyWithResponse(ctx, "application/json",
		strings.NewReader(`{"note_type":"discharge"}`), bearerAuth(d.tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnprocessableEntity, bad.StatusCode(), "%s", bad.Body)
	require.Contains(t, errorFields(t, bad.Body), "note_type")

	// Audio without a version, and without audio.
	ct, body := audioForm(t, tone(16000, 0.5), "audio/wav", nil)
	ar, err := s.Client.AppendDictationAudioWithBodyWithResponse(ctx, sess.Id, ct, body, bearerAuth(d.tok))
	require.NoError(t, err)
	require.Contains(t, []int{http.StatusBadRequest, http.StatusUnprocessableEntity}, ar.StatusCode(), "%s", ar.Body)

	// Vocabulary: at most 100 terms per call, 64 characters each, 1000 per user.
	add := func(terms []string) *client.AddVoiceVocabularyResponse {
		r, err := s.Client.AddVoiceVocabularyWithResponse(ctx, client.VoiceVocabularyInput{Terms: terms}, bearerAuth(d.tok))
		require.NoError(t, err)
		return r
	}
	terms := func(from, n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("term%04d", from+i)
		}
		return out
	}
	r := add(terms(0, 101))
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode(), "%s", r.Body)
	r = add([]string{strings.Repeat("x", 65)})
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode(), "%s", r.Body)
	r = add([]string{"  "})
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode(), "%s", r.Body)
	for i := 0; i < 10; i++ {
		r = add(terms(i*100, 100))
		require.Equal(t, http.StatusOK, r.StatusCode(), "%s", r.Body)
		require.Equal(t, 100, r.JSON200.Data.Added)
	}
	require.Len(t, r.JSON200.Data.Terms, 1000)
	r = add([]string{"term0001", "TERM0002"})
	require.Equal(t, http.StatusOK, r.StatusCode(), "terms already there do not count: %s", r.Body)
	require.Equal(t, 0, r.JSON200.Data.Added)
	r = add([]string{"one too many"})
	e := requireCode(t, r.StatusCode(), r.Body, http.StatusUnprocessableEntity, "VOCABULARY_FULL")
	require.Equal(t, "terms", *e.Error.Field)
}

// Vocabulary: built-in lists by specialty, the user's own terms added and removed.
func TestDictationVocabulary(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	d := s.dictation(t)
	other := s.dictation(t)
	ctx := context.Background()

	v, err := s.Client.GetVoiceVocabularyWithResponse(ctx, nil, bearerAuth(d.tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, v.StatusCode(), "%s", v.Body)
	require.Empty(t, v.JSON200.Data.UserTerms)
	require.Nil(t, v.JSON200.Data.Specialty)
	for _, sp := range v.JSON200.Data.Specialties {
		one, err := s.Client.GetVoiceVocabularyWithResponse(ctx, &client.GetVoiceVocabularyParams{Specialty: &sp}, bearerAuth(d.tok))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, one.StatusCode(), "%s", one.Body)
		require.Equal(t, sp, *one.JSON200.Data.Specialty)
		require.NotEmpty(t, one.JSON200.Data.BuiltinTerms, sp)
	}
	bad, err := s.Client.GetVoiceVocabularyWithResponse(ctx, &client.GetVoiceVocabularyParams{Specialty: ptr("astrology")}, bearerAuth(d.tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnprocessableEntity, bad.StatusCode(), "%s", bad.Body)

	add, err := s.Client.AddVoiceVocabularyWithResponse(ctx, client.VoiceVocabularyInput{Terms: []string{" Eliquis ", "tirzepatide", "eliquis", "Dupuytren  contracture"}}, bearerAuth(d.tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, add.StatusCode(), "%s", add.Body)
	require.Equal(t, 3, add.JSON200.Data.Added)
	require.Equal(t, []string{"Dupuytren contracture", "Eliquis", "tirzepatide"}, add.JSON200.Data.Terms)
	require.Equal(t, 1000, add.JSON200.Data.Limit)

	del, err := s.Client.DeleteVoiceVocabularyTermWithResponse(ctx, "ELIQUIS", bearerAuth(d.tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, del.StatusCode(), "%s", del.Body)
	del, err = s.Client.DeleteVoiceVocabularyTermWithResponse(ctx, "eliquis", bearerAuth(d.tok))
	require.NoError(t, err)
	requireCode(t, del.StatusCode(), del.Body, http.StatusNotFound, "NOT_FOUND")
	del, err = s.Client.DeleteVoiceVocabularyTermWithResponse(ctx, "tirzepatide", bearerAuth(other.tok))
	require.NoError(t, err)
	requireCode(t, del.StatusCode(), del.Body, http.StatusNotFound, "NOT_FOUND")

	v, err = s.Client.GetVoiceVocabularyWithResponse(ctx, nil, bearerAuth(d.tok))
	require.NoError(t, err)
	require.Equal(t, []string{"Dupuytren contracture", "tirzepatide"}, v.JSON200.Data.UserTerms)
	v, err = s.Client.GetVoiceVocabularyWithResponse(ctx, nil, bearerAuth(other.tok))
	require.NoError(t, err)
	require.Empty(t, v.JSON200.Data.UserTerms)
}

// Templates, and the session list with cursor pagination and a status filter.
func TestDictationTemplatesAndList(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	d := s.dictation(t)
	ctx := context.Background()
	tm, err := s.Client.ListDictationTemplatesWithResponse(ctx, bearerAuth(d.tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, tm.StatusCode(), "%s", tm.Body)
	var types []client.DictationNoteType
	for _, n := range tm.JSON200.Data.Notes {
		types = append(types, n.Type)
		require.NotEmpty(t, n.Sections)
	}
	require.ElementsMatch(t, []client.DictationNoteType{client.Soap, client.Hp, client.Progress, client.Procedure}, types)
	require.NotEmpty(t, tm.JSON200.Data.Inserts)

	created := map[uuid.UUID]bool{}
	for i := 0; i < 5; i++ {
		created[d.create(t, client.DictationSessionInput{NoteType: client.Progress}).Id] = true
	}
	var last uuid.UUID
	for id := range created {
		last = id
		break
	}
	require.Equal(t, http.StatusOK, d.finalize(t, last, 1).StatusCode())

	seen := map[uuid.UUID]bool{}
	var cursor *string
	pages := 0
	for {
		l, err := s.Client.ListDictationSessionsWithResponse(ctx, &client.ListDictationSessionsParams{Limit: ptr(2), Cursor: cursor}, bearerAuth(d.tok))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, l.StatusCode(), "%s", l.Body)
		pages++
		for _, x := range l.JSON200.Data {
			require.False(t, seen[x.Id], "no session twice")
			seen[x.Id] = true
		}
		p := l.JSON200.Metadata.Pagination
		if !p.HasMore {
			break
		}
		cursor = p.NextCursor
	}
	require.Equal(t, created, seen)
	require.Equal(t, 3, pages)

	fin := client.Finalized
	l, err := s.Client.ListDictationSessionsWithResponse(ctx, &client.ListDictationSessionsParams{Status: &fin}, bearerAuth(d.tok))
	require.NoError(t, err)
	require.Len(t, l.JSON200.Data, 1)
	require.Equal(t, last, l.JSON200.Data[0].Id)

	bad, err := s.Client.ListDictationSessionsWithResponse(ctx, &client.ListDictationSessionsParams{Cursor: ptr("nope")}, bearerAuth(d.tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusBadRequest, bad.StatusCode(), "%s", bad.Body)
}

// A SOAP note dictated as audio through a (fake) OpenAI-compatible STT: the user's terms go
// out as hints, near-miss spellings come back corrected, commands in the speech are applied.
func TestDictationSOAPByAudio(t *testing.T) {
	t.Parallel()
	s, fake := openAIVoice(t, nil)
	d := s.dictation(t)
	ctx := context.Background()
	add, err := s.Client.AddVoiceVocabularyWithResponse(ctx, client.VoiceVocabularyInput{Terms: []string{"tirzepatide"}}, bearerAuth(d.tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, add.StatusCode(), "%s", add.Body)

	spoken := []string{
		"patient here for diabetes follow up period next section",
		"lungs clear period next section",
		"type two diabetes comma improving period next section",
		"continue tirzepatid five milligrams weekly period",
	}
	var mu sync.Mutex
	i := 0
	fake.SetTranscript(func(llmtest.Request) llmtest.Transcript {
		mu.Lock()
		defer mu.Unlock()
		text := spoken[i]
		i++
		return llmtest.Transcript{Text: text, Language: "english", Duration: 1}
	})
	sess := d.create(t, client.DictationSessionInput{NoteType: client.Soap})
	v := sess.Version
	var r client.DictationAppendResult
	for range spoken {
		res := d.audio(t, sess.Id, tone(16000, 1), v)
		require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)
		r = res.JSON200.Data
		require.NotNil(t, r.Transcript)
		require.Equal(t, "openai", r.Transcript.Provider)
		v = r.Session.Version
	}
	for _, req := range fake.Requests(llmtest.Transcriptions) {
		require.Contains(t, req.Prompt, "tirzepatide", "the user's terms are STT hints")
	}
	require.Equal(t, "continue tirzepatide five milligrams weekly period", r.Transcript.Text, "corrected to the user's term")
	require.Equal(t, []client.DictationCorrection{{From: "tirzepatid", To: "tirzepatide"}}, r.Transcript.Corrections)

	f := d.finalize(t, sess.Id, v)
	require.Equal(t, http.StatusOK, f.StatusCode(), "%s", f.Body)
	got := map[string]string{}
	for _, sec := range f.JSON200.Data.Note.Sections {
		got[sec.Id] = sec.Text
	}
	require.Equal(t, map[string]string{
		"subjective": "Patient here for diabetes follow up.",
		"objective":  "Lungs clear.",
		"assessment": "Type 2 diabetes, improving.",
		"plan":       "Continue tirzepatide 5 mg weekly.",
	}, got)

	// A stale version is refused before anything is transcribed.
	before := len(fake.Requests(llmtest.Transcriptions))
	res := d.audio(t, sess.Id, tone(16000, 1), 1)
	requireCode(t, res.StatusCode(), res.Body, http.StatusConflict, "DICTATION_FINALIZED")
	require.Len(t, fake.Requests(llmtest.Transcriptions), before)
}

// The offline recogniser end to end: a SOAP note spoken by the offline TTS, section by
// section with "next section" between them, dictated as audio and finalized.
func TestDictationOfflineAudio(t *testing.T) {
	t.Parallel()
	needOfflineVoice(t)
	s := startServer(t, nil)
	d := s.dictation(t)
	sess := d.create(t, client.DictationSessionInput{NoteType: client.Soap})
	v := sess.Version
	var r client.DictationAppendResult
	for _, spoken := range []string{
		"The patient reports shortness of breath since yesterday. Next section.",
		"The lungs are clear. Next section.",
		"Shortness of breath. Next section.",
		"Follow up next week.",
	} {
		sp := s.synthesize(t, d.tok, client.SynthesisInput{Text: spoken, Voice: ptr("kal16"), Format: ptr(client.Wav)})
		require.Equal(t, http.StatusOK, sp.StatusCode(), "%s", sp.Body)
		res := d.audio(t, sess.Id, sp.Body, v)
		require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)
		r = res.JSON200.Data
		require.Equal(t, "offline", r.Transcript.Provider)
		t.Logf("%q -> %q -> %s", spoken, r.Transcript.Text, r.Session.CurrentSection)
		v = r.Session.Version
	}
	require.Equal(t, "plan", r.Session.CurrentSection, "the spoken commands moved through the sections")
	f := d.finalize(t, sess.Id, v)
	require.Equal(t, http.StatusOK, f.StatusCode(), "%s", f.Body)
	for _, sec := range f.JSON200.Data.Note.Sections {
		require.NotEmpty(t, sec.Text, sec.Id)
	}
	require.Contains(t, strings.ToLower(f.JSON200.Data.Note.Sections[0].Text), "shortness of breath")
}

// A paused dictation listens for commands only: the offline recogniser decodes against the
// command grammar, so "resume dictation" is heard as exactly that and resumes.
func TestDictationPausedListensForCommandsOffline(t *testing.T) {
	t.Parallel()
	needOfflineVoice(t)
	s := startServer(t, nil)
	d := s.dictation(t)
	sess := d.create(t, client.DictationSessionInput{NoteType: client.Soap})
	c := d.command(t, sess.Id, "pause dictation", sess.Version)
	require.Equal(t, http.StatusOK, c.StatusCode(), "%s", c.Body)
	require.Equal(t, client.Paused, c.JSON200.Data.Session.Status)
	sp := s.synthesize(t, d.tok, client.SynthesisInput{Text: "Resume dictation.", Voice: ptr("kal16"), Format: ptr(client.Wav)})
	require.Equal(t, http.StatusOK, sp.StatusCode(), "%s", sp.Body)
	res := d.audio(t, sess.Id, sp.Body, c.JSON200.Data.Session.Version)
	require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)
	require.Equal(t, "resume dictation", res.JSON200.Data.Transcript.Text)
	require.Equal(t, client.Active, res.JSON200.Data.Session.Status)
}

// Audio appends have the limits of transcription (size, length, container) and change
// nothing when refused.
func TestDictationAudioLimits(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"VOICE_MAX_AUDIO_SECONDS": "2", "VOICE_MAX_AUDIO_BYTES": "262144", "MAX_BODY_BYTES": "65536"})
	d := s.dictation(t)
	sess := d.create(t, client.DictationSessionInput{NoteType: client.Soap})
	// Over MAX_BODY_BYTES, under VOICE_MAX_AUDIO_BYTES: the declared upload limit applies.
	ok := d.audio(t, sess.Id, tone(24000, 1.9), 99)
	requireCode(t, ok.StatusCode(), ok.Body, http.StatusConflict, "VERSION_CONFLICT")
	for _, c := range []struct {
		name   string
		audio  []byte
		status int
	}{
		{"not audio", []byte("this is plain text, not a recording at all"), http.StatusUnsupportedMediaType},
		{"too long", tone(8000, 3), http.StatusRequestEntityTooLarge},
		{"over VOICE_MAX_AUDIO_BYTES", append(tone(16000, 1), make([]byte, 300000)...), http.StatusRequestEntityTooLarge},
	} {
		res := d.audio(t, sess.Id, c.audio, sess.Version)
		require.Equal(t, c.status, res.StatusCode(), "%s: %s", c.name, res.Body)
	}
	require.Equal(t, sess.Version, d.get(t, sess.Id).JSON200.Data.Version)
}

// Identifiers dictated outside a linked patient come back as phi_alerts (the real detector),
// with one audit row of types and counts and no text; a linked patient raises none.
func TestDictationPHIAlerts(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	d := s.dictation(t)
	sess := d.create(t, client.DictationSessionInput{NoteType: client.Soap})
	r := d.say(t, sess.Id, "Call the daughter at 617-555-0142 or email jane.doe@example.com period", sess.Version)
	types := map[string]bool{}
	runes := []rune(r.Applied.Text)
	for _, a := range r.PhiAlerts {
		types[a.Type] = true
		require.Less(t, a.Start, a.End)
		require.LessOrEqual(t, a.End, len(runes))
		require.Positive(t, a.Confidence)
	}
	require.True(t, types["phone"], "%+v in %q", r.PhiAlerts, r.Applied.Text)
	require.True(t, types["email"], "%+v", r.PhiAlerts)
	rows, body := s.auditOf(t, "phi.detected")
	require.Len(t, rows, 1)
	require.Contains(t, string(body), "phone")
	require.NotContains(t, string(body), "0142", "no dictated text in the audit row")

	patient := s.createPatient(t, d.tok, patientInput()).Id
	linked := d.create(t, client.DictationSessionInput{NoteType: client.Soap, PatientId: &patient})
	r = d.say(t, linked.Id, "Call the daughter at 617-555-0142 period", linked.Version)
	require.Empty(t, r.PhiAlerts)
}
