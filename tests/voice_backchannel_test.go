package tests

import (
	"math"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/app"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/clock"
	"github.com/voiceassist/gateway/internal/llm/llmtest"
)

// bcEnv creates the backend.voice_* flags at start-up.
var bcEnv = map[string]string{"VOICE_FLAGS_CREATE": "true"}

var bcPhrases = map[string]bool{"mm-hmm": true, "I see": true, "go on": true, "right": true}

// bcScript is scripted input audio: alternating silence and speech (durations in ms, multiples
// of 20 so every change falls on a VAD frame), starting with silence. It keeps the speech
// intervals on the input timeline.
type bcScript struct {
	audio  []int16
	speech [][2]int // [start, end) in ms
}

func (sc *bcScript) add(speech bool, ms int) *bcScript {
	start := len(sc.audio) / 16
	for i := 0; i < ms*16; i++ {
		n := len(sc.audio)
		if speech {
			sc.audio = append(sc.audio, int16(6000*math.Sin(2*math.Pi*180*float64(n)/16000)))
		} else {
			sc.audio = append(sc.audio, int16(n%7-3))
		}
	}
	if speech {
		sc.speech = append(sc.speech, [2]int{start, start + ms})
	}
	return sc
}

// script builds silence, speech, silence, speech, … from durations in ms.
func script(ms ...int) *bcScript {
	sc := &bcScript{}
	for i, d := range ms {
		sc.add(i%2 == 1, d)
	}
	return sc
}

// bcClient streams a script over a voice socket up to chosen positions and keeps every frame.
type bcClient struct {
	v      *voiceWS
	sc     *bcScript
	sent   int // samples
	seq    uint32
	frames []voiceFrame
}

func (c *bcClient) to(ms int) {
	c.v.t.Helper()
	end := min(ms*16, len(c.sc.audio))
	c.seq = c.v.stream(c.seq, c.sc.audio[c.sent:end])
	c.sent = end
}

func (c *bcClient) wait(typ string) voiceFrame {
	c.v.t.Helper()
	f, seen := c.v.until(typ)
	c.frames = append(append(c.frames, seen...), f)
	return f
}

// answered reads until the turn after the utterance is over.
func (c *bcClient) answered() {
	c.v.t.Helper()
	c.wait("response.complete")
	for c.wait("voice.state").Ev["state"] != "listening" {
	}
}

// bcClip is a clip as the client saw it; stop is where it ended on the input timeline (its
// end, or where it was cancelled).
type bcClip struct {
	id, at, dur, stop, samples, got int
	phrase, reason                  string
}

// clips reads the backchannel events and audio of frames and checks their form; answer frames
// keep consecutive sequence numbers, and no backchannel frame has one.
func clips(t *testing.T, frames []voiceFrame) []*bcClip {
	t.Helper()
	byID := map[int]*bcClip{}
	var out []*bcClip
	var seq uint32
	for _, f := range frames {
		switch f.Type {
		case "backchannel.trigger":
			require.NotContains(t, f.Ev, "seq")
			c := &bcClip{id: int(f.Ev["id"].(float64)), phrase: f.Ev["phrase"].(string), at: int(f.Ev["at_ms"].(float64)),
				dur: int(f.Ev["duration_ms"].(float64)), samples: int(f.Ev["samples"].(float64))}
			require.EqualValues(t, 24000, f.Ev["sample_rate"])
			require.Equal(t, (c.samples*1000+23999)/24000, c.dur, "duration_ms is the clip's length rounded up")
			c.stop = c.at + c.dur
			byID[c.id] = c
			out = append(out, c)
		case "backchannel.audio":
			id := int(f.Seq)
			if !f.Binary {
				id = int(f.Ev["id"].(float64))
			}
			require.Contains(t, byID, id, "clip audio follows its trigger")
			byID[id].got += f.Samples
		case "backchannel.cancel":
			c := byID[int(f.Ev["id"].(float64))]
			require.NotNil(t, c, "a cancel names a clip that was sent")
			c.stop, c.reason = min(c.stop, int(f.Ev["at_ms"].(float64))), f.Ev["reason"].(string)
		default:
			if f.Seq == 0 {
				continue
			}
			if seq != 0 {
				require.Equal(t, seq+1, f.Seq, "answer frames keep consecutive sequence numbers: %+v", f)
			}
			seq = f.Seq
		}
	}
	for _, c := range out {
		require.Equal(t, c.samples, c.got, "clip %d: all its audio was sent", c.id)
	}
	return out
}

// noOverlap checks on the input timeline that no clip, as long as it played, overlaps speech.
func noOverlap(t *testing.T, cs []*bcClip, speech [][2]int) {
	t.Helper()
	for _, c := range cs {
		for _, sp := range speech {
			if c.stop > c.at && c.at < sp[1] && c.stop > sp[0] {
				t.Fatalf("clip %d %q [%d, %d) ms overlaps speech [%d, %d) ms", c.id, c.phrase, c.at, c.stop, sp[0], sp[1])
			}
		}
	}
}

// backchannelUser is a user with backend.voice_backchannel on, and their token.
func backchannelUser(t *testing.T, s *testServer) string {
	t.Helper()
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	u := s.account(t, auth.RoleUser)
	s.enableVoiceFlag(t, admin, "backchannel", u.User.ID)
	return s.token(t, u)
}

func bcStart(t *testing.T, s *testServer, tok string, sc *bcScript, init map[string]any) *bcClient {
	t.Helper()
	v := dialVoice(t, s, tok)
	v.start(init)
	c := &bcClient{v: v, sc: sc, seq: 1}
	c.wait("voice.state") // listening
	return c
}

// speechFor counts the speech requests per voice and phrase.
func speechFor(fake *llmtest.Server) map[[2]string]int {
	n := map[[2]string]int{}
	for _, r := range fake.Requests(llmtest.Speech) {
		if len(r.Input) > 0 && bcPhrases[r.Input[0]] {
			n[[2]string{r.Voice, r.Input[0]}]++
		}
	}
	return n
}

// Acknowledgements come at natural pauses of a long utterance, on the input timeline: not
// before 3 s of it, 200 ms into a pause, at least 4 s apart, at most 3 per utterance, phrases
// in turn over the session; clips are synthesised once per phrase and voice.
func TestVoiceBackchannelTimingSpacingAndCache(t *testing.T) {
	t.Parallel()
	fc := clock.NewFake(time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC))
	s, fake, _ := voiceServer(t, bcEnv, app.WithVoiceClock(fc))
	tok := backchannelUser(t, s)
	// Utterance 1: speech 400–3600, pauses of 500 ms at 3600, 5100, 9600, 14100, 18600; end.
	sc := script(400, 3200, 500, 1000, 500, 4000, 500, 4000, 500, 4000, 500, 1000, 1000)
	// Utterance 2 (from 21100): speech 21600–24800, pauses at 24800 and 29300; end.
	sc.add(false, 500).add(true, 3200).add(false, 500).add(true, 4000).add(false, 500).add(true, 500).add(false, 1000)
	c := bcStart(t, s, tok, sc, map[string]any{"features": []string{"binary_audio"}, "vad": map[string]any{"silence_ms": 800}})

	// Each wait stops the input where the pause reaches 200 ms: the clip starts there.
	for _, want := range []struct {
		at     int
		phrase string
	}{{3800, "mm-hmm"}, {9800, "I see"}, {14300, "go on"}} {
		c.to(want.at)
		f := c.wait("backchannel.trigger")
		require.EqualValues(t, want.at, f.Ev["at_ms"])
		require.Equal(t, want.phrase, f.Ev["phrase"])
	}
	c.to(21100) // the pause at 5300 was too close to the first, the one at 18800 over the limit
	c.answered()
	for _, want := range []struct {
		at     int
		phrase string
	}{{25000, "right"}, {29500, "mm-hmm"}} {
		c.to(want.at)
		f := c.wait("backchannel.trigger")
		require.EqualValues(t, want.at, f.Ev["at_ms"])
		require.Equal(t, want.phrase, f.Ev["phrase"])
	}
	c.to(len(sc.audio) / 16)
	c.answered()

	cs := clips(t, c.frames)
	require.Len(t, cs, 5)
	for _, cl := range cs {
		require.Empty(t, cl.reason, "no clip was cancelled")
	}
	noOverlap(t, cs, sc.speech)
	require.Equal(t, map[[2]string]int{{"alloy", "mm-hmm"}: 1, {"alloy", "I see"}: 1, {"alloy", "go on"}: 1, {"alloy", "right"}: 1},
		speechFor(fake), "one synthesis per phrase and voice")

	// Another session with the same voice reuses the clips; another voice gets its own.
	for _, voiceID := range []string{"alloy", "nova"} {
		one := script(400, 3200, 500, 1000, 1000)
		d := bcStart(t, s, tok, one, map[string]any{"voice": voiceID, "vad": map[string]any{"silence_ms": 800}})
		d.to(3800)
		f := d.wait("backchannel.trigger")
		require.Equal(t, "mm-hmm", f.Ev["phrase"])
		d.to(len(one.audio) / 16)
		d.answered()
		clips(t, d.frames) // JSON audio (no binary_audio) in the same form
	}
	require.Equal(t, 1, speechFor(fake)[[2]string{"alloy", "mm-hmm"}])
	require.Equal(t, 1, speechFor(fake)[[2]string{"nova", "mm-hmm"}])
}

// Speech that resumes during a clip cancels it where the speech starts; a clip that fits in
// its pause plays whole; and whatever the input's pace, no clip overlaps speech.
func TestVoiceBackchannelNeverOverSpeech(t *testing.T) {
	t.Parallel()
	fc := clock.NewFake(time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC))
	s, fake, _ := voiceServer(t, bcEnv, app.WithVoiceClock(fc))
	fake.SetSpeech(func(r llmtest.Request) []int16 {
		if len(r.Input) > 0 && bcPhrases[r.Input[0]] {
			out := make([]int16, 400*llmtest.SpeechRate/1000) // 400 ms
			for i := range out {
				out[i] = int16(8000 * math.Sin(float64(i)/4))
			}
			return out
		}
		return llmtest.FakeSpeech(r)
	})
	tok := backchannelUser(t, s)
	// speech 400–3600, pause 3600–3900 (shorter than the clip), speech to 7900, pause
	// 7900–8600 (the clip fits), speech to 11600, end.
	sc := script(400, 3200, 300, 4000, 700, 3000, 1000)
	// Then an utterance streamed at once, pauses of every length: the order of synthesis and
	// input is left to chance, the rule must hold whatever it is.
	sc.add(false, 500)
	for _, p := range []int{200, 260, 300, 340, 400, 480, 560, 640, 700, 760} {
		sc.add(true, 3000).add(false, p)
	}
	sc.add(true, 500).add(false, 1000)
	c := bcStart(t, s, tok, sc, map[string]any{"features": []string{"binary_audio"}, "vad": map[string]any{"silence_ms": 800}})

	c.to(3800)
	first := c.wait("backchannel.trigger")
	require.EqualValues(t, 3800, first.Ev["at_ms"])
	require.EqualValues(t, 400, first.Ev["duration_ms"])
	c.to(8100)
	cancel := c.wait("backchannel.cancel")
	require.Equal(t, first.Ev["id"], cancel.Ev["id"])
	require.EqualValues(t, 3900, cancel.Ev["at_ms"], "cancelled where the speech resumed")
	require.Equal(t, "speech", cancel.Ev["reason"])
	second := c.wait("backchannel.trigger")
	require.EqualValues(t, 8100, second.Ev["at_ms"])
	c.to(12600)
	c.answered()
	cs := clips(t, c.frames)
	require.Len(t, cs, 2)
	require.Equal(t, 3900, cs[0].stop)
	require.Equal(t, 8500, cs[1].stop)
	require.Empty(t, cs[1].reason)
	noOverlap(t, cs, sc.speech)

	c.to(len(sc.audio) / 16)
	c.answered()
	all := clips(t, c.frames)
	require.LessOrEqual(t, len(all)-2, 3, "at most 3 per utterance")
	noOverlap(t, all, sc.speech)

	// An utterance ended by the client while a clip plays stops the clip there.
	e := bcStart(t, s, tok, script(400, 3200, 500, 1000), map[string]any{"vad": map[string]any{"silence_ms": 800}})
	e.to(3800)
	require.EqualValues(t, 3800, e.wait("backchannel.trigger").Ev["at_ms"])
	e.to(3900)
	e.v.send(map[string]any{"type": "audio.input.complete"})
	stop := e.wait("backchannel.cancel")
	require.EqualValues(t, 3900, stop.Ev["at_ms"])
	require.Equal(t, "utterance_end", stop.Ev["reason"])
	e.answered()
}

// The wait for a clip counts on the voice clock: a client streaming in real time went on
// capturing meanwhile, so the clip starts that much later, or not at all when it no longer
// fits before the utterance could end.
func TestVoiceBackchannelWaitOnVoiceClock(t *testing.T) {
	t.Parallel()
	fc := clock.NewFake(time.Date(2026, 12, 6, 2, 0, 0, 0, time.UTC))
	s, fake, _ := voiceServer(t, bcEnv, app.WithVoiceClock(fc))
	var mu sync.Mutex
	gates := map[string]chan struct{}{"mm-hmm": make(chan struct{}), "I see": make(chan struct{})}
	fake.SetHandler(func(w http.ResponseWriter, r *http.Request, req llmtest.Request) bool {
		if req.Endpoint == llmtest.Speech && len(req.Input) > 0 {
			mu.Lock()
			g := gates[req.Input[0]]
			mu.Unlock()
			if g != nil {
				<-g
			}
		}
		return false
	})
	tok := backchannelUser(t, s)
	// speech 400–3600, pause to 4100, speech to 8100, pause to 8800, speech to 9800, end.
	sc := script(400, 3200, 500, 4000, 700, 1000, 1000)
	c := bcStart(t, s, tok, sc, map[string]any{"features": []string{"binary_audio"}, "vad": map[string]any{"silence_ms": 800}})
	requested := func(phrase string) func() bool {
		return func() bool { return speechFor(fake)[[2]string{"alloy", phrase}] > 0 }
	}

	c.to(3800)
	require.Eventually(t, requested("mm-hmm"), 10*time.Second, 10*time.Millisecond)
	fc.Advance(120 * time.Millisecond)
	close(gates["mm-hmm"])
	f := c.wait("backchannel.trigger")
	require.EqualValues(t, 3920, f.Ev["at_ms"], "120 ms of synthesis: the client's timeline moved on")

	// 8300: the clip would start 700 ms later, past where the utterance could end: not sent.
	c.to(8300)
	require.Eventually(t, requested("I see"), 10*time.Second, 10*time.Millisecond)
	fc.Advance(700 * time.Millisecond)
	close(gates["I see"])
	c.to(len(sc.audio) / 16)
	c.answered()
	require.Len(t, clips(t, c.frames), 1)
}

// With the flag off nothing changes (no event, no synthesis); with it on, a clip that cannot
// be synthesised means no acknowledgement and no error for the client.
func TestVoiceBackchannelOffAndFailedSynthesis(t *testing.T) {
	t.Parallel()
	s, fake, off := voiceServer(t, bcEnv)
	sc := script(400, 3200, 500, 4000, 500, 4000, 500, 1000, 1000)
	c := bcStart(t, s, off, sc, map[string]any{"features": []string{"binary_audio"}, "vad": map[string]any{"silence_ms": 800}})
	c.to(len(sc.audio) / 16)
	c.answered()
	for _, f := range c.frames {
		require.NotContains(t, []string{"backchannel.trigger", "backchannel.audio", "backchannel.cancel", "error"}, f.Type)
	}
	require.Empty(t, speechFor(fake))

	fake.SetHandler(func(w http.ResponseWriter, r *http.Request, req llmtest.Request) bool {
		if req.Endpoint == llmtest.Speech && len(req.Input) > 0 && bcPhrases[req.Input[0]] {
			llmtest.WriteError(w, http.StatusBadRequest, "no such voice today")
			return true
		}
		return false
	})
	on := backchannelUser(t, s)
	d := bcStart(t, s, on, sc, map[string]any{"features": []string{"binary_audio"}, "vad": map[string]any{"silence_ms": 800}})
	d.to(3800)
	require.Eventually(t, func() bool { return len(speechFor(fake)) > 0 }, 10*time.Second, 10*time.Millisecond)
	d.to(len(sc.audio) / 16)
	d.answered()
	for _, f := range d.frames {
		require.NotContains(t, []string{"backchannel.trigger", "backchannel.audio", "backchannel.cancel", "error"}, f.Type)
	}
	require.NotEmpty(t, d.frames)
}
