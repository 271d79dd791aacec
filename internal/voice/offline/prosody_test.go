//go:build offlinevoice && cgo

package offline

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/voice"
)

// TestProsodyFromOfflineTimings: prosody from the offline recogniser's word timings on speech
// with a known pause (two synthesised phrases 700 ms apart) finds that pause as the longest.
func TestProsodyFromOfflineTimings(t *testing.T) {
	a, b := say(t, "kal16", "Start metformin twice daily"), say(t, "kal16", "with food")
	require.Equal(t, a.Rate, b.Rate)
	const gap = 700 * time.Millisecond
	samples := append([]int16{}, a.Samples...)
	for i := range a.Rate * int(gap/time.Millisecond) / 1000 {
		samples = append(samples, int16(i%7-3)) // a faint hiss
	}
	samples = append(samples, b.Samples...)
	audio := voice.PCM{Samples: samples, Rate: a.Rate}
	tr := transcribe(t, clinicalSTT(t), audio)
	p, ok := voice.AnalyzeProsody(tr.Segments, tr.Text, audio.Duration())
	require.True(t, ok, "%+v", tr)
	t.Logf("%q: %+v", tr.Text, p)
	require.GreaterOrEqual(t, p.Words, 5)
	require.GreaterOrEqual(t, p.Pauses, 1)
	// The inserted 700 ms plus whatever silence the synthesiser left at the phrases' edges.
	require.GreaterOrEqual(t, p.PauseLongest, gap-100*time.Millisecond)
	require.LessOrEqual(t, p.PauseLongest, gap+300*time.Millisecond)
	require.Greater(t, p.WPM, 60.0)
	require.Less(t, p.WPM, 400.0)
	require.False(t, p.Question)
}
