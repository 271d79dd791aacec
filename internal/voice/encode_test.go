package voice

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"
)

// safeBuffer is an io.Writer with a Flush counter, safe to read while a stream writes.
type safeBuffer struct {
	mu      sync.Mutex
	b       bytes.Buffer
	flushes int
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) Flush() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.flushes++
}

func (s *safeBuffer) Bytes() []byte {
	s.mu.Lock()
	defer s.mu.Unlock()
	return bytes.Clone(s.b.Bytes())
}

func TestEncodeWAVRoundTrip(t *testing.T) {
	t.Parallel()
	src := sinePCM(16000, 440, 9000, 0.3)
	wav := EncodeWAV(src)
	require.Len(t, wav, 44+2*len(src.Samples))
	require.Equal(t, ContainerWAV, Sniff(wav))
	p, _, err := Decode(context.Background(), wav, 0)
	require.NoError(t, err)
	require.Equal(t, src, p)

	require.Equal(t, src, PCMFromBytes(PCMBytes(src), 16000))
	require.Equal(t, []byte{0x01, 0x00, 0xFF, 0xFF, 0x00, 0x80}, PCMBytes(PCM{Samples: []int16{1, -1, -32768}}))
}

func TestEncodeFormats(t *testing.T) {
	t.Parallel()
	if !FFmpegAvailable() {
		t.Skip("ffmpeg not installed")
	}
	src := sinePCM(16000, 600, 10000, 1)
	cases := []struct {
		format, contentType string
		container           Container
	}{
		{FormatWAV, "audio/wav", ContainerWAV},
		{FormatMP3, "audio/mpeg", ContainerMP3},
		{FormatOpus, "audio/ogg", ContainerOGG},
	}
	for _, c := range cases {
		b, ct, err := Encode(context.Background(), src, c.format)
		require.NoError(t, err, c.format)
		require.Equal(t, c.contentType, ct)
		require.Equal(t, c.container, Sniff(b), c.format)
		p, _, err := Decode(context.Background(), b, 10)
		require.NoError(t, err, c.format)
		freq, _ := tone(t, p)
		require.InDelta(t, 600, freq, 10, c.format)
	}
	b, ct, err := Encode(context.Background(), src, FormatPCM)
	require.NoError(t, err)
	require.Equal(t, "audio/L16; rate=16000; channels=1", ct)
	require.Equal(t, bigEndian(PCMBytes(src)), b, "audio/L16 is big-endian (RFC 2586)")
	require.Equal(t, []byte{0x00, 0x01, 0xFF, 0xFF, 0x80, 0x00}, bigEndian(PCMBytes(PCM{Samples: []int16{1, -1, -32768}})))

	_, _, err = Encode(context.Background(), src, "aiff")
	require.ErrorIs(t, err, ErrInvalidInput)
	require.Equal(t, []string{"wav", "pcm", "mp3", "opus"}, Encoders())
}

// The stream encoder emits audio for the first chunk before the input ends, and the whole
// stream decodes to the audio written.
func TestStreamEncoder(t *testing.T) {
	t.Parallel()
	if !FFmpegAvailable() {
		t.Skip("ffmpeg not installed")
	}
	chunk := PCMBytes(sinePCM(16000, 600, 10000, 1))
	for _, format := range []string{FormatMP3, FormatOpus} {
		out := &safeBuffer{}
		w, ct, err := NewStreamEncoder(context.Background(), format, out)
		require.NoError(t, err)
		require.Equal(t, ContentType(format, SampleRate), ct)
		for range 3 {
			_, err = w.Write(chunk)
			require.NoError(t, err)
		}
		require.Eventually(t, func() bool { return len(out.Bytes()) > 0 }, 10e9, 10e6,
			"%s: output starts before the input ends", format)
		require.NoError(t, w.Close())
		require.NoError(t, w.Close(), "Close is idempotent")

		p, c, err := Decode(context.Background(), out.Bytes(), 10)
		require.NoError(t, err, format)
		require.Equal(t, Sniff(out.Bytes()), c)
		require.InDelta(t, 3, p.Duration().Seconds(), 0.15, format)
		freq, _ := tone(t, p)
		require.InDelta(t, 600, freq, 10, format)
		out.mu.Lock()
		require.Positive(t, out.flushes)
		out.mu.Unlock()
	}

	out := &safeBuffer{}
	w, ct, err := NewStreamEncoder(context.Background(), FormatPCM, out)
	require.NoError(t, err)
	require.Equal(t, "audio/L16; rate=16000; channels=1", ct)
	_, err = w.Write(chunk[:100])
	require.NoError(t, err)
	require.Equal(t, bigEndian(append([]byte(nil), chunk[:100]...)), out.Bytes(), "pcm passes through in audio/L16 byte order")
	require.Equal(t, chunk[0], out.Bytes()[1], "the low byte comes second")
	require.NoError(t, w.Close())

	_, _, err = NewStreamEncoder(context.Background(), FormatWAV, out)
	require.ErrorIs(t, err, ErrInvalidInput)
}

// A cancelled request stops ffmpeg: writes fail rather than block.
func TestStreamEncoderCancel(t *testing.T) {
	t.Parallel()
	if !FFmpegAvailable() {
		t.Skip("ffmpeg not installed")
	}
	ctx, cancel := context.WithCancel(context.Background())
	w, _, err := NewStreamEncoder(ctx, FormatMP3, &safeBuffer{})
	require.NoError(t, err)
	cancel()
	chunk := make([]byte, 64<<10)
	require.Eventually(t, func() bool {
		_, err := w.Write(chunk)
		return err != nil
	}, 10e9, 1e6)
	require.Error(t, w.Close())
}
