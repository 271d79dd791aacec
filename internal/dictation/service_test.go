package dictation_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/apierr/apierrtest"
	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/dbtest"
	"github.com/voiceassist/gateway/internal/dictation"
	"github.com/voiceassist/gateway/internal/patient"
	"github.com/voiceassist/gateway/internal/voice"
)

// phoneDetector flags "555-" numbers: enough to see the alerts and their audit row.
type phoneDetector struct{}

func (phoneDetector) Detect(text string) []dictation.PHIAlert {
	i := strings.Index(text, "555-")
	if i < 0 {
		return nil
	}
	return []dictation.PHIAlert{{Type: "phone", Start: i, End: i + 8, Confidence: 0.9}}
}

// fakeSTT answers a fixed transcript and keeps the request.
type fakeSTT struct {
	text string
	got  []voice.TranscribeRequest
}

func (f *fakeSTT) Transcribe(_ context.Context, _ audit.Actor, req voice.TranscribeRequest) (voice.TranscribeResult, error) {
	f.got = append(f.got, req)
	return voice.TranscribeResult{Transcript: voice.Transcript{Text: f.text, Provider: "fake"}}, nil
}

func newService(t *testing.T, stt *fakeSTT) (*dictation.Service, *pgxpool.Pool, uuid.UUID, audit.Actor) {
	t.Helper()
	pool := dbtest.New(t)
	u := dbtest.User(t, pool, "")
	s := dictation.NewService(dictation.Config{Pool: pool, PHI: phoneDetector{}, Voice: stt, Patients: patient.New(pool, nil)})
	return s, pool, u.ID, audit.Actor{ID: &u.ID, Email: u.Email, Role: u.Role}
}

func auditDetails(t *testing.T, pool *pgxpool.Pool, action string) []map[string]any {
	t.Helper()
	rows, err := pool.Query(context.Background(), `SELECT details FROM audit_log WHERE action = $1 ORDER BY id`, action)
	require.NoError(t, err)
	defer rows.Close()
	var out []map[string]any
	for rows.Next() {
		var raw []byte
		require.NoError(t, rows.Scan(&raw))
		var m map[string]any
		require.NoError(t, json.Unmarshal(raw, &m))
		out = append(out, m)
	}
	return out
}

// PHI in dictated text is reported with spans in the added text and audited by type and
// count, without the text; a session linked to a patient raises none.
func TestPHIAlerts(t *testing.T) {
	t.Parallel()
	s, pool, user, actor := newService(t, nil)
	ctx := context.Background()
	sess, err := s.Create(ctx, actor, user, dictation.CreateInput{NoteType: "soap"})
	require.NoError(t, err)
	r, err := s.AppendText(ctx, actor, user, sess.ID, "call back at 555-0142", sess.Version)
	require.NoError(t, err)
	require.Len(t, r.PHIAlerts, 1)
	a := r.PHIAlerts[0]
	require.Equal(t, "555-0142", r.Applied.Text[a.Start:a.End])
	details := auditDetails(t, pool, "phi.detected")
	require.Len(t, details, 1)
	require.Equal(t, []any{"phone"}, details[0]["types"])
	require.Equal(t, map[string]any{"phone": float64(1)}, details[0]["counts"])
	raw, _ := json.Marshal(details)
	require.NotContains(t, string(raw), "0142", "no dictated text in the audit log")

	rec, err := patient.New(pool, nil).Create(ctx, actor, patient.Input{Name: "Ann Example", BirthDate: time.Date(1950, 1, 2, 0, 0, 0, 0, time.UTC), Sex: "female"})
	require.NoError(t, err)
	linked, err := s.Create(ctx, actor, user, dictation.CreateInput{NoteType: "soap", PatientID: &rec.ID})
	require.NoError(t, err)
	r, err = s.AppendText(ctx, actor, user, linked.ID, "call back at 555-0142", linked.Version)
	require.NoError(t, err)
	require.Empty(t, r.PHIAlerts)
	require.NotNil(t, r.PHIAlerts, "[] in JSON, never null")
}

// Audio: the user's terms go to the STT as hints and correct the transcript; a stale version
// is refused before the STT is called.
func TestAppendAudio(t *testing.T) {
	t.Parallel()
	stt := &fakeSTT{text: "start tirzepatid weekly"}
	s, _, user, actor := newService(t, stt)
	ctx := context.Background()
	_, _, err := s.AddTerms(ctx, actor, user, []string{"tirzepatide"})
	require.NoError(t, err)
	sess, err := s.Create(ctx, actor, user, dictation.CreateInput{NoteType: "progress", Policy: "expanded"})
	require.NoError(t, err)

	_, err = s.AppendAudio(ctx, actor, user, sess.ID, []byte("RIFF"), sess.Version+1)
	apierrtest.Require(t, err, http.StatusConflict, "VERSION_CONFLICT", "version")
	require.Empty(t, stt.got)

	r, err := s.AppendAudio(ctx, actor, user, sess.ID, []byte("RIFF"), sess.Version)
	require.NoError(t, err)
	require.Len(t, stt.got, 1)
	require.Equal(t, []string{"tirzepatide"}, stt.got[0].Options.Words)
	require.Equal(t, "start tirzepatide weekly", r.Transcript.Text)
	require.Equal(t, "fake", r.Transcript.Provider)
	require.Len(t, r.Transcript.Corrections, 1)
	require.Equal(t, "Start tirzepatide weekly", r.Applied.Text)

	// Silence applies nothing and keeps the version.
	stt.text = "  "
	r2, err := s.AppendAudio(ctx, actor, user, sess.ID, []byte("RIFF"), r.Session.Version)
	require.NoError(t, err)
	require.Equal(t, r.Session.Version, r2.Session.Version)
	require.Empty(t, stt.got[1].Options.Grammar, "an active session transcribes freely")

	// Paused, the recogniser is asked for commands only, and "resume dictation" resumes.
	p, err := s.Command(ctx, actor, user, sess.ID, "pause dictation", r2.Session.Version)
	require.NoError(t, err)
	stt.text = "resume dictation"
	r3, err := s.AppendAudio(ctx, actor, user, sess.ID, []byte("RIFF"), p.Session.Version)
	require.NoError(t, err)
	require.Contains(t, stt.got[2].Options.Grammar, "resume dictation")
	require.Equal(t, dictation.StatusActive, r3.Session.Status)
}

// Finalizing audits sizes only; a finalized session refuses changes and deletion is audited.
func TestFinalizeAndDeleteAudited(t *testing.T) {
	t.Parallel()
	s, pool, user, actor := newService(t, nil)
	ctx := context.Background()
	sess, err := s.Create(ctx, actor, user, dictation.CreateInput{NoteType: "hp"})
	require.NoError(t, err)
	r, err := s.AppendText(ctx, actor, user, sess.ID, "headache", sess.Version)
	require.NoError(t, err)
	fin, note, err := s.Finalize(ctx, actor, user, sess.ID, r.Session.Version)
	require.NoError(t, err)
	require.Equal(t, dictation.StatusFinalized, fin.Status)
	require.Contains(t, note.Markdown, "## Chief Complaint\n\nHeadache\n")
	_, err = s.AppendText(ctx, actor, user, sess.ID, "more", fin.Version)
	apierrtest.Require(t, err, http.StatusConflict, "DICTATION_FINALIZED", "")

	d := auditDetails(t, pool, "dictation.finalized")
	require.Len(t, d, 1)
	require.Equal(t, map[string]any{"note_type": "hp", "sections_filled": float64(1), "characters": float64(8)}, d[0])
	require.NoError(t, s.Delete(ctx, actor, user, sess.ID))
	require.Len(t, auditDetails(t, pool, "dictation.deleted"), 1)
	_, err = s.Get(ctx, user, sess.ID)
	apierrtest.Require(t, err, http.StatusNotFound, "NOT_FOUND", "")
}
