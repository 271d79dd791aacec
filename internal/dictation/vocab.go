package dictation

import (
	"bufio"
	"embed"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The built-in vocabularies, one file per specialty under vocab/ (see vocab/README.md), and
// vocab/common.txt: ordinary words the corrector must leave alone.
//
//go:embed vocab/*.txt
var vocabFS embed.FS

var (
	specialtyTerms = loadSpecialties()
	commonWords    = set(readList("vocab/common.txt")...)
)

func loadSpecialties() map[string][]string {
	entries, err := vocabFS.ReadDir("vocab")
	if err != nil {
		panic(err)
	}
	out := map[string][]string{}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".txt")
		if !ok || name == "common" {
			continue
		}
		out[name] = readList("vocab/" + e.Name())
	}
	return out
}

// readList reads one entry a line; "#" starts a comment line.
func readList(path string) []string {
	f, err := vocabFS.Open(path)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	var out []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if line := strings.TrimSpace(sc.Text()); line != "" && !strings.HasPrefix(line, "#") {
			out = append(out, line)
		}
	}
	return out
}

// Specialties lists the built-in vocabularies, sorted: cardiology, general_medicine, neurology,
// pharmacology, pulmonology.
func Specialties() []string {
	out := make([]string, 0, len(specialtyTerms))
	for s := range specialtyTerms {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Terms returns the built-in terms of a specialty (nil for an unknown one).
func Terms(specialty string) []string {
	t, ok := specialtyTerms[specialty]
	if !ok {
		return nil
	}
	return append([]string(nil), t...)
}

// AllTerms returns the terms of every built-in specialty, without duplicates, sorted.
func AllTerms() []string {
	seen := map[string]bool{}
	var out []string
	for _, terms := range specialtyTerms {
		for _, t := range terms {
			if !seen[t] {
				seen[t] = true
				out = append(out, t)
			}
		}
	}
	sort.Strings(out)
	return out
}

// Correction is one replaced span of the input: From (the recognised text, bytes Start:End of
// the input) became To.
type Correction struct {
	From, To   string
	Start, End int
}

// Corrector fixes near-miss spellings of known terms after recognition ("metformen" →
// "metformin", "atrial fibrilation" → "atrial fibrillation", "hydro chlorothiazide" →
// "hydrochlorothiazide"). It is deliberately conservative: it never touches short words,
// words with digits, acronyms or the ordinary words of vocab/common.txt, and it changes a word
// only when one term is clearly the closest.
type Corrector struct {
	terms    []vterm
	byKey    map[string]int // term index by key
	byWords  map[int][]int  // term indexes by number of words
	maxWords int
}

type vterm struct {
	text   string   // as listed
	key    string   // lower case, letters and digits only
	parts  []string // the key of each word
	sounds []string // the phonetic key of each word
	words  int
}

// NewCorrector builds a corrector for these terms. Empty and duplicate terms are ignored.
func NewCorrector(terms []string) *Corrector {
	c := &Corrector{byKey: map[string]int{}, byWords: map[int][]int{}}
	for _, t := range terms {
		t = strings.Join(strings.Fields(t), " ")
		key := squash(t)
		if _, dup := c.byKey[key]; key == "" || dup {
			continue
		}
		var parts, sounds []string
		for _, w := range strings.FieldsFunc(t, func(r rune) bool { return r == ' ' || r == '-' }) {
			if p := squash(w); p != "" {
				parts = append(parts, p)
				sounds = append(sounds, phonetic(p))
			}
		}
		c.byKey[key] = len(c.terms)
		c.byWords[len(parts)] = append(c.byWords[len(parts)], len(c.terms))
		c.terms = append(c.terms, vterm{text: t, key: key, parts: parts, sounds: sounds, words: len(parts)})
		c.maxWords = max(c.maxWords, len(parts))
	}
	return c
}

// squash keeps the lower-case letters and digits.
func squash(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// tolerance is how many edits a heard word of this length may be from a term: none below six
// letters, where one edit already makes another word too often ("fever", "fewer").
func tolerance(n int) int {
	switch {
	case n >= 13:
		return 2
	case n >= 6:
		return 1
	}
	return 0
}

// Endings that make another form of the same word: "intravenous" is not a misheard
// "intravenously", nor "hypertensive" a misheard "hypertension".
var variantEndings = set("", "s", "es", "ly", "ive", "ion", "ions", "ic", "ical", "ia", "ias", "al", "ed", "ing",
	"ous", "y", "ies", "ism", "ist", "ity", "otic", "osis", "graphy", "graph", "gram", "grams", "er", "ers", "'s", "an")

// variant reports whether two words differ only by such endings.
func variant(a, b string) bool {
	p := 0
	for p < len(a) && p < len(b) && a[p] == b[p] {
		p++
	}
	for q := p; q >= 4 && p-q <= 4; q-- {
		if variantEndings[a[q:]] && variantEndings[b[q:]] {
			return true
		}
	}
	return false
}

// Prefixes of opposite meaning: "hyperesthesia" is never a misheard "hypoesthesia".
var opposites = [][2]string{{"hyper", "hypo"}, {"brady", "tachy"}, {"inter", "intra"}, {"sub", "supra"}}

func opposite(a, b string) bool {
	for _, o := range opposites {
		if strings.HasPrefix(a, o[0]) && strings.HasPrefix(b, o[1]) || strings.HasPrefix(a, o[1]) && strings.HasPrefix(b, o[0]) {
			return true
		}
	}
	return false
}

// near returns the edit distance between a heard word and a term word if it is small enough to
// be a mishearing, else -1. Both are lower-case letters and digits.
// The sounds are the words' phonetic keys.
func near(heard, heardSound, term, termSound string, inPhrase bool) int {
	if heard == term {
		return 0
	}
	tol := tolerance(len(heard))
	if inPhrase && len(heard) >= 4 {
		tol = max(tol, 1)
	}
	if tol == 0 || len(heard)-len(term) > tol+1 || len(term)-len(heard) > tol+1 {
		return -1
	}
	sameSound := heardSound == termSound
	if heard[0] != term[0] && !sameSound || variant(heard, term) {
		return -1
	}
	if opposite(heard, term) {
		return -1
	}
	limit := tol
	if sameSound && len(heard) >= 8 && heard[0] != term[0] {
		limit++ // "fenytoin" sounds like "phenytoin"
	}
	if d := levenshtein(heard, term); d <= limit {
		return d
	}
	return -1
}

type vword struct {
	text       string
	start, end int
	clause     bool // punctuation between this word and the one before
}

func vwords(text string) []vword {
	var out []vword
	clause := false
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		if !(unicode.IsLetter(r) || unicode.IsDigit(r)) {
			if strings.ContainsRune(".?!;:,()\n", r) {
				clause = true
			}
			i += n
			continue
		}
		j := i
		for j < len(text) {
			r, n := utf8.DecodeRuneInString(text[j:])
			// an apostrophe inside a word belongs to it; a hyphen separates words
			if !(unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' && j+n < len(text) && isAlnumAt(text, j+n)) {
				break
			}
			j += n
		}
		out = append(out, vword{text: text[i:j], start: i, end: j, clause: clause})
		clause = false
		i = j
	}
	return out
}

func isAlnumAt(s string, i int) bool {
	r, _ := utf8.DecodeRuneInString(s[i:])
	return unicode.IsLetter(r) || unicode.IsDigit(r)
}

// ordinary reports whether a word must be left as it is. Inside a longer multi-word term a
// four-letter word may be misheard too ("congestive hart failure").
func ordinary(w string, inPhrase bool) bool {
	short := 5
	if inPhrase {
		short = 4
	}
	if len(w) < short || commonWords[strings.ToLower(w)] {
		return true
	}
	upper := true
	for _, r := range w {
		if unicode.IsDigit(r) {
			return true
		}
		if unicode.IsLower(r) {
			upper = false
		}
	}
	return upper // an acronym
}

// Correct returns text with near-miss spellings of the terms replaced, and the replacements in
// order. Windows of up to one word more than the longest term are tried, longest first, so a
// term split by the recogniser is joined again.
func (c *Corrector) Correct(text string) (string, []Correction) {
	if c == nil || len(c.terms) == 0 {
		return text, nil
	}
	words := vwords(text)
	var out strings.Builder
	var fixes []Correction
	last := 0
	for i := 0; i < len(words); {
		n, t := c.bestAt(words, i)
		if n == 0 {
			i++
			continue
		}
		if t == nil { // already a term
			i += n
			continue
		}
		start, end := words[i].start, words[i+n-1].end
		from := text[start:end]
		to := t.text
		if first, _ := utf8.DecodeRuneInString(from); unicode.IsUpper(first) {
			r, size := utf8.DecodeRuneInString(to)
			to = string(unicode.ToUpper(r)) + to[size:]
		}
		i += n
		if from == to {
			continue
		}
		out.WriteString(text[last:start])
		out.WriteString(to)
		last = end
		fixes = append(fixes, Correction{From: from, To: to, Start: start, End: end})
	}
	if fixes == nil {
		return text, nil
	}
	out.WriteString(text[last:])
	return out.String(), fixes
}

// bestAt finds the term that the words from i spell, nearly, or exactly but split or joined
// differently, and how many words it covers; 0 if none (or if they already spell it).
func (c *Corrector) bestAt(words []vword, i int) (int, *vterm) {
	for n := min(c.maxWords+1, len(words)-i); n >= 1; n-- {
		heard := make([]string, n)
		broken := false
		for k := range n {
			if k > 0 && words[i+k].clause {
				broken = true
				break
			}
			heard[k] = squash(words[i+k].text)
		}
		if broken {
			continue
		}
		if t, done := c.closest(words[i:i+n], heard); t != nil || done {
			return n, t
		}
	}
	return 0, nil
}

// termAt returns the term the words from i spell exactly (up to case, spacing and hyphens), and
// how many words it covers; 0 if none. The longest term wins.
func (c *Corrector) termAt(words []vword, i int) (int, *vterm) {
	for n := min(c.maxWords, len(words)-i); n >= 1; n-- {
		var key strings.Builder
		for k := i; k < i+n; k++ {
			key.WriteString(squash(words[k].text))
		}
		if idx, ok := c.byKey[key.String()]; ok && c.terms[idx].words == n {
			return n, &c.terms[idx]
		}
	}
	return 0, nil
}

// closest returns the one term nearest to the heard words, nil if there is none or two are
// equally near. done is true when the words already spell a term, which is then left alone.
// Ordinary words only ever match exactly.
func (c *Corrector) closest(words []vword, heard []string) (best *vterm, done bool) {
	key := strings.Join(heard, "")
	if idx, ok := c.byKey[key]; ok {
		t := &c.terms[idx]
		if t.words == len(heard) {
			return nil, true // already right, up to case and spacing
		}
		// split or joined by the recogniser ("hydro chlorothiazide"), but not "a febrile"
		split := true
		for _, h := range heard {
			split = split && len(h) >= 3
		}
		if split {
			return t, false
		}
	}
	// what the fuzzy comparison needs of each heard word, computed once
	sounds := make([]string, len(heard))
	plain := make([]bool, len(heard))
	for k, h := range heard {
		plain[k] = ordinary(words[k].text, len(heard) > 1 && len(key) >= 12)
		if !plain[k] {
			sounds[k] = phonetic(h)
		}
	}
	bestD, ties := 1<<30, 0
	for _, idx := range c.byWords[len(heard)] {
		t := &c.terms[idx]
		if l := len(t.key) - len(key); l > 2*len(heard)+1 || l < -2*len(heard)-1 {
			continue
		}
		d := 0
		for k, w := range t.parts {
			if w == heard[k] {
				continue
			}
			e := -1
			if !plain[k] {
				e = near(heard[k], sounds[k], w, t.sounds[k], len(heard) > 1 && len(key) >= 12)
			}
			if e < 0 {
				d = -1
				break
			}
			d += e
		}
		if d <= 0 {
			continue
		}
		switch {
		case d < bestD:
			best, bestD, ties = t, d, 0
		case d == bestD && t.key != best.key:
			ties++
		}
	}
	if ties > 0 {
		return nil, false
	}
	return best, false
}

// phonetic is a small sound key in the spirit of Metaphone: spellings of the same sound written
// alike, vowels after the first letter and doubled letters dropped.
func phonetic(s string) string {
	for _, r := range [][2]string{{"ph", "f"}, {"ck", "k"}, {"qu", "kw"}, {"x", "ks"}, {"ce", "se"}, {"ci", "si"},
		{"cy", "sy"}, {"c", "k"}, {"q", "k"}, {"z", "s"}, {"y", "i"}, {"th", "t"}, {"gh", "g"}} {
		s = strings.ReplaceAll(s, r[0], r[1])
	}
	for _, p := range []string{"kn", "wr", "ps", "pn"} {
		if strings.HasPrefix(s, p) {
			s = s[1:]
		}
	}
	var b strings.Builder
	var prev rune
	for i, r := range s {
		if i > 0 && strings.ContainsRune("aeiouh", r) {
			continue
		}
		if r != prev {
			b.WriteRune(r)
		}
		prev = r
	}
	return b.String()
}
