package voice

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// timed builds timed words from (start, end) pairs in milliseconds.
func timed(spans ...int) []Word {
	out := make([]Word, 0, len(spans)/2)
	for i := 0; i+1 < len(spans); i += 2 {
		out = append(out, Word{Word: "w", Start: time.Duration(spans[i]) * time.Millisecond,
			End: time.Duration(spans[i+1]) * time.Millisecond, Confidence: -1})
	}
	return out
}

func TestAnalyzeProsody(t *testing.T) {
	const msec = time.Millisecond
	for _, c := range []struct {
		name     string
		segs     []Segment
		text     string
		audio    time.Duration
		ok       bool
		want     Prosody
		wantWPM  float64
		wantLong float64 // final lengthening
	}{
		{name: "no timings", segs: []Segment{{Text: "hello there"}}, text: "hello there", audio: time.Second},
		{name: "one word", segs: []Segment{{Words: timed(0, 400)}}, text: "yes", audio: time.Second},
		{name: "reversed and empty words are dropped", segs: []Segment{{Words: timed(500, 400, 0, 0, 100, 300)}},
			text: "hm", audio: time.Second},
		{
			// 6 words of 300 ms, gaps 50 (joined), 200, 400, 0, 600 ms: pauses 200, 400, 600.
			name: "pauses and rate", text: "what is the dose for adults", audio: 4000 * msec, ok: true,
			segs: []Segment{{Words: timed(0, 300, 350, 650, 850, 1150)}, {Words: timed(1550, 1850, 1850, 2150, 2750, 3050)}},
			want: Prosody{Words: 6, Voiced: 1850 * msec, Pauses: 3, PauseP50: 400 * msec, PauseP90: 600 * msec,
				PauseLongest: 600 * msec, MeanWord: 300 * msec, TrailingSilence: 950 * msec, Question: true},
			wantWPM: 6 / (1.85 / 60.0), wantLong: 1,
		},
		{
			// Words out of order across segments; the last word lasts 600 ms against a mean of 400.
			name: "lengthened last word, no pauses", text: "I take metformin.", audio: 1000 * msec, ok: true,
			segs:    []Segment{{Words: timed(300, 600, 600, 1200)}, {Words: timed(0, 300)}},
			want:    Prosody{Words: 3, Voiced: 1200 * msec, MeanWord: 400 * msec},
			wantWPM: 150, wantLong: 1.5,
		},
		{
			name: "question mark, words past the audio", text: "Metformin with food?", audio: 500 * msec, ok: true,
			segs: []Segment{{Words: timed(0, 200, 300, 600)}},
			want: Prosody{Words: 2, Voiced: 500 * msec, MeanWord: 250 * msec, Pauses: 1, PauseP50: 100 * msec,
				PauseP90: 100 * msec, PauseLongest: 100 * msec, Question: true},
			wantWPM: 240, wantLong: 1.2,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, ok := AnalyzeProsody(c.segs, c.text, c.audio)
			require.Equal(t, c.ok, ok)
			if !ok {
				require.Zero(t, p)
				return
			}
			require.InDelta(t, c.wantWPM, p.WPM, 1e-9)
			require.InDelta(t, c.wantLong, p.FinalLengthening, 1e-9)
			p.WPM, p.FinalLengthening = 0, 0
			require.Equal(t, c.want, p)
		})
	}
}

func TestPercentile(t *testing.T) {
	d := func(xs ...int) []time.Duration {
		out := make([]time.Duration, len(xs))
		for i, x := range xs {
			out[i] = time.Duration(x)
		}
		return out
	}
	for _, c := range []struct {
		xs      []time.Duration
		q, want int
	}{
		{d(7), 50, 7}, {d(7), 90, 7},
		{d(1, 2), 50, 1}, {d(1, 2), 90, 2},
		{d(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 50, 5}, {d(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 90, 9},
		{d(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), 90, 10}, {d(1, 2, 3), 100, 3}, {d(1, 2, 3), 0, 1},
	} {
		require.Equal(t, time.Duration(c.want), Percentile(c.xs, c.q), "%v q%d", c.xs, c.q)
	}
}

func TestQuestionForm(t *testing.T) {
	for text, want := range map[string]bool{
		"What is the dose":          true,
		"how, exactly, does it":     true,
		"Is it safe?":               true,
		"it is safe?":               true,
		"It is safe.":               false,
		"Whatever you think":        false,
		"":                          false,
		"  can I take it with food": true,
	} {
		require.Equal(t, want, isQuestion(text), text)
	}
}

func TestEndSilence(t *testing.T) {
	for p90, want := range map[float64]int{0: 200, 100: 200, 133: 200, 134: 201, 250: 375, 400: 600, 533.3: 800, 534: 800, 5000: 800} {
		require.Equal(t, want, EndSilence(p90), "p90 %v", p90)
	}
}

func TestSpeechProfileLearn(t *testing.T) {
	var sp SpeechProfile
	// A turn without pauses: the rate is learned, the silence is not.
	sp = sp.Learn(Prosody{WPM: 150})
	require.Equal(t, 1, sp.Turns)
	require.InDelta(t, 150, *sp.WPM, 1e-9)
	require.Nil(t, sp.PauseP90)
	require.Nil(t, sp.EndSilenceMS)
	// The first turn with pauses sets them.
	sp = sp.Learn(Prosody{WPM: 250, Pauses: 2, PauseP50: 200 * time.Millisecond, PauseP90: 400 * time.Millisecond})
	require.Equal(t, 2, sp.Turns)
	require.InDelta(t, 180, *sp.WPM, 1e-9) // 150 + 0.3 × 100
	require.InDelta(t, 200, *sp.PauseP50, 1e-9)
	require.InDelta(t, 400, *sp.PauseP90, 1e-9)
	require.Equal(t, 600, *sp.EndSilenceMS)
	// Later turns move the averages by 0.3; a pauseless turn keeps the silence.
	sp = sp.Learn(Prosody{WPM: 180, Pauses: 1, PauseP50: 100 * time.Millisecond, PauseP90: 100 * time.Millisecond})
	require.InDelta(t, 170, *sp.PauseP50, 1e-9)
	require.InDelta(t, 310, *sp.PauseP90, 1e-9)
	require.Equal(t, 465, *sp.EndSilenceMS)
	before := *sp.EndSilenceMS
	sp = sp.Learn(Prosody{WPM: 180})
	require.Equal(t, before, *sp.EndSilenceMS)
	require.Equal(t, 4, sp.Turns)
}

// BenchmarkAnalyzeProsody: a 50-word turn in two segments, the work a voice turn adds with
// backend.voice_prosody on besides one small transaction (docs/benchmarks.md).
func BenchmarkAnalyzeProsody(b *testing.B) {
	var segs [2]Segment
	at := 0
	for i := range 50 {
		gap := []int{0, 40, 150, 320}[i%4]
		segs[i/25].Words = append(segs[i/25].Words, timed(at+gap, at+gap+280)...)
		at += gap + 280
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := AnalyzeProsody(segs[:], "what should I take for the pain tonight", time.Duration(at+600)*time.Millisecond); !ok {
			b.Fatal("not analysed")
		}
	}
}
