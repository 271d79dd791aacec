package patient_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/apierr/apierrtest"
	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/dbtest"
	"github.com/voiceassist/gateway/internal/patient"
)

var now = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)

func actor(t *testing.T, pool *pgxpool.Pool, role string) audit.Actor {
	t.Helper()
	u := dbtest.User(t, pool, role)
	return audit.Actor{ID: &u.ID, Email: u.Email, Role: u.Role}
}

func input() patient.Input {
	return patient.Input{Name: "Test Patient", BirthDate: time.Date(1960, 6, 2, 0, 0, 0, 0, time.UTC), Sex: "male",
		Problems: []string{"atrial fibrillation"}, Meds: []string{"apixaban 5 mg BID"},
		Vitals: []patient.Observation{{Name: "HR", Value: "112", Unit: "bpm", TakenAt: now.Add(-time.Hour)}}}
}

func TestRender(t *testing.T) {
	t.Parallel()
	r := patient.Record{Name: "Never Rendered", MRN: ptr("M-1"), BirthDate: time.Date(1960, 6, 2, 0, 0, 0, 0, time.UTC), Sex: "male",
		Problems: []string{"atrial fibrillation", "CKD stage 3a"}, Meds: []string{"apixaban 5 mg BID"}}
	for i := range 12 { // 12 readings, oldest first: the newest 10 are rendered, newest first
		r.Vitals = append(r.Vitals, patient.Observation{Name: "HR", Value: string(rune('a' + i)), Unit: "bpm", TakenAt: now.Add(time.Duration(i-12) * time.Hour)})
	}
	r.Labs = []patient.Observation{{Name: "INR", Value: "1.1", TakenAt: time.Date(2026, 5, 30, 8, 0, 0, 0, time.UTC)}}
	got := patient.Render(r, now)
	lines := strings.Split(got, "\n")
	require.Equal(t, "Age: 65 years; sex: male", lines[0], "the birthday (June 2) is tomorrow")
	require.Equal(t, "Problems: atrial fibrillation; CKD stage 3a", lines[1])
	require.Equal(t, "Medications: apixaban 5 mg BID", lines[2])
	require.Equal(t, "Allergies: none recorded", lines[3])
	require.True(t, strings.HasPrefix(lines[4], "Recent vitals: HR l bpm (2026-06-01); HR k bpm"), lines[4])
	require.Equal(t, 10, strings.Count(lines[4], "HR "))
	require.Equal(t, "Recent labs: INR 1.1 (2026-05-30)", lines[5])
	require.Len(t, lines, 6)
	require.NotContains(t, got, "Never Rendered")
	require.NotContains(t, got, "M-1")
	require.Equal(t, "Age: 66 years; sex: male", strings.Split(patient.Render(r, now.AddDate(0, 0, 1)), "\n")[0])
}

func TestValidation(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	s := patient.New(pool, func() time.Time { return now })
	ctx := context.Background()
	owner := actor(t, pool, "")
	for field, mod := range map[string]func(*patient.Input){
		"name":               func(in *patient.Input) { in.Name = " " },
		"sex":                func(in *patient.Input) { in.Sex = "f" },
		"birth_date":         func(in *patient.Input) { in.BirthDate = now.AddDate(0, 0, 1) },
		"problems":           func(in *patient.Input) { in.Problems = make([]string, patient.MaxProblems+1) },
		"medications[0]":     func(in *patient.Input) { in.Meds = []string{strings.Repeat("é", patient.MaxItem+1)} },
		"vitals[0].taken_at": func(in *patient.Input) { in.Vitals[0].TakenAt = time.Time{} },
		"vitals[0].unit":     func(in *patient.Input) { in.Vitals[0].Unit = strings.Repeat("u", patient.MaxObsUnit+1) },
		"vitals[0].value":    func(in *patient.Input) { in.Vitals[0].Value = "" },
		"mrn":                func(in *patient.Input) { in.MRN = ptr(" ") },
	} {
		in := input()
		mod(&in)
		_, err := s.Create(ctx, owner, in)
		apierrtest.Require(t, err, http.StatusUnprocessableEntity, "VALIDATION_ERROR", field)
	}
	// Multi-byte text counts characters, not bytes; text is trimmed; times become UTC.
	in := input()
	in.Name = "  " + strings.Repeat("é", patient.MaxName) + " "
	in.Vitals[0].TakenAt = now.Add(-time.Hour).In(time.FixedZone("X", 3600))
	r, err := s.Create(ctx, owner, in)
	require.NoError(t, err)
	require.Equal(t, strings.Repeat("é", patient.MaxName), r.Name)
	require.Equal(t, time.UTC, r.Vitals[0].TakenAt.Location())
	require.Empty(t, r.Allergies)
	require.NotNil(t, r.Allergies, "lists are [] never nil")

	for _, p := range []string{"", "  ", strings.Repeat("p", patient.MaxPurpose+1)} {
		_, err := s.Get(ctx, owner, r.ID, p)
		apierrtest.Require(t, err, http.StatusUnprocessableEntity, "VALIDATION_ERROR", "purpose")
	}
}

// Two writers with the same version: exactly one change is applied, the other is a conflict.
func TestConcurrentUpdates(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	s := patient.New(pool, func() time.Time { return now })
	ctx := context.Background()
	owner := actor(t, pool, "")
	r, err := s.Create(ctx, owner, input())
	require.NoError(t, err)

	const n = 4
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, errs[i] = s.Update(ctx, owner, r.ID, patient.Patch{Version: 1, Allergies: &[]string{"allergy " + string(rune('A'+i))}})
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
			continue
		}
		apierrtest.Require(t, err, http.StatusConflict, "VERSION_CONFLICT", "version")
	}
	require.Equal(t, 1, ok)
	got, err := s.Get(ctx, owner, r.ID, "audit check")
	require.NoError(t, err)
	require.Equal(t, int32(2), got.Version)
	require.Len(t, got.Allergies, 1)
	rows, _, err := audit.List(ctx, pool, audit.Filter{Action: "patient.update"})
	require.NoError(t, err)
	require.Len(t, rows, 1, "one change, one row")
}

// Context reads like Get: access checked, one patient.read row, nothing clinical in it.
func TestContextAudits(t *testing.T) {
	t.Parallel()
	pool := dbtest.New(t)
	s := patient.New(pool, func() time.Time { return now })
	ctx := context.Background()
	owner, other, admin := actor(t, pool, ""), actor(t, pool, ""), actor(t, pool, "admin")
	r, err := s.Create(ctx, owner, input())
	require.NoError(t, err)

	_, err = s.Context(ctx, other, r.ID, "treatment")
	apierrtest.Require(t, err, http.StatusNotFound, "NOT_FOUND", "")
	_, err = s.Context(ctx, owner, uuid.New(), "treatment")
	apierrtest.Require(t, err, http.StatusNotFound, "NOT_FOUND", "")
	_, err = s.Context(ctx, audit.Actor{}, r.ID, "treatment")
	apierrtest.Require(t, err, http.StatusNotFound, "NOT_FOUND", "")

	text, err := s.Context(ctx, admin, r.ID, "quality review")
	require.NoError(t, err)
	require.Contains(t, text, "Problems: atrial fibrillation")
	require.Contains(t, text, "Age: 65 years; sex: male")

	rows, _, err := audit.List(ctx, pool, audit.Filter{Action: "patient.read"})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	require.Equal(t, *admin.ID, *rows[0].Actor.ID)
	require.Equal(t, map[string]any{"patient_id": r.ID.String(), "purpose": "quality review", "access": "admin"}, rows[0].Details)

	// A read grant is enough for Context, not for a change.
	_, err = s.Grant(ctx, owner, r.ID, *other.ID, patient.AccessRead)
	require.NoError(t, err)
	_, err = s.Context(ctx, other, r.ID, "treatment")
	require.NoError(t, err)
	_, err = s.Update(ctx, other, r.ID, patient.Patch{Version: 1, Name: ptr("x")})
	apierrtest.Require(t, err, http.StatusForbidden, "INSUFFICIENT_PERMISSIONS", "")
	_, err = s.Grant(ctx, owner, r.ID, *other.ID, "admin")
	apierrtest.Require(t, err, http.StatusUnprocessableEntity, "VALIDATION_ERROR", "access")
}

func ptr[T any](v T) *T { return &v }

// BenchmarkGet is one audited read: the record, the access check and the patient.read row
// (serialised with every other audit write by the chain's advisory lock).
func BenchmarkGet(b *testing.B) {
	pool := dbtest.New(b)
	s := patient.New(pool, func() time.Time { return now })
	ctx := context.Background()
	u := dbtest.User(b, pool, "")
	owner := audit.Actor{ID: &u.ID, Role: u.Role}
	r, err := s.Create(ctx, owner, input())
	require.NoError(b, err)
	b.ResetTimer()
	for b.Loop() {
		if _, err := s.Get(ctx, owner, r.ID, "treatment"); err != nil {
			b.Fatal(err)
		}
	}
}
