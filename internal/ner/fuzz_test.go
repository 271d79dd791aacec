package ner

import (
	"testing"
	"unicode/utf8"
)

// FuzzExtract checks the invariants callers rely on, for any input: offsets in code points
// inside the text, Text equal to that slice, sorted, never overlapping, known types,
// confidences in (0, 1].
func FuzzExtract(f *testing.F) {
	for _, s := range []string{
		"", "No fever.", "Huntington disease (HD). HD.", "Zürich – ménière's (MS) ™ αβ-blocker",
		"\xff\xfe broken utf8 asthma", "((((()))))", "A-T (A-T) A T", "Tylenol; no history of diabetes mellitus.",
		"LY274614 and NRA0160 given; mother had breast cancer; r/o MI",
	} {
		f.Add(s)
	}
	x, err := Default()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		ents := x.Extract(text, Options{DetectNegation: true, MinConfidence: 0.01})
		n := utf8.RuneCountInString(text)
		r := []rune(text)
		end := 0
		for _, e := range ents {
			if e.Start < end || e.End <= e.Start || e.End > n {
				t.Fatalf("bad span %d-%d after %d (len %d): %+v", e.Start, e.End, end, n, ents)
			}
			if string(r[e.Start:e.End]) != e.Text && utf8.ValidString(text) {
				t.Fatalf("text %q != runes[%d:%d] %q", e.Text, e.Start, e.End, string(r[e.Start:e.End]))
			}
			if typeIndex(e.Type) == 0 || e.Confidence <= 0 || e.Confidence > 1 {
				t.Fatalf("bad type or confidence: %+v", e)
			}
			end = e.End
		}
	})
}
