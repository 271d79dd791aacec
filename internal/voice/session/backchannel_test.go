package session

import "testing"

// Pauses inside speech are reported once they reach the pause length, and the first loud
// frame after one as a resume; shorter gaps and the end of speech are not pauses. Positions
// are frame ends, in samples of the pushed audio.
func TestVADPausesInsideSpeech(t *testing.T) {
	var audio []int16
	add := func(loud bool, ms int) {
		for i := 0; i < ms*16; i++ {
			if loud {
				audio = append(audio, int16(8000*((i/20)%2*2-1)))
			} else {
				audio = append(audio, int16(i%7-3))
			}
		}
	}
	add(false, 400) // 0
	add(true, 1000) // 400: start at 460
	add(false, 100) // 1400: a gap shorter than the pause
	add(true, 500)  // 1500
	add(false, 300) // 2000: pause at 2200
	add(true, 500)  // 2300: resume, the frame 2300-2320
	add(false, 800) // 2800: pause at 3000, end at 3600

	for _, pause := range []int{200, 0} {
		v := NewVAD(800, 50)
		var got []string
		pos := 0
		for i := 0; i < len(audio); i += 320 {
			for _, ev := range v.Push(audio[i:min(i+320, len(audio))]) {
				kind := "end"
				switch {
				case ev.Start:
					kind = "start"
					v.SetPause(pause)
				case ev.Pause:
					kind = "pause"
				case ev.Resume:
					kind = "resume"
				}
				got = append(got, kind+"@"+itoa((pos+ev.At)/16))
			}
			pos += min(320, len(audio)-i)
		}
		want := "[start@460 pause@2200 resume@2320 pause@3000 end@3600]"
		if pause == 0 {
			want = "[start@460 end@3600]"
		}
		if s := fmtList(got); s != want {
			t.Errorf("pause %d ms: events %s, want %s", pause, s, want)
		}
	}
	if v := NewVAD(200, 50); func() bool { v.SetPause(200); return v.pause != 0 }() {
		t.Error("a pause as long as the end-of-speech silence is no pause")
	}
}

func fmtList(s []string) string {
	out := "["
	for i, x := range s {
		if i > 0 {
			out += " "
		}
		out += x
	}
	return out + "]"
}
