//go:build offlinevoice && cgo

package offline

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/voice"
)

// TestMeasure prints the figures of the report; it runs only with OFFLINE_VOICE_MEASURE=1.
func TestMeasure(t *testing.T) {
	if os.Getenv("OFFLINE_VOICE_MEASURE") == "" {
		t.Skip("set OFFLINE_VOICE_MEASURE=1")
	}
	ctx := context.Background()
	all := append(append([]string{}, generalSentences...), clinicalSentences...)
	for _, v := range []string{"kal16", "slt", "awb", "rms"} {
		start := time.Now()
		var audio time.Duration
		for _, s := range all {
			audio += say(t, v, s).Duration()
		}
		el := time.Since(start)
		t.Logf("flite %s: %v per sentence, RTF %.3f", v, el/time.Duration(len(all)), el.Seconds()/audio.Seconds())
	}
	vocabs := map[string][]string{
		"none":           nil,
		"clinical":       voice.ClinicalTerms(),
		"clinical+drugs": append(voice.ClinicalTerms(), DrugNames()...),
	}
	for _, name := range []string{"none", "clinical", "clinical+drugs"} {
		rss0 := rssKB()
		s, err := NewSTT(STTOptions{Workers: 1, Words: vocabs[name]})
		require.NoError(t, err)
		start := time.Now()
		d, err := s.acquire(ctx)
		require.NoError(t, err)
		load := time.Since(start)
		s.pool <- d
		runtime.GC()
		t.Logf("vocab %s: decoder load %v, RSS +%d MB", name, load, (rssKB()-rss0)/1024)
		for _, v := range []string{"kal16", "slt"} {
			start := time.Now()
			var audio time.Duration
			for _, x := range all {
				audio += say(t, v, x).Duration()
			}
			_ = audio
			g := wer(t, s, v, generalSentences)
			c := wer(t, s, v, clinicalSentences)
			el := time.Since(start)
			t.Logf("vocab %s voice %s: WER general %.3f clinical %.3f RTF %.3f", name, v, g, c, el.Seconds()/audio.Seconds())
		}
	}
}

func rssKB() int {
	b, _ := os.ReadFile("/proc/self/status")
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "VmRSS:") {
			n, _ := strconv.Atoi(strings.Fields(l)[1])
			return n
		}
	}
	return 0
}
