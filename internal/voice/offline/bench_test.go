//go:build offlinevoice && cgo

package offline

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/voice"
)

// drugSentences name drugs in the generic list but not in the clinical terms.
var drugSentences = []string{
	"switch him to clonazepam at bedtime",
	"the patient takes allopurinol for gout",
	"give ceftazidime every eight hours",
	"take sumatriptan at the start of the headache",
}

// TestMeasure prints the figures of the report; it runs only with OFFLINE_VOICE_MEASURE=1
// (about ten minutes on two busy cores).
func TestMeasure(t *testing.T) {
	if os.Getenv("OFFLINE_VOICE_MEASURE") == "" {
		t.Skip("set OFFLINE_VOICE_MEASURE=1")
	}
	ctx := context.Background()
	all := append(append(append([]string{}, generalSentences...), clinicalSentences...), drugSentences...)
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
	if b, err := strconv.ParseFloat(os.Getenv("OFFLINE_VOICE_BOOST"), 32); err == nil {
		addedBoost = float32(b)
	}
	names := []string{"none", "clinical", "clinical+drugs"}
	if v := os.Getenv("OFFLINE_VOICE_VOCAB"); v != "" {
		names = strings.Split(v, ",")
	}
	t.Logf("added-word boost %g", addedBoost)
	for _, name := range names {
		runtime.GC()
		rss0 := rssKB()
		s, err := NewSTT(STTOptions{Workers: 1, Words: vocabs[name]})
		require.NoError(t, err)
		start := time.Now()
		d, err := s.acquire(ctx)
		require.NoError(t, err)
		load := time.Since(start)
		s.pool <- d
		runtime.GC()
		t.Logf("vocab %s (%d added): decoder load %v, RSS +%d MB", name, len(s.voc.added), load, (rssKB()-rss0)/1024)
		for _, v := range []string{"kal16", "slt"} {
			var audio time.Duration
			for _, x := range all {
				audio += say(t, v, x).Duration()
			}
			start, cpu0 := time.Now(), cpuTime()
			g := wer(t, s, v, generalSentences)
			c := wer(t, s, v, clinicalSentences)
			dr := wer(t, s, v, drugSentences)
			el, cpu := time.Since(start), cpuTime()-cpu0
			t.Logf("vocab %s voice %s: WER general %.3f clinical %.3f other-drugs %.3f; RTF wall %.3f CPU %.3f (%v wall per utterance)",
				name, v, g, c, dr, el.Seconds()/audio.Seconds(), cpu.Seconds()/audio.Seconds(), el/time.Duration(len(all)))
		}
	}
}

// cpuTime is the CPU time of the process: on a busy machine wall time overstates the cost.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
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
