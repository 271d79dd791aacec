package voice

import "testing"

// One minute of 44.1 kHz speech-band audio to 16 kHz (the common browser upload).
func BenchmarkResample44kTo16k(b *testing.B) {
	p := sinePCM(44100, 1000, 10000, 60)
	for b.Loop() {
		Resample(p, SampleRate)
	}
}
