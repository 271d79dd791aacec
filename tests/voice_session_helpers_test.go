package tests

import (
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/stretchr/testify/require"
)

// voiceFrame is one server frame of the voice socket: a JSON event, or a binary audio frame
// (its sequence number and sample count).
type voiceFrame struct {
	Binary  bool
	Type    string
	Ev      map[string]any
	Seq     uint32
	Samples int
}

// voiceWS is a client of /api/voice/pipeline-ws. A reader goroutine collects frames.
type voiceWS struct {
	t      *testing.T
	conn   *websocket.Conn
	frames chan voiceFrame
	err    chan error // the read error that ended the reader (a *websocket.CloseError on close)
}

func voiceURL(s *testServer) string {
	return "ws" + strings.TrimPrefix(s.URL, "http") + "/api/voice/pipeline-ws"
}

// dialVoice connects with the token as a subprotocol.
func dialVoice(t *testing.T, s *testServer, tok string) *voiceWS {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{"bearer", tok}, HandshakeTimeout: 10 * time.Second}
	c, res, err := d.Dial(voiceURL(s), nil)
	require.NoError(t, err)
	require.Equal(t, "bearer", res.Header.Get("Sec-WebSocket-Protocol"))
	return wrapVoice(t, c)
}

func wrapVoice(t *testing.T, c *websocket.Conn) *voiceWS {
	v := &voiceWS{t: t, conn: c, frames: make(chan voiceFrame, 100000), err: make(chan error, 1)}
	t.Cleanup(func() { _ = c.Close() })
	go func() {
		for {
			typ, data, err := c.ReadMessage()
			if err != nil {
				v.err <- err
				close(v.frames)
				return
			}
			if typ == websocket.BinaryMessage {
				f := voiceFrame{Binary: true, Type: "audio.output", Seq: binary.BigEndian.Uint32(data[1:5]), Samples: (len(data) - 5) / 2}
				if data[0] == 0x03 { // a backchannel clip: bytes 1-4 are its id, not a sequence number
					f.Type = "backchannel.audio"
				}
				v.frames <- f
				continue
			}
			var ev map[string]any
			if json.Unmarshal(data, &ev) != nil {
				v.err <- errors.New("not JSON: " + string(data))
				close(v.frames)
				return
			}
			f := voiceFrame{Type: ev["type"].(string), Ev: ev}
			if n, ok := ev["seq"].(float64); ok {
				f.Seq = uint32(n)
			}
			if a, ok := ev["audio"].(string); ok && (f.Type == "audio.output" || f.Type == "backchannel.audio") {
				pcm, _ := base64.StdEncoding.DecodeString(a)
				f.Samples = len(pcm) / 2
			}
			v.frames <- f
		}
	}()
	return v
}

func (v *voiceWS) send(m map[string]any) {
	v.t.Helper()
	require.NoError(v.t, v.conn.WriteJSON(m))
}

// audio sends PCM as a binary frame with a sequence number.
func (v *voiceWS) audio(seq uint32, samples []int16) {
	v.t.Helper()
	b := make([]byte, 5+2*len(samples))
	b[0] = 0x01
	binary.BigEndian.PutUint32(b[1:5], seq)
	for i, s := range samples {
		binary.LittleEndian.PutUint16(b[5+2*i:], uint16(s))
	}
	require.NoError(v.t, v.conn.WriteMessage(websocket.BinaryMessage, b))
}

// next reads one frame (failing after 20 s or when the socket closed).
func (v *voiceWS) next() voiceFrame {
	v.t.Helper()
	select {
	case f, ok := <-v.frames:
		if !ok {
			v.t.Fatalf("voice socket closed: %v", <-v.err)
		}
		return f
	case <-time.After(20 * time.Second):
		v.t.Fatal("no voice frame within 20 s")
	}
	return voiceFrame{}
}

// until reads frames until one of type typ and returns it with those before it.
func (v *voiceWS) until(typ string) (voiceFrame, []voiceFrame) {
	v.t.Helper()
	var seen []voiceFrame
	for {
		f := v.next()
		if f.Type == typ {
			return f, seen
		}
		seen = append(seen, f)
	}
}

// closed waits for the server to close the socket and returns the close code and reason.
func (v *voiceWS) closed() (int, string) {
	v.t.Helper()
	for {
		select {
		case _, ok := <-v.frames:
			if ok {
				continue
			}
			var ce *websocket.CloseError
			err := <-v.err
			require.True(v.t, errors.As(err, &ce), "want a close frame, got %v", err)
			return ce.Code, ce.Text
		case <-time.After(20 * time.Second):
			v.t.Fatal("the socket was not closed within 20 s")
		}
	}
}

// start sends session.init and returns session.ready.
func (v *voiceWS) start(init map[string]any) map[string]any {
	v.t.Helper()
	m := map[string]any{"type": "session.init"}
	for k, x := range init {
		m[k] = x
	}
	v.send(m)
	ready, _ := v.until("session.ready")
	ack := v.next()
	require.Equal(v.t, "session.init.ack", ack.Type)
	return ready.Ev
}

// speech is 16 kHz audio that the energy VAD hears as speech (a voiced tone) framed by silence.
func speech(silenceBefore, voiced, silenceAfter float64) []int16 {
	n := int((silenceBefore + voiced + silenceAfter) * 16000)
	out := make([]int16, n)
	for i := range out {
		t := float64(i) / 16000
		if t >= silenceBefore && t < silenceBefore+voiced {
			out[i] = int16(6000 * math.Sin(2*math.Pi*180*t))
		} else {
			out[i] = int16(i%7 - 3) // a faint hiss: real rooms are never digital silence
		}
	}
	return out
}

// stream sends samples as 20 ms binary frames numbered from seq, returning the next number.
func (v *voiceWS) stream(seq uint32, samples []int16) uint32 {
	v.t.Helper()
	for i := 0; i < len(samples); i += 320 {
		v.audio(seq, samples[i:min(i+320, len(samples))])
		seq++
	}
	return seq
}

func b64(b []byte) string { return base64.StdEncoding.EncodeToString(b) }
