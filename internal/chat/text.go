package chat

import (
	"strings"
	"unicode"
)

// EstimateTokens approximates the token count of s as ceil(runes/4), the
// usual rule of thumb for English with BPE tokenizers. It is only used for
// budgets, so erring by a few tokens either way is fine; unlike a word count
// it does not undercount long medical terms.
func EstimateTokens(s string) int {
	return (len([]rune(s)) + 3) / 4
}

// messageOverhead is the per-message cost of the chat format (role and
// separators), as OpenAI documents for its chat models.
const messageOverhead = 4

// stopwords are dropped from term sets: function words plus question fillers
// that carry no topic.
var stopwords = toSet(`a about above after again against all also am an and any are as at be because been
before being below between both but by can could did do does doing done down during each either else
ever few for from further get give had has have having he her here hers him his how i if in into is it
its itself just know let like may me might more most much must my no nor not now of off on once one only
or other our out over own please same shall she should so some such tell than that the their them then
there these they this those through to too under until up us use used very was we were what when where
which while who whom why will with would you your explain describe list mean means`)

// anaphora mark a question that leans on the previous turn ("what is its dose?").
var anaphora = toSet(`it its they them their theirs this these those he she him her his hers`)

func toSet(words string) map[string]bool {
	m := make(map[string]bool)
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}

// words splits s into lowercased runs of letters and digits.
func words(s string) []string {
	return strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

// stem is a deliberately naive plural folding ("doses" → "dose") so that
// singular and plural match; it is applied to both sides of a comparison.
func stem(w string) string {
	if len(w) > 4 && strings.HasSuffix(w, "s") &&
		!strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is") {
		return w[:len(w)-1]
	}
	return w
}

// contentWords returns the lowercased non-stopword words of s (length ≥ 2),
// in order, unstemmed.
func contentWords(s string) []string {
	var out []string
	for _, w := range words(s) {
		if len(w) >= 2 && !stopwords[w] {
			out = append(out, w)
		}
	}
	return out
}

// terms returns the set of stemmed content words of s.
func terms(s string) map[string]bool {
	m := make(map[string]bool)
	for _, w := range contentWords(s) {
		m[stem(w)] = true
	}
	return m
}

// isFollowUp reports whether q probably depends on the previous turn: it
// has at most two content words ("and in children?") or a pronoun ("what is
// its dose?").
func isFollowUp(q string) bool {
	if len(contentWords(q)) <= 2 {
		return true
	}
	for _, w := range words(q) {
		if anaphora[w] {
			return true
		}
	}
	return false
}

// maxParts bounds the retrieval calls a single question can cause.
const maxParts = 4

// splitParts splits a multi-part question into its parts: on '?' and ';',
// then on " and " that starts a new question clause (the next word is a
// question word such as "how" or "what") with at least three words on each
// side. So "what is X and how is it treated" splits, while "ACE inhibitors
// and beta blockers" and "the risks and benefits of statins" do not. It
// returns nil for a single-part question.
func splitParts(q string) []string {
	var parts []string
	for _, s := range strings.FieldsFunc(q, func(r rune) bool { return r == '?' || r == ';' }) {
		segs := splitAnd(s)
		clauses := []string{segs[0]}
		for _, seg := range segs[1:] {
			last := &clauses[len(clauses)-1]
			if len(strings.Fields(*last)) >= 3 && len(strings.Fields(seg)) >= 3 {
				clauses = append(clauses, seg)
			} else { // too short to stand alone: undo the split
				*last += " and " + seg
			}
		}
		for _, c := range clauses {
			if c = strings.TrimSpace(c); c != "" && len(contentWords(c)) > 0 {
				parts = append(parts, c)
			}
		}
	}
	if len(parts) < 2 {
		return nil
	}
	return parts[:min(len(parts), maxParts)]
}

// questionWords open a question clause.
var questionWords = toSet(`what which who whom whose when where why how is are was were do does did
can could should would will may must`)

// splitAnd splits s around each "and" (any case) followed by a question word.
func splitAnd(s string) []string {
	f := strings.Fields(s)
	var out []string
	start := 0
	for i, w := range f {
		if strings.EqualFold(w, "and") && i > start && i < len(f)-1 && questionWords[strings.ToLower(f[i+1])] {
			out = append(out, strings.Join(f[start:i], " "))
			start = i + 1
		}
	}
	return append(out, strings.Join(f[start:], " "))
}

// maxSentenceLen caps a quoted sentence, in runes.
const maxSentenceLen = 300

// sentences splits text into sentences: at line breaks and after . ! ? when
// the next word does not start in lowercase and the period does not end an
// abbreviation (so "e.g. 500 mg" stays whole).
// List and heading markers are trimmed, whitespace is collapsed.
func sentences(text string) []string {
	var out []string
	for line := range strings.Lines(text) {
		line = strings.TrimLeft(strings.TrimSpace(line), "#*->• \t")
		r := []rune(line)
		start := 0
		for i := 0; i < len(r); i++ {
			if r[i] != '.' && r[i] != '!' && r[i] != '?' {
				continue
			}
			j := i + 1
			for j < len(r) && unicode.IsSpace(r[j]) {
				j++
			}
			if j == i+1 || j == len(r) || unicode.IsLower(r[j]) || (r[i] == '.' && isAbbrev(r[start:i])) {
				continue
			}
			out = appendSentence(out, string(r[start:i+1]))
			start = j
		}
		out = appendSentence(out, string(r[start:]))
	}
	return out
}

// abbrevs are common abbreviations followed by a period mid-sentence;
// dotted ones such as "e.g." and "i.e." are recognised by their inner period.
var abbrevs = toSet(`approx dr fig figs max min no vs`)

// isAbbrev reports whether the text before a period ends in an abbreviation.
func isAbbrev(before []rune) bool {
	f := strings.Fields(string(before))
	if len(f) == 0 {
		return false
	}
	w := strings.ToLower(f[len(f)-1])
	return strings.Contains(w, ".") || abbrevs[w]
}

func appendSentence(out []string, s string) []string {
	s = strings.Join(strings.Fields(s), " ")
	if s == "" {
		return out
	}
	if r := []rune(s); len(r) > maxSentenceLen {
		s = string(r[:maxSentenceLen])
		if i := strings.LastIndexByte(s, ' '); i > 0 {
			s = s[:i]
		}
		s += "…"
	}
	return append(out, s)
}
