package voice

import (
	"context"
	"crypto/rand"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSniff(t *testing.T) {
	t.Parallel()
	cases := map[string]struct {
		head []byte
		want Container
	}{
		"wav":          {[]byte("RIFF\x24\x00\x00\x00WAVEfmt "), ContainerWAV},
		"rf64":         {[]byte("RF64\xff\xff\xff\xffWAVEds64"), ContainerWAV},
		"riff not wav": {[]byte("RIFF\x24\x00\x00\x00AVI LIST"), ContainerUnknown},
		"ogg":          {[]byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00"), ContainerOGG},
		"webm":         {[]byte{0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81}, ContainerWebM},
		"mp3 id3":      {[]byte("ID3\x04\x00\x00\x00\x00\x00\x00"), ContainerMP3},
		"mp3 frame":    {[]byte{0xFF, 0xFB, 0x90, 0x64, 0x00}, ContainerMP3},
		"mpeg2 frame":  {[]byte{0xFF, 0xF3, 0x48, 0xC4}, ContainerMP3},
		"adts aac":     {[]byte{0xFF, 0xF1, 0x50, 0x80, 0x00}, ContainerUnknown},
		"bad bitrate":  {[]byte{0xFF, 0xFB, 0xF0, 0x64}, ContainerUnknown},
		"flac":         {[]byte("fLaC\x00\x00\x00\x22"), ContainerFLAC},
		"m4a":          {[]byte("\x00\x00\x00\x20ftypM4A "), ContainerMP4},
		"garbage":      {[]byte("hello world, not audio"), ContainerUnknown},
		"short":        {[]byte("RI"), ContainerUnknown},
		"empty":        {nil, ContainerUnknown},
	}
	for name, c := range cases {
		require.Equal(t, c.want, Sniff(c.head), name)
	}
}

func TestDecodeWAVFormats(t *testing.T) {
	t.Parallel()
	tone16k := sine(16000, 440, 12000, 0.5)
	cases := map[string]struct {
		spec  wavSpec
		data  []byte
		chans int
	}{
		"pcm16 mono":          {wavSpec{format: wavPCM, bits: 16}, frames(enc16, tone16k), 1},
		"pcm8 unsigned":       {wavSpec{format: wavPCM, bits: 8}, frames(enc8, tone16k), 1},
		"pcm24":               {wavSpec{format: wavPCM, bits: 24}, frames(enc24, tone16k), 1},
		"pcm32":               {wavSpec{format: wavPCM, bits: 32}, frames(enc32, tone16k), 1},
		"float32":             {wavSpec{format: wavFloat, bits: 32}, frames(encF32, tone16k), 1},
		"float64":             {wavSpec{format: wavFloat, bits: 64}, frames(encF64, tone16k), 1},
		"extensible float32":  {wavSpec{format: wavFloat, bits: 32, extensible: true}, frames(encF32, tone16k), 1},
		"extensible pcm24 st": {wavSpec{format: wavPCM, bits: 24, extensible: true}, frames(enc24, tone16k, tone16k), 2},
		"stereo pcm16":        {wavSpec{format: wavPCM, bits: 16}, frames(enc16, tone16k, tone16k), 2},
	}
	for name, c := range cases {
		c.spec.channels, c.spec.rate, c.spec.dataSize = c.chans, 16000, -1
		p, container, err := Decode(context.Background(), buildWAV(c.spec, c.data), 10)
		require.NoError(t, err, name)
		require.Equal(t, ContainerWAV, container, name)
		require.Equal(t, SampleRate, p.Rate, name)
		require.Len(t, p.Samples, len(tone16k), name)
		tol := 2.0 // rounding of the int16 reference
		if c.spec.bits == 8 {
			tol = 200 // 8-bit quantisation step is 256
		}
		for i, v := range tone16k {
			require.InDelta(t, v, float64(p.Samples[i]), tol, "%s sample %d", name, i)
		}
	}
}

func TestDecodeWAV8BitExtremes(t *testing.T) {
	t.Parallel()
	wav := buildWAV(wavSpec{format: wavPCM, channels: 1, rate: 16000, bits: 8, dataSize: -1}, []byte{0, 128, 255})
	p, _, err := Decode(context.Background(), wav, 0)
	require.NoError(t, err)
	require.Equal(t, []int16{-32768, 0, 32512}, p.Samples)
}

func TestDecodeWAVMuLaw(t *testing.T) {
	t.Parallel()
	// G.711 mu-law: 0xFF and 0x7F are zero, 0x80 and 0x00 the extremes (+/-32124).
	wav := buildWAV(wavSpec{format: wavMuLaw, channels: 1, rate: 16000, bits: 8, dataSize: -1}, []byte{0xFF, 0x80, 0x00, 0x7F})
	p, _, err := Decode(context.Background(), wav, 0)
	require.NoError(t, err)
	require.Equal(t, []int16{0, 32124, -32124, 0}, p.Samples)
}

// Stereo at 44.1 kHz: channels are averaged (opposite channels cancel) and the result is
// resampled to 16 kHz keeping the tone.
func TestDecodeWAVStereo44k(t *testing.T) {
	t.Parallel()
	left := sine(44100, 1000, 10000, 1)
	right := make([]float64, len(left))
	for i, v := range left {
		right[i] = v / 2
	}
	wav := buildWAV(wavSpec{format: wavPCM, channels: 2, rate: 44100, bits: 16, dataSize: -1}, frames(enc16, left, right))
	p, _, err := Decode(context.Background(), wav, 10)
	require.NoError(t, err)
	require.Equal(t, SampleRate, p.Rate)
	require.Len(t, p.Samples, 16000)
	freq, amp := tone(t, p)
	require.InDelta(t, 1000, freq, 5)
	require.InDelta(t, 7500, amp, 100) // (10000 + 5000) / 2

	neg := make([]float64, len(left))
	for i, v := range left {
		neg[i] = -v
	}
	wav = buildWAV(wavSpec{format: wavPCM, channels: 2, rate: 44100, bits: 16, dataSize: -1}, frames(enc16, left, neg))
	p, _, err = Decode(context.Background(), wav, 10)
	require.NoError(t, err)
	_, amp = tone(t, p)
	require.Less(t, amp, 2.0)
}

func TestDecodeWAVChunks(t *testing.T) {
	t.Parallel()
	data := frames(enc16, sine(16000, 300, 8000, 0.25))
	base := wavSpec{format: wavPCM, channels: 1, rate: 16000, bits: 16, dataSize: -1}

	// An odd-sized chunk before data is followed by a pad byte.
	odd := base
	odd.extra = []byte("LIST\x03\x00\x00\x00abc\x00")
	p, _, err := Decode(context.Background(), buildWAV(odd, data), 0)
	require.NoError(t, err)
	require.Len(t, p.Samples, 4000)

	// Streaming writers leave the data size at 0 or 0xFFFFFFFF: read to the end of file.
	for _, size := range []int64{0, 0xFFFFFFFF} {
		s := base
		s.dataSize = size
		p, _, err := Decode(context.Background(), buildWAV(s, data), 0)
		require.NoError(t, err, size)
		require.Len(t, p.Samples, 4000, size)
	}

	// A data size past the end (a truncated upload) and a half frame at the end: whole
	// frames only.
	s := base
	s.dataSize = int64(len(data)) * 2
	p, _, err = Decode(context.Background(), buildWAV(s, append(data, 0x01)), 0)
	require.NoError(t, err)
	require.Len(t, p.Samples, 4000)
}

func TestDecodeWAVFailures(t *testing.T) {
	t.Parallel()
	good := buildWAV(wavSpec{format: wavPCM, channels: 1, rate: 16000, bits: 16, dataSize: -1},
		frames(enc16, sine(16000, 300, 8000, 2)))
	cases := map[string]struct {
		data []byte
		max  float64
		want error
	}{
		"truncated header":  {good[:20], 0, ErrUndecodable},
		"riff only":         {good[:12], 0, ErrUndecodable},
		"no data chunk":     {good[:36], 0, ErrUndecodable},
		"zero samples":      {buildWAV(wavSpec{format: wavPCM, channels: 1, rate: 16000, bits: 16, dataSize: 0}, nil), 0, ErrUndecodable},
		"bits 12":           {buildWAV(wavSpec{format: wavPCM, channels: 1, rate: 16000, bits: 12, dataSize: -1}, make([]byte, 64)), 0, ErrUndecodable},
		"rate 4 kHz":        {buildWAV(wavSpec{format: wavPCM, channels: 1, rate: 4000, bits: 16, dataSize: -1}, make([]byte, 64)), 0, ErrUndecodable},
		"rate 96 kHz":       {buildWAV(wavSpec{format: wavPCM, channels: 1, rate: 96000, bits: 16, dataSize: -1}, make([]byte, 64)), 0, ErrUndecodable},
		"no channels":       {buildWAV(wavSpec{format: wavPCM, channels: 0, rate: 16000, bits: 16, dataSize: -1}, make([]byte, 64)), 0, ErrUndecodable},
		"too long":          {good, 1.5, ErrTooLong},
		"garbage":           {[]byte("this is not audio at all, just text"), 0, ErrUnsupportedContainer},
		"empty":             {nil, 0, ErrUnsupportedContainer},
		"data before fmt":   {[]byte("RIFF\x00\x00\x00\x00WAVEdata\x02\x00\x00\x00\x00\x00"), 0, ErrUndecodable},
		"fmt chunk too big": {[]byte("RIFF\x00\x00\x00\x00WAVEfmt \xff\x00\x00\x00\x01\x00"), 0, ErrUndecodable},
	}
	for name, c := range cases {
		_, _, err := Decode(context.Background(), c.data, c.max)
		require.ErrorIs(t, err, c.want, name)
	}
	_, _, err := Decode(context.Background(), good, 2.5)
	require.NoError(t, err)
}

// Compressed containers made by ffmpeg decode to 16 kHz mono with the tone intact.
func TestDecodeFFmpegContainers(t *testing.T) {
	t.Parallel()
	src := sinePCM(16000, 500, 10000, 1.5)
	cases := map[Container][]byte{
		ContainerMP3:  ffmpegFile(t, src, "mp3", "-c:a", "libmp3lame", "-b:a", "64k"),
		ContainerOGG:  ffmpegFile(t, src, "ogg", "-c:a", "libopus"),
		ContainerWebM: ffmpegFile(t, src, "webm", "-c:a", "libopus"),
		ContainerFLAC: ffmpegFile(t, src, "flac"),
		ContainerMP4:  ffmpegFile(t, src, "m4a", "-c:a", "aac"),
	}
	cases["ogg vorbis"] = ffmpegFile(t, Resample(src, 44100), "ogg", "-ar", "44100", "-c:a", "libvorbis")
	for name, data := range cases {
		p, c, err := Decode(context.Background(), data, 10)
		require.NoError(t, err, name)
		if name != "ogg vorbis" {
			require.Equal(t, name, c)
		}
		require.Equal(t, SampleRate, p.Rate, name)
		require.InDelta(t, 1.5, p.Duration().Seconds(), 0.1, name) // codecs pad a little
		freq, amp := tone(t, p)
		require.InDelta(t, 500, freq, 10, name)
		require.InDelta(t, 10000, amp, 1000, name)
	}
	require.Equal(t, []string{"wav", "ogg", "webm", "mp3", "flac", "mp4"}, Decoders())
}

func TestDecodeFFmpegFailures(t *testing.T) {
	t.Parallel()
	ogg := ffmpegFile(t, sinePCM(16000, 500, 10000, 3), "ogg", "-c:a", "libopus")

	junk := make([]byte, 4000)
	_, _ = rand.Read(junk)
	corrupt := append([]byte("OggS"), junk...)
	_, c, err := Decode(context.Background(), corrupt, 10)
	require.ErrorIs(t, err, ErrUndecodable)
	require.Equal(t, ContainerOGG, c)
	require.NotContains(t, err.Error(), "pipe:")
	require.NotContains(t, err.Error(), "/")

	// An MP4 goes through a temp file: its path must not reach the client.
	mp4 := append([]byte("\x00\x00\x00\x18ftypM4A "), junk...)
	_, _, err = Decode(context.Background(), mp4, 10)
	require.ErrorIs(t, err, ErrUndecodable)
	require.NotContains(t, err.Error(), "voice-")

	_, _, err = Decode(context.Background(), ogg, 1)
	require.ErrorIs(t, err, ErrTooLong)
	// Exactly at the limit passes despite the codec's padding.
	p, _, err := Decode(context.Background(), ogg, 3)
	require.NoError(t, err)
	require.InDelta(t, 3, p.Duration().Seconds(), 0.1)

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err = Decode(ctx, ogg, 10)
	require.True(t, errors.Is(err, context.Canceled), "%v", err)
}

// Without ffmpeg only WAV decodes: everything else is an unsupported container (415), not
// an undecodable one, and compressed outputs are unavailable. Not parallel: it swaps the
// package's ffmpeg binary.
func TestNoFFmpeg(t *testing.T) {
	src := sinePCM(16000, 500, 10000, 0.5)
	ogg := ffmpegFile(t, src, "ogg", "-c:a", "libopus")
	adpcm := buildWAV(wavSpec{format: 0x0011, channels: 1, rate: 16000, bits: 4, dataSize: -1}, make([]byte, 256))

	saved := ffmpegBin
	ffmpegBin = "/nonexistent/ffmpeg"
	t.Cleanup(func() { ffmpegBin = saved })

	require.False(t, FFmpegAvailable())
	require.Equal(t, []string{"wav"}, Decoders())
	require.Equal(t, []string{"wav", "pcm"}, Encoders())

	_, c, err := Decode(context.Background(), ogg, 10)
	require.ErrorIs(t, err, ErrUnsupportedContainer)
	require.Equal(t, ContainerOGG, c)

	_, _, err = Decode(context.Background(), adpcm, 10)
	require.ErrorIs(t, err, ErrUnsupportedContainer)

	p, _, err := Decode(context.Background(), EncodeWAV(src), 10)
	require.NoError(t, err)
	require.Equal(t, src.Samples, p.Samples)

	_, _, err = Encode(context.Background(), src, FormatMP3)
	require.ErrorIs(t, err, ErrUnavailable)
	_, _, err = NewStreamEncoder(context.Background(), FormatOpus, &safeBuffer{})
	require.ErrorIs(t, err, ErrUnavailable)
	b, ct, err := Encode(context.Background(), src, FormatWAV)
	require.NoError(t, err)
	require.Equal(t, "audio/wav", ct)
	require.Equal(t, EncodeWAV(src), b)
}
