package handlers

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/websocket"
	"github.com/labstack/echo/v4"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/adminpanel"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/auth"
)

func (s *Server) GetAdminPanelSummary(ctx context.Context, _ api.GetAdminPanelSummaryRequestObject) (api.GetAdminPanelSummaryResponseObject, error) {
	data, err := s.Panel.SummaryJSON(ctx, func(sum adminpanel.Summary) ([]byte, error) { return json.Marshal(summaryOf(sum)) })
	if err != nil {
		return nil, err
	}
	return rawSummaryResponse{Success: true, Data: data, Metadata: meta(ctx), Timestamp: now()}, nil
}

// rawSummaryResponse is api.PanelSummaryEnvelope with its data already encoded (the cached
// bytes of an api.PanelSummary), so the cached path does not decode and re-encode it.
type rawSummaryResponse struct {
	Data      json.RawMessage                 `json:"data"`
	Error     *api.NullError                  `json:"error"`
	Metadata  api.ResponseMeta                `json:"metadata"`
	Success   api.PanelSummaryEnvelopeSuccess `json:"success"`
	Timestamp time.Time                       `json:"timestamp"`
}

func (r rawSummaryResponse) VisitGetAdminPanelSummaryResponse(w http.ResponseWriter) error {
	body, err := json.Marshal(r)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_, err = w.Write(append(body, '\n'))
	return err
}

func summaryOf(in adminpanel.Summary) api.PanelSummary {
	var out api.PanelSummary
	out.GeneratedAt = in.GeneratedAt
	out.Users.Total, out.Users.Active, out.Users.New24h, out.Users.New7d = in.Users.Total, in.Users.Active, in.Users.New24h, in.Users.New7d
	out.Users.ByRole = in.Users.ByRole
	out.Activity = mapAll(in.Activity, func(d adminpanel.DayActivity) api.PanelDayActivity {
		return api.PanelDayActivity{Day: openapi_types.Date{Time: d.Day}, Conversations: d.Conversations, Messages: d.Messages}
	})
	out.KnowledgeBase.ByStatus, out.KnowledgeBase.Backlog = in.KB.ByStatus, in.KB.Backlog
	out.Flags.Total, out.Flags.ByCategory, out.Flags.ByType = in.Flags.Total, in.Flags.ByCategory, in.Flags.ByType
	out.ScheduledChanges.Pending = in.Scheduled.Pending
	if n := in.Scheduled.NextDue; n != nil {
		out.ScheduledChanges.NextDue = &struct {
			FlagKey     string             `json:"flag_key"`
			Id          openapi_types.UUID `json:"id"`
			ScheduledAt time.Time          `json:"scheduled_at"`
		}{FlagKey: n.FlagKey, Id: n.ID, ScheduledAt: n.ScheduledAt}
	}
	l := in.Live
	out.Connections.Replicas, out.Connections.SseStreams, out.Connections.WebsocketSessions = l.Replicas, l.SSE, l.WebSocket
	out.Connections.VoiceSessions, out.Connections.AdminSockets = l.Voice, l.Admin
	out.Cache = mapAll(in.Cache, func(c adminpanel.CacheLayer) api.PanelCacheLayer {
		return api.PanelCacheLayer{Layer: c.Layer, Hits: c.Hits, Misses: c.Misses, HitRate: float32(c.HitRate)}
	})
	out.Dependencies = mapAll(in.Dependencies, func(d adminpanel.Dependency) api.PanelDependency {
		return api.PanelDependency{Name: d.Name, State: d.State, LatencyMs: float32(d.LatencyMS), Error: d.Error, CheckedAt: d.CheckedAt}
	})
	return out
}

func (s *Server) GetAdminPanelMetrics(ctx context.Context, r api.GetAdminPanelMetricsRequestObject) (api.GetAdminPanelMetricsResponseObject, error) {
	days := adminpanel.DefaultDays
	if r.Params.Days != nil {
		days = *r.Params.Days
	}
	m, err := s.Panel.Metrics(ctx, days)
	if err != nil {
		return nil, err
	}
	out := api.PanelMetrics{Days: m.Days, GeneratedAt: m.GeneratedAt, Series: mapAll(m.Series, func(d adminpanel.MetricsDay) api.PanelMetricsDay {
		return api.PanelMetricsDay{Day: openapi_types.Date{Time: d.Day}, DailyActiveUsers: d.ActiveUsers, Registrations: d.Registrations,
			Messages: d.Messages, RagQueriesWithCitations: d.RAGWithCitations, RagQueriesWithoutCitations: d.RAGWithout,
			FlagEvaluations: d.FlagEvaluations, Requests: d.Requests, Errors: d.Errors, ErrorRate: float32(d.ErrorRate())}
	})}
	return api.GetAdminPanelMetrics200JSONResponse{Success: true, Data: out, Metadata: meta(ctx), Timestamp: now()}, nil
}

func (s *Server) GetAdminPanelConnections(ctx context.Context, _ api.GetAdminPanelConnectionsRequestObject) (api.GetAdminPanelConnectionsResponseObject, error) {
	c, err := s.Panel.Connections(ctx)
	if err != nil {
		return nil, err
	}
	list := func(l adminpanel.SocketList) api.PanelSocketList {
		return api.PanelSocketList{Total: l.Total, Sessions: mapAll(l.Sessions, func(s adminpanel.Socket) api.PanelSocket {
			return api.PanelSocket{Kind: s.Kind, ConnectionId: s.ConnectionID, UserId: s.UserID, Replica: s.Replica,
				StartedAt: s.StartedAt, SessionId: s.SessionID, ConversationId: s.ConversationID}
		})}
	}
	out := api.PanelConnections{GeneratedAt: c.GeneratedAt, SseStreams: c.SSEStreams,
		Websocket: list(c.WebSocket), Voice: list(c.Voice), Admin: list(c.Admin),
		Replicas: mapAll(c.Replicas, func(r adminpanel.ReplicaState) api.PanelReplica {
			by := api.PanelCount{}
			for k, v := range r.SSEByType {
				by[k] = int64(v)
			}
			return api.PanelReplica{Replica: r.Replica, SeenAt: r.SeenAt, SseStreams: r.SSEStreams, SseByType: by,
				WebsocketSessions: r.WSTotal, AdminSockets: r.AdminTotal}
		})}
	return api.GetAdminPanelConnections200JSONResponse{Success: true, Data: out, Metadata: meta(ctx), Timestamp: now()}, nil
}

// OpenAdminPanelSocket hands a handshake to the admin event hub. A plain request gets an
// envelope: 401 without a valid token, 403 below viewer, else 400.
func (r *routes) OpenAdminPanelSocket(c echo.Context, p api.OpenAdminPanelSocketParams) error {
	req := c.Request()
	if websocket.IsWebSocketUpgrade(req) {
		r.s.Panel.Events().ServeHTTP(c.Response(), req)
		return nil
	}
	tok := valueOf(p.Token)
	if h, ok := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer "); ok && tok == "" {
		tok = h
	}
	pr, err := r.s.Auth.AuthenticateToken(req.Context(), tok)
	if err != nil {
		return apierr.Unauthorized("UNAUTHORIZED", "A valid access token is required").WithHeader("WWW-Authenticate", "Bearer")
	}
	if !pr.Role.AtLeast(auth.RoleViewer) {
		return apierr.Forbidden("This operation requires the viewer role")
	}
	return apierr.New(http.StatusBadRequest, "BAD_REQUEST", req.URL.Path+" expects a WebSocket handshake")
}

// OpenAdminPanelSocket is served by routes.
func (s *Server) OpenAdminPanelSocket(context.Context, api.OpenAdminPanelSocketRequestObject) (api.OpenAdminPanelSocketResponseObject, error) {
	return nil, errors.New("handlers: OpenAdminPanelSocket is served by routes")
}

// ExportAuditLogs is served by routes (it streams).
func (s *Server) ExportAuditLogs(context.Context, api.ExportAuditLogsRequestObject) (api.ExportAuditLogsResponseObject, error) {
	return nil, errors.New("handlers: ExportAuditLogs is served by routes")
}

var csvHeader = []string{"id", "occurred_at", "actor_id", "actor_email", "actor_role", "action", "resource_type",
	"resource_id", "success", "request_id", "ip", "user_agent", "details"}

// ExportAuditLogs streams the selected audit rows as CSV or JSON, batch by batch, with the
// chain's status in headers (and in metadata for JSON).
func (r *routes) ExportAuditLogs(c echo.Context, p api.ExportAuditLogsParams) error {
	ctx := c.Request().Context()
	limit := audit.ExportDefaultLimit
	if p.Limit != nil {
		limit = *p.Limit
	}
	if limit < 1 || limit > audit.ExportMaxLimit {
		return apierr.Invalid("limit", fmt.Sprintf("must be between 1 and %d", audit.ExportMaxLimit))
	}
	format := "csv"
	if p.Format != nil {
		format = string(*p.Format)
	}
	v, err := audit.Verify(ctx, r.s.Pool)
	if err != nil {
		return err
	}
	status := "valid"
	if !v.Valid {
		status = "broken"
	}
	f := audit.Filter{ActorID: p.ActorId, Action: valueOf(p.Action), ResourceType: valueOf(p.ResourceType),
		ResourceID: valueOf(p.ResourceId), From: p.From, To: p.To}

	res := c.Response()
	h := res.Header()
	h.Set("X-Audit-Chain-Status", status)
	h.Set("X-Audit-Chain-Head", strconv.FormatInt(v.HeadID, 10)+":"+v.HeadHash)
	name := "audit-log-" + now().Format("20060102T150405Z") + "." + format
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	if format == "json" {
		return r.exportJSON(c, f, limit, api.AuditExportMeta{RequestId: meta(ctx).RequestId, ChainStatus: api.AuditExportMetaChainStatus(status),
			ChainHeadId: v.HeadID, ChainHeadHash: v.HeadHash, Limit: limit})
	}
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	res.WriteHeader(http.StatusOK)
	w := csv.NewWriter(res)
	if err := w.Write(csvHeader); err != nil {
		return nil
	}
	n := 0
	_, err = audit.Export(ctx, r.s.Pool, f, limit, func(row audit.Row) error {
		actor := ""
		if row.Actor.ID != nil {
			actor = row.Actor.ID.String()
		}
		details, _ := json.Marshal(row.Details)
		rec := []string{strconv.FormatInt(row.ID, 10), row.OccurredAt.Format(time.RFC3339Nano), actor, row.Actor.Email,
			row.Actor.Role, row.Action, row.ResourceType, row.ResourceID, strconv.FormatBool(row.Success), row.RequestID,
			row.IP, row.UserAgent, string(details)}
		for i := range rec {
			rec[i] = audit.CSVCell(rec[i])
		}
		if err := w.Write(rec); err != nil {
			return err
		}
		if n++; n%500 == 0 {
			w.Flush()
			res.Flush()
		}
		return w.Error()
	})
	w.Flush()
	if err != nil {
		// The status is sent: the client sees a truncated body; the log says why.
		r.s.Log.ErrorContext(ctx, "audit export aborted", "rows", n, "error", err)
	}
	return nil
}

func (r *routes) exportJSON(c echo.Context, f audit.Filter, limit int, md api.AuditExportMeta) error {
	ctx := c.Request().Context()
	res := c.Response()
	res.Header().Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
	res.WriteHeader(http.StatusOK)
	// The count is known only at the end, so metadata comes last.
	if _, err := res.Write([]byte(`{"success":true,"error":null,"data":[`)); err != nil {
		return nil
	}
	n, err := audit.Export(ctx, r.s.Pool, f, limit, func(row audit.Row) error {
		e := api.AuditEntry{Id: row.ID, OccurredAt: row.OccurredAt, ActorId: row.Actor.ID, ActorEmail: row.Actor.Email,
			ActorRole: row.Actor.Role, Action: row.Action, ResourceType: row.ResourceType, ResourceId: row.ResourceID,
			Success: row.Success, RequestId: row.RequestID, Ip: row.IP, UserAgent: row.UserAgent, Details: row.Details}
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		if md.Count > 0 {
			b = append([]byte{','}, b...)
		}
		md.Count++
		_, err = res.Write(b)
		return err
	})
	if err != nil {
		r.s.Log.ErrorContext(ctx, "audit export aborted", "rows", n, "error", err)
		return nil // the client sees invalid JSON, never a complete-looking answer
	}
	tail, _ := json.Marshal(struct {
		Metadata  api.AuditExportMeta `json:"metadata"`
		Timestamp time.Time           `json:"timestamp"`
	}{md, now()})
	_, _ = res.Write([]byte("],"))
	_, _ = res.Write(tail[1:])
	return nil
}
