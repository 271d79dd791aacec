package tests

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/auth"
)

// The summary is cached, but an audited change (a new flag) shows at once: the cache key
// names the newest audit entry.
func TestAdminPanelSummary(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	viewer := s.token(t, s.account(t, auth.RoleViewer))
	admin := s.token(t, s.account(t, auth.RoleAdmin))

	get := func() client.PanelSummary {
		t.Helper()
		r, err := s.Client.GetAdminPanelSummaryWithResponse(ctx, bearerAuth(viewer))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.StatusCode(), "%s", r.Body)
		return r.JSON200.Data
	}
	first := get()
	require.GreaterOrEqual(t, first.Users.Total, int64(2))
	require.Equal(t, int64(1), first.Users.ByRole["viewer"])
	require.Len(t, first.Activity, 7)
	require.Equal(t, time.Now().UTC().Format(time.DateOnly), first.Activity[6].Day.Format(time.DateOnly))
	require.Contains(t, first.KnowledgeBase.ByStatus, "pending")
	require.GreaterOrEqual(t, first.Connections.Replicas, 1)
	names := map[string]string{}
	for _, d := range first.Dependencies {
		names[d.Name] = string(d.State)
		if d.State == "up" || d.State == "down" {
			// From the newest probe round, not probed per request: it says when it ran.
			require.NotNil(t, d.CheckedAt, d.Name)
			require.False(t, d.CheckedAt.After(first.GeneratedAt), d.Name)
		}
	}
	require.Equal(t, "up", names["postgres"])
	require.Equal(t, "up", names["redis"])
	require.Contains(t, names, "qdrant")
	require.Equal(t, "unknown", names["model"], "no chat answer yet")

	// Unchanged: the cached answer (same generated_at).
	require.Equal(t, first.GeneratedAt, get().GeneratedAt)

	// A chat answer is the model's health (it is not probed); a change invalidates the answer.
	user := s.token(t, s.account(t, auth.RoleUser))
	s.ask(t, user, s.newConversation(t, user, nil).Id, "What is the first line treatment for hypertension?")
	s.createFlag(t, admin, client.FlagInput{Key: "ops.panel_probe", Type: client.FlagTypeBoolean})
	after := get()
	var model client.PanelDependency
	for _, d := range after.Dependencies {
		if d.Name == "model" {
			model = d
		}
	}
	require.Equal(t, "up", string(model.State), "%+v", model)
	require.NotNil(t, model.CheckedAt)
	require.Empty(t, model.Error)
	require.Equal(t, first.Flags.Total+1, after.Flags.Total)
	require.Equal(t, first.Flags.ByCategory["ops"]+1, after.Flags.ByCategory["ops"])
	require.Equal(t, first.Flags.ByType["boolean"]+1, after.Flags.ByType["boolean"])
}

// Flag evaluations reach daily_counters at the next flush (the test flushes instead of
// waiting), and metrics count them; days outside 1-90 are refused.
func TestAdminPanelMetrics(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	viewer := s.token(t, s.account(t, auth.RoleViewer))
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	pub := client.FlagVisibilityPublic
	s.createFlag(t, admin, client.FlagInput{Key: "ui.metric_probe", Type: client.FlagTypeBoolean, Visibility: &pub})

	metrics := func(days int) client.PanelMetrics {
		t.Helper()
		r, err := s.Client.GetAdminPanelMetricsWithResponse(ctx, &client.GetAdminPanelMetricsParams{Days: &days}, bearerAuth(viewer))
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.StatusCode(), "%s", r.Body)
		require.Len(t, r.JSON200.Data.Series, days)
		return r.JSON200.Data
	}
	require.NoError(t, s.App.Panel.Flush(ctx))
	before := metrics(1).Series[0]
	require.Equal(t, time.Now().UTC().Format(time.DateOnly), before.Day.Format(time.DateOnly))
	require.GreaterOrEqual(t, before.Registrations, int64(2))
	require.GreaterOrEqual(t, before.DailyActiveUsers, int64(1)) // the viewer's own request

	const n = 5
	for range n {
		s.evaluate(t, admin, "ui.metric_probe", "someone")
	}
	conv := s.newConversation(t, admin, nil)
	s.ask(t, admin, conv.Id, "What is the dose of amoxicillin?")
	require.NoError(t, s.App.Panel.Flush(ctx))
	after := metrics(1).Series[0]
	require.Equal(t, before.FlagEvaluations+n, after.FlagEvaluations)
	require.Equal(t, before.Messages+2, after.Messages, "the question and its answer")
	require.Equal(t, before.RagQueriesWithCitations+before.RagQueriesWithoutCitations+1,
		after.RagQueriesWithCitations+after.RagQueriesWithoutCitations)
	require.Greater(t, after.Requests, before.Requests)
	require.GreaterOrEqual(t, after.DailyActiveUsers, int64(2)) // viewer and admin

	week := metrics(7)
	require.Equal(t, after.FlagEvaluations, week.Series[6].FlagEvaluations)
	metrics(90)

	for _, q := range []string{"0", "91", "-1", "many"} {
		res := s.status(t, "GET", "/api/admin/panel/metrics?days="+q, "", map[string]string{"Authorization": "Bearer " + viewer})
		require.Contains(t, []int{400, 422}, res.StatusCode, "days=%s", q)
	}
}

// Sockets of /ws and of the admin panel are listed, with totals.
func TestAdminPanelConnections(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	user := s.account(t, auth.RoleUser)
	dialWS(t, s, s.token(t, user))
	viewer := s.account(t, auth.RoleViewer)
	vtok := s.token(t, viewer)
	dialAdmin(t, s, vtok)

	r, err := s.Client.GetAdminPanelConnectionsWithResponse(ctx, bearerAuth(vtok))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.StatusCode(), "%s", r.Body)
	c := r.JSON200.Data
	require.Equal(t, 1, c.Websocket.Total)
	require.Equal(t, user.User.ID, c.Websocket.Sessions[0].UserId)
	require.Equal(t, 1, c.Admin.Total)
	require.Equal(t, viewer.User.ID, c.Admin.Sessions[0].UserId)
	require.Len(t, c.Replicas, 1)
	require.Equal(t, 0, c.Voice.Total)
}

// CSV export: parsed by a CSV reader; a formula in a user agent is defused; the chain
// status travels in headers. JSON export carries it in metadata. limit is bounded.
func TestAuditExport(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	viewer := s.token(t, s.account(t, auth.RoleViewer))
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	evil := func(_ context.Context, r *http.Request) error { r.Header.Set("User-Agent", "=cmd()|calc"); return nil }
	r, err := s.Client.CreateFlagWithResponse(ctx, client.FlagInput{Key: "ops.export_probe", Type: client.FlagTypeBoolean,
		Description: ptr("+SUM(A1)")}, bearerAuth(admin), evil)
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), "%s", r.Body)
	s.createFlag(t, admin, client.FlagInput{Key: "ops.export_other", Type: client.FlagTypeBoolean})

	csvFmt := client.ExportAuditLogsParamsFormatCsv
	action := "flags.created"
	res, err := s.Client.ExportAuditLogsWithResponse(ctx, &client.ExportAuditLogsParams{Format: &csvFmt, Action: &action}, bearerAuth(viewer))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)
	require.Equal(t, "valid", res.HTTPResponse.Header.Get("X-Audit-Chain-Status"))
	require.Regexp(t, `^\d+:[0-9a-f]{64}$`, res.HTTPResponse.Header.Get("X-Audit-Chain-Head"))
	require.Contains(t, res.HTTPResponse.Header.Get("Content-Disposition"), `attachment; filename="audit-log-`)
	recs, err := csv.NewReader(bytes.NewReader(res.Body)).ReadAll()
	require.NoError(t, err)
	require.Equal(t, "id", recs[0][0])
	require.Len(t, recs, 3) // header + two creations, newest first
	row := recs[2]
	require.Equal(t, "ops.export_probe", row[7])
	require.Equal(t, "'=cmd()|calc", row[11], "a formula in a cell is defused")
	require.Equal(t, "ops.export_other", recs[1][7])
	for _, rec := range recs[1:] {
		for _, cell := range rec {
			require.False(t, cell != "" && strings.ContainsRune("=+-@\t\r", rune(cell[0])), "cell %q", cell)
		}
	}

	jsonFmt := client.ExportAuditLogsParamsFormatJson
	one := 1
	jr, err := s.Client.ExportAuditLogsWithResponse(ctx, &client.ExportAuditLogsParams{Format: &jsonFmt, Limit: &one}, bearerAuth(viewer))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, jr.StatusCode(), "%s", jr.Body)
	require.NotNil(t, jr.JSON200, "%s", jr.Body)
	require.Equal(t, client.Valid, jr.JSON200.Metadata.ChainStatus)
	require.Equal(t, 1, jr.JSON200.Metadata.Count)
	require.Len(t, jr.JSON200.Data, 1)
	require.Equal(t, jr.JSON200.Metadata.ChainHeadId, jr.JSON200.Data[0].Id, "the newest entry is the chain head")

	all, err := s.Client.ExportAuditLogsWithResponse(ctx, &client.ExportAuditLogsParams{Format: &jsonFmt}, bearerAuth(viewer))
	require.NoError(t, err)
	require.Equal(t, len(all.JSON200.Data), all.JSON200.Metadata.Count)
	require.GreaterOrEqual(t, all.JSON200.Metadata.Count, 2)

	for _, q := range []string{"0", "100001", "x"} {
		res := s.status(t, "GET", "/api/admin/audit-logs/export?limit="+q, "", map[string]string{"Authorization": "Bearer " + viewer})
		require.Contains(t, []int{400, 422}, res.StatusCode, "limit=%s", q)
	}
	res2 := s.status(t, "GET", "/api/admin/audit-logs/export?format=xml", "", map[string]string{"Authorization": "Bearer " + viewer})
	require.Contains(t, []int{400, 422}, res2.StatusCode)
}

// An audited change made through another replica reaches the admin socket (LISTEN/NOTIFY).
func TestAdminSocketAcrossReplicas(t *testing.T) {
	t.Parallel()
	a := startServer(t, nil)
	b := startServer(t, map[string]string{"DATABASE_URL": a.Env["DATABASE_URL"], "REDIS_KEY_PREFIX": a.Env["REDIS_KEY_PREFIX"]})
	viewer := a.token(t, a.account(t, auth.RoleViewer))
	w := dialAdmin(t, a, viewer)

	admin := b.token(t, b.account(t, auth.RoleAdmin))
	b.createFlag(t, admin, client.FlagInput{Key: "ops.from_replica_b", Type: client.FlagTypeBoolean})
	for {
		ev, _ := w.until("admin_event")
		if ev["action"] == "flags.created" {
			require.Equal(t, "ops.from_replica_b", ev["resource_id"])
			require.NotZero(t, ev["id"])
			break
		}
	}
	w.send(map[string]any{"type": "ping", "ts": 3})
	p, _ := w.until("pong")
	require.EqualValues(t, 3, p["ts"])
}

// No token, a bad token or a role below viewer: closed with 1008 after the handshake.
func TestAdminSocketRefusals(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	url := "ws" + strings.TrimPrefix(s.URL, "http") + "/api/admin/panel/ws"
	user := s.token(t, s.account(t, auth.RoleUser))
	for _, protos := range [][]string{nil, {"bearer", "not-a-token"}, {"bearer", user}} {
		c, _, err := (&websocket.Dialer{Subprotocols: protos}).Dial(url, nil)
		require.NoError(t, err)
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, _, err = c.ReadMessage()
		var ce *websocket.CloseError
		require.True(t, errors.As(err, &ce), "%v", err)
		require.Equal(t, websocket.ClosePolicyViolation, ce.Code)
		c.Close()
	}
	res := s.status(t, "GET", "/api/admin/panel/ws", "", nil)
	require.Equal(t, http.StatusUnauthorized, res.StatusCode)
}

func dialAdmin(t *testing.T, s *testServer, tok string) *wsClient {
	t.Helper()
	url := "ws" + strings.TrimPrefix(s.URL, "http") + "/api/admin/panel/ws"
	d := websocket.Dialer{Subprotocols: []string{"bearer", tok}, HandshakeTimeout: 10 * time.Second}
	c, _, err := d.Dial(url, nil)
	require.NoError(t, err)
	t.Cleanup(func() { _ = c.Close() })
	w := &wsClient{t: t, conn: c}
	require.Equal(t, "connected", w.next()["type"])
	return w
}
