package voice

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"sync"
	"time"
)

// Output formats of Encode and NewStreamEncoder.
const (
	FormatWAV  = "wav"
	FormatPCM  = "pcm"
	FormatMP3  = "mp3"
	FormatOpus = "opus"
)

// ContentType is the media type of an encoded format. pcm is raw signed 16-bit mono in
// network byte order (big-endian), as audio/L16 is defined (RFC 2586); the rate is a parameter.
func ContentType(format string, rate int) string {
	switch format {
	case FormatWAV:
		return "audio/wav"
	case FormatPCM:
		return "audio/L16; rate=" + strconv.Itoa(rate) + "; channels=1"
	case FormatMP3:
		return "audio/mpeg"
	case FormatOpus:
		return "audio/ogg"
	}
	return ""
}

// Encoders lists the formats Encode produces here (mp3 and opus need ffmpeg).
func Encoders() []string {
	if FFmpegAvailable() {
		return []string{FormatWAV, FormatPCM, FormatMP3, FormatOpus}
	}
	return []string{FormatWAV, FormatPCM}
}

// ffmpegEncodeArgs are the output options per compressed format; -flush_packets and short
// Ogg pages let a stream reach the client while the text is still being spoken.
func ffmpegEncodeArgs(format string) []string {
	switch format {
	case FormatMP3:
		return []string{"-c:a", "libmp3lame", "-b:a", "48k", "-flush_packets", "1", "-f", "mp3"}
	case FormatOpus:
		return []string{"-c:a", "libopus", "-b:a", "24k", "-application", "voip", "-frame_duration", "20",
			"-page_duration", "100000", "-flush_packets", "1", "-f", "ogg"}
	}
	return nil
}

// checkFormat returns ErrInvalidInput for an unknown format and ErrUnavailable for one that
// needs the missing ffmpeg.
func checkFormat(format string) error {
	switch format {
	case FormatWAV, FormatPCM:
		return nil
	case FormatMP3, FormatOpus:
		if !FFmpegAvailable() {
			return fmt.Errorf("%w: %s output needs ffmpeg", ErrUnavailable, format)
		}
		return nil
	}
	return fmt.Errorf("%w: unknown audio format %q", ErrInvalidInput, format)
}

func ffmpegEncoder(ctx context.Context, format string, rate int) *exec.Cmd {
	args := []string{"-nostdin", "-hide_banner", "-loglevel", "error",
		"-f", "s16le", "-ar", strconv.Itoa(rate), "-ac", "1", "-i", "pipe:0"}
	args = append(append(args, ffmpegEncodeArgs(format)...), "pipe:1")
	cmd := exec.CommandContext(ctx, ffmpegPath(), args...)
	cmd.WaitDelay = 5 * time.Second
	return cmd
}

// Encode renders p as wav, pcm, mp3 or opus (Ogg) and returns the bytes and their media type.
func Encode(ctx context.Context, p PCM, format string) ([]byte, string, error) {
	if err := checkFormat(format); err != nil {
		return nil, "", err
	}
	ct := ContentType(format, p.Rate)
	switch format {
	case FormatWAV:
		return EncodeWAV(p), ct, nil
	case FormatPCM:
		return bigEndian(PCMBytes(p)), ct, nil
	}
	var out, stderr bytes.Buffer
	cmd := ffmpegEncoder(ctx, format, p.Rate)
	cmd.Stdin = bytes.NewReader(PCMBytes(p))
	cmd.Stdout = &out
	cmd.Stderr = &limitedWriter{w: &stderr, n: 4096}
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return nil, "", ctx.Err()
		}
		return nil, "", fmt.Errorf("voice: encode %s: %w: %s", format, err, ffmpegReason(stderr.String(), "pipe:0"))
	}
	return out.Bytes(), ct, nil
}

// NewStreamEncoder returns a writer that takes raw PCM16 LE mono at SampleRate, chunk by
// chunk, and writes the encoded stream to w as it is produced, flushing w (an
// http.ResponseWriter, say) after every piece. pcm passes through (byte-swapped to audio/L16 order); mp3 and opus go through
// one long-lived ffmpeg. Close flushes the encoder and must be called; after an error from
// Write or Close the stream is unusable. w must not be written by anyone else meanwhile.
func NewStreamEncoder(ctx context.Context, format string, w io.Writer) (io.WriteCloser, string, error) {
	if err := checkFormat(format); err != nil {
		return nil, "", err
	}
	ct := ContentType(format, SampleRate)
	switch format {
	case FormatPCM:
		return &passThrough{w: w}, ct, nil
	case FormatWAV:
		return nil, "", fmt.Errorf("%w: wav cannot be streamed (its header holds the length); use pcm", ErrInvalidInput)
	}
	ctx, cancel := context.WithCancel(ctx)
	cmd := ffmpegEncoder(ctx, format, SampleRate)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		cancel()
		return nil, "", fmt.Errorf("voice: stream encoder: %w", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		cancel()
		return nil, "", fmt.Errorf("voice: stream encoder: %w", err)
	}
	s := &streamEncoder{ctx: ctx, cancel: cancel, cmd: cmd, stdin: stdin, copied: make(chan error, 1)}
	cmd.Stderr = &limitedWriter{w: &s.stderr, n: 4096}
	if err := cmd.Start(); err != nil {
		cancel()
		return nil, "", fmt.Errorf("voice: stream encoder: %w", err)
	}
	go func() {
		// Read what ffmpeg has ready and hand it on at once; a failed client write stops
		// ffmpeg so the writer side sees the error too.
		buf := make([]byte, 16<<10)
		for {
			n, rerr := stdout.Read(buf)
			if n > 0 {
				if _, werr := w.Write(buf[:n]); werr != nil {
					cancel()
					s.copied <- fmt.Errorf("voice: stream write: %w", werr)
					return
				}
				flush(w)
			}
			if rerr != nil {
				if errors.Is(rerr, io.EOF) {
					rerr = nil
				}
				s.copied <- rerr
				return
			}
		}
	}()
	return s, ct, nil
}

type streamEncoder struct {
	ctx    context.Context
	cancel context.CancelFunc
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr bytes.Buffer
	copied chan error
	once   sync.Once
	err    error
}

func (s *streamEncoder) Write(p []byte) (int, error) {
	n, err := s.stdin.Write(p)
	if err != nil {
		if s.ctx.Err() != nil {
			return n, fmt.Errorf("voice: stream encoder stopped: %w", context.Cause(s.ctx))
		}
		return n, fmt.Errorf("voice: stream encoder: %w", err)
	}
	return n, nil
}

// Close ends the input, waits for ffmpeg to write the rest, and reports the first error.
func (s *streamEncoder) Close() error {
	s.once.Do(func() {
		_ = s.stdin.Close()
		copyErr := <-s.copied
		waitErr := s.cmd.Wait()
		s.cancel()
		switch {
		case copyErr != nil:
			s.err = copyErr
		case waitErr != nil:
			s.err = fmt.Errorf("voice: stream encoder: %w: %s", waitErr, ffmpegReason(s.stderr.String(), "pipe:0"))
		}
	})
	return s.err
}

type passThrough struct{ w io.Writer }

func (p *passThrough) Write(b []byte) (int, error) {
	n, err := p.w.Write(bigEndian(append([]byte(nil), b...)))
	if err == nil {
		flush(p.w)
	}
	return n, err
}

func (p *passThrough) Close() error { return nil }

// bigEndian swaps PCM16 LE bytes in place into network byte order, which audio/L16 means
// (RFC 2586); the internal format and the encoders' input stay little-endian.
func bigEndian(b []byte) []byte {
	for i := 0; i+1 < len(b); i += 2 {
		b[i], b[i+1] = b[i+1], b[i]
	}
	return b
}

// flush pushes buffered bytes to the client when w can (http.ResponseWriter, bufio.Writer).
func flush(w io.Writer) {
	switch f := w.(type) {
	case interface{ Flush() error }:
		_ = f.Flush()
	case interface{ Flush() }:
		f.Flush()
	}
}
