package tests

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/auth"
)

// TestOpenFeatureJSSDK runs tests/ofrep/conformance.mjs: the real OpenFeature JavaScript
// server SDK with @openfeature/ofrep-provider, and the web SDK with its OFREP provider
// (bulk, ETag/304), against this gateway, unmodified.
func TestOpenFeatureJSSDK(t *testing.T) {
	t.Parallel()
	_, nodeErr := exec.LookPath("node")
	_, modErr := os.Stat("../tools/npm/node_modules/@openfeature/server-sdk")
	if nodeErr != nil || modErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("node and tools/npm/node_modules are required in CI (make test installs them)")
		}
		t.Skip("node or the npm tools are missing (run `make npm-tools`)")
	}
	s := startServer(t, nil)
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	pub := client.FlagVisibilityPublic
	adm := client.FlagVisibilityAdmin
	s.createFlag(t, admin, client.FlagInput{Key: "ui.dark_mode", Type: client.FlagTypeBoolean, Enabled: ptr(true), Value: anyv(true), Visibility: &pub})
	s.createFlag(t, admin, client.FlagInput{Key: "backend.rag_strategy", Type: client.FlagTypeMultivariate, Enabled: ptr(true),
		Variants: &[]client.FlagVariant{variant("hybrid", "hybrid", 100), variant("keyword", "keyword", 0)}})
	s.createFlag(t, admin, client.FlagInput{Key: "ops.max_upload_mb", Type: client.FlagTypeNumber, Enabled: ptr(true), Value: anyv(25), DefaultValue: anyv(10)})
	s.createFlag(t, admin, client.FlagInput{Key: "integration.theme_config", Type: client.FlagTypeJson, Enabled: ptr(true),
		Value: anyv(map[string]any{"primary": "#0055aa", "density": "compact"}), DefaultValue: anyv(map[string]any{})})
	s.createFlag(t, admin, client.FlagInput{Key: "admin.secret_switch", Type: client.FlagTypeBoolean, Enabled: ptr(true), Visibility: &adm})

	script, err := filepath.Abs("ofrep/conformance.mjs")
	require.NoError(t, err)
	cmd := exec.Command("node", script)
	cmd.Env = append(os.Environ(), "OFREP_BASE_URL="+s.URL, "OFREP_TOKEN="+s.token(t, s.account(t, auth.RoleUser)))
	out, err := cmd.CombinedOutput()
	t.Logf("%s", out)
	require.NoError(t, err, "the OpenFeature SDK conformance script failed")
}
