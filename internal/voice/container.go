package voice

import (
	"bytes"
	"encoding/binary"
)

// Container is an audio file format recognised from its first bytes.
type Container string

// The containers Sniff recognises.
const (
	ContainerUnknown Container = "unknown"
	ContainerWAV     Container = "wav"  // RIFF/WAVE (and RF64)
	ContainerOGG     Container = "ogg"  // Ogg: Opus or Vorbis
	ContainerWebM    Container = "webm" // WebM/Matroska (EBML)
	ContainerMP3     Container = "mp3"  // ID3 tag or MPEG audio frame
	ContainerFLAC    Container = "flac"
	ContainerMP4     Container = "mp4" // ISO BMFF: M4A/MP4/3GP
)

// SniffLen is how many leading bytes Sniff looks at.
const SniffLen = 12

// Sniff recognises the container from the first bytes of a file (SniffLen are enough).
// It never trusts a Content-Type: browsers and mobile apps label recordings loosely.
func Sniff(head []byte) Container {
	switch {
	case len(head) >= 12 && (bytes.HasPrefix(head, []byte("RIFF")) || bytes.HasPrefix(head, []byte("RF64"))) &&
		string(head[8:12]) == "WAVE":
		return ContainerWAV
	case bytes.HasPrefix(head, []byte("OggS")):
		return ContainerOGG
	case bytes.HasPrefix(head, []byte{0x1A, 0x45, 0xDF, 0xA3}):
		return ContainerWebM
	case bytes.HasPrefix(head, []byte("fLaC")):
		return ContainerFLAC
	case len(head) >= 8 && string(head[4:8]) == "ftyp":
		return ContainerMP4
	case bytes.HasPrefix(head, []byte("ID3")) || mpegFrameSync(head):
		return ContainerMP3
	}
	return ContainerUnknown
}

// mpegFrameSync reports whether head starts with a plausible MPEG audio frame header:
// 11 sync bits, a valid version and layer (layer bits 00 is ADTS AAC, not MPEG audio), a
// bitrate index other than "bad" and a sample rate index other than "reserved".
func mpegFrameSync(head []byte) bool {
	if len(head) < 4 {
		return false
	}
	h := binary.BigEndian.Uint32(head)
	version := (h >> 19) & 3
	layer := (h >> 17) & 3
	bitrate := (h >> 12) & 15
	rate := (h >> 10) & 3
	return h>>21 == 0x7FF && version != 1 && layer != 0 && bitrate != 15 && rate != 3
}
