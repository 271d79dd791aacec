package handlers

import (
	"context"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/schedule"
)

func toAPIChange(c schedule.Change) api.ScheduledChange {
	out := api.ScheduledChange{
		Id: c.ID, FlagKey: c.FlagKey, ScheduledAt: c.ScheduledAt.UTC(), TimezoneId: c.TimezoneID, Changes: api.WeightChanges(c.Weights),
		Description: c.Description, Status: api.ScheduledChangeStatus(c.Status), CreatedByEmail: c.CreatedByEmail,
		ModifiedByEmail: c.ModifiedByEmail, CreatedAt: c.CreatedAt, UpdatedAt: c.UpdatedAt, CancelledAt: c.CancelledAt,
		AppliedAt: c.AppliedAt, FailureReason: c.FailureReason, AppliedVersion: c.AppliedVersion, LatenessMs: c.LatenessMs,
	}
	return out
}

func (s *Server) changeEnvelope(ctx context.Context, c schedule.Change) api.ScheduledChangeEnvelope {
	return api.ScheduledChangeEnvelope{Success: true, Data: toAPIChange(c), Metadata: meta(ctx), Timestamp: now()}
}

func (s *Server) CreateScheduledChange(ctx context.Context, r api.CreateScheduledChangeRequestObject) (api.CreateScheduledChangeResponseObject, error) {
	c, err := s.Schedule.Create(ctx, actorOf(ctx), r.Flag, schedule.Input{
		ScheduledAt: &r.Body.ScheduledAt, TimezoneID: r.Body.TimezoneId, Changes: r.Body.Changes, Description: r.Body.Description,
	})
	if err != nil {
		return nil, err
	}
	return api.CreateScheduledChange201JSONResponse(s.changeEnvelope(ctx, c)), nil
}

func (s *Server) GetScheduledChange(ctx context.Context, r api.GetScheduledChangeRequestObject) (api.GetScheduledChangeResponseObject, error) {
	c, err := s.Schedule.Get(ctx, r.Flag, r.Id)
	if err != nil {
		return nil, err
	}
	return api.GetScheduledChange200JSONResponse(s.changeEnvelope(ctx, c)), nil
}

func (s *Server) UpdateScheduledChange(ctx context.Context, r api.UpdateScheduledChangeRequestObject) (api.UpdateScheduledChangeResponseObject, error) {
	in := schedule.Input{ScheduledAt: r.Body.ScheduledAt, TimezoneID: r.Body.TimezoneId, Description: r.Body.Description}
	if r.Body.Changes != nil {
		in.Changes = *r.Body.Changes
	}
	c, err := s.Schedule.Update(ctx, actorOf(ctx), r.Flag, r.Id, in)
	if err != nil {
		return nil, err
	}
	return api.UpdateScheduledChange200JSONResponse(s.changeEnvelope(ctx, c)), nil
}

func (s *Server) CancelScheduledChange(ctx context.Context, r api.CancelScheduledChangeRequestObject) (api.CancelScheduledChangeResponseObject, error) {
	c, err := s.Schedule.Cancel(ctx, actorOf(ctx), r.Flag, r.Id)
	if err != nil {
		return nil, err
	}
	return api.CancelScheduledChange200JSONResponse(s.changeEnvelope(ctx, c)), nil
}

func (s *Server) DeleteScheduledChange(ctx context.Context, r api.DeleteScheduledChangeRequestObject) (api.DeleteScheduledChangeResponseObject, error) {
	if err := s.Schedule.Delete(ctx, actorOf(ctx), r.Flag, r.Id); err != nil {
		return nil, err
	}
	return api.DeleteScheduledChange204Response{}, nil
}

func changeList(cs []schedule.Change) []api.ScheduledChange {
	out := make([]api.ScheduledChange, len(cs))
	for i, c := range cs {
		out[i] = toAPIChange(c)
	}
	return out
}

func (s *Server) ListScheduledChanges(ctx context.Context, r api.ListScheduledChangesRequestObject) (api.ListScheduledChangesResponseObject, error) {
	cs, err := s.Schedule.ListForFlag(ctx, r.Flag, stringOf(r.Params.Status))
	if err != nil {
		return nil, err
	}
	return api.ListScheduledChanges200JSONResponse{Success: true, Data: changeList(cs), Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) ListAllScheduledChanges(ctx context.Context, r api.ListAllScheduledChangesRequestObject) (api.ListAllScheduledChangesResponseObject, error) {
	p := r.Params
	f := schedule.Filter{Status: stringOf(p.Status), FlagKey: p.Flag, From: p.From, To: p.To, Cursor: valueOf(p.Cursor), Limit: limitOf(p.Limit)}
	cs, next, err := s.Schedule.List(ctx, f)
	if err != nil {
		return nil, err
	}
	return api.ListAllScheduledChanges200JSONResponse{Success: true, Data: changeList(cs), Metadata: pageMeta(ctx, f.Limit, next), Timestamp: now()}, nil
}

func (s *Server) PreviewScheduledChange(ctx context.Context, r api.PreviewScheduledChangeRequestObject) (api.PreviewScheduledChangeResponseObject, error) {
	p, err := s.Schedule.Preview(ctx, r.Flag, r.Id)
	if err != nil {
		return nil, err
	}
	out := api.ScheduledChangePreview{
		ScheduledChangeId: p.Change.ID, FlagKey: p.Change.FlagKey, ScheduledAt: p.Change.ScheduledAt.UTC(),
		Status: api.ScheduledChangeStatus(p.Change.Status), FlagEnabled: p.FlagEnabled, AffectedUsersShare: p.MovedShare,
	}
	for _, v := range p.Variants {
		out.Changes = append(out.Changes, struct {
			CurrentWeight float64 `json:"current_weight"`
			Difference    float64 `json:"difference"`
			NewWeight     float64 `json:"new_weight"`
			VariantId     string  `json:"variant_id"`
		}{CurrentWeight: v.Current, Difference: v.Diff, NewWeight: v.New, VariantId: v.ID})
	}
	return api.PreviewScheduledChange200JSONResponse{Success: true, Data: out, Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) InvalidateFlagCache(ctx context.Context, r api.InvalidateFlagCacheRequestObject) (api.InvalidateFlagCacheResponseObject, error) {
	rev, err := s.Flags.Invalidate(ctx, actorOf(ctx), r.Flag)
	if err != nil {
		return nil, err
	}
	return api.InvalidateFlagCache200JSONResponse{Success: true, Metadata: meta(ctx), Timestamp: now(),
		Data: api.CacheInvalidation{FlagKey: r.Flag, Version: rev}}, nil
}
