package voice

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxSentenceChars is the longest piece Sentences returns: long enough for natural prosody,
// short enough that the first audio of a stream starts quickly.
const MaxSentenceChars = 200

// Abbreviations whose full stop never ends a sentence (titles and Latin abbreviations are
// followed by a name or a clause, capitalised or not), and those whose full stop ends one
// only when a capitalised word follows ("Take 5 mg. Then ..." vs "5 mg. daily").
var (
	abbrevNever = map[string]bool{
		"dr": true, "mr": true, "mrs": true, "ms": true, "prof": true, "st": true, "sr": true, "jr": true,
		"e.g": true, "i.e": true, "vs": true, "approx": true, "cf": true,
	}
	abbrevUnlessCapital = map[string]bool{
		"mg": true, "mcg": true, "ml": true, "kg": true, "g": true, "mmol": true, "etc": true,
		"b.i.d": true, "t.i.d": true, "q.i.d": true, "p.o": true, "p.r.n": true, "q.d": true, "h": true, "min": true,
		"no": true, "fig": true, "inc": true, "ltd": true, "a.m": true, "p.m": true,
	}
)

// Sentences splits text into the pieces a streaming synthesiser speaks one at a time. A
// sentence ends at a line break, or at . ! ? ; followed by space or the end, but not inside
// decimals ("2.5"), after titles and Latin abbreviations ("Dr.", "e.g."), after a single
// initial ("J."), or after a unit abbreviation ("mg.") unless a capitalised word follows.
// Pieces longer than MaxSentenceChars are cut at the last comma, colon or dash, else at
// the last space, before the limit. Whitespace is collapsed; empty pieces are dropped.
func Sentences(text string) []string {
	var out []string
	for _, sp := range splitSentences(text) {
		out = append(out, cutLong(collapse(text[sp.start:sp.end]), MaxSentenceChars)...)
	}
	return out
}

// SentenceStream cuts text that arrives in pieces (a model's answer) into Sentences as soon
// as each is certainly complete: a sentence is released only once text follows it, because
// "2." may become "2.5" and "5 mg." may go on with "daily".
type SentenceStream struct{ buf string }

// Push adds text and returns the sentences it completed.
func (s *SentenceStream) Push(delta string) []string {
	s.buf += delta
	spans := splitSentences(s.buf)
	if len(spans) < 2 {
		return nil
	}
	var out []string
	for _, sp := range spans[:len(spans)-1] {
		out = append(out, cutLong(collapse(s.buf[sp.start:sp.end]), MaxSentenceChars)...)
	}
	s.buf = s.buf[spans[len(spans)-1].start:]
	return out
}

// Flush returns the rest as sentences (the text is complete).
func (s *SentenceStream) Flush() []string {
	out := Sentences(s.buf)
	s.buf = ""
	return out
}

func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

// span is a sentence's byte range in the text it was cut from.
type span struct{ start, end int }

func splitSentences(text string) []span {
	var out []span
	emit := func(start, end int) {
		if strings.TrimSpace(text[start:end]) != "" {
			out = append(out, span{start, end})
		}
	}
	start := 0
	for i := 0; i < len(text); {
		r, size := utf8.DecodeRuneInString(text[i:])
		end := i + size
		switch r {
		case '\n', '\r':
			emit(start, end)
			start = end
		case '.', '!', '?', ';', '…':
			// Take a run of terminators and closing quotes/brackets: "Really?!" or "(done.)".
			for end < len(text) {
				r2, s2 := utf8.DecodeRuneInString(text[end:])
				if !strings.ContainsRune(".!?;…\"'”’)]", r2) {
					break
				}
				end += s2
			}
			if end < len(text) {
				next, _ := utf8.DecodeRuneInString(text[end:])
				if !unicode.IsSpace(next) {
					break // "2.5", "example.com", "e.g" inside a word
				}
			}
			if r == '.' && end == i+size && !endsSentence(text[start:i], text[end:]) {
				break
			}
			emit(start, end)
			start = end
		}
		i = end
	}
	emit(start, len(text))
	return out
}

// endsSentence decides for a single full stop after before, followed by space and after.
func endsSentence(before, after string) bool {
	fields := strings.Fields(before)
	if len(fields) == 0 {
		return true
	}
	word := strings.ToLower(strings.TrimLeft(fields[len(fields)-1], "(\"'“‘["))
	if abbrevNever[word] {
		return false
	}
	if r, n := utf8.DecodeRuneInString(word); n == len(word) && unicode.IsLetter(r) && word != "i" &&
		unicode.IsUpper([]rune(fields[len(fields)-1])[0]) {
		return false // an initial: "J. Smith" (but "... so do I.")
	}
	if abbrevUnlessCapital[word] {
		next := strings.TrimLeft(after, " \t\"'“‘(")
		r, _ := utf8.DecodeRuneInString(next)
		return next == "" || unicode.IsUpper(r)
	}
	return true
}

// cutLong splits s into pieces of at most max bytes, preferring a cut after , : or a dash,
// then at a space, and only as a last resort inside a word (on a rune boundary).
func cutLong(s string, max int) []string {
	var out []string
	for len(s) > max {
		window := s[:max]
		cut := strings.LastIndexAny(window, ",:–—")
		if cut > max/3 {
			_, size := utf8.DecodeRuneInString(window[cut:])
			cut += size
		} else if sp := strings.LastIndexByte(window, ' '); sp > 0 {
			cut = sp
		} else {
			cut = max
			for cut > 0 && !utf8.RuneStart(s[cut]) {
				cut--
			}
		}
		if piece := strings.TrimSpace(s[:cut]); piece != "" {
			out = append(out, piece)
		}
		s = strings.TrimSpace(s[cut:])
	}
	if s != "" {
		out = append(out, s)
	}
	return out
}
