package voice

import (
	"math"
	"sync"
)

// Band-limited resampling by windowed sinc interpolation (Smith's "bandlimited
// interpolation"): one Kaiser-windowed sinc table sampled finely, interpolated linearly, so
// any rate ratio works without a per-ratio filter bank. Downsampling stretches the kernel
// to low-pass below the new Nyquist frequency, which recognisers need: aliased energy from
// 8-24 kHz would otherwise fold into the speech band.
const (
	sincZeroCrossings = 16   // half-width of the kernel in zero crossings
	sincTableRes      = 256  // table entries per zero crossing
	sincKaiserBeta    = 8.0  // ~80 dB stop band
	sincRolloff       = 0.94 // cutoff below the new Nyquist when downsampling (transition band)
)

var sincTable = sync.OnceValue(func() []float64 {
	n := sincZeroCrossings * sincTableRes
	t := make([]float64, n+2) // +1 guard so interpolation at the edge reads a zero
	i0b := besselI0(sincKaiserBeta)
	for i := 0; i <= n; i++ {
		x := float64(i) / sincTableRes
		r := x / sincZeroCrossings
		w := besselI0(sincKaiserBeta*math.Sqrt(1-r*r)) / i0b
		s := 1.0
		if i > 0 {
			s = math.Sin(math.Pi*x) / (math.Pi * x)
		}
		t[i] = s * w
	}
	return t
})

// besselI0 is the modified Bessel function of the first kind, order 0 (power series).
func besselI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 50; k++ {
		term *= (x / (2 * float64(k))) * (x / (2 * float64(k)))
		sum += term
		if term < 1e-12*sum {
			break
		}
	}
	return sum
}

// Resample converts p to rate samples per second. The result has round(len*rate/p.Rate)
// samples; p is returned unchanged when the rates already match.
func Resample(p PCM, rate int) PCM {
	if rate <= 0 || p.Rate <= 0 || rate == p.Rate || len(p.Samples) == 0 {
		return p
	}
	table := sincTable()
	in := p.Samples
	step := float64(p.Rate) / float64(rate) // input samples per output sample
	fc := 1.0                               // cutoff relative to the input Nyquist
	if rate < p.Rate {
		fc = sincRolloff * float64(rate) / float64(p.Rate)
	}
	half := sincZeroCrossings / fc // kernel half-width in input samples
	scale := fc * sincTableRes     // input-sample distance -> table index
	outLen := int(math.Round(float64(len(in)) * float64(rate) / float64(p.Rate)))
	out := make([]int16, outLen)
	for i := range out {
		t := float64(i) * step
		lo := max(int(math.Ceil(t-half)), 0)
		hi := min(int(math.Floor(t+half)), len(in)-1)
		var sum float64
		for j := lo; j <= hi; j++ {
			x := math.Abs(t-float64(j)) * scale
			k := int(x)
			if k >= len(table)-1 {
				continue
			}
			f := x - float64(k)
			sum += float64(in[j]) * (table[k] + f*(table[k+1]-table[k]))
		}
		out[i] = toInt16(sum * fc)
	}
	return PCM{Samples: out, Rate: rate}
}
