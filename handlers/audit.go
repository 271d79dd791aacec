package handlers

import (
	"context"
	"net/http"
	"strconv"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/audit"
)

func (s *Server) ListAuditLogs(ctx context.Context, r api.ListAuditLogsRequestObject) (api.ListAuditLogsResponseObject, error) {
	p := r.Params
	f := audit.Filter{ActorID: p.ActorId, From: p.From, To: p.To, Limit: limitOf(p.Limit)}
	if p.Action != nil {
		f.Action = *p.Action
	}
	if p.ResourceType != nil {
		f.ResourceType = *p.ResourceType
	}
	if p.ResourceId != nil {
		f.ResourceID = *p.ResourceId
	}
	if p.Cursor != nil {
		id, err := strconv.ParseInt(*p.Cursor, 10, 64)
		if err != nil || id <= 0 {
			return nil, apierr.Validation(http.StatusBadRequest, apierr.FieldError{Field: "cursor", Message: "is not a cursor returned by this endpoint"})
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
	cursor := ""
	if next > 0 {
		cursor = strconv.FormatInt(next, 10)
	}
	m := meta(ctx)
	m.Pagination = page(f.Limit, cursor)
	return api.ListAuditLogs200JSONResponse{Success: true, Data: out, Metadata: m, Timestamp: now()}, nil
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
