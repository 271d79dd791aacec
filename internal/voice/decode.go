package voice

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ffmpegBin is the ffmpeg executable (a name looked up in PATH, or a path). ffmpeg is only
// ever run as a subprocess: it is a GPL build here and must never be linked.
var ffmpegBin = "ffmpeg"

// codecSlackSeconds is how far past maxSeconds ffmpeg output may run: encoders pad the
// start and end (an MP3 of exactly the limit decodes some tens of milliseconds longer).
const codecSlackSeconds = 0.25

// maxUnboundedSeconds caps decoder output when the caller sets no limit, so a small
// compressed upload can never expand into unbounded memory.
const maxUnboundedSeconds = 3600

var ffmpegLookup struct {
	sync.Mutex
	bin, path string // bin is the ffmpegBin the lookup was done for
}

// ffmpegPath resolves ffmpegBin once (again only if a test swaps it); "" = not available.
func ffmpegPath() string {
	ffmpegLookup.Lock()
	defer ffmpegLookup.Unlock()
	if ffmpegLookup.bin != ffmpegBin {
		ffmpegLookup.bin = ffmpegBin
		ffmpegLookup.path, _ = exec.LookPath(ffmpegBin)
	}
	return ffmpegLookup.path
}

// FFmpegAvailable reports whether ffmpeg was found; without it only WAV is decoded and only
// wav and pcm are encoded.
func FFmpegAvailable() bool { return ffmpegPath() != "" }

// Decoders lists the containers Decode accepts here.
func Decoders() []string {
	out := []string{string(ContainerWAV)}
	if FFmpegAvailable() {
		for _, c := range []Container{ContainerOGG, ContainerWebM, ContainerMP3, ContainerFLAC, ContainerMP4} {
			out = append(out, string(c))
		}
	}
	return out
}

// Decode turns an uploaded audio file into mono PCM16 at SampleRate, recognising the
// container from its bytes. WAV is decoded in Go; the other containers go through ffmpeg.
// maxSeconds <= 0 means no limit. Errors: ErrUnsupportedContainer (unknown bytes, or ffmpeg
// needed and missing), ErrUndecodable (a known container that is broken or empty; the
// wrapped reason is fit for a client), ErrTooLong, or the context's error.
func Decode(ctx context.Context, data []byte, maxSeconds float64) (PCM, Container, error) {
	c := Sniff(data)
	switch c {
	case ContainerUnknown:
		return PCM{}, c, ErrUnsupportedContainer
	case ContainerWAV:
		p, err := decodeWAVFile(data, maxSeconds)
		var codec errWAVCodec
		if !errors.As(err, &codec) {
			return p, c, err
		}
		if !FFmpegAvailable() {
			return PCM{}, c, fmt.Errorf("%w: %v needs ffmpeg", ErrUnsupportedContainer, codec)
		}
	}
	if !FFmpegAvailable() {
		return PCM{}, c, fmt.Errorf("%w: %s needs ffmpeg", ErrUnsupportedContainer, c)
	}
	p, err := decodeFFmpeg(ctx, data, c, maxSeconds)
	return p, c, err
}

func decodeWAVFile(data []byte, maxSeconds float64) (PCM, error) {
	w, err := parseWAV(data)
	if err != nil {
		return PCM{}, err
	}
	if len(w.data) == 0 {
		return PCM{}, fmt.Errorf("%w: WAV holds no samples", ErrUndecodable)
	}
	if maxSeconds > 0 && w.seconds() > maxSeconds {
		return PCM{}, fmt.Errorf("%w: %.1f s > %g s", ErrTooLong, w.seconds(), maxSeconds)
	}
	return Resample(decodeWAV(w), SampleRate), nil
}

// decodeFFmpeg runs ffmpeg on the bytes. Input goes through a pipe, except MP4 which keeps
// its index (moov) at the end when a recorder wrote it in one go and so needs a seekable
// file. The output is capped at maxSeconds (plus codec padding) and ffmpeg is stopped there.
func decodeFFmpeg(ctx context.Context, data []byte, c Container, maxSeconds float64) (PCM, error) {
	input, cleanup, err := ffmpegInput(data, c)
	if err != nil {
		return PCM{}, err
	}
	defer cleanup()
	limit := maxSeconds
	if limit <= 0 {
		limit = maxUnboundedSeconds
	}
	out := &cappedBuffer{max: int((limit+codecSlackSeconds)*SampleRate) * 2}
	var stderr bytes.Buffer
	run, cancel := context.WithCancel(ctx)
	defer cancel()
	out.stop = cancel
	cmd := exec.CommandContext(run, ffmpegPath(), "-nostdin", "-hide_banner", "-loglevel", "error",
		"-i", input, "-vn", "-f", "s16le", "-ac", "1", "-ar", strconv.Itoa(SampleRate), "pipe:1")
	if input == "pipe:0" {
		cmd.Stdin = bytes.NewReader(data)
	}
	cmd.Stdout = out
	cmd.Stderr = &limitedWriter{w: &stderr, n: 4096}
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	switch {
	case out.over:
		return PCM{}, fmt.Errorf("%w: more than %g s", ErrTooLong, limit)
	case ctx.Err() != nil:
		return PCM{}, ctx.Err()
	case err != nil:
		return PCM{}, fmt.Errorf("%w: %s: %s", ErrUndecodable, c, ffmpegReason(stderr.String(), input))
	case out.b.Len() < 2:
		return PCM{}, fmt.Errorf("%w: %s holds no audio samples", ErrUndecodable, c)
	}
	return PCMFromBytes(out.b.Bytes(), SampleRate), nil
}

func ffmpegInput(data []byte, c Container) (string, func(), error) {
	if c != ContainerMP4 {
		return "pipe:0", func() {}, nil
	}
	f, err := os.CreateTemp("", "voice-*.mp4")
	if err != nil {
		return "", nil, fmt.Errorf("voice: temp file for mp4: %w", err)
	}
	cleanup := func() { _ = os.Remove(f.Name()) }
	_, err = f.Write(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		cleanup()
		return "", nil, fmt.Errorf("voice: temp file for mp4: %w", err)
	}
	return f.Name(), cleanup, nil
}

// ffmpegReason turns ffmpeg's stderr into a short reason for a client: the first line,
// with the input's name (a pipe or a temp path) replaced by "input".
func ffmpegReason(stderr, input string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(stderr), "\n")
	line = strings.TrimSpace(strings.ReplaceAll(line, input, "input"))
	if len(line) > 200 {
		line = line[:200]
	}
	if line == "" {
		return "decoder failed"
	}
	return line
}

// cappedBuffer collects output up to max bytes, then stops the producer.
type cappedBuffer struct {
	b    bytes.Buffer
	max  int
	over bool
	stop func()
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	if c.b.Len()+len(p) > c.max {
		c.over = true
		c.stop()
		return 0, ErrTooLong
	}
	return c.b.Write(p)
}

// limitedWriter keeps the first n bytes and drops the rest without failing the writer.
type limitedWriter struct {
	w interface{ Write([]byte) (int, error) }
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.n -= k
		_, _ = l.w.Write(p[:k])
	}
	return len(p), nil
}
