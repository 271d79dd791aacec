package demo

import (
	"regexp"
	"strings"
	"testing"
)

func TestAssets(t *testing.T) {
	for name, ctype := range map[string]string{
		"app.js":     "text/javascript; charset=utf-8",
		"capture.js": "text/javascript; charset=utf-8",
		"style.css":  "text/css; charset=utf-8",
	} {
		body, ct, ok := Asset(name)
		if !ok || ct != ctype || len(body) == 0 {
			t.Errorf("Asset(%q) = %d bytes, %q, %v; want content of type %q", name, len(body), ct, ok, ctype)
		}
	}
	for _, name := range []string{"", "nope.js", "index.html", "../demo.go", "assets/app.js", `..\app.js`, ".app.js", "demo.go"} {
		if _, _, ok := Asset(name); ok {
			t.Errorf("Asset(%q) found; want not found", name)
		}
	}
}

// The page is CSP-friendly: every script and stylesheet is one of our files, nothing inline,
// nothing from another origin.
func TestPageReferencesOnlyItsAssets(t *testing.T) {
	page := string(Page())
	if strings.Contains(page, "<script>") || strings.Contains(page, "<style") || strings.Contains(page, " style=") {
		t.Error("inline script or style in the page")
	}
	if regexp.MustCompile(`\son[a-z]+=`).MatchString(page) {
		t.Error("inline event handler in the page")
	}
	if strings.Contains(page, "//") && regexp.MustCompile(`(src|href)="(https?:)?//`).MatchString(page) {
		t.Error("the page loads something from another origin")
	}
	refs := regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(page, -1)
	if len(refs) < 3 {
		t.Fatalf("refs = %v; want the scripts and the stylesheet", refs)
	}
	for _, r := range refs {
		ref := r[1]
		if ref == "data:," { // the empty favicon: no request for /favicon.ico
			continue
		}
		name, ok := strings.CutPrefix(ref, AssetPrefix)
		if !ok {
			t.Errorf("%q is not under %s", ref, AssetPrefix)
			continue
		}
		if _, _, ok := Asset(name); !ok {
			t.Errorf("%q is not an embedded asset", ref)
		}
	}
	// The worklet module is loaded by app.js from the same place.
	app, _, _ := Asset("app.js")
	if !strings.Contains(string(app), `addModule('`+AssetPrefix+`capture.js')`) {
		t.Error("app.js does not load the worklet from " + AssetPrefix + "capture.js")
	}
}

func TestCSP(t *testing.T) {
	for _, d := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(CSP, d) {
			t.Errorf("CSP lacks %q: %s", d, CSP)
		}
	}
	if strings.Contains(CSP, "unsafe-") {
		t.Errorf("CSP allows unsafe sources: %s", CSP)
	}
	if !strings.Contains(PermissionsPolicy, "microphone=(self)") || strings.Contains(PermissionsPolicy, "camera=(self)") {
		t.Errorf("PermissionsPolicy = %q; want the microphone of the own origin only", PermissionsPolicy)
	}
}
