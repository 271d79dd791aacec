package voice

import (
	"context"
	"errors"
	"slices"
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

// Any PCM16 mono 16 kHz audio written by EncodeWAV reads back through the header parser with
// the format it was written with, and decodes to the very same samples.
func FuzzWAVRoundTrip(f *testing.F) {
	f.Add([]byte{0x00, 0x80, 0xff, 0x7f, 0x01, 0x00})
	f.Add([]byte{0, 0})
	f.Add(make([]byte, 3))
	f.Fuzz(func(t *testing.T, raw []byte) {
		samples := make([]int16, len(raw)/2)
		for i := range samples {
			samples[i] = int16(uint16(raw[2*i]) | uint16(raw[2*i+1])<<8)
		}
		wav := EncodeWAV(PCM{Samples: samples, Rate: SampleRate})
		w, err := parseWAV(wav)
		if err != nil || w.channels != 1 || w.rate != SampleRate || w.bits != 16 || len(w.data) != 2*len(samples) {
			t.Fatalf("header of %d samples read back as %+v, %v", len(samples), w, err)
		}
		if len(samples) == 0 {
			return
		}
		p, c, err := Decode(context.Background(), wav, 60)
		if err != nil || c != ContainerWAV || p.Rate != SampleRate || !slices.Equal(p.Samples, samples) {
			t.Fatalf("%d samples decoded as %d at %d Hz (%v): %v", len(samples), len(p.Samples), p.Rate, c, err)
		}
	})
}
