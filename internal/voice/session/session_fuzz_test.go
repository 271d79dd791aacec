package session

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"slices"
	"testing"
)

// Binary audio frames come from the client's socket. Whatever the bytes, parsing never
// panics and accepts exactly the 0x01 frames with a 5-byte header and whole samples,
// returning the sequence number and samples the bytes spell; and an output frame (0x02)
// the server builds carries its sequence number and samples intact, in binary and in its
// JSON form.
func FuzzAudioFrame(f *testing.F) {
	f.Add([]byte{frameAudioIn, 0, 0, 0, 1, 0x34, 0x12, 0xff, 0xff})
	f.Add([]byte{frameAudioIn, 0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{frameAudioIn, 0, 0, 0, 2, 1})
	f.Add([]byte{frameAudioOut, 0, 0, 0, 3, 0, 0})
	f.Add([]byte{frameAudioIn, 0, 0})
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		seq, samples, msg := parseAudioFrame(data)
		valid := len(data) >= frameHeader && data[0] == frameAudioIn && (len(data)-frameHeader)%2 == 0
		if valid != (msg == "") {
			t.Fatalf("frame %x: valid %v, message %q", data, valid, msg)
		}
		if !valid {
			if seq != 0 || samples != nil {
				t.Fatalf("refused frame %x returned data", data)
			}
			return
		}
		if seq != binary.BigEndian.Uint32(data[1:5]) || len(samples) != (len(data)-frameHeader)/2 {
			t.Fatalf("frame %x: seq %d, %d samples", data, seq, len(samples))
		}
		out := audioFrame(seq, samples)
		if out[0] != frameAudioOut || !slices.Equal(out[1:], data[1:]) {
			t.Fatalf("output frame %x does not carry input %x", out, data)
		}
		var ev struct {
			Seq   uint32 `json:"seq"`
			Audio string `json:"audio"`
		}
		if err := json.Unmarshal(audioJSON(out), &ev); err != nil {
			t.Fatal(err)
		}
		pcm, err := base64.StdEncoding.DecodeString(ev.Audio)
		if err != nil || ev.Seq != seq || !slices.Equal(samplesLE(pcm), samples) {
			t.Fatalf("JSON form of %x: seq %d, audio %q, %v", out, ev.Seq, ev.Audio, err)
		}
	})
}
