package voice

import (
	"context"
	"errors"
	"testing"
)

// Uploads are untrusted: WAV parsing never panics and fails only with the documented kinds.
func FuzzDecodeWAV(f *testing.F) {
	f.Add(EncodeWAV(sinePCM(16000, 440, 8000, 0.01)))
	f.Add(buildWAV(wavSpec{format: wavFloat, extensible: true, channels: 2, rate: 44100, bits: 32, dataSize: 0}, make([]byte, 64)))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEfmt \x10\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if Sniff(data) != ContainerWAV {
			return
		}
		p, _, err := Decode(context.Background(), data, 5)
		switch {
		case err == nil:
			if len(p.Samples) == 0 || p.Rate != SampleRate {
				t.Fatalf("empty or wrong-rate success: %d samples at %d Hz", len(p.Samples), p.Rate)
			}
		case errors.Is(err, ErrUndecodable), errors.Is(err, ErrTooLong), errors.Is(err, ErrUnsupportedContainer):
		default:
			t.Fatalf("unexpected error kind: %v", err)
		}
	})
}
