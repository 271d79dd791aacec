package voiceopenai

import (
	"encoding/binary"

	"github.com/voiceassist/gateway/internal/voice"
)

// encodeWAV is p as a mono 16-bit PCM WAV file.
//
// Temporary: voice.EncodeWAV replaces it once the audio layer is merged.
func encodeWAV(p voice.PCM) []byte {
	n := 2 * len(p.Samples)
	b := make([]byte, 44+n)
	copy(b[0:], "RIFF")
	binary.LittleEndian.PutUint32(b[4:], uint32(36+n))
	copy(b[8:], "WAVEfmt ")
	binary.LittleEndian.PutUint32(b[16:], 16) // fmt chunk size
	binary.LittleEndian.PutUint16(b[20:], 1)  // PCM
	binary.LittleEndian.PutUint16(b[22:], 1)  // mono
	binary.LittleEndian.PutUint32(b[24:], uint32(p.Rate))
	binary.LittleEndian.PutUint32(b[28:], uint32(2*p.Rate)) // byte rate
	binary.LittleEndian.PutUint16(b[32:], 2)                // block align
	binary.LittleEndian.PutUint16(b[34:], 16)               // bits per sample
	copy(b[36:], "data")
	binary.LittleEndian.PutUint32(b[40:], uint32(n))
	for i, s := range p.Samples {
		binary.LittleEndian.PutUint16(b[44+2*i:], uint16(s))
	}
	return b
}
