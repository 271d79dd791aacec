package tests

import (
	"context"
	"fmt"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/app"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/clock"
	"github.com/voiceassist/gateway/internal/flageval"
)

// newClock is shared by replicas in a test: moving it makes scheduled changes due at once.
func newClock() *clock.Fake { return clock.NewFake(time.Now().UTC()) }

func checkoutFlag(t *testing.T, s *testServer, admin string) client.FeatureFlag {
	pub := client.FlagVisibilityPublic
	return s.createFlag(t, admin, client.FlagInput{Key: "experiment.new_checkout", Type: client.FlagTypeMultivariate, Enabled: ptr(true), Visibility: &pub,
		DefaultValue: anyv("control"),
		Variants:     &[]client.FlagVariant{variant("control", "control", 50), variant("variant_a", "a", 25), variant("variant_b", "b", 25)}})
}

func TestScheduledChangeValidation(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s := startServer(t, map[string]string{"FLAG_POLL_INTERVAL_MS": "50"}, app.WithClock(clock.Now))
	ctx := context.Background()
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	f := checkoutFlag(t, s, admin)
	s.createFlag(t, admin, client.FlagInput{Key: "ui.plain", Type: client.FlagTypeBoolean})
	future := clock.Now().Add(24 * time.Hour).Format(time.RFC3339)
	h := map[string]string{"Authorization": "Bearer " + admin}

	cases := []struct{ name, path, body, field string }{
		{"DST gap", f.Key, `{"scheduled_at":"2099-03-08T02:30","timezone_id":"America/New_York","changes":{"control":40,"variant_a":35}}`, "scheduled_at"},
		{"DST fold", f.Key, `{"scheduled_at":"2099-11-01T01:30","timezone_id":"America/New_York","changes":{"control":40,"variant_a":35}}`, "scheduled_at"},
		{"bad zone", f.Key, `{"scheduled_at":"` + future + `","timezone_id":"Mars/Base","changes":{"control":40,"variant_a":35}}`, "timezone_id"},
		{"past", f.Key, `{"scheduled_at":"2001-01-01T00:00:00Z","changes":{"control":40,"variant_a":35}}`, "scheduled_at"},
		{"unknown variant", f.Key, `{"scheduled_at":"` + future + `","changes":{"nope":50}}`, "changes.nope"},
		{"sum", f.Key, `{"scheduled_at":"` + future + `","changes":{"control":60}}`, "changes"},
		{"not multivariate", "ui.plain", `{"scheduled_at":"` + future + `","changes":{"control":60}}`, "flag"},
		{"unknown field", f.Key, `{"scheduled_at":"` + future + `","changes":{"control":50},"when":"now"}`, "when"},
		{"negative weight", f.Key, `{"scheduled_at":"` + future + `","changes":{"control":-1}}`, "changes.control"},
	}
	for _, tc := range cases {
		res, body := s.raw(t, http.MethodPost, "/api/admin/feature-flags/"+tc.path+"/scheduled-changes", tc.body, h)
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "%s: %s", tc.name, body)
		require.Contains(t, errorFields(t, body), tc.field, "%s: %s", tc.name, body)
	}
	res, _ := s.raw(t, http.MethodPost, "/api/admin/feature-flags/ui.missing/scheduled-changes", `{"scheduled_at":"`+future+`","changes":{"a":100}}`, h)
	require.Equal(t, http.StatusNotFound, res.StatusCode)

	in := client.ScheduledChangeInput{ScheduledAt: "2099-01-15T09:00", TimezoneId: ptr("America/New_York"), Changes: client.WeightChanges{"control": 40, "variant_a": 35}}
	c, err := s.Client.CreateScheduledChangeWithResponse(ctx, f.Key, in, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, c.StatusCode(), "%s", c.Body)
	require.Equal(t, "2099-01-15T14:00:00Z", c.JSON201.Data.ScheduledAt.Format(time.RFC3339), "local time read in the zone")
	dup, err := s.Client.CreateScheduledChangeWithResponse(ctx, f.Key, client.ScheduledChangeInput{ScheduledAt: "2099-01-15T14:00:00Z", Changes: client.WeightChanges{"control": 30, "variant_a": 45}}, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusConflict, dup.StatusCode(), "a second pending change at the same instant")
}

// The full life cycle, applied by three replicas exactly once, while a stream subscriber
// and users watch; the preview's share is exactly who moves.
func TestScheduledChangeAppliedExactlyOnce(t *testing.T) {
	t.Parallel()
	clock := newClock()
	env := map[string]string{"FLAG_POLL_INTERVAL_MS": "50"}
	// Each replica reads the shared clock through its own counter: the scheduler reads it
	// (at least) twice a poll round, so the test can wait for rounds instead of sleeping.
	var reads [3]atomic.Int64
	counted := func(i int) app.Option {
		return app.WithClock(func() time.Time { reads[i].Add(1); return clock.Now() })
	}
	a := startServer(t, env, counted(0))
	env["DATABASE_URL"], env["REDIS_KEY_PREFIX"] = a.Env["DATABASE_URL"], a.Env["REDIS_KEY_PREFIX"]
	b := startServer(t, env, counted(1))
	c := startServer(t, env, counted(2))
	ctx := context.Background()
	admin := a.token(t, a.account(t, auth.RoleAdmin))
	f := checkoutFlag(t, a, admin)

	sch, err := a.Client.CreateScheduledChangeWithResponse(ctx, f.Key, client.ScheduledChangeInput{
		ScheduledAt: clock.Now().Add(time.Hour).Format(time.RFC3339), Description: ptr("Phase 2"),
		Changes: client.WeightChanges{"control": 20, "variant_a": 40, "variant_b": 40},
	}, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, sch.StatusCode(), "%s", sch.Body)
	id := sch.JSON201.Data.Id
	require.Equal(t, client.ScheduledChangeStatus("pending"), sch.JSON201.Data.Status)

	pv, err := a.Client.PreviewScheduledChangeWithResponse(ctx, f.Key, id, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, pv.StatusCode(), "%s", pv.Body)
	// control 50->20, a 25->40, b 25->40: ranges [0,50k) [50k,75k) [75k,100k) become
	// [0,20k) [20k,60k) [60k,100k): buckets [20k,50k) and [60k,75k) change, 45%.
	require.InDelta(t, 0.45, pv.JSON200.Data.AffectedUsersShare, 1e-9)
	require.Len(t, pv.JSON200.Data.Changes, 3)
	require.Equal(t, -30.0, pv.JSON200.Data.Changes[0].Difference)

	const users = 400
	before := map[string]string{}
	for i := 0; i < users; i++ {
		tk := fmt.Sprintf("u%d", i)
		before[tk] = b.evaluate(t, "", f.Key, tk).Variant
	}
	c.caughtUp(t)
	st := c.openStream(t, "", nil)
	require.Equal(t, "connected", st.next(t, true).Name)

	// A replica claims the change and dies mid-apply: the others skip the locked row, and
	// after the rollback exactly one of them applies it.
	tx, err := a.App.Pool.Begin(ctx)
	require.NoError(t, err)
	_, err = tx.Exec(ctx, `SELECT 1 FROM scheduled_changes WHERE id = $1 FOR UPDATE`, id)
	require.NoError(t, err)
	var seen [3]int64
	for i := range reads {
		seen[i] = reads[i].Load()
	}
	clock.Advance(2 * time.Hour)
	// Several poll rounds on every replica, all skipping the locked row.
	require.Eventually(t, func() bool {
		for i := range reads {
			if reads[i].Load() < seen[i]+6 {
				return false
			}
		}
		return true
	}, 10*time.Second, 5*time.Millisecond, "every replica polls after the clock moved")
	got, err := a.Client.GetScheduledChangeWithResponse(ctx, f.Key, id, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, client.ScheduledChangeStatus("pending"), got.JSON200.Data.Status, "held by the dying replica")
	require.NoError(t, tx.Rollback(ctx))

	require.Eventually(t, func() bool {
		g, err := a.Client.GetScheduledChangeWithResponse(ctx, f.Key, id, bearerAuth(admin))
		return err == nil && g.JSON200.Data.Status == "applied"
	}, 10*time.Second, 20*time.Millisecond)
	g, err := a.Client.GetScheduledChangeWithResponse(ctx, f.Key, id, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, f.Version+1, *g.JSON200.Data.AppliedVersion)
	require.GreaterOrEqual(t, *g.JSON200.Data.LatenessMs, int64(time.Hour/time.Millisecond), "lateness is recorded")

	var audits, events int
	require.NoError(t, a.App.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE action = 'flags.scheduled_change_applied' AND details->>'scheduled_change_id' = $1`, id.String()).Scan(&audits))
	require.NoError(t, a.App.Pool.QueryRow(ctx, `SELECT count(*) FROM flag_events WHERE flag_key = $1 AND kind = 'updated'`, f.Key).Scan(&events))
	require.Equal(t, 1, audits, "exactly one application")
	require.Equal(t, 1, events)

	up := st.next(t, true)
	require.Equal(t, "flag_update", up.Name, "the subscriber sees the application")
	require.Equal(t, f.Key, up.Data["flag"])

	// Every replica serves the new weights; exactly the previewed share of users moved.
	for _, s := range []*testServer{a, b, c} {
		require.Eventually(t, func() bool {
			fl, ok := s.App.Flags.Snapshot().Flag(f.Key)
			return ok && fl.Variants[0].Weight == 20
		}, 10*time.Second, 10*time.Millisecond)
	}
	moved := 0
	for i := 0; i < users; i++ {
		tk := fmt.Sprintf("u%d", i)
		after := c.evaluate(t, "", f.Key, tk).Variant
		bk := flageval.Bucket(flageval.PurposeVariant, f.Key, f.Key, tk)
		inMovedRange := (bk >= 20000 && bk < 50000) || (bk >= 60000 && bk < 75000)
		require.Equal(t, inMovedRange, after != before[tk], tk)
		if after != before[tk] {
			moved++
		}
	}
	require.InDelta(t, 0.45, float64(moved)/users, 0.08)

	// Applied changes are final: no patch, cancel or delete.
	p, err := a.Client.UpdateScheduledChangeWithResponse(ctx, f.Key, id, client.ScheduledChangePatch{Description: ptr("x")}, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusConflict, p.StatusCode())
	cn, err := a.Client.CancelScheduledChangeWithResponse(ctx, f.Key, id, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusConflict, cn.StatusCode())
	d, err := a.Client.DeleteScheduledChangeWithResponse(ctx, f.Key, id, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusConflict, d.StatusCode())
}

func TestScheduledChangeCancelPatchDeleteAndFailure(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s := startServer(t, map[string]string{"FLAG_POLL_INTERVAL_MS": "50"}, app.WithClock(clock.Now))
	ctx := context.Background()
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	f := checkoutFlag(t, s, admin)
	mk := func(at time.Duration, w client.WeightChanges) client.ScheduledChange {
		r, err := s.Client.CreateScheduledChangeWithResponse(ctx, f.Key, client.ScheduledChangeInput{ScheduledAt: clock.Now().Add(at).Format(time.RFC3339), Changes: w}, bearerAuth(admin))
		require.NoError(t, err)
		require.Equal(t, http.StatusCreated, r.StatusCode(), "%s", r.Body)
		return r.JSON201.Data
	}
	one := mk(time.Hour, client.WeightChanges{"control": 40, "variant_a": 35})
	two := mk(2*time.Hour, client.WeightChanges{"control": 30, "variant_a": 45})

	p, err := s.Client.UpdateScheduledChangeWithResponse(ctx, f.Key, one.Id, client.ScheduledChangePatch{Changes: &client.WeightChanges{"control": 45, "variant_a": 30}}, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, p.StatusCode(), "%s", p.Body)
	require.Equal(t, 45.0, p.JSON200.Data.Changes["control"])
	cn, err := s.Client.CancelScheduledChangeWithResponse(ctx, f.Key, two.Id, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, client.ScheduledChangeStatus("cancelled"), cn.JSON200.Data.Status)
	again, err := s.Client.CancelScheduledChangeWithResponse(ctx, f.Key, two.Id, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusConflict, again.StatusCode())

	all, err := s.Client.ListAllScheduledChangesWithResponse(ctx, &client.ListAllScheduledChangesParams{Status: ptr(client.ScheduledChangeStatus("pending"))}, bearerAuth(admin))
	require.NoError(t, err)
	require.Len(t, all.JSON200.Data, 1)
	require.Equal(t, one.Id, all.JSON200.Data[0].Id)
	dl, err := s.Client.DeleteScheduledChangeWithResponse(ctx, f.Key, two.Id, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, dl.StatusCode(), "a cancelled change can be deleted")

	// The variants the change names disappear before it is due: it fails, with the reason.
	_, err = s.Client.UpdateFlagWithResponse(ctx, f.Key, nil, client.FlagPatch{Variants: &[]client.FlagVariant{variant("control", "control", 50), variant("other", "o", 50)}}, bearerAuth(admin))
	require.NoError(t, err)
	clock.Advance(90 * time.Minute)
	require.Eventually(t, func() bool {
		g, err := s.Client.GetScheduledChangeWithResponse(ctx, f.Key, one.Id, bearerAuth(admin))
		return err == nil && g.JSON200.Data.Status == "failed"
	}, 10*time.Second, 20*time.Millisecond)
	g, err := s.Client.GetScheduledChangeWithResponse(ctx, f.Key, one.Id, bearerAuth(admin))
	require.NoError(t, err)
	require.Contains(t, g.JSON200.Data.FailureReason, "variant_a")

	inv, err := s.Client.InvalidateFlagCacheWithResponse(ctx, f.Key, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, inv.StatusCode(), "%s", inv.Body)
	require.Greater(t, inv.JSON200.Data.Version, int64(0))
}
