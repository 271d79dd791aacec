package tests

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	openapi_types "github.com/oapi-codegen/runtime/types"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/llm/llmtest"
	"github.com/voiceassist/gateway/internal/ssetest"
)

// The clinical content of the test record: none of it may reach the audit log or the stored
// messages.
const (
	ptName    = "Zebediah Quinlan"
	ptMRN     = "MRN-559-0142"
	ptProblem = "stage 2 hypertension"
	ptMed     = "lisinopril 10 mg daily"
	ptAllergy = "penicillin (rash)"
)

func patientInput() client.PatientInput {
	taken := time.Now().UTC().Add(-2 * time.Hour).Truncate(time.Second)
	return client.PatientInput{
		Name: ptName, BirthDate: openapi_types.Date{Time: time.Date(1958, 3, 14, 0, 0, 0, 0, time.UTC)},
		Sex: client.PatientSexFemale, Mrn: ptr(ptMRN),
		Problems: &[]string{ptProblem}, Medications: &[]string{ptMed}, Allergies: &[]string{ptAllergy},
		Vitals: &[]client.PatientObservation{{Name: "BP", Value: "152/94", Unit: ptr("mmHg"), TakenAt: taken}},
		Labs:   &[]client.PatientObservation{{Name: "Creatinine", Value: "1.4", Unit: ptr("mg/dL"), TakenAt: taken.Add(-time.Hour)}},
	}
}

func (s *testServer) createPatient(t *testing.T, tok string, in client.PatientInput) client.Patient {
	t.Helper()
	res, err := s.Client.CreatePatientWithResponse(context.Background(), in, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, res.StatusCode(), "%s", res.Body)
	return res.JSON201.Data
}

func (s *testServer) getPatient(t *testing.T, tok string, id uuid.UUID, purpose string) *client.GetPatientResponse {
	t.Helper()
	res, err := s.Client.GetPatientWithResponse(context.Background(), id, &client.GetPatientParams{Purpose: purpose}, bearerAuth(tok))
	require.NoError(t, err)
	return res
}

func (s *testServer) grant(t *testing.T, tok string, id, user uuid.UUID, access client.PatientGrantAccess) *client.GrantPatientAccessResponse {
	t.Helper()
	res, err := s.Client.GrantPatientAccessWithResponse(context.Background(), id, client.PatientGrantInput{UserId: user, Access: access}, bearerAuth(tok))
	require.NoError(t, err)
	return res
}

func (s *testServer) listPatients(t *testing.T, tok string, limit int, cursor *string) *client.ListPatientsResponse {
	t.Helper()
	res, err := s.Client.ListPatientsWithResponse(context.Background(), &client.ListPatientsParams{Purpose: "treatment", Limit: &limit, Cursor: cursor}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)
	return res
}

// auditOf returns the audit entries of one action (newest first), read as a superadmin.
func (s *testServer) auditOf(t *testing.T, action string) ([]client.AuditEntry, []byte) {
	t.Helper()
	sa := s.token(t, s.account(t, auth.RoleSuperadmin))
	res, err := s.Client.ListAuditLogsWithResponse(context.Background(), &client.ListAuditLogsParams{Action: &action, Limit: ptr(200)}, bearerAuth(sa))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)
	return res.JSON200.Data, res.Body
}

func TestPatientAccessMatrix(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	owner := s.account(t, auth.RoleUser)
	reader, writer, stranger := s.account(t, auth.RoleUser), s.account(t, auth.RoleUser), s.account(t, auth.RoleUser)
	viewer, admin, superadmin := s.account(t, auth.RoleViewer), s.account(t, auth.RoleAdmin), s.account(t, auth.RoleSuperadmin)
	tOwner, tReader, tWriter, tStranger := s.token(t, owner), s.token(t, reader), s.token(t, writer), s.token(t, stranger)
	tViewer, tAdmin, tSuper := s.token(t, viewer), s.token(t, admin), s.token(t, superadmin)

	p := s.createPatient(t, tOwner, patientInput())
	require.Equal(t, client.PatientAccessOwner, p.Access)
	require.Equal(t, owner.User.ID, p.OwnerId)
	require.Equal(t, 1, p.Version)
	require.Equal(t, []string{ptProblem}, p.Problems)
	require.Equal(t, "152/94", p.Vitals[0].Value)
	require.Equal(t, "1958-03-14", p.BirthDate.String())

	// Grants: only the owner or an admin manage them.
	g := s.grant(t, tOwner, p.Id, reader.User.ID, client.PatientGrantAccessRead)
	require.Equal(t, http.StatusOK, g.StatusCode(), "%s", g.Body)
	require.Equal(t, client.PatientGrantAccessRead, g.JSON200.Data.Access)
	require.Equal(t, owner.User.ID, *g.JSON200.Data.GrantedBy)
	g = s.grant(t, tAdmin, p.Id, writer.User.ID, client.PatientGrantAccessWrite)
	require.Equal(t, http.StatusOK, g.StatusCode(), "%s", g.Body)
	require.Equal(t, http.StatusForbidden, s.grant(t, tWriter, p.Id, stranger.User.ID, client.PatientGrantAccessRead).StatusCode(), "a grantee does not manage grants")
	require.Equal(t, http.StatusNotFound, s.grant(t, tStranger, p.Id, stranger.User.ID, client.PatientGrantAccessRead).StatusCode())
	self := s.grant(t, tOwner, p.Id, owner.User.ID, client.PatientGrantAccessRead)
	require.Equal(t, http.StatusUnprocessableEntity, self.StatusCode())
	require.Equal(t, "user_id", errField(t, self.Body))
	ghost := s.grant(t, tOwner, p.Id, uuid.New(), client.PatientGrantAccessRead)
	require.Equal(t, http.StatusUnprocessableEntity, ghost.StatusCode(), "%s", ghost.Body)
	require.Equal(t, "user_id", errField(t, ghost.Body))
	require.Equal(t, http.StatusNotFound, s.grant(t, tOwner, uuid.New(), reader.User.ID, client.PatientGrantAccessRead).StatusCode())

	grants, err := s.Client.ListPatientGrantsWithResponse(ctx, p.Id, &client.ListPatientGrantsParams{Limit: ptr(1)}, bearerAuth(tOwner))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, grants.StatusCode(), "%s", grants.Body)
	require.Len(t, grants.JSON200.Data, 1)
	require.True(t, grants.JSON200.Metadata.Pagination.HasMore)
	more, err := s.Client.ListPatientGrantsWithResponse(ctx, p.Id, &client.ListPatientGrantsParams{Cursor: grants.JSON200.Metadata.Pagination.NextCursor}, bearerAuth(tOwner))
	require.NoError(t, err)
	require.Len(t, more.JSON200.Data, 1)
	require.ElementsMatch(t, []uuid.UUID{reader.User.ID, writer.User.ID}, []uuid.UUID{grants.JSON200.Data[0].UserId, more.JSON200.Data[0].UserId})
	for tok, want := range map[string]int{tReader: 403, tStranger: 404, tSuper: 200} {
		res, err := s.Client.ListPatientGrantsWithResponse(ctx, p.Id, nil, bearerAuth(tok))
		require.NoError(t, err)
		require.Equal(t, want, res.StatusCode(), "%s", res.Body)
	}

	// Reads: owner, grantees and admins; anyone else (a viewer too: roles are not extended) 404.
	for _, c := range []struct {
		name, tok string
		status    int
		access    client.PatientAccess
	}{
		{"owner", tOwner, 200, client.PatientAccessOwner},
		{"reader", tReader, 200, client.PatientAccessRead},
		{"writer", tWriter, 200, client.PatientAccessWrite},
		{"admin", tAdmin, 200, client.PatientAccessAdmin},
		{"superadmin", tSuper, 200, client.PatientAccessAdmin},
		{"stranger", tStranger, 404, ""},
		{"viewer", tViewer, 404, ""},
	} {
		res := s.getPatient(t, c.tok, p.Id, "treatment")
		require.Equal(t, c.status, res.StatusCode(), "%s: %s", c.name, res.Body)
		if c.status == 200 {
			require.Equal(t, c.access, res.JSON200.Data.Access, c.name)
			require.Equal(t, ptName, res.JSON200.Data.Name)
		} else {
			require.Equal(t, "NOT_FOUND", errorOf(t, res.Body).Error.Code)
		}
	}

	// The list: what the caller owns or holds a grant on.
	for tok, want := range map[string]int{tOwner: 1, tReader: 1, tWriter: 1, tStranger: 0, tAdmin: 0} {
		require.Len(t, s.listPatients(t, tok, 50, nil).JSON200.Data, want)
	}
	item := s.listPatients(t, tReader, 50, nil).JSON200.Data[0]
	require.Equal(t, client.PatientSummary{Id: p.Id, OwnerId: owner.User.ID, Name: ptName, Access: client.PatientAccessRead,
		Version: 1, UpdatedAt: item.UpdatedAt}, item)

	// Changes: write implies read; read is read-only; strangers see nothing.
	patch := func(tok string, version int) *client.UpdatePatientResponse {
		res, err := s.Client.UpdatePatientWithResponse(ctx, p.Id, client.PatientPatch{Version: version, Problems: &[]string{ptProblem, "CKD stage 3a"}}, bearerAuth(tok))
		require.NoError(t, err)
		return res
	}
	require.Equal(t, http.StatusForbidden, patch(tReader, 1).StatusCode())
	require.Equal(t, http.StatusNotFound, patch(tStranger, 1).StatusCode())
	upd := patch(tWriter, 1)
	require.Equal(t, http.StatusOK, upd.StatusCode(), "%s", upd.Body)
	require.Equal(t, 2, upd.JSON200.Data.Version)
	upd = patch(tAdmin, 2)
	require.Equal(t, http.StatusOK, upd.StatusCode(), "%s", upd.Body)

	// Delete: the owner or an admin only.
	for tok, want := range map[string]int{tWriter: 403, tReader: 403, tStranger: 404} {
		res, err := s.Client.DeletePatientWithResponse(ctx, p.Id, bearerAuth(tok))
		require.NoError(t, err)
		require.Equal(t, want, res.StatusCode(), "%s", res.Body)
	}

	// Revoke: the reader loses access at once; a second revoke finds no grant.
	rv, err := s.Client.RevokePatientAccessWithResponse(ctx, p.Id, reader.User.ID, bearerAuth(tWriter))
	require.NoError(t, err)
	require.Equal(t, http.StatusForbidden, rv.StatusCode())
	rv, err = s.Client.RevokePatientAccessWithResponse(ctx, p.Id, reader.User.ID, bearerAuth(tOwner))
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, rv.StatusCode(), "%s", rv.Body)
	require.Equal(t, http.StatusNotFound, s.getPatient(t, tReader, p.Id, "treatment").StatusCode())
	rv, err = s.Client.RevokePatientAccessWithResponse(ctx, p.Id, reader.User.ID, bearerAuth(tOwner))
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, rv.StatusCode())

	// A second record, deleted by an admin; the first by its owner.
	q := s.createPatient(t, tOwner, patientInput())
	del, err := s.Client.DeletePatientWithResponse(ctx, q.Id, bearerAuth(tAdmin))
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, del.StatusCode(), "%s", del.Body)
	del, err = s.Client.DeletePatientWithResponse(ctx, p.Id, bearerAuth(tOwner))
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, del.StatusCode(), "%s", del.Body)
	for _, tok := range []string{tOwner, tWriter, tAdmin} {
		require.Equal(t, http.StatusNotFound, s.getPatient(t, tok, p.Id, "treatment").StatusCode())
	}
}

// Every read names its purpose and leaves an audit row; no row carries clinical content.
func TestPatientAudit(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	owner, other := s.account(t, auth.RoleUser), s.account(t, auth.RoleUser)
	tok := s.token(t, owner)
	p := s.createPatient(t, tok, patientInput())

	res := s.getPatient(t, tok, p.Id, "  follow-up visit  ")
	require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)
	reads, _ := s.auditOf(t, "patient.read")
	require.Len(t, reads, 1)
	require.Equal(t, "patient", reads[0].ResourceType)
	require.Equal(t, p.Id.String(), reads[0].ResourceId)
	require.Equal(t, owner.User.ID, *reads[0].ActorId)
	require.Equal(t, map[string]any{"patient_id": p.Id.String(), "purpose": "follow-up visit", "access": "owner"}, reads[0].Details)

	// The purpose: required, 1-200 characters, not blank. Refused reads write no row. An absent
	// one is a malformed request (400, as every missing required parameter); a wrong one 422.
	for q, status := range map[string]int{"": 400, "?purpose=": 422, "?purpose=%20%20": 422, "?purpose=" + strings.Repeat("x", 201): 422} {
		r, body := s.raw(t, "GET", "/api/patients/"+p.Id.String()+q, "", map[string]string{"Authorization": "Bearer " + tok})
		require.Equal(t, status, r.StatusCode, "%q: %s", q, body)
		require.Equal(t, "purpose", errField(t, body), "%q", q)
		r, body = s.raw(t, "GET", "/api/patients"+q, "", map[string]string{"Authorization": "Bearer " + tok})
		require.Equal(t, status, r.StatusCode, "list %q: %s", q, body)
		require.Equal(t, "purpose", errField(t, body), "list %q", q)
	}
	// The chat's purpose follows the same rule.
	c := s.newConversation(t, tok, nil)
	r, body := s.raw(t, "POST", "/conversations/"+c.Id.String()+"/messages", `{"content":"hi","patient_id":"`+p.Id.String()+`","purpose":" "}`,
		map[string]string{"Authorization": "Bearer " + tok})
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode, "%s", body)
	require.Equal(t, "purpose", errField(t, body))
	require.Equal(t, http.StatusOK, s.getPatient(t, tok, p.Id, strings.Repeat("x", 200)).StatusCode())
	reads, _ = s.auditOf(t, "patient.read")
	require.Len(t, reads, 2)
	// A denied read is not a read of the record.
	require.Equal(t, http.StatusNotFound, s.getPatient(t, s.token(t, other), p.Id, "curiosity").StatusCode())
	reads, _ = s.auditOf(t, "patient.read")
	require.Len(t, reads, 2)

	list := s.listPatients(t, tok, 50, nil)
	require.Len(t, list.JSON200.Data, 1)
	lists, _ := s.auditOf(t, "patient.list")
	require.Len(t, lists, 1)
	require.Equal(t, map[string]any{"purpose": "treatment", "patient_ids": []any{p.Id.String()}}, lists[0].Details)

	// Writes.
	upd, err := s.Client.UpdatePatientWithResponse(ctx, p.Id, client.PatientPatch{Version: 1, Allergies: &[]string{ptAllergy, "sulfa drugs"}, Mrn: ptr("")}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, upd.StatusCode(), "%s", upd.Body)
	require.Nil(t, upd.JSON200.Data.Mrn, "an empty MRN removes it")
	require.Equal(t, http.StatusOK, s.grant(t, tok, p.Id, other.User.ID, client.PatientGrantAccessRead).StatusCode())
	rv, err := s.Client.RevokePatientAccessWithResponse(ctx, p.Id, other.User.ID, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, rv.StatusCode())
	del, err := s.Client.DeletePatientWithResponse(ctx, p.Id, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, del.StatusCode())

	want := map[string]map[string]any{
		"patient.create": {"patient_id": p.Id.String()},
		"patient.update": {"patient_id": p.Id.String(), "fields": []any{"mrn", "allergies"}, "version": float64(2)},
		"patient.grant":  {"patient_id": p.Id.String(), "user_id": other.User.ID.String(), "access": "read"},
		"patient.revoke": {"patient_id": p.Id.String(), "user_id": other.User.ID.String()},
		"patient.delete": {"patient_id": p.Id.String()},
	}
	var all []byte
	for action, details := range want {
		rows, body := s.auditOf(t, action)
		require.Len(t, rows, 1, action)
		require.Equal(t, details, rows[0].Details, action)
		require.Equal(t, owner.User.ID, *rows[0].ActorId, action)
		all = append(all, body...)
	}
	_, body = s.auditOf(t, "patient.read")
	all = append(all, body...)
	for _, secret := range []string{ptName, "Zebediah", ptMRN, ptProblem, "lisinopril", "penicillin", "sulfa", "152/94", "1958-03-14"} {
		require.NotContains(t, string(all), secret, "no clinical content in the audit log")
		require.NotContains(t, s.Logs(), secret, "no clinical content in the logs")
	}
}

func TestPatientLimitsAndVersion(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	tok := s.token(t, s.account(t, auth.RoleUser))
	hdr := map[string]string{"Authorization": "Bearer " + tok}

	// Refused by the contract or the domain, with the field named.
	many := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = "problem"
		}
		return out
	}
	future := time.Now().UTC().Add(24 * time.Hour)
	for name, c := range map[string]struct {
		mod   func(*client.PatientInput)
		field string
	}{
		"51 problems":     {func(in *client.PatientInput) { in.Problems = ptr(many(51)) }, "problems"},
		"101 medications": {func(in *client.PatientInput) { in.Medications = ptr(many(101)) }, "medications"},
		"long allergy":    {func(in *client.PatientInput) { in.Allergies = &[]string{strings.Repeat("a", 201)} }, "allergies"},
		"long name":       {func(in *client.PatientInput) { in.Name = strings.Repeat("n", 201) }, "name"},
		"blank name":      {func(in *client.PatientInput) { in.Name = "   " }, "name"},
		"blank problem":   {func(in *client.PatientInput) { in.Problems = &[]string{" "} }, "problems[0]"},
		"long mrn":        {func(in *client.PatientInput) { in.Mrn = ptr(strings.Repeat("9", 65)) }, "mrn"},
		"born tomorrow":   {func(in *client.PatientInput) { in.BirthDate = openapi_types.Date{Time: future} }, "birth_date"},
		"born 1899": {func(in *client.PatientInput) {
			in.BirthDate = openapi_types.Date{Time: time.Date(1899, 12, 31, 0, 0, 0, 0, time.UTC)}
		}, "birth_date"},
		"vital in future":   {func(in *client.PatientInput) { (*in.Vitals)[0].TakenAt = future }, "vitals[0].taken_at"},
		"long lab value":    {func(in *client.PatientInput) { (*in.Labs)[0].Value = strings.Repeat("1", 65) }, "labs"},
		"long vital unit":   {func(in *client.PatientInput) { (*in.Vitals)[0].Unit = ptr(strings.Repeat("u", 33)) }, "vitals"},
		"unknown sex value": {func(in *client.PatientInput) { in.Sex = "x" }, "sex"},
	} {
		in := patientInput()
		c.mod(&in)
		res, err := s.Client.CreatePatientWithResponse(ctx, in, bearerAuth(tok))
		require.NoError(t, err)
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode(), "%s: %s", name, res.Body)
		require.Contains(t, strings.Join(errorFields(t, res.Body), " "), c.field, name)
	}
	r, body := s.raw(t, "POST", "/api/patients", `{"name":"A","birth_date":"1970-01-01","sex":"male","ssn":"1"}`, hdr)
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode, "unknown field: %s", body)
	r, _ = s.raw(t, "POST", "/api/patients", `{"name":"A","birth_date":"1970-01-01"}`, hdr)
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode, "sex is required")

	// Optimistic concurrency: a stale version changes nothing.
	p := s.createPatient(t, tok, patientInput())
	first, err := s.Client.UpdatePatientWithResponse(ctx, p.Id, client.PatientPatch{Version: 1, Name: ptr("Renamed Once")}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, first.StatusCode(), "%s", first.Body)
	stale, err := s.Client.UpdatePatientWithResponse(ctx, p.Id, client.PatientPatch{Version: 1, Name: ptr("Renamed Twice")}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusConflict, stale.StatusCode(), "%s", stale.Body)
	require.Equal(t, "VERSION_CONFLICT", errorOf(t, stale.Body).Error.Code)
	require.Equal(t, "version", errField(t, stale.Body))
	got := s.getPatient(t, tok, p.Id, "treatment")
	require.Equal(t, "Renamed Once", got.JSON200.Data.Name)
	require.Equal(t, 2, got.JSON200.Data.Version)
	// A patch that breaks a rule changes nothing either.
	bad, err := s.Client.UpdatePatientWithResponse(ctx, p.Id, client.PatientPatch{Version: 2, Name: ptr(" ")}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnprocessableEntity, bad.StatusCode())
	r, body = s.raw(t, "PATCH", "/api/patients/"+p.Id.String(), `{"version":2}`, hdr)
	require.Equal(t, http.StatusUnprocessableEntity, r.StatusCode, "a patch changes something: %s", body)
	require.Equal(t, 2, s.getPatient(t, tok, p.Id, "treatment").JSON200.Data.Version)

	// Pagination of the list.
	s.createPatient(t, tok, patientInput())
	page1 := s.listPatients(t, tok, 1, nil)
	require.Len(t, page1.JSON200.Data, 1)
	require.True(t, page1.JSON200.Metadata.Pagination.HasMore)
	page2 := s.listPatients(t, tok, 1, page1.JSON200.Metadata.Pagination.NextCursor)
	require.Len(t, page2.JSON200.Data, 1)
	require.False(t, page2.JSON200.Metadata.Pagination.HasMore)
	require.NotEqual(t, page1.JSON200.Data[0].Id, page2.JSON200.Data[0].Id)
}

// A question naming a patient reaches the model with a "Patient context" system block (and
// without the patient's identity); the block is not stored; without access the answer is 404
// and the model is not asked.
func TestPatientContextGroundsChat(t *testing.T) {
	t.Parallel()
	fake := newFakeChat(t)
	s := startServer(t, map[string]string{"OPENAI_BASE_URL": fake.BaseURL(), "OPENAI_API_KEY": llmtest.APIKey, "OPENAI_CHAT_MODEL": "fake-model", "EMBEDDING_PROVIDER": "offline"})
	ctx := context.Background()
	owner, stranger := s.account(t, auth.RoleUser), s.account(t, auth.RoleUser)
	tok, tStranger := s.token(t, owner), s.token(t, stranger)
	p := s.createPatient(t, tok, patientInput())
	c := s.newConversation(t, tok, nil)

	res, err := s.Client.SendMessageWithResponse(ctx, c.Id, client.MessageInput{Content: "Should the ACE inhibitor dose change?", PatientId: &p.Id}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, res.StatusCode(), "%s", res.Body)
	msgs := fake.messages(0)
	require.Equal(t, "system", msgs[0]["role"])
	require.Equal(t, "system", msgs[1]["role"])
	block := msgs[1]["content"].(string)
	require.True(t, strings.HasPrefix(block, "Patient context"), block)
	for _, want := range []string{ptProblem, ptMed, ptAllergy, "BP 152/94 mmHg", "Creatinine 1.4 mg/dL", "sex: female"} {
		require.Contains(t, block, want)
	}
	for _, never := range []string{ptName, ptMRN, "1958-03-14"} {
		require.NotContains(t, block, never, "identifiers are not sent (minimum necessary)")
	}
	require.Equal(t, "Should the ACE inhibitor dose change?", res.JSON201.Data.UserMessage.Content[:len("Should the ACE inhibitor dose change?")])
	stored, err := s.Client.ListMessagesWithResponse(ctx, c.Id, nil, bearerAuth(tok))
	require.NoError(t, err)
	require.NotContains(t, string(stored.Body), ptProblem, "the context is not stored")
	reads, _ := s.auditOf(t, "patient.read")
	require.Len(t, reads, 1)
	require.Equal(t, "treatment", reads[0].Details["purpose"], "the default purpose")

	// The voice relay takes the same grounding.
	rel, err := s.Client.RelayVoiceTranscriptWithResponse(ctx, client.VoiceRelayInput{ConversationId: c.Id, Transcript: "And the potassium?",
		PatientId: &p.Id, Purpose: ptr("medication review")}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, rel.StatusCode(), "%s", rel.Body)
	msgs = fake.messages(1)
	require.Contains(t, msgs[1]["content"], ptProblem)
	reads, _ = s.auditOf(t, "patient.read")
	require.Len(t, reads, 2)
	require.Equal(t, "medication review", reads[0].Details["purpose"])

	// No patient named: no block.
	s.ask(t, tok, c.Id, "What is the usual starting dose?")
	for _, m := range fake.messages(2)[1:] {
		require.NotContains(t, m["content"], "Patient context")
	}

	// Without access: 404 before anything is stored or asked.
	cs := s.newConversation(t, tStranger, nil)
	before := len(fake.Requests(llmtest.Chat))
	denied, err := s.Client.SendMessageWithResponse(ctx, cs.Id, client.MessageInput{Content: "Tell me about this patient", PatientId: &p.Id}, bearerAuth(tStranger))
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, denied.StatusCode(), "%s", denied.Body)
	rdenied, err := s.Client.RelayVoiceTranscriptWithResponse(ctx, client.VoiceRelayInput{ConversationId: cs.Id, Transcript: "Tell me", PatientId: &p.Id}, bearerAuth(tStranger))
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, rdenied.StatusCode(), "%s", rdenied.Body)
	require.Len(t, fake.Requests(llmtest.Chat), before, "the model was not asked")
	empty, err := s.Client.ListMessagesWithResponse(ctx, cs.Id, nil, bearerAuth(tStranger))
	require.NoError(t, err)
	require.Empty(t, empty.JSON200.Data, "the question was not stored")

	// A question that cannot be asked (no such conversation) reads no record.
	gone, err := s.Client.SendMessageWithResponse(ctx, uuid.New(), client.MessageInput{Content: "Anything?", PatientId: &p.Id}, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, gone.StatusCode())
	reads, _ = s.auditOf(t, "patient.read")
	require.Len(t, reads, 2, "only the two grounded answers read the record")

	// The streamed answer carries the block too.
	var done bool
	sres := s.streamAskBody(t, tok, c.Id, `{"content":"Any interactions?","patient_id":"`+p.Id.String()+`","purpose":"treatment"}`, func(e chatEvent) bool {
		done = done || e.Name == "message.done"
		return true
	})
	require.Equal(t, http.StatusOK, sres.StatusCode)
	require.True(t, done)
	last := fake.Requests(llmtest.Chat)
	require.Contains(t, last[len(last)-1].Messages[1].Content, ptProblem)
}

// streamAskBody is streamAsk with a request body of the caller's (streamAsk sends content only).
func (s *testServer) streamAskBody(t *testing.T, tok string, conv uuid.UUID, body string, each func(chatEvent) bool) *http.Response {
	t.Helper()
	req, err := http.NewRequest("POST", s.URL+"/conversations/"+conv.String()+"/messages/stream", strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	r := ssetest.NewReader(res.Body)
	for {
		e, err := r.Next()
		if err != nil {
			return res
		}
		ev := chatEvent{Name: e.Event}
		if e.Data != "" {
			require.NoError(t, e.JSON(&ev.Data))
		}
		if e.Event != "" && !each(ev) {
			return res
		}
	}
}
