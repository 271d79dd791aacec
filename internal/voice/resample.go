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

// maxPhases bounds the polyphase filter bank (rate/gcd phases); rarer ratios interpolate
// the kernel table per tap instead, which is several times slower but exact enough.
const maxPhases = 4096

// kernel is the windowed sinc at x zero crossings from its centre (0 beyond the window).
func kernel(table []float64, x float64) float64 {
	x = math.Abs(x) * sincTableRes
	k := int(x)
	if k >= len(table)-1 {
		return 0
	}
	return table[k] + (x-float64(k))*(table[k+1]-table[k])
}

// Resample converts p to rate samples per second. The result has round(len*rate/p.Rate)
// samples; p is returned unchanged when the rates already match.
func Resample(p PCM, rate int) PCM {
	if rate <= 0 || p.Rate <= 0 || rate == p.Rate || len(p.Samples) == 0 {
		return p
	}
	fc := 1.0 // cutoff relative to the input Nyquist
	if rate < p.Rate {
		fc = sincRolloff * float64(rate) / float64(p.Rate)
	}
	outLen := int(math.Round(float64(len(p.Samples)) * float64(rate) / float64(p.Rate)))
	out := make([]int16, outLen)
	g := gcd(rate, p.Rate)
	if up, down := rate/g, p.Rate/g; up <= maxPhases {
		resamplePoly(p.Samples, out, up, down, fc)
	} else {
		resampleInterp(p.Samples, out, float64(p.Rate)/float64(rate), fc)
	}
	return PCM{Samples: out, Rate: rate}
}

// resamplePoly handles rate ratios up/down: output i sits at input position i*down/up,
// whose fractional part is one of up phases, each with its own precomputed taps.
func resamplePoly(in, out []int16, up, down int, fc float64) {
	table := sincTable()
	half := sincZeroCrossings / fc // kernel half-width in input samples
	k := int(math.Ceil(half)) + 1  // taps n-k+1 .. n+k around the integer position n
	taps := 2 * k
	bank := make([]float64, up*taps)
	for ph := range up {
		frac := float64(ph) / float64(up)
		for j := range taps {
			d := frac + float64(k-1-j) // distance from the output position to tap j
			bank[ph*taps+j] = kernel(table, d*fc) * fc
		}
	}
	for i := range out {
		pos := i * down
		n, ph := pos/up, pos%up
		w := bank[ph*taps : (ph+1)*taps]
		first := n - k + 1
		var sum float64
		if first >= 0 && first+taps <= len(in) {
			for j, x := range in[first : first+taps] {
				sum += float64(x) * w[j]
			}
		} else {
			for j := range taps {
				if idx := first + j; idx >= 0 && idx < len(in) {
					sum += float64(in[idx]) * w[j]
				}
			}
		}
		out[i] = toInt16(sum)
	}
}

// resampleInterp evaluates the kernel per tap: any ratio, step input samples per output.
func resampleInterp(in, out []int16, step, fc float64) {
	table := sincTable()
	half := sincZeroCrossings / fc
	for i := range out {
		t := float64(i) * step
		lo := max(int(math.Ceil(t-half)), 0)
		hi := min(int(math.Floor(t+half)), len(in)-1)
		var sum float64
		for j := lo; j <= hi; j++ {
			sum += float64(in[j]) * kernel(table, (t-float64(j))*fc)
		}
		out[i] = toInt16(sum * fc)
	}
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}
