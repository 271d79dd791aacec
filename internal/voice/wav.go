package voice

import (
	"encoding/binary"
	"fmt"
	"math"
)

// WAV sample formats (the fmt chunk's format tag, or the first two bytes of the
// WAVE_FORMAT_EXTENSIBLE sub-format GUID).
const (
	wavPCM        = 0x0001
	wavFloat      = 0x0003
	wavALaw       = 0x0006
	wavMuLaw      = 0x0007
	wavExtensible = 0xFFFE
)

// WAV sample rates decoded here; anything else is refused rather than guessed at.
const (
	minWAVRate = 8000
	maxWAVRate = 48000
)

// errWAVCodec marks a valid WAV whose codec (ADPCM, GSM, ...) is not decoded in Go; Decode
// hands it to ffmpeg when present.
type errWAVCodec struct{ tag uint16 }

func (e errWAVCodec) Error() string { return fmt.Sprintf("WAV codec 0x%04x", e.tag) }

// wavInfo is what the RIFF header says about the audio.
type wavInfo struct {
	format   uint16
	channels int
	rate     int
	bits     int
	data     []byte // the sample bytes, whole frames only
}

func (w wavInfo) frameSize() int { return w.channels * w.bits / 8 }

// seconds is the duration the header announces.
func (w wavInfo) seconds() float64 {
	return float64(len(w.data)/w.frameSize()) / float64(w.rate)
}

// parseWAV walks the RIFF chunks. Chunks of odd size are followed by a pad byte; a data
// chunk size of 0 or 0xFFFFFFFF (streaming writers that never seek back, and RF64) or one
// past the end of the file means "to the end of the file".
func parseWAV(b []byte) (wavInfo, error) {
	var w wavInfo
	if len(b) < 12 {
		return w, fmt.Errorf("%w: truncated WAV header", ErrUndecodable)
	}
	haveFmt := false
	for pos := 12; ; {
		if len(b)-pos < 8 {
			if !haveFmt {
				return w, fmt.Errorf("%w: truncated WAV header (no fmt chunk)", ErrUndecodable)
			}
			return w, fmt.Errorf("%w: WAV has no data chunk", ErrUndecodable)
		}
		id := string(b[pos : pos+4])
		size := int64(binary.LittleEndian.Uint32(b[pos+4 : pos+8]))
		pos += 8
		rest := int64(len(b) - pos)
		switch id {
		case "fmt ":
			if size < 16 || size > rest {
				return w, fmt.Errorf("%w: truncated WAV fmt chunk", ErrUndecodable)
			}
			if err := w.parseFmt(b[pos : pos+int(size)]); err != nil {
				return w, err
			}
			haveFmt = true
		case "data":
			if !haveFmt {
				return w, fmt.Errorf("%w: WAV data chunk before fmt chunk", ErrUndecodable)
			}
			if size == 0 || size == 0xFFFFFFFF || size > rest {
				size = rest
			}
			fs := w.frameSize()
			w.data = b[pos : pos+int(size)/fs*fs]
			return w, nil
		}
		if size > rest {
			return w, fmt.Errorf("%w: truncated WAV chunk %q", ErrUndecodable, sanitizeID(id))
		}
		pos += int(size + size&1)
	}
}

func (w *wavInfo) parseFmt(c []byte) error {
	w.format = binary.LittleEndian.Uint16(c[0:2])
	w.channels = int(binary.LittleEndian.Uint16(c[2:4]))
	w.rate = int(binary.LittleEndian.Uint32(c[4:8]))
	w.bits = int(binary.LittleEndian.Uint16(c[14:16]))
	if w.format == wavExtensible {
		if len(c) < 40 {
			return fmt.Errorf("%w: truncated WAVE_FORMAT_EXTENSIBLE header", ErrUndecodable)
		}
		w.format = binary.LittleEndian.Uint16(c[24:26]) // sub-format GUID, first two bytes
	}
	switch {
	case w.channels < 1 || w.channels > 8:
		return fmt.Errorf("%w: WAV with %d channels", ErrUndecodable, w.channels)
	case w.rate < minWAVRate || w.rate > maxWAVRate:
		return fmt.Errorf("%w: WAV sample rate %d Hz outside %d..%d Hz", ErrUndecodable, w.rate, minWAVRate, maxWAVRate)
	}
	switch {
	case w.format == wavPCM && (w.bits == 8 || w.bits == 16 || w.bits == 24 || w.bits == 32),
		w.format == wavFloat && (w.bits == 32 || w.bits == 64),
		(w.format == wavALaw || w.format == wavMuLaw) && w.bits == 8:
		return nil
	case w.format == wavPCM || w.format == wavFloat:
		return fmt.Errorf("%w: WAV with %d-bit samples", ErrUndecodable, w.bits)
	}
	return errWAVCodec{tag: w.format}
}

// decodeWAV decodes a parsed WAV to mono at its own rate, mixing channels by averaging.
func decodeWAV(w wavInfo) PCM {
	fs := w.frameSize()
	bps := w.bits / 8
	frames := len(w.data) / fs
	out := make([]int16, frames)
	for i := range frames {
		var sum float64
		for ch := range w.channels {
			sum += w.sample(w.data[i*fs+ch*bps:])
		}
		out[i] = toInt16(sum / float64(w.channels))
	}
	return PCM{Samples: out, Rate: w.rate}
}

// sample reads one sample scaled to the int16 range.
func (w wavInfo) sample(b []byte) float64 {
	switch w.format {
	case wavFloat:
		if w.bits == 64 {
			return math.Float64frombits(binary.LittleEndian.Uint64(b)) * 32768
		}
		return float64(math.Float32frombits(binary.LittleEndian.Uint32(b))) * 32768
	case wavMuLaw:
		return float64(muLaw(b[0]))
	case wavALaw:
		return float64(aLaw(b[0]))
	}
	switch w.bits {
	case 8: // unsigned, 128 = silence
		return float64(int(b[0])-128) * 256
	case 16:
		return float64(int16(binary.LittleEndian.Uint16(b)))
	case 24:
		v := int32(uint32(b[0])<<8|uint32(b[1])<<16|uint32(b[2])<<24) >> 8
		return float64(v) / 256
	default: // 32
		return float64(int32(binary.LittleEndian.Uint32(b))) / 65536
	}
}

// muLaw and aLaw expand G.711 samples (telephony WAVs) to 16 bits.
func muLaw(u byte) int16 {
	u = ^u
	t := (int(u&0x0F)<<3 + 0x84) << (int(u&0x70) >> 4)
	if u&0x80 != 0 {
		return int16(0x84 - t)
	}
	return int16(t - 0x84)
}

func aLaw(a byte) int16 {
	a ^= 0x55
	t := int(a&0x0F) << 4
	seg := int(a&0x70) >> 4
	switch seg {
	case 0:
		t += 8
	case 1:
		t += 0x108
	default:
		t = (t + 0x108) << (seg - 1)
	}
	if a&0x80 != 0 {
		return int16(t)
	}
	return int16(-t)
}

func toInt16(v float64) int16 {
	v = math.Round(v)
	switch {
	case v > math.MaxInt16:
		return math.MaxInt16
	case v < math.MinInt16:
		return math.MinInt16
	}
	return int16(v)
}

// sanitizeID keeps a chunk id printable for an error message.
func sanitizeID(id string) string {
	b := []byte(id)
	for i, c := range b {
		if c < 0x20 || c > 0x7E {
			b[i] = '?'
		}
	}
	return string(b)
}

// EncodeWAV writes p as a canonical 16-bit mono PCM WAV file.
func EncodeWAV(p PCM) []byte {
	n := len(p.Samples) * 2
	b := make([]byte, 44, 44+n)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+n))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16)
	binary.LittleEndian.PutUint16(b[20:], wavPCM)
	binary.LittleEndian.PutUint16(b[22:], 1)
	binary.LittleEndian.PutUint32(b[24:], uint32(p.Rate))
	binary.LittleEndian.PutUint32(b[28:], uint32(p.Rate*2))
	binary.LittleEndian.PutUint16(b[32:], 2)
	binary.LittleEndian.PutUint16(b[34:], 16)
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(n))
	return append(b, PCMBytes(p)...)
}

// PCMBytes returns the samples as raw signed 16-bit little-endian bytes.
func PCMBytes(p PCM) []byte {
	b := make([]byte, 2*len(p.Samples))
	for i, s := range p.Samples {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(s))
	}
	return b
}

// PCMFromBytes reads raw signed 16-bit little-endian bytes (an odd last byte is dropped).
func PCMFromBytes(b []byte, rate int) PCM {
	s := make([]int16, len(b)/2)
	for i := range s {
		s[i] = int16(binary.LittleEndian.Uint16(b[2*i:]))
	}
	return PCM{Samples: s, Rate: rate}
}
