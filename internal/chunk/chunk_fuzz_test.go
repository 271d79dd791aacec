package chunk

import (
	"strings"
	"testing"
	"unicode"

	"github.com/voiceassist/gateway/internal/extract"
)

// The chunker takes extracted text of any shape. For any section text and sizes, the chunks
// of a section, in order, cover its text without gap and without changing a character
// (whitespace aside), each chunk starts after the previous one and stays within Size tokens,
// Ord counts up from 0 and the citation data (heading, page) is the section's.
func FuzzSplit(f *testing.F) {
	f.Add("One. Two! Three? Dr. Who is here. e.g. this stays.", 5, 2)
	f.Add("Supercalifragilisticexpialidocious antidisestablishmentarianism", 2, 1)
	f.Add("a\n\nb\n \nc. D. E.\n\n\n", 1, 0)
	f.Add("1234567890 12345 ”’» «¿¡ 中文字符 한국어 カタカナ", 3, -1)
	f.Add(strings.Repeat("The dose is 5 mg. ", 100), 0, 0)
	f.Add(strings.Repeat("aaaa ", 50), 7, 6)
	f.Add("x.\"Y z.) A", 4, 100)
	f.Fuzz(func(t *testing.T, text string, size, overlap int) {
		size %= 300 // keep the work per input small; <= 0 means the default
		overlap %= 300
		doc := extract.Document{Sections: []extract.Section{
			{Heading: []string{"H"}, Page: 3, Text: text},
			{Text: "Tail section."},
		}}
		chunks := Split(doc, Options{Size: size, Overlap: overlap})
		limit := size
		if limit <= 0 {
			limit = DefaultSize
		}
		bySection := map[int][]Chunk{}
		for i, c := range chunks {
			if c.Ord != i {
				t.Fatalf("chunk %d has Ord %d", i, c.Ord)
			}
			if c.Tokens != CountTokens(c.Text) || c.Tokens > limit {
				t.Fatalf("chunk %d: %d tokens (counted %d), limit %d: %q", i, c.Tokens, CountTokens(c.Text), limit, c.Text)
			}
			if c.Tokens == 0 {
				t.Fatalf("chunk %d is empty: %q", i, c.Text)
			}
			sec := 1
			if c.Page == 3 && len(c.Heading) == 1 && c.Heading[0] == "H" {
				sec = 0
			} else if c.Page != 0 || len(c.Heading) != 0 {
				t.Fatalf("chunk %d has citation data of no section: %v p.%d", i, c.Heading, c.Page)
			}
			if len(bySection[1]) > 0 && sec == 0 {
				t.Fatalf("chunk %d of the first section follows the second's", i)
			}
			bySection[sec] = append(bySection[sec], c)
		}
		checkCover(t, text, bySection[0])
		checkCover(t, "Tail section.", bySection[1])
	})
}

// checkCover checks that chunks, whitespace removed, tile text (whitespace removed) in order:
// each chunk is a piece of the text that starts within what the chunks before it covered,
// and the last one reaches the end. With repetitive text a chunk can match at several
// places; the latest one that joins the covered prefix is taken, which never rejects a
// correct split.
func checkCover(t *testing.T, text string, chunks []Chunk) {
	t.Helper()
	full := squeeze(text)
	if full == "" {
		if len(chunks) != 0 {
			t.Fatalf("blank text gave %d chunks", len(chunks))
		}
		return
	}
	if len(chunks) == 0 {
		t.Fatalf("text %q gave no chunks", text)
	}
	prevEnd := 0
	for i, c := range chunks {
		piece := squeeze(c.Text)
		at := -1
		for from := 0; from <= prevEnd && from+len(piece) <= len(full); from++ {
			if strings.HasPrefix(full[from:], piece) {
				at = from
			}
		}
		if at < 0 {
			t.Fatalf("chunk %d %q does not continue the text covered so far (%d bytes of %q)", i, c.Text, prevEnd, text)
		}
		prevEnd = max(prevEnd, at+len(piece))
	}
	if prevEnd != len(full) {
		t.Fatalf("chunks cover %d of %d bytes of %q", prevEnd, len(full), text)
	}
}

func squeeze(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}
