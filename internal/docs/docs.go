// Package docs serves the API documentation UIs (Swagger UI and Redoc)
// entirely from embedded assets, so the docs work offline and the pages load
// nothing from another origin.
//
// Vendored assets (see tools/npm/package.json for the pinned versions):
//   - swagger-ui-bundle.js, swagger-ui.css, favicon-32x32.png from swagger-ui-dist
//     (Apache-2.0: swagger-ui.LICENSE, swagger-ui.NOTICE)
//   - redoc.standalone.js from redoc/bundles (MIT: redoc.LICENSE), with one
//     edit: RedocPatchOld below is replaced by RedocPatchNew, so the sidebar's
//     "API docs by Redocly" link no longer loads its logo from cdn.redoc.ly
//     (Redoc 2 has no option for that; the link text stays)
//   - *.js.LICENSE.txt: third-party notices extracted from those bundles
//
// swagger-init.js, redoc-init.js and docs.css are our own. The pages use no
// inline scripts: the CSP below allows scripts from 'self' only.
//
// To refresh the vendored files after bumping tools/npm/package.json, copy
// them again from tools/npm/node_modules; TestAssetsMatchNodeModules reports
// any drift while node_modules is installed.
package docs

import (
	"embed"
	"html"
	"path"
	"strings"
	"sync"
)

//go:embed assets
var assets embed.FS

// The single edit made to the vendored redoc.standalone.js (see above).
const (
	RedocPatchOld = `src:"https://cdn.redoc.ly/redoc/logo-mini.svg"`
	RedocPatchNew = `src:""`
)

// AssetPrefix is the URL path under which the pages expect Asset to be served.
const AssetPrefix = "/docs/assets/"

// CSP is the Content-Security-Policy the docs pages and assets need.
//
//   - script-src 'self': no inline scripts, no eval.
//   - style-src 'unsafe-inline': Swagger UI and Redoc (styled-components)
//     set inline styles and inject <style> elements at run time.
//   - img-src data:: both UIs draw icons from data: URIs (Swagger UI's CSS, Redoc's styles).
//   - worker-src blob:: Redoc runs its search index in a Worker built from a blob: URL.
//   - connect-src 'self': the UIs fetch /openapi.json (and Swagger UI's
//     "Try it out" calls the API) on the same origin only.
const CSP = "default-src 'none'; " +
	"script-src 'self'; " +
	"style-src 'self' 'unsafe-inline'; " +
	"img-src 'self' data:; " +
	"font-src 'self' data:; " +
	"connect-src 'self'; " +
	"worker-src 'self' blob:; " +
	"base-uri 'none'; " +
	"form-action 'self'; " +
	"frame-ancestors 'none'"

const swaggerBody = `<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/swagger-init.js"></script>
</body>
</html>
`

const redocBody = `</head>
<body>
<div id="redoc"></div>
<script src="/docs/assets/redoc.standalone.js"></script>
<script src="/docs/assets/redoc-init.js"></script>
</body>
</html>
`

// Page returns the HTML of the docs page: "swagger" or "redoc". title goes into <title> (HTML-escaped).
func Page(kind, title string) ([]byte, bool) {
	var body string
	switch kind {
	case "swagger":
		body = swaggerBody
	case "redoc":
		body = redocBody
	default:
		return nil, false
	}
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n")
	b.WriteString("<meta charset=\"utf-8\">\n")
	b.WriteString("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n")
	b.WriteString("<title>")
	b.WriteString(html.EscapeString(title))
	b.WriteString("</title>\n")
	b.WriteString("<link rel=\"icon\" type=\"image/png\" href=\"/docs/assets/favicon-32x32.png\">\n")
	b.WriteString("<link rel=\"stylesheet\" href=\"/docs/assets/docs.css\">\n")
	b.WriteString(body)
	return []byte(b.String()), true
}

var contentTypes = map[string]string{
	".js":      "text/javascript; charset=utf-8",
	".css":     "text/css; charset=utf-8",
	".png":     "image/png",
	".txt":     "text/plain; charset=utf-8",
	".LICENSE": "text/plain; charset=utf-8",
	".NOTICE":  "text/plain; charset=utf-8",
}

// assetCache holds each embedded file read once (embed.FS.ReadFile copies
// on every call, and the bundles are megabytes).
var assetCache = sync.OnceValue(func() map[string][]byte {
	entries, err := assets.ReadDir("assets")
	if err != nil {
		panic("docs: embedded assets: " + err.Error())
	}
	m := make(map[string][]byte, len(entries))
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		b, err := assets.ReadFile("assets/" + e.Name())
		if err != nil {
			panic("docs: embedded assets: " + err.Error())
		}
		m[e.Name()] = b
	}
	return m
})

// Asset returns an embedded asset by file name (no directories; reject anything with '/' or '..'), its Content-Type.
// The returned body is shared between calls and must not be modified.
func Asset(name string) (body []byte, contentType string, ok bool) {
	if name == "" || strings.ContainsAny(name, `/\`) || strings.Contains(name, "..") || strings.HasPrefix(name, ".") {
		return nil, "", false
	}
	ct, known := contentTypes[path.Ext(name)]
	if !known {
		return nil, "", false
	}
	b, found := assetCache()[name]
	if !found {
		return nil, "", false
	}
	return b, ct, true
}
