package tests

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/auth"
)

// Issue 21 #3: a per-user override is served only to its user (or a service caller with an
// API key), never to someone who sends that user's id as targetingKey.
func TestFlagOverrideNotDisclosedByTargetingKey(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	victim := s.account(t, auth.RoleUser)
	other := s.token(t, s.account(t, auth.RoleUser))
	pub := client.FlagVisibilityPublic
	f := s.createFlag(t, admin, client.FlagInput{Key: "backend.secret_pilot", Type: client.FlagTypeString, Enabled: ptr(true),
		Value: anyv("on"), DefaultValue: anyv("off"), RolloutPercentage: ptr(0.0), Visibility: &pub})
	ov, err := s.Client.PutFlagOverrideWithResponse(ctx, f.Key, victim.User.ID.String(), client.FlagOverrideInput{Value: anyv("pilot-secret")}, bearerAuth(admin))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, ov.StatusCode(), "%s", ov.Body)
	vid := victim.User.ID.String()

	// The owner gets it, by default and when naming itself.
	require.Equal(t, "pilot-secret", *s.evaluate(t, s.token(t, victim), f.Key, "").Value)
	require.Equal(t, "pilot-secret", *s.evaluate(t, s.token(t, victim), f.Key, vid).Value)

	// Another user and an anonymous caller naming the victim do not.
	e := s.evaluate(t, other, f.Key, vid)
	require.Equal(t, "off", *e.Value)
	require.Equal(t, client.FlagEvaluationReason("DEFAULT"), e.Reason)
	e = s.evaluate(t, "", f.Key, vid)
	require.Equal(t, "off", *e.Value)
	require.Equal(t, client.FlagEvaluationReason("DEFAULT"), e.Reason)
	one, err := s.Client.OfrepEvaluateFlagWithResponse(ctx, f.Key, client.OfrepEvaluationRequest{Context: &client.EvaluationContext{TargetingKey: &vid}})
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, one.StatusCode(), "%s", one.Body)
	require.Equal(t, "off", *one.JSON200.Value)
	bulk, err := s.Client.OfrepEvaluateFlagsWithResponse(ctx, nil, client.OfrepEvaluationRequest{Context: &client.EvaluationContext{TargetingKey: &vid}}, bearerAuth(other))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, bulk.StatusCode(), "%s", bulk.Body)
	for _, it := range bulk.JSON200.Flags {
		if it.Key == f.Key {
			require.Equal(t, "off", *it.Value)
		}
	}

	// A service caller (API key) evaluates on behalf of any user, overrides included.
	key, err := s.Client.CreateApiKeyWithResponse(ctx, client.CreateApiKeyRequest{Name: "svc"}, bearerAuth(admin))
	require.NoError(t, err)
	withKey := func(_ context.Context, r *http.Request) error {
		r.Header.Set("X-API-Key", key.JSON201.Data.Key)
		return nil
	}
	r, err := s.Client.EvaluateFlagsWithResponse(ctx, client.EvaluateRequest{Keys: &[]string{f.Key}, Context: &client.EvaluationContext{TargetingKey: &vid}}, withKey)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.StatusCode(), "%s", r.Body)
	require.Equal(t, "pilot-secret", *r.JSON200.Data.Flags[0].Value)
}

// Issue 21 #14: an anonymous context cannot claim the server-set attributes role, user_id
// and email to match a staff-only rule; an authenticated caller cannot override them either.
func TestAnonymousContextCannotClaimReservedAttributes(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	user := s.account(t, auth.RoleUser)
	pub := client.FlagVisibilityPublic
	cond := func(attr, v string) client.FlagRule {
		return client.FlagRule{Id: "staff_" + attr, Conditions: []client.FlagCondition{{Attribute: attr, Operator: client.Equals, Value: anyv(v)}}, Value: anyv(true)}
	}
	f := s.createFlag(t, admin, client.FlagInput{Key: "ui.staff_tools", Type: client.FlagTypeBoolean, Enabled: ptr(true), Visibility: &pub,
		Value: anyv(false), DefaultValue: anyv(false),
		Rules: &[]client.FlagRule{cond("role", "admin"), cond("email", "boss@example.org"), cond("user_id", user.User.ID.String())}})

	claims := []map[string]any{{"role": "admin"}, {"email": "boss@example.org"}, {"user_id": user.User.ID.String()}}
	for _, attrs := range claims {
		for _, tok := range []string{"", s.token(t, s.account(t, auth.RoleUser))} {
			r, err := s.Client.EvaluateFlagsWithResponse(context.Background(), client.EvaluateRequest{Keys: &[]string{f.Key},
				Context: &client.EvaluationContext{AdditionalProperties: attrs}}, bearerIf(tok)...)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, r.StatusCode(), "%s", r.Body)
			require.Equal(t, false, *r.JSON200.Data.Flags[0].Value, "claim %v (token %t)", attrs, tok != "")
			require.NotEqual(t, client.FlagEvaluationReason("TARGETING_MATCH"), r.JSON200.Data.Flags[0].Reason)
		}
	}
	// The real attributes still match.
	require.Equal(t, true, *s.evaluate(t, s.token(t, user), f.Key, "").Value)
	require.Equal(t, true, *s.evaluate(t, admin, f.Key, "").Value)
}

func bearerIf(tok string) []client.RequestEditorFn {
	if tok == "" {
		return nil
	}
	return []client.RequestEditorFn{bearerAuth(tok)}
}

// Issue 21 #13: the contract now says management reads show every flag to staff (viewer and
// above), `internal` included, while evaluation hides it from all but admin API keys. This
// pins both halves of that rule.
func TestInternalFlagManagementReadsVersusEvaluation(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	viewer := s.token(t, s.account(t, auth.RoleViewer))
	internal := client.FlagVisibilityInternal
	f := s.createFlag(t, admin, client.FlagInput{Key: "ops.svc_only", Type: client.FlagTypeBoolean, Enabled: ptr(true), Value: anyv(true), DefaultValue: anyv(false), Visibility: &internal})

	g, err := s.Client.GetFlagWithResponse(ctx, f.Key, bearerAuth(viewer))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, g.StatusCode(), "%s", g.Body)
	require.Equal(t, client.FlagVisibilityInternal, g.JSON200.Data.Visibility)
	l, err := s.Client.ListFlagsWithResponse(ctx, nil, bearerAuth(viewer))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, l.StatusCode(), "%s", l.Body)
	require.Contains(t, string(l.Body), `"ops.svc_only"`)

	e := s.evaluate(t, viewer, f.Key, "")
	require.NotNil(t, e.ErrorCode)
	require.Equal(t, client.FlagEvaluationErrorCodeFLAGNOTFOUND, *e.ErrorCode)
}

// Issue 21 #1: wide JSON cannot amplify. An anonymous evaluation body is refused above 64 KiB
// before it is decoded; the context is bounded (members, value lengths, nesting) for everyone;
// a validation error lists at most 20 violations; anonymous evaluation is limited per IP.
func TestEvaluationContextBounds(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"RATE_LIMIT_FLAG_EVAL_ANONYMOUS_PER_MINUTE": "4"})
	user := s.token(t, s.account(t, auth.RoleUser))
	bearer := map[string]string{"Authorization": "Bearer " + user, "Content-Type": "application/json"}
	plain := map[string]string{"Content-Type": "application/json"}

	// The amplification body: ~780 KB, 60,000 attributes, anonymous.
	var wide strings.Builder
	wide.WriteString(`{"context":{"targetingKey":"visitor-1"`)
	for i := 0; i < 60000; i++ {
		fmt.Fprintf(&wide, `,"a%05d":"v"`, i)
	}
	wide.WriteString(`}}`)
	res, body := s.raw(t, http.MethodPost, "/ofrep/v1/evaluate/flags", wide.String(), plain)
	require.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode, "%.300s", body)

	// Authenticated callers keep MAX_BODY_BYTES, but the context is bounded and the error short.
	res, body = s.raw(t, http.MethodPost, "/api/flags/evaluate", wide.String(), bearer)
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "%.300s", body)
	require.Less(t, len(body), 8000, "the error lists at most 20 violations")
	require.LessOrEqual(t, len(errorFields(t, body)), 21)
	res, body = s.raw(t, http.MethodPost, "/ofrep/v1/evaluate/flags", wide.String(), bearer)
	require.Equal(t, http.StatusBadRequest, res.StatusCode, "%.300s", body)
	require.Contains(t, string(body), "INVALID_CONTEXT")

	for name, ctx := range map[string]string{
		"long value":    `{"a":"` + strings.Repeat("x", 1025) + `"}`,
		"nested object": `{"a":{"b":{"c":1}}}`,
		"long list":     `{"a":[` + strings.Repeat(`1,`, 100) + `1]}`,
		"list of lists": `{"a":[[1]]}`,
	} {
		res, body := s.raw(t, http.MethodPost, "/api/flags/evaluate", `{"context":`+ctx+`}`, bearer)
		require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "%s: %.300s", name, body)
	}
	// What OpenFeature SDKs send still passes: scalars, flat lists and one level of object.
	res, body = s.raw(t, http.MethodPost, "/api/flags/evaluate",
		`{"context":{"targetingKey":"u","plan":"beta","n":3,"ok":true,"none":null,"tags":["a","b"],"org":{"id":"o1","size":10}}}`, bearer)
	require.Equal(t, http.StatusOK, res.StatusCode, "%s", body)

	// 60,000 unknown fields to registration: one short 422, not a 3 MB list.
	var reg strings.Builder
	reg.WriteString(`{"email":"x@example.org","password":"a-Long-passphrase-42"`)
	for i := 0; i < 60000; i++ {
		fmt.Fprintf(&reg, `,"f%05d":1`, i)
	}
	reg.WriteString(`}`)
	res, body = s.raw(t, http.MethodPost, "/api/auth/register", reg.String(), plain)
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "%.300s", body)
	require.Less(t, len(body), 8000, "%.300s", body)
	fields := errorFields(t, body)
	require.LessOrEqual(t, len(fields), 21)
	require.Contains(t, string(body), "more violations not listed")

	// Anonymous evaluation is limited per client IP (4 per minute here); callers with a
	// credential are not counted against it.
	for i := 0; i < 4; i++ {
		r, err := s.Client.OfrepEvaluateFlagsWithResponse(context.Background(), nil, client.OfrepEvaluationRequest{})
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, r.StatusCode(), "%s", r.Body)
	}
	r, err := s.Client.EvaluateFlagsWithResponse(context.Background(), client.EvaluateRequest{})
	require.NoError(t, err)
	require.Equal(t, http.StatusTooManyRequests, r.StatusCode(), "%s", r.Body)
	require.NotEmpty(t, r.HTTPResponse.Header.Get("Retry-After"))
	o, err := s.Client.OfrepEvaluateFlagsWithResponse(context.Background(), nil, client.OfrepEvaluationRequest{})
	require.NoError(t, err)
	require.Equal(t, http.StatusTooManyRequests, o.StatusCode(), "%s", o.Body)
	a, err := s.Client.EvaluateFlagsWithResponse(context.Background(), client.EvaluateRequest{}, bearerAuth(user))
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, a.StatusCode(), "%s", a.Body)
}
