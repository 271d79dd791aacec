package docs

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var kinds = []string{"swagger", "redoc"}

func mustPage(t *testing.T, kind, title string) string {
	t.Helper()
	b, ok := Page(kind, title)
	if !ok {
		t.Fatalf("Page(%q) not found", kind)
	}
	return string(b)
}

func TestPageTitleEscaped(t *testing.T) {
	const title = `VoiceAssist <API> & "Gateway"`
	const want = `<title>VoiceAssist &lt;API&gt; &amp; &#34;Gateway&#34;</title>`
	for _, kind := range kinds {
		p := mustPage(t, kind, title)
		if !strings.Contains(p, want) {
			t.Errorf("%s: missing escaped title %q in\n%s", kind, want, p)
		}
		if strings.Contains(p, "<API>") {
			t.Errorf("%s: raw title leaked into the page", kind)
		}
	}
}

func TestPageStructure(t *testing.T) {
	wantAssets := map[string][]string{
		"swagger": {"/docs/assets/swagger-ui-bundle.js", "/docs/assets/swagger-init.js", "/docs/assets/swagger-ui.css"},
		"redoc":   {"/docs/assets/redoc.standalone.js", "/docs/assets/redoc-init.js"},
	}
	for _, kind := range kinds {
		p := mustPage(t, kind, "T")
		for _, s := range []string{
			"<!DOCTYPE html>",
			`<html lang="en">`,
			`<meta charset="utf-8">`,
			`<meta name="viewport" content="width=device-width, initial-scale=1">`,
			"</html>",
		} {
			if !strings.Contains(p, s) {
				t.Errorf("%s: missing %q", kind, s)
			}
		}
		if !strings.HasPrefix(p, "<!DOCTYPE html>") {
			t.Errorf("%s: doctype must come first", kind)
		}
		if i, j := strings.Index(p, `<meta charset`), strings.Index(p, "<title>"); i < 0 || j < 0 || i > j {
			t.Errorf("%s: <meta charset> must precede <title>", kind)
		}
		for _, a := range wantAssets[kind] {
			if !strings.Contains(p, `"`+a+`"`) {
				t.Errorf("%s: page does not reference %s", kind, a)
			}
		}
	}
	if _, ok := Page("nope", "T"); ok {
		t.Error(`Page("nope") ok`)
	}
	if _, ok := Page("", "T"); ok {
		t.Error(`Page("") ok`)
	}
}

var (
	srcHrefRe   = regexp.MustCompile(`(?i)\b(?:src|href)\s*=\s*"([^"]*)"`)
	scriptTagRe = regexp.MustCompile(`(?is)<script\b([^>]*)>(.*?)</script>`)
)

// The server's CSP forbids inline scripts and anything cross-origin.
func TestPageNoInlineScriptsOrForeignOrigins(t *testing.T) {
	for _, kind := range kinds {
		p := mustPage(t, kind, "T")
		scripts := scriptTagRe.FindAllStringSubmatch(p, -1)
		if len(scripts) == 0 {
			t.Errorf("%s: no <script> tags", kind)
		}
		for _, m := range scripts {
			if !strings.Contains(m[1], "src=") || strings.TrimSpace(m[2]) != "" {
				t.Errorf("%s: inline script %q", kind, m[0])
			}
		}
		low := strings.ToLower(p)
		for _, bad := range []string{"http:", "https:", "//", " on", "javascript:", "<style", "style="} {
			// "//" would also catch protocol-relative URLs; the pages have no comments.
			if strings.Contains(low, bad) {
				t.Errorf("%s: page contains %q", kind, bad)
			}
		}
		for _, m := range srcHrefRe.FindAllStringSubmatch(p, -1) {
			if !strings.HasPrefix(m[1], "/") || strings.HasPrefix(m[1], "//") {
				t.Errorf("%s: reference %q is not same-origin absolute path", kind, m[1])
			}
		}
	}
}

func TestEveryReferencedAssetResolves(t *testing.T) {
	for _, kind := range kinds {
		p := mustPage(t, kind, "T")
		refs := srcHrefRe.FindAllStringSubmatch(p, -1)
		if len(refs) < 3 {
			t.Fatalf("%s: expected several asset references, got %d", kind, len(refs))
		}
		for _, m := range refs {
			u := m[1]
			name, found := strings.CutPrefix(u, AssetPrefix)
			if !found {
				t.Errorf("%s: %q not under %s", kind, u, AssetPrefix)
				continue
			}
			body, ct, ok := Asset(name)
			if !ok {
				t.Errorf("%s: %q does not resolve via Asset", kind, u)
				continue
			}
			if len(body) == 0 || ct == "" {
				t.Errorf("%s: %q: empty body or content type", kind, u)
			}
			switch filepath.Ext(name) {
			case ".js":
				if !strings.HasPrefix(ct, "text/javascript") {
					t.Errorf("%s: content type %q", name, ct)
				}
			case ".css":
				if !strings.HasPrefix(ct, "text/css") {
					t.Errorf("%s: content type %q", name, ct)
				}
			case ".png":
				if ct != "image/png" || !bytes.HasPrefix(body, []byte("\x89PNG")) {
					t.Errorf("%s: content type %q or not a PNG", name, ct)
				}
			}
		}
	}
}

func TestAssetsPresent(t *testing.T) {
	for _, name := range []string{
		"swagger-ui-bundle.js", "swagger-ui.css", "favicon-32x32.png", "swagger-init.js",
		"redoc.standalone.js", "redoc-init.js", "docs.css",
		"swagger-ui.LICENSE", "swagger-ui.NOTICE", "redoc.LICENSE",
		"swagger-ui-bundle.js.LICENSE.txt", "redoc.standalone.js.LICENSE.txt",
	} {
		if _, _, ok := Asset(name); !ok {
			t.Errorf("Asset(%q) missing", name)
		}
	}
	b, _, _ := Asset("swagger-init.js")
	for _, s := range []string{"SwaggerUIBundle(", `url: "/openapi.json"`, `dom_id: "#swagger-ui"`, "deepLinking: true"} {
		if !bytes.Contains(b, []byte(s)) {
			t.Errorf("swagger-init.js lacks %q", s)
		}
	}
	b, _, _ = Asset("redoc-init.js")
	if !bytes.Contains(b, []byte(`Redoc.init("/openapi.json", {}, document.getElementById("redoc"))`)) {
		t.Error("redoc-init.js lacks the Redoc.init call")
	}
}

func TestAssetRejectsTraversal(t *testing.T) {
	for _, name := range []string{
		"", ".", "..", "../docs.go", "..%2fdocs.go", "assets/swagger-init.js", "/swagger-init.js",
		"swagger-init.js/", `..\docs.go`, `sub\swagger-init.js`, "docs.go", "docs_test.go",
		"swagger-init.js..", "...js", ".hidden.js", "nope.js", "swagger-init.JS",
	} {
		if b, ct, ok := Asset(name); ok || b != nil || ct != "" {
			t.Errorf("Asset(%q) = %d bytes, %q, %v; want rejection", name, len(b), ct, ok)
		}
	}
}

func TestCSP(t *testing.T) {
	for _, bad := range []string{"unsafe-eval", "*", "http:", "https:", "wasm-unsafe-eval"} {
		if strings.Contains(CSP, bad) {
			t.Errorf("CSP contains %q: %s", bad, CSP)
		}
	}
	directives := map[string]string{}
	for _, d := range strings.Split(CSP, ";") {
		f := strings.Fields(d)
		if len(f) == 0 {
			t.Errorf("empty directive in %q", CSP)
			continue
		}
		if _, dup := directives[f[0]]; dup {
			t.Errorf("duplicate directive %q", f[0])
		}
		directives[f[0]] = strings.Join(f[1:], " ")
	}
	want := map[string]string{
		"default-src": "'none'",
		"script-src":  "'self'",
		"style-src":   "'self' 'unsafe-inline'",
		"img-src":     "'self' data:",
		"worker-src":  "'self' blob:",
		"connect-src": "'self'",
	}
	for k, v := range want {
		if directives[k] != v {
			t.Errorf("CSP %s = %q, want %q", k, directives[k], v)
		}
	}
	if strings.ContainsAny(CSP, "\r\n") {
		t.Error("CSP must be a single header line")
	}
}

// Nothing embedded may make the browser fetch from another origin on its own.
func TestAssetsLoadNothingCrossOrigin(t *testing.T) {
	for _, name := range []string{"redoc.standalone.js", "swagger-ui-bundle.js", "swagger-ui.css", "docs.css"} {
		b, _, _ := Asset(name)
		for _, bad := range []string{"cdn.redoc.ly", "fonts.googleapis.com", "fonts.gstatic.com", "url(http", "url(//", "@import"} {
			if bytes.Contains(b, []byte(bad)) {
				t.Errorf("%s contains %q", name, bad)
			}
		}
	}
	b, _, _ := Asset("swagger-init.js")
	if !bytes.Contains(b, []byte("validatorUrl: null")) {
		t.Error("swagger-init.js must disable the validator badge (an image from validator.swagger.io)")
	}
}

// While tools/npm/node_modules is installed, the vendored copies must match
// the pinned packages byte for byte (catches a version bump without a re-copy).
func TestAssetsMatchNodeModules(t *testing.T) {
	nm := filepath.Join("..", "..", "tools", "npm", "node_modules")
	if _, err := os.Stat(nm); err != nil {
		t.Skip("tools/npm/node_modules not installed")
	}
	for asset, src := range map[string]string{
		"swagger-ui-bundle.js":             "swagger-ui-dist/swagger-ui-bundle.js",
		"swagger-ui-bundle.js.LICENSE.txt": "swagger-ui-dist/swagger-ui-bundle.js.LICENSE.txt",
		"swagger-ui.css":                   "swagger-ui-dist/swagger-ui.css",
		"favicon-32x32.png":                "swagger-ui-dist/favicon-32x32.png",
		"swagger-ui.LICENSE":               "swagger-ui-dist/LICENSE",
		"swagger-ui.NOTICE":                "swagger-ui-dist/NOTICE",
		"redoc.standalone.js":              "redoc/bundles/redoc.standalone.js",
		"redoc.standalone.js.LICENSE.txt":  "redoc/bundles/redoc.standalone.js.LICENSE.txt",
		"redoc.LICENSE":                    "redoc/LICENSE",
	} {
		want, err := os.ReadFile(filepath.Join(nm, filepath.FromSlash(src)))
		if err != nil {
			t.Errorf("%s: %v", src, err)
			continue
		}
		if asset == "redoc.standalone.js" {
			if n := bytes.Count(want, []byte(RedocPatchOld)); n != 1 {
				t.Errorf("node_modules/%s: %d occurrences of %s, want 1: review the patch", src, n, RedocPatchOld)
			}
			want = bytes.Replace(want, []byte(RedocPatchOld), []byte(RedocPatchNew), 1)
		}
		got, _, ok := Asset(asset)
		if !ok || !bytes.Equal(got, want) {
			t.Errorf("assets/%s differs from node_modules/%s: copy it again", asset, src)
		}
	}
}
