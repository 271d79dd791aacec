package tests

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/ssetest"
)

func TestStreamBasics(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"SSE_HEARTBEAT_SECONDS": "1"})
	ctx := context.Background()
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	pub, adm := client.FlagVisibilityPublic, client.FlagVisibilityAdmin
	s.createFlag(t, admin, client.FlagInput{Key: "ui.public_one", Type: client.FlagTypeBoolean, Enabled: ptr(true), Visibility: &pub})
	s.createFlag(t, admin, client.FlagInput{Key: "ui.admin_one", Type: client.FlagTypeBoolean, Enabled: ptr(true), Visibility: &adm})
	s.caughtUp(t)

	st := s.openStream(t, "", nil)
	require.Equal(t, http.StatusOK, st.Res.StatusCode)
	require.Equal(t, "text/event-stream", st.Res.Header.Get("Content-Type"))
	require.Equal(t, "no-cache", st.Res.Header.Get("Cache-Control"))
	require.Equal(t, "no", st.Res.Header.Get("X-Accel-Buffering"))
	hello := st.next(t, true)
	require.Equal(t, "connected", hello.Name)
	require.NotEmpty(t, hello.Data["client_id"])
	flags := hello.Data["flags"].(map[string]any)
	require.Contains(t, flags, "ui.public_one")
	require.NotContains(t, flags, "ui.admin_one", "anonymous callers see public flags only")
	require.Equal(t, hello.ID, fmt.Sprint(hello.Data["version"]))

	_, err := s.Client.ToggleFlagWithResponse(ctx, "ui.admin_one", bearerAuth(admin))
	require.NoError(t, err)
	_, err = s.Client.ToggleFlagWithResponse(ctx, "ui.public_one", bearerAuth(admin))
	require.NoError(t, err)
	up := st.next(t, true)
	require.Equal(t, "flag_update", up.Name, "the admin flag's change is not sent; the public one is")
	require.Equal(t, "ui.public_one", up.Data["flag"])
	require.Equal(t, false, up.Data["value"].(map[string]any)["enabled"])
	require.Equal(t, up.ID, fmt.Sprint(up.Data["version"]))

	hb := st.next(t, false)
	for hb.Name != "heartbeat" {
		hb = st.next(t, false)
	}
	require.Contains(t, hb.Data, "timestamp")
	require.Equal(t, up.ID, hb.ID)

	v, err := s.Client.GetFlagVersionWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, up.IDInt(t), v.JSON200.Data.Version)
	stats, err := s.Client.GetFlagStreamStatsWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, 1, stats.JSON200.Data.ActiveConnections)
}

// Reconnecting with Last-Event-ID replays exactly the missed events, visibility-filtered.
func TestStreamReplay(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	user := s.token(t, s.account(t, auth.RoleUser))
	pub, authd, adm := client.FlagVisibilityPublic, client.FlagVisibilityAuthenticated, client.FlagVisibilityAdmin
	s.createFlag(t, admin, client.FlagInput{Key: "ui.a", Type: client.FlagTypeBoolean, Visibility: &pub})
	s.createFlag(t, admin, client.FlagInput{Key: "ui.b", Type: client.FlagTypeBoolean, Visibility: &authd})
	s.createFlag(t, admin, client.FlagInput{Key: "ui.c", Type: client.FlagTypeBoolean, Visibility: &adm})
	s.caughtUp(t)

	st := s.openStream(t, "", map[string]string{"Authorization": "Bearer " + user})
	hello := st.next(t, true)
	last := hello.ID
	require.Len(t, hello.Data["flags"], 2)
	st.Close()

	for i := 0; i < 3; i++ {
		for _, k := range []string{"ui.a", "ui.b", "ui.c"} {
			_, err := s.Client.ToggleFlagWithResponse(ctx, k, bearerAuth(admin))
			require.NoError(t, err)
		}
	}
	s.caughtUp(t)
	st2 := s.openStream(t, "", map[string]string{"Authorization": "Bearer " + user, "Last-Event-ID": last})
	var ids []int64
	for {
		ev := st2.next(t, true)
		if ev.Name == "reconnected" {
			require.Equal(t, float64(len(ids)), ev.Data["events_replayed"])
			require.Equal(t, true, ev.Data["history_complete"])
			break
		}
		require.Equal(t, "flag_update", ev.Name)
		require.Equal(t, true, ev.Data["replayed"])
		require.NotEqual(t, "ui.c", ev.Data["flag"], "admin flags are never replayed to users")
		ids = append(ids, ev.IDInt(t))
	}
	require.Len(t, ids, 6, "a and b toggled three times each")
	for i := 1; i < len(ids); i++ {
		require.Greater(t, ids[i], ids[i-1])
	}

	// A future or malformed Last-Event-ID is a fresh connection.
	for _, bad := range []string{"999999", "abc", "-5"} {
		st3 := s.openStream(t, "", map[string]string{"Last-Event-ID": bad})
		require.Equal(t, "connected", st3.next(t, true).Name, bad)
		st3.Close()
	}

	// /changes honours since_version and visibility.
	ch, err := s.Client.GetFlagChangesWithResponse(ctx, &client.GetFlagChangesParams{SinceVersion: mustInt(t, last)}, bearerAuth(user))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, ch.StatusCode(), "%s", ch.Body)
	var keys []string
	for _, f := range ch.JSON200.Data.Flags {
		keys = append(keys, f.Key)
	}
	require.Equal(t, []string{"ui.a", "ui.b"}, keys)
	none, err := s.Client.GetFlagChangesWithResponse(ctx, &client.GetFlagChangesParams{SinceVersion: ch.JSON200.Data.Version}, bearerAuth(user))
	require.NoError(t, err)
	require.Empty(t, none.JSON200.Data.Flags)
}

func mustInt(t *testing.T, s string) int64 {
	n, err := strconv.ParseInt(s, 10, 64)
	require.NoError(t, err)
	return n
}

// OFREP providers learn about changes from the stream the bulk response advertises.
func TestOFREPChangeNotifications(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	adm := client.FlagVisibilityAdmin
	s.createFlag(t, admin, client.FlagInput{Key: "ui.secret", Type: client.FlagTypeBoolean, Visibility: &adm})

	bulk, err := s.Client.OfrepEvaluateFlagsWithResponse(ctx, nil, client.OfrepEvaluationRequest{Context: &client.EvaluationContext{TargetingKey: ptr("u")}})
	require.NoError(t, err)
	require.NotNil(t, bulk.JSON200.EventStreams)
	es := (*bulk.JSON200.EventStreams)[0]
	require.Equal(t, client.OfrepEventStreamType("sse"), es.Type)
	require.Equal(t, "/api/flags/stream?protocol=ofrep", es.Endpoint.RequestUri)

	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.URL+es.Endpoint.RequestUri, nil)
	require.NoError(t, err)
	res, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
	_, err = s.Client.ToggleFlagWithResponse(ctx, "ui.secret", bearerAuth(admin))
	require.NoError(t, err)
	r := ssetest.NewReader(res.Body)
	var lines []string
	for len(lines) == 0 { // comment-only blocks are heartbeats
		ev, err := r.Next()
		require.NoError(t, err)
		lines = ev.Lines
	}
	require.Len(t, lines, 2, "an unnamed event: id and data only")
	require.Regexp(t, `^id: \d+$`, lines[0])
	require.Regexp(t, `^data: \{"type":"refetchEvaluation","etag":"\d+"\}$`, lines[1], "no flag data, so visibility cannot leak")
	require.NotContains(t, lines[1], "ui.secret")
}

func TestStreamRejectsBadParameters(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	st := s.openStream(t, "?protocol=carrier-pigeon", nil)
	require.Equal(t, http.StatusUnprocessableEntity, st.Res.StatusCode)
}
