// Package chunk splits extracted documents into retrieval chunks of bounded
// size. A chunk never crosses a section, so its heading path and page are
// exact citation data.
package chunk

import (
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/voiceassist/gateway/internal/extract"
)

// Defaults for Options fields left unset.
const (
	DefaultSize    = 200
	DefaultOverlap = 40
)

// Options sets chunk sizes, in CountTokens tokens.
type Options struct {
	Size int // max tokens per chunk; <= 0 means DefaultSize
	// Overlap is how many tokens of whole sentences a chunk may repeat from
	// the end of the previous chunk of the same section: 0 means none,
	// negative means DefaultOverlap. It is capped at Size-1.
	Overlap int
}

// Chunk is a piece of one section.
type Chunk struct {
	Ord     int    // 0-based order within the document
	Text    string // whitespace-normalised text; paragraphs separated by "\n\n"
	Heading []string
	Page    int
	Tokens  int // CountTokens(Text)
}

// sentence is the unit chunks are packed from.
type sentence struct {
	text   string
	tokens int
	para   bool // starts a paragraph
}

// Split cuts each section into chunks of whole sentences up to Size tokens;
// only a sentence longer than Size is cut inside, between tokens (at a space
// where possible). The result is deterministic.
func Split(doc extract.Document, opt Options) []Chunk {
	size, overlap := opt.Size, opt.Overlap
	if size <= 0 {
		size = DefaultSize
	}
	if overlap < 0 {
		overlap = DefaultOverlap
	}
	overlap = min(overlap, size-1)

	var out []Chunk
	for _, sec := range doc.Sections {
		for _, text := range pack(sentences(sec.Text, size), size, overlap) {
			out = append(out, Chunk{
				Ord:     len(out),
				Text:    text,
				Heading: slices.Clone(sec.Heading),
				Page:    sec.Page,
				Tokens:  CountTokens(text),
			})
		}
	}
	return out
}

// pack groups sentences into chunk texts of at most size tokens, starting
// each chunk after the first with the previous one's last sentences that fit
// in overlap tokens (and leave room for the next sentence).
func pack(sents []sentence, size, overlap int) []string {
	var chunks []string
	var cur []sentence
	tokens, fresh := 0, 0 // fresh counts sentences not in the previous chunk
	for _, s := range sents {
		if tokens+s.tokens > size && fresh > 0 {
			chunks = append(chunks, join(cur))
			k, kept := len(cur), 0
			for k > 0 && kept+cur[k-1].tokens <= overlap {
				k--
				kept += cur[k].tokens
			}
			cur, tokens, fresh = slices.Clone(cur[k:]), kept, 0
		}
		for len(cur) > 0 && tokens+s.tokens > size {
			tokens -= cur[0].tokens
			cur = cur[1:]
		}
		cur = append(cur, s)
		tokens += s.tokens
		fresh++
	}
	if fresh > 0 {
		chunks = append(chunks, join(cur))
	}
	return chunks
}

func join(sents []sentence) string {
	var b strings.Builder
	for i, s := range sents {
		if i > 0 {
			if s.para {
				b.WriteString("\n\n")
			} else {
				b.WriteByte(' ')
			}
		}
		b.WriteString(s.text)
	}
	return b.String()
}

var blankLine = regexp.MustCompile(`\n[ \t]*\n`)

// sentences splits text into paragraphs (at blank lines) and those into
// sentences, none over size tokens.
func sentences(text string, size int) []sentence {
	var out []sentence
	for _, p := range blankLine.Split(text, -1) {
		p = strings.Join(strings.Fields(p), " ")
		first := true
		for _, s := range splitSentences(p) {
			for _, piece := range splitLong(s, size) {
				out = append(out, sentence{text: piece, tokens: CountTokens(piece), para: first})
				first = false
			}
		}
	}
	return out
}

// abbreviations are words whose trailing period rarely ends a sentence.
var abbreviations = map[string]bool{
	"dr": true, "mr": true, "mrs": true, "ms": true, "prof": true, "st": true,
	"vs": true, "al": true, "fig": true, "figs": true, "no": true, "eq": true,
	"ref": true, "cf": true, "approx": true, "vol": true, "jr": true, "sr": true,
}

// splitSentences splits a single-spaced paragraph after ".", "!" or "?"
// (and any closing quotes or brackets) when a space and a capital letter,
// digit or opening quote or bracket follow, and the period does not end an
// abbreviation or initial ("e.g.", "Dr.", "J.").
func splitSentences(p string) []string {
	var out []string
	start := 0
	for i := 0; i < len(p); i++ {
		c := p[i]
		if c != '.' && c != '!' && c != '?' {
			continue
		}
		j := i + 1
		for j < len(p) {
			r, n := utf8.DecodeRuneInString(p[j:])
			if !strings.ContainsRune(`.!?"')]”’»`, r) {
				break
			}
			j += n
		}
		if j+1 >= len(p) || p[j] != ' ' {
			continue
		}
		next, _ := utf8.DecodeRuneInString(p[j+1:])
		if !unicode.IsUpper(next) && !unicode.IsDigit(next) && !strings.ContainsRune(`"'([“‘«¿¡`, next) {
			continue
		}
		if c == '.' && isAbbreviation(p[start:i]) {
			continue
		}
		out = append(out, p[start:j])
		start = j + 1
		i = j
	}
	if start < len(p) {
		out = append(out, p[start:])
	}
	return out
}

// isAbbreviation reports whether the last word of s, which precedes a
// period, is an abbreviation: a known one, a single letter, or letters with
// inner periods.
func isAbbreviation(s string) bool {
	w := strings.TrimLeft(s[strings.LastIndexByte(s, ' ')+1:], `"'([“‘«`)
	if utf8.RuneCountInString(w) == 1 {
		r, _ := utf8.DecodeRuneInString(w)
		return unicode.IsLetter(r)
	}
	if abbreviations[strings.ToLower(w)] {
		return true
	}
	return strings.Contains(w, ".") && !strings.ContainsFunc(w, func(r rune) bool {
		return r != '.' && !unicode.IsLetter(r)
	})
}

// splitLong cuts s into pieces of at most size tokens, preferring cuts at
// spaces; a single word longer than size is cut between its tokens.
func splitLong(s string, size int) []string {
	var spans [][2]int
	scan(s, func(a, b int) { spans = append(spans, [2]int{a, b}) })
	if len(spans) <= size {
		return []string{s}
	}
	var out []string
	for i := 0; i < len(spans); {
		j := min(i+size, len(spans))
		if j < len(spans) {
			for k := j; k > i+1; k-- {
				if spans[k-1][1] < spans[k][0] { // whitespace between tokens
					j = k
					break
				}
			}
		}
		out = append(out, s[spans[i][0]:spans[j-1][1]])
		i = j
	}
	return out
}
