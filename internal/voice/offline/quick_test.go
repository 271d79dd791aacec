//go:build offlinevoice && cgo

package offline

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/voice"
)

func TestQuick(t *testing.T) {
	if os.Getenv("QUICK") == "" {
		t.Skip()
	}
	words := voice.ClinicalTerms()
	if k, _ := strconv.Atoi(os.Getenv("K")); k > 0 {
		words = words[:k]
	}
	if os.Getenv("QUICK") == "drugs" {
		words = append(words, DrugNames()...)
	}
	s, err := NewSTT(STTOptions{Workers: 1, Words: words})
	require.NoError(t, err)
	start := time.Now()
	d, err := s.acquire(context.Background())
	require.NoError(t, err)
	t.Logf("load %v", time.Since(start))
	s.pool <- d
	t.Logf("kal16 clinical %.3f", wer(t, s, "kal16", clinicalSentences))
	t.Logf("kal16 general %.3f", wer(t, s, "kal16", generalSentences))
}
