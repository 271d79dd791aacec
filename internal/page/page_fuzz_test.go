package page

import (
	"encoding/base64"
	"testing"
	"time"

	"github.com/google/uuid"
)

// Cursors come from clients: any string decodes to a position or BadCursor, never a panic,
// and every cursor this package encodes decodes back to the same position.
func FuzzCursor(f *testing.F) {
	at := time.Date(2026, 3, 1, 12, 30, 0, 123456789, time.UTC)
	id := uuid.MustParse("123e4567-e89b-12d3-a456-426614174000")
	f.Add(Keyset{At: at, ID: id}.Encode(), at.UnixNano(), id[:])
	f.Add(Keyset{At: at, ID: id}.EncodeCreated(), int64(1), id[:])
	f.Add("42", int64(-1), []byte{1})
	f.Add("", int64(0), []byte{})
	f.Add(base64.RawURLEncoding.EncodeToString([]byte(`{"a":"0001-01-01T00:00:00Z","i":"00000000-0000-0000-0000-000000000000"}`)), int64(0), []byte{0})
	f.Add(base64.RawURLEncoding.EncodeToString([]byte(`{"a":"2026-01-01T00:00:00Z","i":"123e4567-e89b-12d3-a456-426614174000","x":1}`)), int64(7), []byte{})
	f.Fuzz(func(t *testing.T, cursor string, nanos int64, idBytes []byte) {
		// Arbitrary input: a position or BadCursor.
		if k, err := DecodeKeyset(cursor); err == nil {
			if k.ID == uuid.Nil || k.At.IsZero() {
				t.Fatalf("DecodeKeyset(%q) accepted a zero position %+v", cursor, k)
			}
			if back, err := DecodeKeyset(k.Encode()); err != nil || !back.At.Equal(k.At) || back.ID != k.ID {
				t.Fatalf("re-encoded cursor of %q does not round-trip: %+v, %v", cursor, back, err)
			}
		}
		_, _ = DecodeCreated(cursor)
		if n, err := DecodeSeq(cursor); err == nil {
			if n < 0 {
				t.Fatalf("DecodeSeq(%q) = %d", cursor, n)
			}
			if back, err := DecodeSeq(EncodeSeq(n)); err != nil || back != n {
				t.Fatalf("sequence %d does not round-trip: %d, %v", n, back, err)
			}
		}

		// Encoded positions round-trip through their own layout, and not through the other.
		var uid uuid.UUID
		copy(uid[:], idBytes)
		k := Keyset{At: time.Unix(0, nanos).UTC(), ID: uid}
		if k.ID == uuid.Nil || k.At.IsZero() {
			return
		}
		for _, l := range []struct {
			name   string
			layout Layout
			other  func(string) (Keyset, error)
		}{{"at", LayoutAt, DecodeCreated}, {"created", LayoutCreated, DecodeKeyset}} {
			c := l.layout.encode(k)
			back, err := l.layout.decode(c)
			if err != nil || !back.At.Equal(k.At) || back.ID != k.ID {
				t.Fatalf("%s layout: %+v encoded as %q decodes to %+v, %v", l.name, k, c, back, err)
			}
			if _, err := l.other(c); err == nil {
				t.Fatalf("%s cursor %q read by the other layout", l.name, c)
			}
		}
		if nanos >= 0 {
			if back, err := DecodeSeq(EncodeSeq(nanos)); err != nil || back != nanos {
				t.Fatalf("sequence %d does not round-trip: %d, %v", nanos, back, err)
			}
		}
	})
}
