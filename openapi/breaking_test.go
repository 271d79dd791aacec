package openapi

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// `make check-breaking` (oasdiff, pinned in tools/go.mod) passes on the committed contract
// and fails when a revision removes a response field or narrows a request enum.
func TestCheckBreaking(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	released, err := os.ReadFile("released.yaml")
	if err != nil {
		t.Fatal(err)
	}
	run := func(spec string) (string, error) {
		cmd := exec.Command("make", "-s", "-C", "..", "check-breaking", "SPEC="+spec)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	if out, err := run("openapi/openapi.yaml"); err != nil {
		t.Fatalf("the committed contract breaks the released one:\n%s", out)
	}

	dir := t.TempDir()
	mutate := func(name string, change func(schemas map[string]any)) string {
		var doc map[string]any
		if err := yaml.Unmarshal(released, &doc); err != nil {
			t.Fatal(err)
		}
		change(doc["components"].(map[string]any)["schemas"].(map[string]any))
		b, err := yaml.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name, want string
		change     func(schemas map[string]any)
	}{
		{"removed response field", "response-required-property-removed", func(s map[string]any) {
			ff := s["FeatureFlag"].(map[string]any)
			delete(ff["properties"].(map[string]any), "owner")
			var req []any
			for _, r := range ff["required"].([]any) {
				if r != "owner" {
					req = append(req, r)
				}
			}
			ff["required"] = req
		}},
		{"narrowed enum", "enum value `json`", func(s map[string]any) {
			ft := s["FlagType"].(map[string]any)
			ft["enum"] = []any{"boolean", "string", "number", "multivariate"} // without json
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			out, err := run(mutate(strings.ReplaceAll(tc.name, " ", "-")+".yaml", tc.change))
			if err == nil {
				t.Fatalf("check-breaking passed a %s:\n%s", tc.name, out)
			}
			if !strings.Contains(out, "breaks clients of the released contract") || !strings.Contains(out, tc.want) {
				t.Fatalf("check-breaking output does not name the break (%q):\n%s", tc.want, out)
			}
		})
	}
}
