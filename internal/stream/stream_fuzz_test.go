package stream

import (
	"bufio"
	"bytes"
	"strconv"
	"strings"
	"testing"
)

// Last-Event-ID is a header any client sets. Whatever it holds, parsing never panics and
// resumes only from a real past event (0..version), the number the header spells; and the id
// of every frame the stream writes, read back as an EventSource reads it, resumes from
// exactly that event (or counts as fresh when it is newer than what this replica knows).
func FuzzLastEventID(f *testing.F) {
	f.Add("42", int64(42), int64(100))
	f.Add(" 7 ", int64(0), int64(0))
	f.Add("-1", int64(-1), int64(5))
	f.Add("9223372036854775807", int64(9223372036854775807), int64(9223372036854775807))
	f.Add("9223372036854775808", int64(101), int64(100))
	f.Add("1e3", int64(3), int64(1))
	f.Add("+5", int64(5), int64(5))
	f.Add("0x10\x00", int64(16), int64(16))
	f.Fuzz(func(t *testing.T, header string, id, version int64) {
		if version < 0 {
			version = -version
			if version < 0 {
				version = 0
			}
		}
		if n, ok := lastEventID(&header, version); ok {
			want, err := strconv.ParseInt(strings.TrimSpace(header), 10, 64)
			if n < 0 || n > version || err != nil || n != want {
				t.Fatalf("Last-Event-ID %q resumed from %d (version %d)", header, n, version)
			}
		} else if n != 0 {
			t.Fatalf("a fresh connection reports %d", n)
		}
		if _, ok := lastEventID(nil, version); ok {
			t.Fatal("no header resumed")
		}
		if id < 0 {
			return // frames without an id
		}
		for _, fr := range [][]byte{frame(id, "flag_update", map[string]any{"k": header}), RefetchFrame(id)} {
			got, ok := frameID(fr)
			if !ok {
				t.Fatalf("frame without an id line: %q", fr)
			}
			n, resumed := lastEventID(&got, version)
			if want := id <= version; resumed != want || (resumed && n != id) {
				t.Fatalf("id %d (version %d) read back as %q: %d, %v", id, version, got, n, resumed)
			}
		}
	})
}

// frameID reads the id field of one event as the EventSource parser does: "id:" then one
// optional space; the rest of the line is the value.
func frameID(fr []byte) (string, bool) {
	sc := bufio.NewScanner(bytes.NewReader(fr))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "id:"); ok {
			return strings.TrimPrefix(v, " "), true
		}
	}
	return "", false
}
