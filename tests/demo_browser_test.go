package tests

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/gorilla/websocket"
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

	// Every other document keeps the microphone off, the docs included; JSON answers are not
	// documents and carry only nosniff and Cache-Control of these headers (docs/operations.md).
	for _, path := range []string{"/docs", "/redoc"} {
		res, _ := s.raw(t, http.MethodGet, path, "", nil)
		require.Equal(t, "geolocation=(), microphone=(), camera=()", res.Header.Get("Permissions-Policy"), path)
	}
	for _, path := range []string{"/health", "/demo/voices", "/api/nothing-here"} {
		res, _ := s.raw(t, http.MethodGet, path, "", nil)
		require.Contains(t, res.Header.Get("Content-Type"), "application/json", path)
		require.Empty(t, res.Header.Get("Permissions-Policy"), path)
		require.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"), path)
		require.NotEmpty(t, res.Header.Get("Cache-Control"), path)
		require.NotEmpty(t, res.Header.Get("X-Request-ID"), path)
		require.NotEmpty(t, res.Header.Get("Traceparent"), path)
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

	// Every other page keeps the microphone off. (JSON answers carry no Permissions-Policy
	// since issue 17: a JSON document runs no script that could ask for it.)
	b.open(t, s.URL+"/redoc")
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

	// Done when the answer is in and its speech is being heard (a chunk counts as played once
	// it has ended) and the server is no longer speaking.
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
	t.Logf("voiceStats: %s", raw)

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

// stubPipeline serves the demo page and a scripted /api/voice/pipeline-ws, to check the
// page's side of the protocol (docs/voice.md) frame by frame.
type stubPipeline struct {
	t        *testing.T
	token    string
	conns    chan *websocket.Conn
	texts    chan map[string]any // client text frames after session.init
	mu       sync.Mutex
	frames   int    // binary input frames received
	badFrame string // the first malformed binary frame, if any
}

func newStubPipeline(t *testing.T, token string) (*stubPipeline, string) {
	st := &stubPipeline{t: t, token: token, conns: make(chan *websocket.Conn, 1), texts: make(chan map[string]any, 64)}
	up := websocket.Upgrader{Subprotocols: []string{"bearer"}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /demo/voice", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", demo.CSP)
		w.Header().Set("Permissions-Policy", demo.PermissionsPolicy)
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(demo.Page())
	})
	mux.HandleFunc("GET /demo/voice/{name}", func(w http.ResponseWriter, r *http.Request) {
		body, ct, ok := demo.Asset(r.PathValue("name"))
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Security-Policy", demo.CSP)
		w.Header().Set("Content-Type", ct)
		_, _ = w.Write(body)
	})
	mux.HandleFunc("GET /api/voice/pipeline-ws", func(w http.ResponseWriter, r *http.Request) {
		if got := r.Header.Get("Sec-WebSocket-Protocol"); got != "bearer, "+st.token {
			http.Error(w, "subprotocols: "+got, http.StatusUnauthorized)
			return
		}
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		st.conns <- ws
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return st, srv.URL
}

// serve reads the client's frames until the socket closes: binary input frames are
// checked and counted, text frames go to st.texts.
func (st *stubPipeline) serve(ws *websocket.Conn) {
	for seq := uint32(1); ; {
		kind, data, err := ws.ReadMessage()
		if err != nil {
			close(st.texts)
			return
		}
		if kind == websocket.BinaryMessage {
			st.mu.Lock()
			switch {
			case st.badFrame != "":
			case len(data) != 5+2*320 || data[0] != 0x01:
				st.badFrame = fmt.Sprintf("frame %d: %d bytes, type %#x", seq, len(data), data[0])
			case binary.BigEndian.Uint32(data[1:5]) != seq:
				st.badFrame = fmt.Sprintf("frame %d: seq %d", seq, binary.BigEndian.Uint32(data[1:5]))
			}
			st.frames++
			st.mu.Unlock()
			seq++
			continue
		}
		var m map[string]any
		if json.Unmarshal(data, &m) == nil {
			st.texts <- m
		}
	}
}

// next returns the next client text frame of the given type (skipping others).
func (st *stubPipeline) next(typ string) map[string]any {
	st.t.Helper()
	timeout := time.After(20 * time.Second)
	for {
		select {
		case m, ok := <-st.texts:
			require.True(st.t, ok, "socket closed while waiting for %s", typ)
			if m["type"] == typ {
				return m
			}
		case <-timeout:
			st.t.Fatalf("no %s from the page", typ)
		}
	}
}

func pcmFrame(seq uint32, samples int) []byte {
	b := make([]byte, 5+2*samples)
	b[0] = 0x02
	binary.BigEndian.PutUint32(b[1:5], seq)
	for i := 0; i < samples; i++ {
		binary.LittleEndian.PutUint16(b[5+2*i:], uint16(int16(8000*math.Sin(float64(i)/4))))
	}
	return b
}

// The page against a scripted server: subprotocols, session.init, 20 ms binary frames with
// sequence numbers 1, 2, 3…, transcript, streamed answer with citations, played audio, and a
// barge-in that stops playback and drops the audio still in flight.
func TestDemoPageSpeaksTheProtocol(t *testing.T) {
	t.Parallel()
	needChromium(t)
	const token = "header.payload.signature"
	st, base := newStubPipeline(t, token)
	b := newBrowser(t, "")
	b.open(t, base+demo.PagePath+"#token="+token)
	require.Equal(t, "", eval[string](t, b, `location.hash`), "the token leaves the address bar")

	var ws *websocket.Conn
	select {
	case ws = <-st.conns:
	case <-time.After(20 * time.Second):
		t.Fatal("the page did not connect")
	}
	defer ws.Close()
	_, first, err := ws.ReadMessage()
	require.NoError(t, err)
	require.JSONEq(t, `{"type":"session.init","features":["binary_audio"]}`, string(first))
	go st.serve(ws)
	send := func(v any) {
		t.Helper()
		if b, ok := v.([]byte); ok {
			require.NoError(t, ws.WriteMessage(websocket.BinaryMessage, b))
			return
		}
		require.NoError(t, ws.WriteJSON(v))
	}
	send(map[string]any{"type": "session.ready", "session_id": "s1", "conversation_id": "c1", "input_sample_rate": 16000, "output_sample_rate": 24000})
	send(map[string]any{"type": "session.init.ack", "features": []string{"binary_audio"}})

	// The microphone streams: wait for a second of it.
	ctx, cancel := context.WithTimeout(b.ctx, 20*time.Second)
	defer cancel()
	_, err = chromedp.Run(ctx, chromedp.Poll[chromedp.Void](`voiceStats.framesSent >= 50`, chromedp.WithPollingInterval(50*time.Millisecond)))
	require.NoError(t, err)

	// One turn: transcript, streamed answer with a citation, 0.1 s of speech.
	doc := "3f1c2a9e-8d7b-4c55-9a1e-2b6f0c4d7e81"
	send(map[string]any{"type": "voice.state", "seq": 1, "state": "thinking"})
	send(map[string]any{"type": "transcript.complete", "seq": 2, "turn_id": "t1", "text": "what treats hypertension"})
	send(map[string]any{"type": "response.delta", "seq": 3, "turn_id": "t1", "delta": "Thiazides "})
	send(map[string]any{"type": "response.delta", "seq": 4, "turn_id": "t1", "delta": "[1]."})
	send(map[string]any{"type": "voice.state", "seq": 5, "state": "speaking"})
	send(map[string]any{"type": "audio.output.meta", "seq": 6, "turn_id": "t1", "sentence": 1, "text": "Thiazides [1].", "sample_rate": 24000, "samples": 2400})
	send(pcmFrame(7, 2400))
	send(map[string]any{"type": "response.complete", "seq": 8, "turn_id": "t1", "message_id": "m1", "content": "Thiazides [1].", "interrupted": false,
		"citations": []map[string]any{{"n": 1, "document_id": doc, "chunk_id": doc, "title": "Hypertension", "heading": []string{"Hypertension", "Treatment"}, "snippet": "Thiazides…"}}})
	send(map[string]any{"type": "voice.state", "seq": 9, "state": "listening"})
	_, err = chromedp.Run(ctx, chromedp.Poll[chromedp.Void](`voiceStats.samplesPlayed === 2400 && voiceStats.state === "listening"`, chromedp.WithPollingInterval(50*time.Millisecond)))
	require.NoError(t, err)
	page := eval[string](t, b, `document.getElementById("turns").textContent`)
	require.Contains(t, page, "what treats hypertension")
	require.Contains(t, page, "Thiazides [1].")
	require.Contains(t, page, "Hypertension — Hypertension › Treatment")
	require.Contains(t, page, doc)
	require.Equal(t, `{"transcripts":["what treats hypertension"],"answers":["Thiazides [1]."],"citations":[{"n":1,"title":"Hypertension","document_id":"`+doc+`"}]}`,
		eval[string](t, b, `JSON.stringify({transcripts: voiceStats.transcripts, answers: voiceStats.answers, citations: voiceStats.citations})`))

	// Second turn: 10 s of speech start playing; the user barges in; what still arrives for
	// that turn is dropped, not played.
	send(map[string]any{"type": "voice.state", "seq": 10, "state": "speaking"})
	send(map[string]any{"type": "audio.output.meta", "seq": 11, "turn_id": "t2", "sentence": 1, "text": "A long answer.", "sample_rate": 24000, "samples": 240000})
	send(pcmFrame(12, 240000))
	// The page handles socket messages and clicks in whatever order they reach it: barge in only
	// once the long answer is playing.
	_, err = chromedp.Run(ctx, chromedp.Poll[chromedp.Void](`voiceStats.samplesQueued === 242400`, chromedp.WithPollingInterval(20*time.Millisecond)))
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("barge"))))
	st.next("barge_in")
	send(pcmFrame(13, 4800)) // in flight before the server saw barge_in
	send(map[string]any{"type": "voice.state", "seq": 14, "state": "listening", "reason": "barge_in"})
	send(map[string]any{"type": "error", "code": "TEST_MARK", "message": "end of script"})
	_, err = chromedp.Run(ctx, chromedp.Poll[chromedp.Void](`voiceStats.errors.includes("TEST_MARK")`, chromedp.WithPollingInterval(50*time.Millisecond)))
	require.NoError(t, err)
	require.Equal(t, 4800, eval[int](t, b, `voiceStats.samplesDropped`))
	require.Equal(t, 2400, eval[int](t, b, `voiceStats.samplesPlayed`), "the cut answer is not counted as played")

	require.NoError(t, chromedp.Do(ctx, chromedp.Click(chromedp.ID("disconnect"))))
	_, err = chromedp.Run(ctx, chromedp.Poll[chromedp.Void](`!voiceStats.connected`, chromedp.WithPollingInterval(50*time.Millisecond)))
	require.NoError(t, err)
	st.mu.Lock()
	defer st.mu.Unlock()
	require.Empty(t, st.badFrame)
	require.GreaterOrEqual(t, st.frames, 50)
	require.Empty(t, b.errors())
}
