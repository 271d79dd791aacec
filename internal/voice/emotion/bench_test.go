package emotion_test

import (
	"context"
	"testing"

	"github.com/voiceassist/gateway/internal/voice/emotion"
)

// One spoken turn: 5 s of uneven voice and a 20-word transcript (the per-turn cost the
// estimator adds before the answer starts; docs/benchmarks.md, "Emotion estimator").
func BenchmarkOfflineDetectSpoken(b *testing.B) {
	in := emotion.Input{PCM: tone(5, 24000, 2500, 16000, 1200),
		Text: "I'm really worried, what if this chest pain is my heart? It started this morning and it is not going away."}
	for b.Loop() {
		_, _ = emotion.Offline{}.Detect(context.Background(), in)
	}
}

// One typed turn of the same words.
func BenchmarkOfflineDetectTyped(b *testing.B) {
	in := emotion.Input{Text: "I'm really worried, what if this chest pain is my heart? It started this morning and it is not going away."}
	for b.Loop() {
		_, _ = emotion.Offline{}.Detect(context.Background(), in)
	}
}
