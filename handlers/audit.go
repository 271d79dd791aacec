package handlers

import (
	"context"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/audit"
)

func (s *Server) ListAuditLogs(ctx context.Context, r api.ListAuditLogsRequestObject) (api.ListAuditLogsResponseObject, error) {
	p := r.Params
	f := audit.Filter{ActorID: p.ActorId, Action: valueOf(p.Action), ResourceType: valueOf(p.ResourceType), ResourceID: valueOf(p.ResourceId),
		From: p.From, To: p.To, Limit: limitOf(p.Limit)}
	if p.Cursor != nil {
		id, err := audit.ParseCursor(*p.Cursor)
		if err != nil {
			return nil, err
		}
		f.BeforeID = id
	}
	rows, next, err := audit.List(ctx, s.Pool, f)
	if err != nil {
		return nil, err
	}
	out := make([]api.AuditEntry, len(rows))
	for i, row := range rows {
		details := row.Details
		if details == nil {
			details = map[string]any{}
		}
		out[i] = api.AuditEntry{
			Id: row.ID, OccurredAt: row.OccurredAt, ActorId: row.Actor.ID, ActorEmail: row.Actor.Email,
			ActorRole: row.Actor.Role, Action: row.Action, ResourceType: row.ResourceType, ResourceId: row.ResourceID,
			Success: row.Success, RequestId: row.RequestID, Ip: row.IP, UserAgent: row.UserAgent, Details: details,
		}
	}
	return api.ListAuditLogs200JSONResponse{Success: true, Data: out, Metadata: pageMeta(ctx, f.Limit, audit.Cursor(next)), Timestamp: now()}, nil
}

func (s *Server) VerifyAuditLog(ctx context.Context, _ api.VerifyAuditLogRequestObject) (api.VerifyAuditLogResponseObject, error) {
	v, err := audit.Verify(ctx, s.Pool)
	if err != nil {
		return nil, err
	}
	return api.VerifyAuditLog200JSONResponse{Success: true, Metadata: meta(ctx), Timestamp: now(), Data: api.AuditVerification{
		Valid: v.Valid, Checked: v.Checked, FirstBrokenId: v.FirstBrokenID, Reason: v.Reason, HeadId: v.HeadID, HeadHash: v.HeadHash,
	}}, nil
}
