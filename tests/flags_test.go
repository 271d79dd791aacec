package tests

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/flageval"
	"github.com/voiceassist/gateway/internal/seed"
	"github.com/voiceassist/gateway/internal/voice"
)

// The "done when": an admin creates a multivariate flag, users get stable variants,
// the admin changes the weights and exactly the expected share of users moves.
func TestMultivariateFlagWeightChange(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	user := s.token(t, s.account(t, auth.RoleUser))

	f := s.createFlag(t, admin, client.FlagInput{
		Key: "experiment.new_checkout", Type: client.FlagTypeMultivariate, Enabled: ptr(true),
		Description: ptr("New checkout flow"), DefaultValue: anyv("control"),
		Variants: &[]client.FlagVariant{variant("control", "control", 20), variant("variant_a", "a", 40), variant("variant_b", "b", 40)},
	})
	require.Equal(t, int64(1), f.Version)
	require.Equal(t, client.FlagCategory("experiment"), f.Category)

	const users = 600
	before := map[string]string{}
	for i := 0; i < users; i++ {
		tk := fmt.Sprintf("user-%d", i)
		e := s.evaluate(t, user, f.Key, tk)
		require.Equal(t, client.FlagEvaluationReason("SPLIT"), e.Reason)
		before[tk] = e.Variant
	}
	again := s.evaluate(t, user, f.Key, "user-7")
	require.Equal(t, before["user-7"], again.Variant, "stable for the same user")

	// control 20 -> 20, variant_a 40 -> 30, variant_b 40 -> 50: exactly the units whose
	// variant bucket lies in [50000, 60000) move from variant_a to variant_b.
	up, err := s.Client.UpdateFlagWithResponse(ctx, f.Key, nil, client.FlagPatch{
		Variants: &[]client.FlagVariant{variant("control", "control", 20), variant("variant_a", "a", 30), variant("variant_b", "b", 50)},
	}, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, up.StatusCode(), "%s", up.Body)
	require.Equal(t, int64(2), up.JSON200.Data.Version)

	moved, expected := 0, 0
	for i := 0; i < users; i++ {
		tk := fmt.Sprintf("user-%d", i)
		b := flageval.Bucket(flageval.PurposeVariant, f.Key, f.Key, tk)
		shouldMove := b >= 50000 && b < 60000
		after := s.evaluate(t, user, f.Key, tk).Variant
		if shouldMove {
			expected++
			require.Equal(t, "variant_a", before[tk])
			require.Equal(t, "variant_b", after, tk)
		} else {
			require.Equal(t, before[tk], after, "%s must not move", tk)
		}
		if after != before[tk] {
			moved++
		}
	}
	require.Equal(t, expected, moved)
	require.InDelta(t, 0.10, float64(moved)/users, 0.04, "about 10%% of users move")
	t.Logf("%d of %d users moved (expected exactly %d)", moved, users, expected)
}

func TestFlagValidationAndConcurrency(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	h := map[string]string{"Authorization": "Bearer " + admin}

	cases := []struct{ name, body, field string }{
		{"bad key", `{"key":"Checkout","type":"boolean"}`, "key"},
		{"unknown category", `{"key":"sales.promo","type":"boolean"}`, "key"},
		{"weights off", `{"key":"experiment.x","type":"multivariate","variants":[{"id":"a","value":1,"weight":50},{"id":"b","value":2,"weight":40}]}`, "variants"},
		{"too many decimals", `{"key":"experiment.x","type":"multivariate","variants":[{"id":"a","value":1,"weight":50.0001},{"id":"b","value":2,"weight":49.9999}]}`, "variants[0].weight"},
		{"duplicate variant ids", `{"key":"experiment.x","type":"multivariate","variants":[{"id":"a","value":1,"weight":50},{"id":"a","value":2,"weight":50}]}`, "variants[1].id"},
		{"value type", `{"key":"ui.x","type":"boolean","value":"yes"}`, "value"},
		{"bad regex", `{"key":"ui.x","type":"boolean","value":true,"rules":[{"id":"r","conditions":[{"attribute":"email","operator":"regex","value":"(unclosed"}],"value":true}]}`, "rules[0].conditions[0].value"},
		{"unknown operator", `{"key":"ui.x","type":"boolean","rules":[{"id":"r","conditions":[{"attribute":"a","operator":"like","value":"x"}]}]}`, "rules.0.conditions.0.operator"},
		{"rollout range", `{"key":"ui.x","type":"boolean","rollout_percentage":101}`, "rollout_percentage"},
	}
	for _, tc := range cases {
		res, body := s.raw(t, http.MethodPost, "/api/admin/feature-flags", tc.body, h)
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "%s: %s", tc.name, body)
		require.Contains(t, errorFields(t, body), tc.field, "%s: %s", tc.name, body)
	}

	f := s.createFlag(t, admin, client.FlagInput{Key: "ui.dark_mode", Type: client.FlagTypeBoolean, Value: anyv(true), DefaultValue: anyv(false)})
	dup, err := s.Client.CreateFlagWithResponse(ctx, client.FlagInput{Key: f.Key, Type: client.FlagTypeBoolean}, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusConflict, dup.StatusCode())

	g, err := s.Client.GetFlagWithResponse(ctx, f.Key, bearerAuth(admin))
	require.NoError(t, err)
	etag := g.HTTPResponse.Header.Get("ETag")
	require.Equal(t, `"1"`, etag)

	ok, err := s.Client.UpdateFlagWithResponse(ctx, f.Key, &client.UpdateFlagParams{IfMatch: &etag}, client.FlagPatch{Enabled: ptr(true)}, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, ok.StatusCode(), "%s", ok.Body)
	stale, err := s.Client.UpdateFlagWithResponse(ctx, f.Key, &client.UpdateFlagParams{IfMatch: &etag}, client.FlagPatch{Enabled: ptr(false)}, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusPreconditionFailed, stale.StatusCode())
	conflict, err := s.Client.UpdateFlagWithResponse(ctx, f.Key, nil, client.FlagPatch{Version: ptr(int64(1)), Enabled: ptr(false)}, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusConflict, conflict.StatusCode())
	require.Equal(t, "VERSION_CONFLICT", errorOf(t, conflict.Body).Error.Code)

	// A change that changes nothing keeps the version and writes no event.
	same, err := s.Client.UpdateFlagWithResponse(ctx, f.Key, nil, client.FlagPatch{Enabled: ptr(true)}, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, int64(2), same.JSON200.Data.Version)

	// Every write is one transaction with its event and audit row.
	var events, audits int
	require.NoError(t, s.App.Pool.QueryRow(ctx, `SELECT count(*) FROM flag_events WHERE flag_key = $1`, f.Key).Scan(&events))
	require.NoError(t, s.App.Pool.QueryRow(ctx, `SELECT count(*) FROM audit_log WHERE resource_id = $1 AND action LIKE 'flags.%'`, f.Key).Scan(&audits))
	require.Equal(t, 2, events)
	require.Equal(t, 2, audits)

	nf, err := s.Client.GetFlagWithResponse(ctx, "ui.nothing", bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, nf.StatusCode())
}

func TestFlagLifecycleAndOverrides(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	u := s.account(t, auth.RoleUser)
	user := s.token(t, u)

	f := s.createFlag(t, admin, client.FlagInput{Key: "backend.rag_strategy", Type: client.FlagTypeString, Enabled: ptr(true),
		Value: anyv("hybrid"), DefaultValue: anyv("keyword"), RolloutPercentage: ptr(0.0),
		Rules: &[]client.FlagRule{{Id: "beta", Priority: ptr(1), Conditions: []client.FlagCondition{{Attribute: "plan", Operator: client.Equals, Value: anyv("beta")}}, Value: anyv("vector")}},
	})
	e := s.evaluate(t, user, f.Key, "")
	require.Equal(t, "keyword", *e.Value, "0% rollout serves the default")
	require.Equal(t, client.FlagEvaluationReason("DEFAULT"), e.Reason)

	withPlan, err := s.Client.EvaluateFlagsWithResponse(ctx, client.EvaluateRequest{Keys: &[]string{f.Key},
		Context: &client.EvaluationContext{AdditionalProperties: map[string]any{"plan": "beta"}}}, bearerAuth(user))
	require.NoError(t, err)
	require.Equal(t, "vector", *withPlan.JSON200.Data.Flags[0].Value)
	require.Equal(t, client.FlagEvaluationReason("TARGETING_MATCH"), withPlan.JSON200.Data.Flags[0].Reason)
	require.Equal(t, u.User.ID.String(), withPlan.JSON200.Data.TargetingKey, "the targeting key defaults to the user id")

	// A per-user override wins over rules and rollout.
	ov, err := s.Client.PutFlagOverrideWithResponse(ctx, f.Key, u.User.ID.String(), client.FlagOverrideInput{Value: anyv("graph"), Reason: ptr("pilot")}, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, ov.StatusCode(), "%s", ov.Body)
	e = s.evaluate(t, user, f.Key, "")
	require.Equal(t, "graph", *e.Value)
	require.Equal(t, client.FlagEvaluationReason("TARGETING_MATCH"), e.Reason)
	bad, err := s.Client.PutFlagOverrideWithResponse(ctx, f.Key, "x", client.FlagOverrideInput{Value: anyv(42)}, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnprocessableEntity, bad.StatusCode())
	past, err := s.Client.PutFlagOverrideWithResponse(ctx, f.Key, "x", client.FlagOverrideInput{Value: anyv("a"), ExpiresAt: ptr(time.Now().Add(-time.Hour))}, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnprocessableEntity, past.StatusCode())
	require.Equal(t, "expires_at", *errorOf(t, past.Body).Error.Field)
	del, err := s.Client.DeleteFlagOverrideWithResponse(ctx, f.Key, u.User.ID.String(), bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, del.StatusCode())
	require.Equal(t, "keyword", *s.evaluate(t, user, f.Key, "").Value)

	// Toggle off: the default with DISABLED; archive: not found; delete: gone.
	tg, err := s.Client.ToggleFlagWithResponse(ctx, f.Key, bearerAuth(admin))
	require.NoError(t, err)
	require.False(t, tg.JSON200.Data.Enabled)
	require.Equal(t, client.FlagEvaluationReason("DISABLED"), s.evaluate(t, user, f.Key, "").Reason)
	ar, err := s.Client.ArchiveFlagWithResponse(ctx, f.Key, bearerAuth(admin))
	require.NoError(t, err)
	require.True(t, ar.JSON200.Data.Archived)
	e = s.evaluate(t, user, f.Key, "")
	require.Equal(t, client.FlagEvaluationErrorCodeFLAGNOTFOUND, *e.ErrorCode)
	list, err := s.Client.ListFlagsWithResponse(ctx, nil, bearerAuth(admin))
	require.NoError(t, err)
	require.Empty(t, list.JSON200.Data, "archived flags are hidden by default")
	list, err = s.Client.ListFlagsWithResponse(ctx, &client.ListFlagsParams{Archived: ptr(true)}, bearerAuth(admin))
	require.NoError(t, err)
	require.Len(t, list.JSON200.Data, 1)
	d, err := s.Client.DeleteFlagWithResponse(ctx, f.Key, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusNoContent, d.StatusCode())
	g, err := s.Client.GetFlagWithResponse(ctx, f.Key, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, g.StatusCode())
}

func TestFlagVisibility(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	adminAcc := s.account(t, auth.RoleAdmin)
	admin := s.token(t, adminAcc)
	user := s.token(t, s.account(t, auth.RoleUser))
	viewer := s.token(t, s.account(t, auth.RoleViewer))
	for _, v := range []client.FlagVisibility{client.FlagVisibilityPublic, client.FlagVisibilityAuthenticated, client.FlagVisibilityAdmin, client.FlagVisibilityInternal} {
		s.createFlag(t, admin, client.FlagInput{Key: "ops." + string(v) + "_flag", Type: client.FlagTypeBoolean, Enabled: ptr(true), Value: anyv(true), DefaultValue: anyv(false), Visibility: &v})
	}
	key, err := s.Client.CreateApiKeyWithResponse(ctx, client.CreateApiKeyRequest{Name: "svc"}, bearerAuth(admin))
	require.NoError(t, err)
	withKey := func(_ context.Context, r *http.Request) error {
		r.Header.Set("X-API-Key", key.JSON201.Data.Key)
		return nil
	}

	visible := func(eds ...client.RequestEditorFn) []string {
		r, err := s.Client.EvaluateFlagsWithResponse(ctx, client.EvaluateRequest{Context: &client.EvaluationContext{TargetingKey: ptr("u1")}}, eds...)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.StatusCode(), "%s", r.Body)
		var keys []string
		for _, f := range r.JSON200.Data.Flags {
			keys = append(keys, strings.TrimSuffix(strings.TrimPrefix(f.Key, "ops."), "_flag"))
		}
		return keys
	}
	require.Equal(t, []string{"public"}, visible())
	require.Equal(t, []string{"authenticated", "public"}, visible(bearerAuth(user)))
	require.Equal(t, []string{"admin", "authenticated", "public"}, visible(bearerAuth(viewer)))
	require.Equal(t, []string{"admin", "authenticated", "public"}, visible(bearerAuth(admin)))
	require.Equal(t, []string{"admin", "authenticated", "internal", "public"}, visible(withKey))

	// Asking for a flag above one's level is indistinguishable from a missing flag.
	e := s.evaluate(t, user, "ops.admin_flag", "u1")
	require.Equal(t, client.FlagEvaluationErrorCodeFLAGNOTFOUND, *e.ErrorCode)
	one, err := s.Client.OfrepEvaluateFlagWithResponse(ctx, "ops.internal_flag", client.OfrepEvaluationRequest{}, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, one.StatusCode())

	// A bad token is refused, not treated as anonymous.
	bad, err := s.Client.EvaluateFlagsWithResponse(ctx, client.EvaluateRequest{}, bearerAuth("not-a-token"))
	require.NoError(t, err)
	require.Equal(t, http.StatusUnauthorized, bad.StatusCode())
}

func TestOFREP(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	pub := client.FlagVisibilityPublic
	s.createFlag(t, admin, client.FlagInput{Key: "ui.dark_mode", Type: client.FlagTypeBoolean, Enabled: ptr(true), Value: anyv(true), DefaultValue: anyv(false), Visibility: &pub})
	s.createFlag(t, admin, client.FlagInput{Key: "experiment.split", Type: client.FlagTypeMultivariate, Enabled: ptr(true), Visibility: &pub,
		Variants: &[]client.FlagVariant{variant("a", "A", 50), variant("b", "B", 50)}})

	one, err := s.Client.OfrepEvaluateFlagWithResponse(ctx, "ui.dark_mode", client.OfrepEvaluationRequest{Context: &client.EvaluationContext{TargetingKey: ptr("u1")}})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, one.StatusCode(), "%s", one.Body)
	require.Equal(t, true, *one.JSON200.Value)
	require.Equal(t, "STATIC", one.JSON200.Reason)

	missing, err := s.Client.OfrepEvaluateFlagWithResponse(ctx, "ui.nope", client.OfrepEvaluationRequest{})
	require.NoError(t, err)
	require.Equal(t, http.StatusNotFound, missing.StatusCode())
	require.Equal(t, client.OfrepFlagNotFoundErrorCode("FLAG_NOT_FOUND"), missing.JSON404.ErrorCode)
	require.Equal(t, "ui.nope", missing.JSON404.Key)

	nokey, err := s.Client.OfrepEvaluateFlagWithResponse(ctx, "experiment.split", client.OfrepEvaluationRequest{})
	require.NoError(t, err)
	require.Equal(t, http.StatusBadRequest, nokey.StatusCode())
	require.Equal(t, client.OfrepEvaluationFailureErrorCode("TARGETING_KEY_MISSING"), nokey.JSON400.ErrorCode)

	res, body := s.raw(t, http.MethodPost, "/ofrep/v1/evaluate/flags/ui.dark_mode", `{"context":`, nil)
	require.Equal(t, http.StatusBadRequest, res.StatusCode, "%s", body)
	require.Contains(t, string(body), `"errorCode":"PARSE_ERROR"`)
	require.Contains(t, string(body), `"key":"ui.dark_mode"`)
	res, body = s.raw(t, http.MethodPost, "/ofrep/v1/evaluate/flags", `{}`, map[string]string{"Authorization": "Bearer junk"})
	require.Equal(t, http.StatusUnauthorized, res.StatusCode, "%s", body)
	require.Contains(t, string(body), `"errorDetails"`)

	bulkCtx := client.OfrepEvaluationRequest{Context: &client.EvaluationContext{TargetingKey: ptr("u1")}}
	bulk, err := s.Client.OfrepEvaluateFlagsWithResponse(ctx, nil, bulkCtx)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, bulk.StatusCode())
	require.Len(t, bulk.JSON200.Flags, 2)
	etag := bulk.HTTPResponse.Header.Get("ETag")
	require.NotEmpty(t, etag)
	notMod, err := s.Client.OfrepEvaluateFlagsWithResponse(ctx, &client.OfrepEvaluateFlagsParams{IfNoneMatch: &etag}, bulkCtx)
	require.NoError(t, err)
	require.Equal(t, http.StatusNotModified, notMod.StatusCode())
	// Another context, or a flag change, gives a new ETag.
	other, err := s.Client.OfrepEvaluateFlagsWithResponse(ctx, &client.OfrepEvaluateFlagsParams{IfNoneMatch: &etag},
		client.OfrepEvaluationRequest{Context: &client.EvaluationContext{TargetingKey: ptr("u2")}})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, other.StatusCode())
	_, err = s.Client.ToggleFlagWithResponse(ctx, "ui.dark_mode", bearerAuth(admin))
	require.NoError(t, err)
	changed, err := s.Client.OfrepEvaluateFlagsWithResponse(ctx, &client.OfrepEvaluateFlagsParams{IfNoneMatch: &etag}, bulkCtx)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, changed.StatusCode())
}

// Two replicas on one database: a change through A is served by B once B's snapshot
// catches up (LISTEN/NOTIFY wake-up, safety poll behind it).
func TestFlagChangesReachOtherReplicas(t *testing.T) {
	t.Parallel()
	a := startServer(t, map[string]string{"FLAG_POLL_INTERVAL_MS": "60000"}) // notifications only
	b := startServer(t, map[string]string{"DATABASE_URL": a.Env["DATABASE_URL"], "FLAG_POLL_INTERVAL_MS": "60000"})
	admin := a.token(t, a.account(t, auth.RoleAdmin))
	pub := client.FlagVisibilityPublic
	a.createFlag(t, admin, client.FlagInput{Key: "ui.banner", Type: client.FlagTypeBoolean, Enabled: ptr(true), Value: anyv(true), DefaultValue: anyv(false), Visibility: &pub})
	require.Eventually(t, func() bool { return b.evaluate(t, "", "ui.banner", "").ErrorCode == nil }, 10*time.Second, 5*time.Millisecond)

	start := time.Now()
	_, err := a.Client.ToggleFlagWithResponse(context.Background(), "ui.banner", bearerAuth(admin))
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		return b.evaluate(t, "", "ui.banner", "").Reason == "DISABLED"
	}, 10*time.Second, 2*time.Millisecond)
	t.Logf("replica B served the change %s after A's toggle was sent", time.Since(start))
}

func TestSeedDemoFlags(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	n, err := seed.Flags(context.Background(), s.App.Flags)
	require.NoError(t, err)
	require.Equal(t, 5+len(voice.Capabilities), n, "the demo flags and the (disabled) voice flags")
	n, err = seed.Flags(context.Background(), s.App.Flags)
	require.NoError(t, err)
	require.Zero(t, n, "seeding only fills an empty table")
	e := s.evaluate(t, "", "experiment.new_checkout", "visitor-1")
	require.Equal(t, client.FlagEvaluationReason("SPLIT"), e.Reason)
}
