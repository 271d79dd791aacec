package tests

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/demo"
)

const chromiumPath = "/usr/bin/chromium"

// needChromium skips without Chromium on a developer machine; CI installs it (make test
// runs scripts/browser-deps.sh), so there a missing browser fails.
func needChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("chromium missing in CI: %v", err)
		}
		t.Skipf("chromium not installed (scripts/browser-deps.sh): %v", err)
	}
}

// browser is one headless Chromium tab whose console is recorded.
type browser struct {
	ctx     context.Context
	mu      sync.Mutex
	console []chromedp.ConsoleMessage
}

// newBrowser starts Chromium with a fresh profile and a fake microphone that plays
// micWAV once ("" for the default beep), for the whole test.
func newBrowser(t *testing.T, micWAV string) *browser {
	t.Helper()
	needChromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.UserDataDir(t.TempDir()),
	}
	for _, f := range []string{"headless", "no-sandbox", "disable-gpu", "disable-quic", "no-first-run",
		"disable-background-networking", "disable-component-update", "disable-sync",
		"use-fake-ui-for-media-stream", "use-fake-device-for-media-stream"} {
		opts = append(opts, chromedp.Flag(f, true))
	}
	opts = append(opts, chromedp.Flag("autoplay-policy", "no-user-gesture-required"))
	if micWAV != "" {
		opts = append(opts, chromedp.Flag("use-file-for-fake-audio-capture", micWAV+"%noloop"))
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	b := &browser{ctx: ctx}
	_, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void]("1")) // start the browser and the tab
	require.NoError(t, err)
	messages := chromedp.Console(ctx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.console = append(b.console, m)
			b.mu.Unlock()
		}
	}()
	return b
}

// errors lists the console errors and exceptions so far (CSP violations and failed loads
// are browser-log errors).
func (b *browser) errors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, m := range b.console {
		if m.Type == chromedp.ConsoleError || m.IsException() {
			out = append(out, m.String()+" ("+m.URL+")")
		}
	}
	return out
}

// eval runs a script (awaiting a promise) under an overall limit and decodes its result.
func eval[T any](t *testing.T, b *browser, script string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](script, chromedp.EvalAwaitPromise))
	require.NoError(t, err, script)
	return v
}

func (b *browser) open(t *testing.T, url string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(url)))
}

func TestDemoPageServed(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	ctx := context.Background()

	p, err := s.Client.GetDemoVoiceWithResponse(ctx)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, p.StatusCode())
	h := p.HTTPResponse.Header
	require.Contains(t, h.Get("Content-Type"), "text/html")
	require.Equal(t, demo.CSP, h.Get("Content-Security-Policy"))
	require.Contains(t, h.Get("Content-Security-Policy"), "script-src 'self'")
	require.Contains(t, h.Get("Content-Security-Policy"), "connect-src 'self'")
	require.Equal(t, "geolocation=(), microphone=(self), camera=()", h.Get("Permissions-Policy"))
	html := string(p.Body)
	require.Contains(t, html, `<script src="/demo/voice/app.js"></script>`)
	require.NotContains(t, html, "https://", "the page loads nothing from another origin")
	require.NotContains(t, html, "<script>", "no inline scripts")
	require.NotContains(t, html, "style=", "no inline styles")

	for name, ctype := range map[string]string{"app.js": "text/javascript", "capture.js": "text/javascript", "style.css": "text/css"} {
		a, err := s.Client.GetDemoVoiceAssetWithResponse(ctx, name)
		require.NoError(t, err)
		require.Equal(t, http.StatusOK, a.StatusCode(), name)
		require.Contains(t, a.HTTPResponse.Header.Get("Content-Type"), ctype, name)
		require.NotEmpty(t, a.Body, name)
		require.Equal(t, demo.CSP, a.HTTPResponse.Header.Get("Content-Security-Policy"), name)
		require.Equal(t, "geolocation=(), microphone=(), camera=()", a.HTTPResponse.Header.Get("Permissions-Policy"),
			"%s: only the page itself may use the microphone", name)
	}

	for _, name := range []string{"nope.js", "index.html", "demo.go"} {
		a, err := s.Client.GetDemoVoiceAssetWithResponse(ctx, name)
		require.NoError(t, err)
		require.Equal(t, http.StatusNotFound, a.StatusCode(), name)
		require.Equal(t, "NOT_FOUND", errorOf(t, a.Body).Error.Code)
	}
	res, body := s.raw(t, http.MethodGet, "/demo/voice/..%2F..%2Fgo.mod", "", nil)
	require.GreaterOrEqual(t, res.StatusCode, 400)
	require.Less(t, res.StatusCode, 500)
	require.NotContains(t, string(body), "module github.com")

	// Every other response keeps the microphone off, the docs included.
	for _, path := range []string{"/health", "/docs", "/demo/voices", "/api/nothing-here"} {
		res, _ := s.raw(t, http.MethodGet, path, "", nil)
		require.Equal(t, "geolocation=(), microphone=(), camera=()", res.Header.Get("Permissions-Policy"), path)
	}
}

func TestDemoPageHidden(t *testing.T) {
	t.Parallel()
	for name, env := range map[string]map[string]string{
		"docs disabled": {"DOCS_ENABLED": "false"},
		"production":    {"ENVIRONMENT": "production"},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			s := startServer(t, env)
			ctx := context.Background()
			p, err := s.Client.GetDemoVoiceWithResponse(ctx)
			require.NoError(t, err)
			require.Equal(t, http.StatusNotFound, p.StatusCode())
			require.Equal(t, "NOT_FOUND", errorOf(t, p.Body).Error.Code)
			a, err := s.Client.GetDemoVoiceAssetWithResponse(ctx, "app.js")
			require.NoError(t, err)
			require.Equal(t, http.StatusNotFound, a.StatusCode())
		})
	}
}

// The page loads under its CSP without a console error, its AudioWorklet module loads, its
// resampler makes 16 kHz frames, and the microphone is allowed on the page and nowhere else.
func TestDemoPageInBrowser(t *testing.T) {
	t.Parallel()
	needChromium(t)
	s := startServer(t, nil)
	b := newBrowser(t, "")

	b.open(t, s.URL+demo.PagePath)
	require.True(t, eval[bool](t, b, `typeof window.voiceStats === "object" && window.voiceStats.framesSent === 0`))
	require.Equal(t, "disconnected", eval[string](t, b, `document.getElementById("conn").textContent`))

	// 100 ms of a 48 kHz sine -> five 20 ms frames at 16 kHz, same amplitude.
	frames := eval[[]int](t, b, `(() => {
		const r = new PCM16Resampler(48000, 16000, 320), out = [];
		const x = new Float32Array(4800);
		for (let i = 0; i < x.length; i++) x[i] = 0.5 * Math.sin(2 * Math.PI * 440 * i / 48000);
		r.push(x.subarray(0, 1000), (f) => out.push(f));
		r.push(x.subarray(1000), (f) => out.push(f));
		return out.map((f) => f.reduce((m, v) => Math.max(m, Math.abs(v)), 0));
	})()`)
	require.Len(t, frames, 5)
	for _, peak := range frames {
		require.InDelta(t, 16384, peak, 600, "peaks of a 0.5 sine in PCM16: %v", frames)
	}

	// The worklet module is allowed by script-src 'self' and registers its processor.
	require.Equal(t, "ok", eval[string](t, b, `(async () => {
		const ctx = new AudioContext();
		await ctx.audioWorklet.addModule("/demo/voice/capture.js");
		new AudioWorkletNode(ctx, "pcm16-capture");
		await ctx.close();
		return "ok";
	})()`))

	const mic = `navigator.mediaDevices.getUserMedia({audio: true}).then(
		(s) => { s.getTracks().forEach((t) => t.stop()); return "allowed"; }, (e) => e.name)`
	require.Equal(t, "allowed", eval[string](t, b, mic))
	require.Empty(t, b.errors())

	b.open(t, s.URL+"/health")
	require.Equal(t, "NotAllowedError", eval[string](t, b, mic), "Permissions-Policy microphone=() elsewhere")
}

// A spoken question through the page: Chromium's fake microphone plays a WAV made by the
// server's own offline TTS; the page streams it, and shows the transcript, the cited answer
// and plays the spoken answer.
func TestDemoVoiceConversationInBrowser(t *testing.T) {
	t.Parallel()
	needOfflineVoice(t)
	needChromium(t)
	s := startServer(t, nil)
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	d := s.addText(t, admin, "Hypertension", "# Hypertension\n\n## Treatment\n\nThe first line treatment for hypertension is a thiazide diuretic, an ACE inhibitor or a calcium channel blocker.")
	require.Equal(t, client.KbDocumentStatusIndexed, s.waitIndexed(t, admin, d.Id).Status)
	tok := s.token(t, s.account(t, auth.RoleUser))

	sp := s.synthesize(t, tok, client.SynthesisInput{Text: "What is the first line treatment for hypertension?",
		Voice: ptr("kal16"), Format: ptr(client.Wav)})
	require.Equal(t, http.StatusOK, sp.StatusCode(), "%s", sp.Body)
	require.Greater(t, len(sp.Body), 44)
	require.Equal(t, uint32(16000), binary.LittleEndian.Uint32(sp.Body[24:28]), "question.wav is 16 kHz")
	require.Equal(t, uint16(1), binary.LittleEndian.Uint16(sp.Body[22:24]), "question.wav is mono")
	wav := filepath.Join(t.TempDir(), "question.wav")
	require.NoError(t, os.WriteFile(wav, sp.Body, 0o600))

	b := newBrowser(t, wav)
	b.open(t, s.URL+demo.PagePath+"#token="+tok)

	// Done when the answer has been spoken (played samples are counted once a chunk ends).
	ctx, cancel := context.WithTimeout(b.ctx, 45*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](
		`voiceStats.answers.length > 0 && voiceStats.samplesPlayed > 0 && voiceStats.state !== "speaking"`,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(0)))
	var stats struct {
		FramesSent    int      `json:"framesSent"`
		SamplesPlayed int      `json:"samplesPlayed"`
		Transcripts   []string `json:"transcripts"`
		Answers       []string `json:"answers"`
		Citations     []struct {
			N          int    `json:"n"`
			Title      string `json:"title"`
			DocumentID string `json:"document_id"`
		} `json:"citations"`
		Errors []string `json:"errors"`
	}
	raw := eval[string](t, b, `JSON.stringify(window.voiceStats)`)
	require.NoError(t, json.Unmarshal([]byte(raw), &stats))
	require.NoError(t, err, "page state: %s\nlog:\n%s", raw, eval[string](t, b, `document.getElementById("log").textContent`))

	require.Greater(t, stats.FramesSent, 0)
	require.NotEmpty(t, stats.Transcripts)
	require.Contains(t, strings.ToLower(stats.Transcripts[0]), "hypertension", "what the server heard")
	require.NotEmpty(t, stats.Answers)
	require.NotEmpty(t, stats.Citations, "the answer cites the knowledge base")
	require.Equal(t, "Hypertension", stats.Citations[0].Title)
	require.Equal(t, d.Id.String(), stats.Citations[0].DocumentID)
	require.Greater(t, stats.SamplesPlayed, 0)
	require.Empty(t, stats.Errors)
	// The citation is on the page too, not only in voiceStats.
	require.Contains(t, eval[string](t, b, `document.getElementById("turns").textContent`), d.Id.String())
	require.Empty(t, b.errors())
}
