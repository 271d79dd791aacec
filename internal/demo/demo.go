// Package demo serves /demo/voice: a small browser page that holds a spoken conversation
// over the voice pipeline WebSocket. Like the API docs it is served entirely from embedded
// files, so it works offline, and it has no inline script or style: the CSP below allows
// scripts, styles and connections to the page's own origin only.
//
//   - index.html: the page
//   - app.js: the WebSocket client, playback and the page's state (window.voiceStats)
//   - capture.js: microphone capture and resampling to 16 kHz PCM16; loaded both as the
//     AudioWorklet module and as a page script (the ScriptProcessor fallback uses its resampler)
//   - style.css
package demo

import (
	"embed"
	"path"
	"strings"
)

//go:embed assets
var assets embed.FS

// PagePath is the page's URL path; its files are served under AssetPrefix.
const (
	PagePath    = "/demo/voice"
	AssetPrefix = PagePath + "/"
)

// CSP is the Content-Security-Policy of the page and its files.
//
//   - script-src 'self': app.js and the AudioWorklet module (capture.js); no inline code, no eval.
//   - connect-src 'self': the WebSocket to /api/voice/pipeline-ws ('self' covers ws: and wss:
//     on the same host and port).
//   - media-src 'self' blob:: nothing is fetched, but audio graphs may use blob: sources.
const CSP = "default-src 'none'; " +
	"script-src 'self'; " +
	"style-src 'self'; " +
	"img-src 'self' data:; " +
	"connect-src 'self'; " +
	"media-src 'self' blob:; " +
	"base-uri 'none'; " +
	"form-action 'none'; " +
	"frame-ancestors 'none'"

// PermissionsPolicy lets the page (and only the page) use the microphone of its own origin.
const PermissionsPolicy = "geolocation=(), microphone=(self), camera=()"

var contentTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
}

// Page returns the HTML of the page.
func Page() []byte { return mustRead("index.html") }

// Asset returns one of the page's files by name (no directories) and its Content-Type.
// The page itself is not an asset.
func Asset(name string) (body []byte, contentType string, ok bool) {
	if name == "" || strings.ContainsAny(name, `/\`) || strings.HasPrefix(name, ".") {
		return nil, "", false
	}
	ct, known := contentTypes[path.Ext(name)]
	if !known {
		return nil, "", false
	}
	b, err := assets.ReadFile("assets/" + name)
	if err != nil {
		return nil, "", false
	}
	return b, ct, true
}

func mustRead(name string) []byte {
	b, err := assets.ReadFile("assets/" + name)
	if err != nil {
		panic("demo: embedded " + name + ": " + err.Error())
	}
	return b
}
