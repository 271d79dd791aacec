package voice

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestResampleKeepsTone(t *testing.T) {
	t.Parallel()
	for _, c := range []struct{ from, to int }{
		{44100, 16000}, {48000, 16000}, {8000, 16000}, {22050, 16000}, {16000, 24000}, {16000, 8000}, {11025, 16000},
	} {
		in := sinePCM(c.from, 1000, 12000, 1)
		out := Resample(in, c.to)
		require.Equal(t, c.to, out.Rate)
		require.Len(t, out.Samples, c.to, "%d -> %d: length scales", c.from, c.to)
		freq, amp := tone(t, out)
		require.InDelta(t, 1000, freq, 3, "%d -> %d", c.from, c.to)
		require.InDelta(t, 12000, amp, 120, "%d -> %d", c.from, c.to)
	}
}

// A tone above the new Nyquist frequency is filtered out, not folded into the speech band
// as nearest-neighbour or linear interpolation would.
func TestResampleLowPass(t *testing.T) {
	t.Parallel()
	out := Resample(sinePCM(48000, 11000, 12000, 1), 16000) // would alias to 5 kHz
	_, amp := tone(t, out)
	require.Less(t, amp, 12.0, "at least 60 dB down")

	out = Resample(sinePCM(44100, 6000, 12000, 1), 16000) // in band: kept
	_, amp = tone(t, out)
	require.InDelta(t, 12000, amp, 120)
}

func TestResampleEdges(t *testing.T) {
	t.Parallel()
	p := PCM{Samples: []int16{1, 2, 3}, Rate: 16000}
	require.Equal(t, p, Resample(p, 16000))
	require.Empty(t, Resample(PCM{Rate: 44100}, 16000).Samples)
	require.Len(t, Resample(PCM{Samples: make([]int16, 441), Rate: 44100}, 16000).Samples, 160)
	// Full-scale input clips instead of wrapping around (a wrap jumps by ~65536).
	loud := Resample(sinePCM(44100, 3000, 32767, 0.2), 16000)
	for i := 1; i < len(loud.Samples); i++ {
		require.Less(t, abs(int(loud.Samples[i])-int(loud.Samples[i-1])), 50000, i)
	}
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// A ratio too fine for a filter bank takes the per-tap path with the same response.
func TestResampleOddRatio(t *testing.T) {
	t.Parallel()
	in := sinePCM(44111, 1000, 12000, 1) // 16000/gcd = 16000 phases > maxPhases
	out := Resample(in, 16000)
	require.Len(t, out.Samples, int(math.Round(44111*16000/44111.0)))
	freq, amp := tone(t, out)
	require.InDelta(t, 1000, freq, 3)
	require.InDelta(t, 12000, amp, 120)
	_, amp = tone(t, Resample(sinePCM(44111, 11000, 12000, 1), 16000))
	require.Less(t, amp, 12.0)

	// Both paths agree.
	poly := Resample(sinePCM(44100, 3000, 12000, 0.2), 16000)
	interp := make([]int16, len(poly.Samples))
	resampleInterp(sinePCM(44100, 3000, 12000, 0.2).Samples, interp, 44100.0/16000, sincRolloff*16000/44100)
	for i := range interp {
		require.InDelta(t, poly.Samples[i], interp[i], 2, i)
	}
}
