package voice

import (
	"bytes"
	"context"
	"encoding/binary"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
)

// sine returns seconds of a tone at freq Hz with peak amplitude amp (int16 units).
func sine(rate int, freq, amp, seconds float64) []float64 {
	out := make([]float64, int(seconds*float64(rate)))
	for i := range out {
		out[i] = amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate))
	}
	return out
}

func sinePCM(rate int, freq, amp, seconds float64) PCM {
	s := sine(rate, freq, amp, seconds)
	p := PCM{Samples: make([]int16, len(s)), Rate: rate}
	for i, v := range s {
		p.Samples[i] = toInt16(v)
	}
	return p
}

// tone measures the frequency (zero crossings) and peak amplitude (RMS * sqrt 2) of the
// middle 80% of p, away from the edges a filter smears.
func tone(t *testing.T, p PCM) (freq, amp float64) {
	t.Helper()
	s := p.Samples[len(p.Samples)/10 : len(p.Samples)*9/10]
	require.NotEmpty(t, s)
	crossings := 0
	var sum float64
	for i, v := range s {
		sum += float64(v) * float64(v)
		if i > 0 && (s[i-1] < 0) != (v < 0) {
			crossings++
		}
	}
	seconds := float64(len(s)) / float64(p.Rate)
	return float64(crossings) / 2 / seconds, math.Sqrt(sum/float64(len(s))) * math.Sqrt2
}

// wavSpec describes a WAV file to build for a test.
type wavSpec struct {
	format     uint16 // wavPCM, wavFloat, wavMuLaw, ...
	extensible bool
	channels   int
	rate       int
	bits       int
	dataSize   int64 // -1 = the real size
	extra      []byte
}

// buildWAV writes a WAV with the given already-encoded frames; extra chunks (raw bytes)
// go between fmt and data.
func buildWAV(s wavSpec, frames []byte) []byte {
	var fmtc bytes.Buffer
	le := func(v any) { _ = binary.Write(&fmtc, binary.LittleEndian, v) }
	tag := s.format
	if s.extensible {
		tag = wavExtensible
	}
	le(tag)
	le(uint16(s.channels))
	le(uint32(s.rate))
	le(uint32(s.rate * s.channels * s.bits / 8))
	le(uint16(s.channels * s.bits / 8))
	le(uint16(s.bits))
	if s.extensible {
		le(uint16(22))
		le(uint16(s.bits))
		le(uint32(3))
		le(s.format)
		fmtc.Write([]byte{0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71})
	}
	var b bytes.Buffer
	w := func(v any) { _ = binary.Write(&b, binary.LittleEndian, v) }
	b.WriteString("RIFF")
	w(uint32(0)) // streaming writers leave it; nothing reads it
	b.WriteString("WAVEfmt ")
	w(uint32(fmtc.Len()))
	b.Write(fmtc.Bytes())
	b.Write(s.extra)
	b.WriteString("data")
	size := s.dataSize
	if size < 0 {
		size = int64(len(frames))
	}
	w(uint32(size))
	b.Write(frames)
	return b.Bytes()
}

// frames interleaves channels, encoding each sample (int16 units) with enc.
func frames(enc func(v float64) []byte, chans ...[]float64) []byte {
	var b []byte
	for i := range chans[0] {
		for _, ch := range chans {
			b = append(b, enc(ch[i])...)
		}
	}
	return b
}

func enc16(v float64) []byte { return binary.LittleEndian.AppendUint16(nil, uint16(toInt16(v))) }
func enc8(v float64) []byte  { return []byte{byte(int(math.Round(v/256)) + 128)} }
func enc24(v float64) []byte {
	x := uint32(int32(math.Round(v * 256)))
	return []byte{byte(x), byte(x >> 8), byte(x >> 16)}
}
func enc32(v float64) []byte {
	return binary.LittleEndian.AppendUint32(nil, uint32(int32(math.Round(v*65536))))
}
func encF32(v float64) []byte {
	return binary.LittleEndian.AppendUint32(nil, math.Float32bits(float32(v/32768)))
}
func encF64(v float64) []byte {
	return binary.LittleEndian.AppendUint64(nil, math.Float64bits(v/32768))
}

// ffmpegFile encodes p with ffmpeg into a file of the given extension (args pick the codec)
// and returns its bytes; the test is skipped without ffmpeg.
func ffmpegFile(t *testing.T, p PCM, ext string, args ...string) []byte {
	t.Helper()
	if !FFmpegAvailable() {
		t.Skip("ffmpeg not installed")
	}
	out := filepath.Join(t.TempDir(), "a."+ext)
	cmdArgs := append([]string{"-nostdin", "-hide_banner", "-loglevel", "error", "-f", "s16le",
		"-ar", strconv.Itoa(p.Rate), "-ac", "1", "-i", "pipe:0"}, args...)
	cmd := exec.CommandContext(context.Background(), ffmpegPath(), append(cmdArgs, out)...)
	cmd.Stdin = bytes.NewReader(PCMBytes(p))
	msg, err := cmd.CombinedOutput()
	require.NoError(t, err, string(msg))
	b, err := os.ReadFile(out)
	require.NoError(t, err)
	return b
}
