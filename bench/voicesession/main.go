// Command voicesession measures the voice WebSocket (GET /api/voice/pipeline-ws) of a running
// gateway; run.sh starts everything pinned to cores. Modes:
//
//	-mode fake        serve fake speech and model providers with fixed latencies (OpenAI API)
//	-mode overhead    one session, VAD off, -turns turns: audio.input.complete → first audio
//	                  frame, minus the fakes' latencies = what the gateway adds
//	-mode offline     end of speech → first audio with the offline providers (a spoken question)
//	-mode load        -sessions sessions streaming real-time audio for -seconds: frames lost,
//	                  sessions dropped, CPU and memory per session of the server (-pid)
package main

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"math"
	"net/http"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/voiceassist/gateway/internal/llm/llmtest"
	"github.com/voiceassist/gateway/internal/voice"
)

var (
	mode     = flag.String("mode", "overhead", "fake, overhead, offline or load")
	addr     = flag.String("addr", "127.0.0.1:18095", "fake providers' listen address (mode fake)")
	base     = flag.String("url", "http://127.0.0.1:18094", "the gateway")
	tokens   = flag.String("tokens", "", "access tokens, comma-separated (sessions spread over them)")
	turns    = flag.Int("turns", 1000, "turns (overhead, offline)")
	sessions = flag.Int("sessions", 200, "sessions (load)")
	seconds  = flag.Int("seconds", 30, "seconds of real-time audio per session (load)")
	pid      = flag.Int("pid", 0, "the gateway's process id (load: CPU and memory)")
	sttMS    = flag.Int("stt-ms", 50, "fake transcription latency")
	llmMS    = flag.Int("llm-ms", 50, "fake model latency to the first token")
	ttsMS    = flag.Int("tts-ms", 50, "fake speech latency per sentence")
	question = flag.String("question", "What is the first line treatment for hypertension?", "offline: the spoken question")
)

func main() {
	flag.Parse()
	switch *mode {
	case "fake":
		log.Fatal(http.ListenAndServe(*addr, http.HandlerFunc(fake)))
	case "overhead":
		overhead()
	case "offline":
		offline()
	case "load":
		load()
	default:
		log.Fatalf("unknown mode %q", *mode)
	}
}

// fake answers the OpenAI endpoints the gateway calls, each after its fixed latency.
func fake(w http.ResponseWriter, r *http.Request) {
	_, _ = io.Copy(io.Discard, r.Body)
	switch {
	case strings.HasSuffix(r.URL.Path, "/audio/transcriptions"):
		time.Sleep(time.Duration(*sttMS) * time.Millisecond)
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"text":"What is the first line treatment for hypertension?","language":"english","duration":1}`))
	case strings.HasSuffix(r.URL.Path, "/chat/completions"):
		time.Sleep(time.Duration(*llmMS) * time.Millisecond)
		llmtest.WriteStream(w, "Thiazide diuretics are a first line treatment. ", "Recheck blood pressure in four weeks.")
	case strings.HasSuffix(r.URL.Path, "/audio/speech"):
		time.Sleep(time.Duration(*ttsMS) * time.Millisecond)
		w.Header().Set("Content-Type", "audio/pcm")
		_, _ = w.Write(make([]byte, 2*llmtest.SpeechRate)) // one second of silence
	case strings.HasSuffix(r.URL.Path, "/embeddings"):
		llmtest.WriteError(w, http.StatusNotFound, "not served")
	default:
		llmtest.WriteError(w, http.StatusNotFound, "unknown")
	}
}

type client struct {
	c      *websocket.Conn
	frames chan frame
}

type frame struct {
	at     time.Time
	binary bool
	typ    string
	ev     map[string]any
}

func dial(token string) (*client, error) {
	d := websocket.Dialer{Subprotocols: []string{"bearer", token}, HandshakeTimeout: 30 * time.Second}
	c, _, err := d.Dial("ws"+strings.TrimPrefix(*base, "http")+"/api/voice/pipeline-ws", nil)
	if err != nil {
		return nil, err
	}
	cl := &client{c: c, frames: make(chan frame, 4096)}
	go func() {
		defer close(cl.frames)
		for {
			typ, data, err := c.ReadMessage()
			if err != nil {
				return
			}
			at := time.Now()
			if typ == websocket.BinaryMessage {
				cl.frames <- frame{at: at, binary: true, typ: "audio.output"}
				continue
			}
			var ev map[string]any
			_ = json.Unmarshal(data, &ev)
			t, _ := ev["type"].(string)
			cl.frames <- frame{at: at, typ: t, ev: ev}
		}
	}()
	return cl, nil
}

func (c *client) until(typ string) (frame, error) {
	for {
		select {
		case f, ok := <-c.frames:
			if !ok {
				return frame{}, errors.New("socket closed")
			}
			if f.typ == "error" {
				return f, fmt.Errorf("error event: %v", f.ev)
			}
			if f.typ == typ {
				return f, nil
			}
		case <-time.After(60 * time.Second):
			return frame{}, fmt.Errorf("no %s within 60 s", typ)
		}
	}
}

func (c *client) json(v any) error { return c.c.WriteJSON(v) }

func (c *client) audio(seq uint32, pcm []int16) error {
	b := make([]byte, 5+2*len(pcm))
	b[0] = 1
	binary.BigEndian.PutUint32(b[1:5], seq)
	for i, s := range pcm {
		binary.LittleEndian.PutUint16(b[5+2*i:], uint16(s))
	}
	return c.c.WriteMessage(websocket.BinaryMessage, b)
}

func tokenList() []string {
	if *tokens == "" {
		log.Fatal("-tokens is required")
	}
	return strings.Split(*tokens, ",")
}

// overhead: VAD off, one utterance per turn, timed from audio.input.complete to the first
// audio frame.
func overhead() {
	c, err := dial(tokenList()[0])
	check(err)
	check(c.json(map[string]any{"type": "session.init", "features": []string{"binary_audio"}, "vad": map[string]any{"enabled": false}}))
	_, err = c.until("session.ready")
	check(err)
	fakes := time.Duration(*sttMS+*llmMS+*ttsMS) * time.Millisecond
	pcm := tone(0.5)
	var got []time.Duration
	var seq uint32
	for i := 0; i < *turns; i++ {
		for j := 0; j < len(pcm); j += 3200 {
			seq++
			check(c.audio(seq, pcm[j:min(j+3200, len(pcm))]))
		}
		start := time.Now()
		check(c.json(map[string]any{"type": "audio.input.complete"}))
		first, err := c.until("audio.output")
		check(err)
		got = append(got, first.at.Sub(start)-fakes)
		_, err = c.until("response.complete")
		check(err)
		_, err = c.until("voice.state")
		check(err)
	}
	report("gateway overhead (first audio frame minus fakes' latency)", got)
}

// offline: a spoken question (synthesised by the gateway's offline TTS) streamed in real time
// with VAD on; timed from the end of the spoken words to the first audio frame.
func offline() {
	tok := tokenList()[0]
	body, _ := json.Marshal(map[string]any{"text": *question, "format": "wav", "voice": "kal16"})
	req, _ := http.NewRequest("POST", *base+"/api/voice/synthesize", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+tok)
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	check(err)
	wav, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 {
		log.Fatalf("synthesize: %d %s", res.StatusCode, wav)
	}
	pcm, _, err := voice.Decode(context.Background(), wav, 60)
	check(err)
	c, err := dial(tok)
	check(err)
	check(c.json(map[string]any{"type": "session.init", "features": []string{"binary_audio"}, "vad": map[string]any{"silence_ms": 300}}))
	_, err = c.until("session.ready")
	check(err)
	silence := make([]int16, 16000)
	var fromEnd, fromDetect []time.Duration
	var seq uint32
	for i := 0; i < *turns; i++ {
		send := func(samples []int16) {
			for j := 0; j < len(samples); j += 320 {
				seq++
				check(c.audio(seq, samples[j:min(j+320, len(samples))]))
				time.Sleep(20 * time.Millisecond)
			}
		}
		send(silence[:8000])
		send(pcm.Samples)
		end := time.Now()
		go send(silence) // the room goes on
		var tr frame
		for tr.ev["state"] != "thinking" { // the VAD heard the end of speech
			tr, err = c.until("voice.state")
			check(err)
		}
		first, err := c.until("audio.output")
		check(err)
		fromEnd = append(fromEnd, first.at.Sub(end))
		fromDetect = append(fromDetect, first.at.Sub(tr.at))
		_, err = c.until("response.complete")
		check(err)
		time.Sleep(1100 * time.Millisecond)
	}
	report("end of speech → first audio (includes the 300 ms silence the VAD waits for)", fromEnd)
	report("end of speech detected → first audio (STT, model, first sentence TTS)", fromDetect)
}

// load: sessions streaming real-time audio; each speaks for 1.5 s, then 1.5 s of room noise
// (so turns are answered by the fakes while audio keeps coming).
func load() {
	toks := tokenList()
	cpu0, rss0 := procStat(*pid)
	var wg sync.WaitGroup
	var dropped, lost, turnsDone, errs atomic.Int64
	start := time.Now()
	for i := 0; i < *sessions; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c, err := dial(toks[i%len(toks)])
			if err != nil {
				log.Printf("session %d: %v", i, err)
				dropped.Add(1)
				return
			}
			defer c.c.Close()
			if c.json(map[string]any{"type": "session.init", "features": []string{"binary_audio"}, "vad": map[string]any{"silence_ms": 300}}) != nil {
				dropped.Add(1)
				return
			}
			if _, err := c.until("session.ready"); err != nil {
				dropped.Add(1)
				return
			}
			pongs := make(chan frame, 1)
			go func() { // count answers while streaming
				defer close(pongs)
				for f := range c.frames {
					switch f.typ {
					case "response.complete":
						turnsDone.Add(1)
					case "pong":
						pongs <- f
					case "error":
						errs.Add(1)
					}
				}
			}()
			speechPCM, quiet := tone(1.5), make([]int16, 24000)
			for j := range quiet {
				quiet[j] = int16(j%7 - 3)
			}
			pattern := append(append([]int16{}, speechPCM...), quiet...)
			var seq uint32
			tick := time.NewTicker(20 * time.Millisecond)
			defer tick.Stop()
			pos := 0
			for n := 0; n < *seconds*50; n++ {
				<-tick.C
				seq++
				if c.audio(seq, pattern[pos:pos+320]) != nil {
					dropped.Add(1)
					return
				}
				pos = (pos + 320) % len(pattern)
			}
			if c.json(map[string]any{"type": "ping"}) != nil {
				dropped.Add(1)
				return
			}
			var pong frame
			select {
			case p, ok := <-pongs:
				if !ok {
					dropped.Add(1)
					return
				}
				pong = p
			case <-time.After(60 * time.Second):
				dropped.Add(1)
				return
			}
			in, _ := pong.ev["input_frames"].(float64)
			last, _ := pong.ev["last_input_seq"].(float64)
			gaps, _ := pong.ev["input_gaps"].(float64)
			if uint32(in) != seq || uint32(last) != seq || gaps != 0 {
				lost.Add(int64(seq) - int64(in))
				log.Printf("session %d: sent %d, server counted %v (last %v, gaps %v)", i, seq, in, last, gaps)
			}
		}(i)
		time.Sleep(5 * time.Millisecond) // ramp up
	}
	cpuMid, rssMid := procStat(*pid)
	wg.Wait()
	cpu1, _ := procStat(*pid)
	elapsed := time.Since(start)
	fmt.Printf("| sessions | seconds | frames lost | sessions dropped | turns answered | error events | server CPU per session | server RSS per session |\n")
	fmt.Printf("| --- | --- | --- | --- | --- | --- | --- | --- |\n")
	fmt.Printf("| %d | %d | %d | %d | %d | %d | %.2f %% of a core | %.0f KiB |\n", *sessions, *seconds, lost.Load(), dropped.Load(),
		turnsDone.Load(), errs.Load(), 100*(cpu1-cpu0)/elapsed.Seconds()/float64(*sessions), float64(rssMid-rss0)/1024/float64(*sessions))
	_ = cpuMid
}

// procStat reads a process's CPU seconds (user+system) and RSS bytes.
func procStat(pid int) (float64, int64) {
	if pid == 0 {
		return 0, 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	check(err)
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+2:]))
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	rss, _ := strconv.ParseInt(f[21], 10, 64)
	return (ut + st) / 100, rss * int64(os.Getpagesize())
}

func tone(seconds float64) []int16 {
	out := make([]int16, int(seconds*16000))
	for i := range out {
		out[i] = int16(6000 * math.Sin(2*math.Pi*180*float64(i)/16000))
	}
	return out
}

func report(what string, d []time.Duration) {
	sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
	q := func(p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))] }
	fmt.Printf("%s over %d turns: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n", what, len(d),
		ms(q(0.5)), ms(q(0.9)), ms(q(0.99)), ms(d[len(d)-1]))
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}
