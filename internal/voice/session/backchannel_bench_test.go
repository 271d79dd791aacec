package session

import (
	"context"
	"io"
	"log/slog"
	"math"
	"testing"
	"time"
)

// BenchmarkBackchannelInput is the reader's cost per 20 ms input frame (one op = one frame) of one long utterance
// (3.2 s of speech, 500 ms pauses, never ending) with backchannel off and on (on: every pause
// is offered; the clip fails at once, no provider, so the offers stay pending-free).
func BenchmarkBackchannelInput(b *testing.B) {
	var audio []int16
	for i := 0; i < 16000*37/10; i++ {
		if i < 16000*32/10 {
			audio = append(audio, int16(6000*math.Sin(2*math.Pi*180*float64(i)/16000)))
		} else {
			audio = append(audio, int16(i%7-3))
		}
	}
	for _, on := range []bool{false, true} {
		name := "off"
		if on {
			name = "on"
		}
		b.Run(name, func(b *testing.B) {
			h := &Hub{cfg: Config{Clock: realClock{}, MaxUtterance: time.Hour}}
			s := &Session{h: h, ctx: context.Background(), log: slog.New(slog.NewTextHandler(io.Discard, nil)),
				vad: NewVAD(800, 50), vadOn: true, mode: modeConv}
			feed := func() {
				for i := 0; i < len(audio); i += vadFrame {
					s.audio(0, audio[i:i+vadFrame])
				}
				s.utter = s.utter[:0]
			}
			s.keep(audio[len(audio)-vadFrame:]) // silence first: the floor
			feed()
			if on {
				s.bc.on = true
				s.vad.SetPause(200)
			}
			frames := len(audio) / vadFrame
			b.ResetTimer()
			for n := 0; n < b.N; n += frames {
				feed()
			}
			b.StopTimer()
			h.wg.Wait()
		})
	}
}
