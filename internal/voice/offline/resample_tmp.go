//go:build offlinevoice

package offline

import "github.com/voiceassist/gateway/internal/voice"

// resample converts p to rate by linear interpolation, after a moving-average low-pass when
// downsampling. Temporary: replace with voice.Resample once the audio layer has it.
func resample(p voice.PCM, rate int) voice.PCM {
	if p.Rate == rate || p.Rate <= 0 || len(p.Samples) == 0 {
		return voice.PCM{Samples: p.Samples, Rate: rate}
	}
	src := p.Samples
	if w := p.Rate / rate; w > 1 {
		smooth := make([]int16, len(src))
		var sum int
		for i, s := range src {
			sum += int(s)
			if i >= w {
				sum -= int(src[i-w])
			}
			smooth[i] = int16(sum / min(i+1, w))
		}
		src = smooth
	}
	n := int(int64(len(src)) * int64(rate) / int64(p.Rate))
	out := make([]int16, n)
	step := float64(p.Rate) / float64(rate)
	for i := range out {
		x := float64(i) * step
		j := int(x)
		f := x - float64(j)
		a := float64(src[j])
		b := a
		if j+1 < len(src) {
			b = float64(src[j+1])
		}
		out[i] = int16(a + (b-a)*f)
	}
	return voice.PCM{Samples: out, Rate: rate}
}
