package flagstore_test

import (
	"encoding/json"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/flageval"
	"github.com/voiceassist/gateway/internal/flagstore"
)

func stored() flageval.Flag {
	return flageval.Flag{
		Key: "ui.dark_mode", Description: "dark theme", Owner: "web", Type: flageval.TypeBoolean, Enabled: true,
		Value: true, DefaultValue: false, RolloutPercentage: 40, Salt: "s1", Visibility: flageval.VisibilityPublic,
		Tags: []string{"theme"}, Version: 7,
		Rules: []flageval.Rule{{ID: "r1", Priority: 1, Value: true,
			Conditions: []flageval.Condition{{Attribute: "role", Operator: "equals", Value: "admin"}}}},
	}
}

func TestMergePatchReplacesOnlyGivenFields(t *testing.T) {
	t.Parallel()
	got, err := flagstore.MergePatch(stored(), map[string]json.RawMessage{
		"rollout_percentage": json.RawMessage(`75`),
		"tags":               json.RawMessage(`["a","b"]`),
	})
	require.NoError(t, err)
	want := stored()
	want.RolloutPercentage, want.Tags = 75, []string{"a", "b"}
	require.Equal(t, want, got)
}

func TestMergePatchReplacesListsWhole(t *testing.T) {
	t.Parallel()
	got, err := flagstore.MergePatch(stored(), map[string]json.RawMessage{"rules": json.RawMessage(`[]`)})
	require.NoError(t, err)
	require.Empty(t, got.Rules)
	require.Equal(t, "s1", got.Salt)
}

func TestMergePatchKeepsTheStoredVersion(t *testing.T) {
	t.Parallel()
	got, err := flagstore.MergePatch(stored(), map[string]json.RawMessage{"version": json.RawMessage(`99`), "enabled": json.RawMessage(`false`)})
	require.NoError(t, err)
	require.Equal(t, int64(7), got.Version)
	require.False(t, got.Enabled)
}

func TestMergePatchRejectsAFieldOfTheWrongType(t *testing.T) {
	t.Parallel()
	_, err := flagstore.MergePatch(stored(), map[string]json.RawMessage{"enabled": json.RawMessage(`"yes"`)})
	require.ErrorContains(t, err, "ui.dark_mode")
}

func TestVisibilityFor(t *testing.T) {
	t.Parallel()
	key := uuid.New()
	for _, c := range []struct {
		name string
		p    *auth.Principal
		want flageval.Visibility
	}{
		{"anonymous", nil, flageval.VisibilityPublic},
		{"user", &auth.Principal{Role: auth.RoleUser}, flageval.VisibilityAuthenticated},
		{"viewer", &auth.Principal{Role: auth.RoleViewer}, flageval.VisibilityAdmin},
		{"admin token", &auth.Principal{Role: auth.RoleAdmin}, flageval.VisibilityAdmin},
		{"admin API key", &auth.Principal{Role: auth.RoleAdmin, APIKeyID: &key}, flageval.VisibilityInternal},
		{"user API key", &auth.Principal{Role: auth.RoleUser, APIKeyID: &key}, flageval.VisibilityAuthenticated},
	} {
		require.Equal(t, c.want, flagstore.VisibilityFor(c.p), c.name)
	}
	require.Equal(t, flageval.VisibilityAdmin.Level(), flagstore.StreamLevel(flageval.VisibilityInternal))
	require.Equal(t, flageval.VisibilityPublic.Level(), flagstore.StreamLevel(flageval.VisibilityPublic))
}
