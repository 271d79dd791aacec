package handlers

import (
	"context"

	"github.com/google/uuid"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/patient"
)

func (s *Server) CreatePatient(ctx context.Context, r api.CreatePatientRequestObject) (api.CreatePatientResponseObject, error) {
	b := r.Body
	in := patient.Input{Name: b.Name, BirthDate: b.BirthDate.Time, Sex: string(b.Sex), MRN: b.Mrn,
		Problems: valueOf(b.Problems), Meds: valueOf(b.Medications), Allergies: valueOf(b.Allergies),
		Vitals: observationsIn(valueOf(b.Vitals)), Labs: observationsIn(valueOf(b.Labs))}
	p, err := s.Patients.Create(ctx, actorOf(ctx), in)
	if err != nil {
		return nil, err
	}
	return api.CreatePatient201JSONResponse{Success: true, Data: patientOf(p), Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) ListPatients(ctx context.Context, r api.ListPatientsRequestObject) (api.ListPatientsResponseObject, error) {
	limit := limitOf(r.Params.Limit)
	ps, next, err := s.Patients.List(ctx, actorOf(ctx), r.Params.Purpose, valueOf(r.Params.Cursor), limit)
	if err != nil {
		return nil, err
	}
	return api.ListPatients200JSONResponse{Success: true, Data: mapAll(ps, patientSummaryOf), Metadata: pageMeta(ctx, limit, next), Timestamp: now()}, nil
}

func (s *Server) GetPatient(ctx context.Context, r api.GetPatientRequestObject) (api.GetPatientResponseObject, error) {
	p, err := s.Patients.Get(ctx, actorOf(ctx), r.Id, r.Params.Purpose)
	if err != nil {
		return nil, err
	}
	return api.GetPatient200JSONResponse{Success: true, Data: patientOf(p), Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) UpdatePatient(ctx context.Context, r api.UpdatePatientRequestObject) (api.UpdatePatientResponseObject, error) {
	b := r.Body
	p := patient.Patch{Version: int32(b.Version), Name: b.Name, Sex: stringOf(b.Sex), MRN: b.Mrn,
		Problems: b.Problems, Meds: b.Medications, Allergies: b.Allergies}
	if b.BirthDate != nil {
		p.BirthDate = &b.BirthDate.Time
	}
	if b.Vitals != nil {
		p.Vitals = ptrTo(observationsIn(*b.Vitals))
	}
	if b.Labs != nil {
		p.Labs = ptrTo(observationsIn(*b.Labs))
	}
	out, err := s.Patients.Update(ctx, actorOf(ctx), r.Id, p)
	if err != nil {
		return nil, err
	}
	return api.UpdatePatient200JSONResponse{Success: true, Data: patientOf(out), Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) DeletePatient(ctx context.Context, r api.DeletePatientRequestObject) (api.DeletePatientResponseObject, error) {
	if err := s.Patients.Delete(ctx, actorOf(ctx), r.Id); err != nil {
		return nil, err
	}
	return api.DeletePatient204Response{}, nil
}

func (s *Server) ListPatientGrants(ctx context.Context, r api.ListPatientGrantsRequestObject) (api.ListPatientGrantsResponseObject, error) {
	limit := limitOf(r.Params.Limit)
	gs, next, err := s.Patients.Grants(ctx, actorOf(ctx), r.Id, valueOf(r.Params.Cursor), limit)
	if err != nil {
		return nil, err
	}
	return api.ListPatientGrants200JSONResponse{Success: true, Data: mapAll(gs, patientGrantOf), Metadata: pageMeta(ctx, limit, next), Timestamp: now()}, nil
}

func (s *Server) GrantPatientAccess(ctx context.Context, r api.GrantPatientAccessRequestObject) (api.GrantPatientAccessResponseObject, error) {
	g, err := s.Patients.Grant(ctx, actorOf(ctx), r.Id, r.Body.UserId, patient.Access(r.Body.Access))
	if err != nil {
		return nil, err
	}
	return api.GrantPatientAccess200JSONResponse{Success: true, Data: patientGrantOf(g), Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) RevokePatientAccess(ctx context.Context, r api.RevokePatientAccessRequestObject) (api.RevokePatientAccessResponseObject, error) {
	if err := s.Patients.Revoke(ctx, actorOf(ctx), r.Id, r.UserId); err != nil {
		return nil, err
	}
	return api.RevokePatientAccess204Response{}, nil
}

// patientContext renders the record a question in conversation conv names (patient_id) for
// the model, checking access and auditing the read; "" when the question names none. The
// conversation is checked first, so that a question that cannot be asked reads no record.
func (s *Server) patientContext(ctx context.Context, conv uuid.UUID, id *openapi_types.UUID, purpose *string) (string, error) {
	if id == nil {
		return "", nil
	}
	if _, err := s.Chats.Get(ctx, owner(ctx), conv); err != nil {
		return "", err
	}
	p := patient.DefaultPurpose
	if purpose != nil {
		p = *purpose
	}
	return s.Patients.Context(ctx, actorOf(ctx), *id, p)
}

func observationsIn(in []api.PatientObservation) []patient.Observation {
	return mapAll(in, func(o api.PatientObservation) patient.Observation {
		return patient.Observation{Name: o.Name, Value: o.Value, Unit: valueOf(o.Unit), TakenAt: o.TakenAt}
	})
}

func observationOf(o patient.Observation) api.PatientObservation {
	out := api.PatientObservation{Name: o.Name, Value: o.Value, TakenAt: o.TakenAt}
	if o.Unit != "" {
		out.Unit = ptrTo(o.Unit)
	}
	return out
}

func patientOf(p patient.Record) api.Patient {
	return api.Patient{Id: p.ID, OwnerId: p.OwnerID, Name: p.Name, BirthDate: openapi_types.Date{Time: p.BirthDate},
		Sex: api.PatientSex(p.Sex), Mrn: p.MRN, Problems: p.Problems, Medications: p.Meds, Allergies: p.Allergies,
		Vitals: mapAll(p.Vitals, observationOf), Labs: mapAll(p.Labs, observationOf), Access: api.PatientAccess(p.Access),
		Version: int(p.Version), CreatedAt: p.CreatedAt.UTC(), UpdatedAt: p.UpdatedAt.UTC()}
}

func patientSummaryOf(p patient.Summary) api.PatientSummary {
	return api.PatientSummary{Id: p.ID, OwnerId: p.OwnerID, Name: p.Name, Access: api.PatientAccess(p.Access),
		Version: int(p.Version), UpdatedAt: p.UpdatedAt.UTC()}
}

func patientGrantOf(g patient.Grant) api.PatientGrant {
	return api.PatientGrant{PatientId: g.PatientID, UserId: g.UserID, Access: api.PatientGrantAccess(g.Access),
		GrantedBy: g.GrantedBy, CreatedAt: g.CreatedAt.UTC()}
}
