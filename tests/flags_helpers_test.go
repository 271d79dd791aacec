package tests

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
)

func anyv(v any) *client.AnyValue { a := client.AnyValue(v); return &a }

func variant(id string, value any, weight float64) client.FlagVariant {
	return client.FlagVariant{Id: id, Value: anyv(value), Weight: weight}
}

func (s *testServer) createFlag(t *testing.T, tok string, in client.FlagInput) client.FeatureFlag {
	t.Helper()
	r, err := s.Client.CreateFlagWithResponse(context.Background(), in, bearerAuth(tok))
	require.NoError(t, err)
	require.Equal(t, http.StatusCreated, r.StatusCode(), "%s", r.Body)
	return r.JSON201.Data
}

// evaluate returns the evaluation of one flag for a targeting key, as the caller tok
// (empty: anonymous).
func (s *testServer) evaluate(t *testing.T, tok, key, targetingKey string) client.FlagEvaluation {
	t.Helper()
	var eds []client.RequestEditorFn
	if tok != "" {
		eds = append(eds, bearerAuth(tok))
	}
	ctx := &client.EvaluationContext{}
	if targetingKey != "" {
		ctx.TargetingKey = &targetingKey
	}
	r, err := s.Client.EvaluateFlagsWithResponse(context.Background(), client.EvaluateRequest{Keys: &[]string{key}, Context: ctx}, eds...)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, r.StatusCode(), "%s", r.Body)
	require.Len(t, r.JSON200.Data.Flags, 1)
	return r.JSON200.Data.Flags[0]
}
