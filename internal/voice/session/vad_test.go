package session

import (
	"math"
	"math/rand"
	"testing"
)

// signal builds 16 kHz audio: noise at noiseDB with a tone at toneDB between from and to seconds.
func signal(seconds, from, to, noiseDB, toneDB float64) []int16 {
	r := rand.New(rand.NewSource(1))
	n := int(seconds * 16000)
	out := make([]int16, n)
	na, ta := 32768*math.Pow(10, noiseDB/20), 32768*math.Pow(10, toneDB/20)
	for i := range out {
		v := r.NormFloat64() * na
		if t := float64(i) / 16000; t >= from && t < to {
			v += ta * math.Sqrt2 * math.Sin(2*math.Pi*220*t)
		}
		out[i] = int16(max(-32768, min(32767, v)))
	}
	return out
}

func TestVADFindsSpeechInNoise(t *testing.T) {
	for _, c := range []struct {
		name           string
		noise          float64
		chunk          int
		silence        int
		wantStart      float64 // seconds
		wantEndAtLeast float64
	}{
		{"quiet room", -70, 320, 500, 1.0, 2.5},
		{"noisy room", -40, 777, 300, 1.0, 2.3},
		{"odd chunks", -55, 33, 800, 1.0, 2.8},
	} {
		t.Run(c.name, func(t *testing.T) {
			audio := signal(4, 1, 2, c.noise, -15)
			v := NewVAD(c.silence, 50)
			var events []float64
			var kinds []bool
			for i := 0; i < len(audio); i += c.chunk {
				end := min(i+c.chunk, len(audio))
				for _, e := range v.Push(audio[i:end]) {
					events = append(events, float64(i+e.At)/16000)
					kinds = append(kinds, e.Start)
				}
			}
			if len(events) != 2 || !kinds[0] || kinds[1] {
				t.Fatalf("events %v %v, want one start and one end", events, kinds)
			}
			if events[0] < c.wantStart || events[0] > c.wantStart+0.1 {
				t.Errorf("speech started at %.3fs, want within 100 ms after %.1fs", events[0], c.wantStart)
			}
			if events[1] < c.wantEndAtLeast-0.05 || events[1] > c.wantEndAtLeast+0.1 {
				t.Errorf("speech ended at %.3fs, want about %.2fs (end of tone + silence)", events[1], c.wantEndAtLeast)
			}
		})
	}
}

func TestVADIgnoresNoiseAndClicks(t *testing.T) {
	audio := signal(3, 0, 0, -35, 0) // steady loud noise only
	// A 20 ms click: too short to be speech.
	for i := 16000; i < 16320; i++ {
		audio[i] = 20000
	}
	v := NewVAD(500, 100)
	if ev := v.Push(audio); len(ev) != 0 {
		t.Fatalf("events %v in noise and a click", ev)
	}
}
