package tests

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/auth"
)

// Issue 16 (seed fidelity): an import that changes several flags reaches an open stream as
// ONE flags_bulk_update (not one flag_update per flag), visibility-filtered; a reconnect
// from before it replays it once; the broadcast counter counts it by its real type.
func TestStreamImportIsOneBulkUpdate(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	pub, adm := client.FlagVisibilityPublic, client.FlagVisibilityAdmin
	s.createFlag(t, admin, client.FlagInput{Key: "ui.existing", Type: client.FlagTypeBoolean, Enabled: ptr(true), Visibility: &pub})
	s.caughtUp(t)
	bulkBefore := broadcasts(t, s, "flags_bulk_update")
	updatesBefore := broadcasts(t, s, "flag_update")

	st := s.openStream(t, "", nil) // anonymous: public flags only
	hello := st.next(t, true)
	require.Equal(t, "connected", hello.Name)
	last := hello.ID

	items := []client.FlagExportItem{
		{Key: "ui.existing", Type: client.FlagTypeBoolean, Enabled: ptr(false), Value: anyv(true), DefaultValue: anyv(false), Visibility: &pub}, // updated
		{Key: "ui.new_one", Type: client.FlagTypeBoolean, Enabled: ptr(true), Value: anyv(true), DefaultValue: anyv(false), Visibility: &pub},   // created
		{Key: "ui.new_two", Type: client.FlagTypeBoolean, Enabled: ptr(true), Value: anyv(true), DefaultValue: anyv(false), Visibility: &pub},   // created
		{Key: "admin.secret", Type: client.FlagTypeBoolean, Enabled: ptr(true), Value: anyv(true), DefaultValue: anyv(false), Visibility: &adm}, // not for anonymous eyes
	}
	res, err := s.Client.ImportFlagsWithResponse(ctx, &client.ImportFlagsParams{}, client.FlagImport{Flags: items}, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)

	// A marker change after the import: everything before it has been delivered once it arrives.
	_, err = s.Client.ToggleFlagWithResponse(ctx, "ui.new_one", bearerAuth(admin))
	require.NoError(t, err)

	var got []sseEvent
	for {
		ev := st.next(t, true)
		if ev.Name == "flag_update" && ev.Data["flag"] == "ui.new_one" {
			break
		}
		got = append(got, ev)
	}
	require.Len(t, got, 1, "the import arrives as exactly one event: %v", got)
	bulk := got[0]
	require.Equal(t, "flags_bulk_update", bulk.Name)
	require.Equal(t, "import", bulk.Data["reason"])
	require.Equal(t, bulk.ID, jsonInt(bulk.Data["version"]))
	flags := bulk.Data["flags"].(map[string]any)
	require.Len(t, flags, 3)
	require.Contains(t, flags, "ui.existing")
	require.Equal(t, false, flags["ui.existing"].(map[string]any)["enabled"])
	require.Contains(t, flags, "ui.new_one")
	require.Contains(t, flags, "ui.new_two")
	require.NotContains(t, flags, "admin.secret", "visibility applies inside a bulk update")
	st.Close()

	require.Equal(t, bulkBefore+1, broadcasts(t, s, "flags_bulk_update"))
	require.Equal(t, updatesBefore+1, broadcasts(t, s, "flag_update"), "only the marker toggle is a flag_update")

	// Resuming from before the import replays the bulk update once, then the toggle.
	s.caughtUp(t)
	st2 := s.openStream(t, "", map[string]string{"Last-Event-ID": last})
	var replayed []sseEvent
	for {
		ev := st2.next(t, true)
		if ev.Name == "reconnected" {
			require.Equal(t, float64(2), ev.Data["events_replayed"])
			break
		}
		replayed = append(replayed, ev)
	}
	require.Len(t, replayed, 2)
	require.Equal(t, "flags_bulk_update", replayed[0].Name)
	require.Equal(t, bulk.ID, replayed[0].ID)
	require.Equal(t, true, replayed[0].Data["replayed"])
	require.Len(t, replayed[0].Data["flags"], 3)
	require.Equal(t, "flag_update", replayed[1].Name)

	// An admin resuming from the same point sees the admin flag in the same single event.
	st3 := s.openStream(t, "", map[string]string{"Last-Event-ID": last, "Authorization": "Bearer " + admin})
	ev := st3.next(t, true)
	require.Equal(t, "flags_bulk_update", ev.Name)
	require.Len(t, ev.Data["flags"], 4)
	require.Contains(t, ev.Data["flags"], "admin.secret")
}

// broadcasts reads voiceassist_sse_flag_updates_broadcast_total{event_type}.
func broadcasts(t *testing.T, s *testServer, eventType string) float64 {
	t.Helper()
	return counterValue(t, s.App.Registry, "voiceassist_sse_flag_updates_broadcast_total", "event_type", eventType)
}

func counterValue(t *testing.T, g prometheus.Gatherer, name, label, value string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == label && lp.GetValue() == value {
					return m.GetCounter().GetValue()
				}
			}
		}
	}
	return 0
}

func jsonInt(v any) string {
	f, _ := v.(float64)
	return strconv.FormatInt(int64(f), 10)
}

// The hub reads the event log 500 rows at a time; an import larger than a page is still
// one event (the page's share of the batch waits for the rest).
func TestStreamLargeImportIsOneBulkUpdate(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	pub := client.FlagVisibilityPublic
	s.createFlag(t, admin, client.FlagInput{Key: "ui.before", Type: client.FlagTypeBoolean, Visibility: &pub})
	s.caughtUp(t)
	st := s.openStream(t, "", nil)
	require.Equal(t, "connected", st.next(t, true).Name)

	const n = 600
	items := make([]client.FlagExportItem, n)
	for i := range items {
		items[i] = client.FlagExportItem{Key: "ui.bulk_" + strconv.Itoa(i), Type: client.FlagTypeBoolean, Enabled: ptr(true),
			Value: anyv(true), DefaultValue: anyv(false), Visibility: &pub}
	}
	res, err := s.Client.ImportFlagsWithResponse(ctx, &client.ImportFlagsParams{}, client.FlagImport{Flags: items}, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, res.StatusCode(), "%s", res.Body)

	ev := st.next(t, true)
	require.Equal(t, "flags_bulk_update", ev.Name)
	require.Equal(t, n, len(ev.Data["flags"].(map[string]any)), "all %d flags in one event", n)
	_, err = s.Client.ToggleFlagWithResponse(ctx, "ui.before", bearerAuth(admin))
	require.NoError(t, err)
	next := st.next(t, true)
	require.Equal(t, "flag_update", next.Name, "nothing of the import arrives after its bulk update")
	require.Equal(t, "ui.before", next.Data["flag"])
}
