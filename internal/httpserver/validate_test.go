package httpserver

import (
	"strconv"
	"testing"

	"github.com/voiceassist/gateway/internal/apierr"
)

func TestCapFields(t *testing.T) {
	mk := func(n int) []apierr.FieldError {
		out := make([]apierr.FieldError, n)
		for i := range out {
			out[i] = apierr.FieldError{Field: "f" + strconv.Itoa(i), Message: "is not a known field"}
		}
		return out
	}
	if got := capFields(mk(20), 0); len(got) != 20 || got[19].Field != "f19" {
		t.Fatalf("20 violations must be listed as they are, got %v", got)
	}
	got := capFields(mk(20), 59980)
	if len(got) != maxFieldErrors || got[18].Field != "f18" || got[19].Message != "and 59981 more violations not listed" {
		t.Fatalf("got %d entries, last %+v", len(got), got[len(got)-1])
	}
	if got := capFields(mk(3), 0); len(got) != 3 {
		t.Fatalf("few violations are kept: %v", got)
	}
}
