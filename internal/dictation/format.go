package dictation

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Policy is the abbreviation policy of a session.
type Policy string

// The abbreviation policies.
const (
	Clinical Policy = "clinical" // BID, PO, BP 140/90 mmHg
	Expanded Policy = "expanded" // twice daily, by mouth, blood pressure 140/90 mmHg
)

// Format turns one dictated chunk into written clinical text: filler words dropped, spoken
// punctuation written, numbers as digits, units, vitals, doses and frequencies written the
// clinical way (abbreviated or not by the policy), sentence case. Text that is already written
// passes through unchanged, so formatting twice gives the same text. The conventions are those
// of testdata/dictation/README.md; neither policy writes the ISMP error-prone abbreviations (QD,
// QOD, HS, U, trailing zeros after a dose).
func Format(spoken string, p Policy) string {
	f := formatter{toks: lex(spoken), expanded: p == Expanded}
	f.dropFillers()
	f.punctuation()
	f.numbers()
	f.numberPhrases()
	f.vitals()
	f.units()
	f.frequencies()
	f.ages()
	return render(f.toks)
}

type kind uint8

const (
	word kind = iota
	num
	punct // . , ; : ? ! ( )
	brk   // "\n" or "\n\n"
)

type token struct {
	text string
	key  string // lower-case text of a word, for matching
	kind kind
	// numbers: the value of the first (or only) number, and whether the token is a plain
	// number (not a range, dimension or score)
	v     float64
	plain bool
	unit  bool // a unit written after a number (mg, mL, …)
}

type formatter struct {
	toks     []token
	expanded bool
}

func wordTok(s string) token { return token{text: s, key: strings.ToLower(s), kind: word} }

// lex splits on white space and detaches written punctuation, so already written text (from a
// recogniser that punctuates, or from a second pass) is read like dictated text.
func lex(s string) []token {
	var out []token
	// written line breaks stay: one for a new line, two for a new paragraph
	for n, line := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if n > 0 && len(out) > 0 {
			if last := &out[len(out)-1]; last.kind == brk {
				last.text = "\n\n"
			} else {
				out = append(out, token{text: "\n", kind: brk})
			}
		}
		out = lexLine(out, line)
	}
	return out
}

func lexLine(out []token, s string) []token {
	for _, f := range strings.Fields(s) {
		var tail []token
		for len(f) > 0 && f[0] == '(' {
			out = append(out, token{text: "(", kind: punct})
			f = f[1:]
		}
		for len(f) > 0 && strings.ContainsRune(".,;:?!)", rune(f[len(f)-1])) {
			tail = append([]token{{text: f[len(f)-1:], kind: punct}}, tail...)
			f = f[:len(f)-1]
		}
		// a written unit glued to its number is read apart: "97%", "98.6°F", "90°"
		var unit string
		for _, u := range []string{"%", "°F", "°C", "°"} {
			if n, ok := strings.CutSuffix(f, u); ok {
				if _, isNum := digits(n); isNum {
					f, unit = n, u
					break
				}
			}
		}
		if f != "" {
			if v, ok := digits(f); ok {
				out = append(out, token{text: f, key: strings.ToLower(f), kind: num, v: v, plain: true})
			} else {
				out = append(out, wordTok(f))
			}
		}
		if unit != "" {
			out = append(out, wordTok(unit))
		}
		out = append(out, tail...)
	}
	return out
}

// digits reads a number written in digits ("140", "3.5", "1,000").
func digits(s string) (float64, bool) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, false
	}
	v, err := strconv.ParseFloat(strings.ReplaceAll(s, ",", ""), 64)
	return v, err == nil
}

// match reports how many tokens from i match the pattern: lower-case words, "#" for any
// number, "#n" for the plain number n.
func (f *formatter) match(i int, pattern ...string) int {
	if i+len(pattern) > len(f.toks) {
		return 0
	}
	for j, p := range pattern {
		t := f.toks[i+j]
		switch {
		case p == "#":
			if t.kind != num {
				return 0
			}
		case p[0] == '#':
			n, _ := strconv.ParseFloat(p[1:], 64)
			if t.kind != num || !t.plain || t.v != n {
				return 0
			}
		default:
			if t.kind != word || t.key != p {
				return 0
			}
		}
	}
	return len(pattern)
}

// matchAny returns the length of the longest pattern that matches at i.
func (f *formatter) matchAny(i int, patterns [][]string) int {
	best := 0
	for _, p := range patterns {
		if n := f.match(i, p...); n > best {
			best = n
		}
	}
	return best
}

// replace swaps toks[i:i+n] for repl.
func (f *formatter) replace(i, n int, repl ...token) {
	f.toks = slices.Replace(f.toks, i, i+n, repl...)
}

func (f *formatter) key(i int) string {
	if i < 0 || i >= len(f.toks) || f.toks[i].kind != word {
		return ""
	}
	return f.toks[i].key
}

func (f *formatter) isNum(i int) bool { return i >= 0 && i < len(f.toks) && f.toks[i].kind == num }

// ---- fillers and punctuation ----

var fillers = map[string]bool{"um": true, "umm": true, "uh": true, "uhh": true, "uhm": true, "erm": true,
	"hmm": true, "hm": true, "mm": true, "mmm": true, "ah": true}

func (f *formatter) dropFillers() {
	var out []token
	for i := 0; i < len(f.toks); i++ {
		n := 0
		if fillers[f.key(i)] {
			n = 1
		} else if f.match(i, "you", "know") > 0 {
			n = 2
		}
		if n == 0 {
			out = append(out, f.toks[i])
			continue
		}
		// the commas that set a filler off go with it: "the patient, um, is" → "the patient is",
		// "Um, the patient" → "the patient"
		next := i + n
		if next < len(f.toks) && f.toks[next].text == "," && f.toks[next].kind == punct {
			last := len(out) - 1
			switch {
			case last >= 0 && out[last].text == "," && out[last].kind == punct:
				out = out[:last]
				next++
			case last < 0 || out[last].kind == brk || out[last].kind == punct && out[last].text != ")":
				next++
			}
		}
		i = next - 1
	}
	f.toks = out
}

var spokenPunct = []struct {
	words []string
	text  string
}{
	{[]string{"full", "stop"}, "."},
	{[]string{"question", "mark"}, "?"},
	{[]string{"exclamation", "mark"}, "!"},
	{[]string{"exclamation", "point"}, "!"},
	{[]string{"open", "paren"}, "("},
	{[]string{"open", "parenthesis"}, "("},
	{[]string{"close", "paren"}, ")"},
	{[]string{"close", "parenthesis"}, ")"},
	{[]string{"new", "paragraph"}, "\n\n"},
	{[]string{"new", "line"}, "\n"},
	{[]string{"next", "line"}, "\n"},
	{[]string{"semi", "colon"}, ";"},
	{[]string{"semicolon"}, ";"},
	{[]string{"comma"}, ","},
	{[]string{"period"}, "."},
	{[]string{"colon"}, ":"},
}

// "period" and "colon" are also clinical words: these neighbours keep them words.
var (
	periodWordBefore = set("menstrual", "postoperative", "perioperative", "postpartum", "refractory",
		"incubation", "washout", "neonatal", "latent", "recovery", "trial", "grace", "waiting", "the", "a",
		"this", "that", "same", "time")
	periodWordAfter = set("of", "period")
	colonWordBefore = set("the", "sigmoid", "ascending", "descending", "transverse", "his", "her", "their",
		"entire", "distal", "proximal", "right", "left", "of", "a", "spastic", "irritable", "redundant", "whole")
	lineWordAfter  = set("was", "placed", "inserted", "is", "in", "of")
	colonWordAfter = set("cancer", "polyp", "polyps", "mass", "resection", "wall", "carcinoma", "biopsy",
		"and", "was", "is", "were")
)

func set(words ...string) map[string]bool {
	m := make(map[string]bool, len(words))
	for _, w := range words {
		m[w] = true
	}
	return m
}

func (f *formatter) punctuation() {
	for i := 0; i < len(f.toks); i++ {
		for _, sp := range spokenPunct {
			if f.match(i, sp.words...) == 0 {
				continue
			}
			switch sp.words[0] {
			case "period":
				if periodWordBefore[f.key(i-1)] || periodWordAfter[f.key(i+1)] {
					continue
				}
			case "colon":
				if colonWordBefore[f.key(i-1)] || colonWordAfter[f.key(i+1)] {
					continue
				}
			case "new":
				// "a new line was placed": the clinical line, not a line break
				if f.key(i-1) == "a" || f.key(i-1) == "the" || lineWordAfter[f.key(i+2)] {
					continue
				}
			}
			k := punct
			if sp.text[0] == '\n' {
				k = brk
			}
			f.replace(i, len(sp.words), token{text: sp.text, kind: k})
			break
		}
	}
}

// ---- numbers ----

var (
	ones = map[string]int{"zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
		"seven": 7, "eight": 8, "nine": 9}
	teens = map[string]int{"ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
		"fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19}
	tens = map[string]int{"twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60,
		"seventy": 70, "eighty": 80, "ninety": 90}
	// a lone "one" after these words, or before "of", is a pronoun ("no one", "one of the").
	pronounOneBefore = set("no", "any", "some", "every", "each", "this", "that", "which", "the", "another")
)

// numbers turns spoken numbers into digit tokens.
func (f *formatter) numbers() {
	for i := 0; i < len(f.toks); i++ {
		n, text, v := f.spokenNumber(i)
		if n == 0 {
			continue
		}
		if n == 1 && f.key(i) == "one" && (pronounOneBefore[f.key(i-1)] || f.key(i+1) == "of" || f.key(i+1) == "another") {
			continue
		}
		f.replace(i, n, token{text: text, kind: num, v: v, plain: true})
	}
}

// spokenNumber reads number words at i: "one hundred and four", "two hundred fifty thousand",
// "zero point zero four", "point one two five". It returns how many tokens it read (0 if none),
// the number in digits and its value.
func (f *formatter) spokenNumber(i int) (int, string, float64) {
	const (
		none = iota
		afterOnes
		afterTeens
		afterTens
		afterHundred
		afterScale
	)
	total, cur, state, j := 0, 0, none, i
loop:
	for ; j < len(f.toks); j++ {
		w := f.key(j)
		if d, ok := ones[w]; ok && (state == none || state == afterTens || state == afterHundred || state == afterScale) {
			cur += d
			state = afterOnes
		} else if d, ok := teens[w]; ok && (state == none || state == afterHundred || state == afterScale) {
			cur += d
			state = afterTeens
		} else if d, ok := tens[w]; ok && (state == none || state == afterHundred || state == afterScale) {
			cur += d
			state = afterTens
		} else if w == "hundred" && (state == afterOnes || state == afterTeens) && cur < 100 {
			cur *= 100
			state = afterHundred
		} else if (w == "thousand" || w == "million") && state != none && state != afterScale {
			scale := 1000
			if w == "million" {
				scale = 1000000
			}
			total += cur * scale
			cur = 0
			state = afterScale
		} else if w == "and" && (state == afterHundred || state == afterScale) && j+1 < len(f.toks) &&
			(ones[f.key(j+1)] > 0 || teens[f.key(j+1)] > 0 || tens[f.key(j+1)] > 0) {
			continue
		} else {
			break loop
		}
	}
	intPart := total + cur
	frac := ""
	if w := f.key(j); w == "point" && j+1 < len(f.toks) {
		k := j + 1
		if d, ok := tens[f.key(k)]; ok { // "point twenty five"
			frac = strconv.Itoa(d / 10)
			if o, ok := ones[f.key(k+1)]; ok && o > 0 {
				frac += strconv.Itoa(o)
				k++
			}
			k++
		} else {
			for ; k < len(f.toks); k++ {
				d, ok := ones[f.key(k)]
				if !ok {
					break
				}
				frac += strconv.Itoa(d)
			}
		}
		if frac != "" {
			j = k
		}
	}
	if j == i {
		return 0, "", 0
	}
	text := groupThousands(intPart)
	v := float64(intPart)
	if frac != "" {
		text += "." + frac
		fv, _ := strconv.ParseFloat("0."+frac, 64)
		v += fv
	}
	return j - i, text, v
}

// groupThousands writes 1000 and more with commas ("5,000 units", as ISMP asks for doses).
func groupThousands(n int) string {
	s := strconv.Itoa(n)
	if n < 1000 {
		return s
	}
	var b strings.Builder
	for k, r := range s {
		if k > 0 && (len(s)-k)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// numberPhrases joins numbers with their neighbours: ranges ("two to three days" → "2-3 days",
// but "from 20 to 40"), dimensions ("2.5 by 1.8" → "2.5 x 1.8"), scores ("7 out of 10" →
// "7/10") and counts ("times 3" → "x3").
func (f *formatter) numberPhrases() {
	for i := 0; i < len(f.toks); i++ {
		switch {
		case f.isNum(i) && f.isNum(i+2) && (f.key(i+1) == "to" || f.key(i+1) == "through") &&
			f.key(i-1) != "from" && f.key(i-1) != "between" && f.toks[i].plain && f.toks[i+2].plain &&
			f.toks[i+2].v > f.toks[i].v:
			f.replace(i, 3, token{text: f.toks[i].text + "-" + f.toks[i+2].text, kind: num, v: f.toks[i].v})
		case f.isNum(i) && f.isNum(i+2) && f.key(i+1) == "by":
			f.replace(i, 3, token{text: f.toks[i].text + " x " + f.toks[i+2].text, kind: num, v: f.toks[i].v})
		case f.isNum(i) && f.match(i+1, "out", "of", "#") > 0:
			f.replace(i, 4, token{text: f.toks[i].text + "/" + f.toks[i+3].text, kind: num, v: f.toks[i].v})
		case f.key(i) == "times" && f.isNum(i+1) && f.toks[i+1].plain && !f.isNum(i-1):
			f.replace(i, 2, token{text: "x" + f.toks[i+1].text, kind: word, key: "x" + f.toks[i+1].text})
		}
	}
}

// ---- vitals ----

type vital struct {
	names    [][]string
	clinical string // the clinical label; the expanded policy keeps the spoken words
	expanded string // the expanded label when the spoken one is an abbreviation, else ""
	value    func(f *formatter, i int) (int, string)
}

var vitals = []vital{
	{names: [][]string{{"blood", "pressure"}, {"bp"}}, clinical: "BP", value: bpValue},
	{names: [][]string{{"heart", "rate"}, {"pulse"}, {"hr"}}, clinical: "HR",
		value: suffixValue(" bpm", [][]string{{"beats", "per", "minute"}, {"beats", "a", "minute"}, {"bpm"}, {"per", "minute"}})},
	{names: [][]string{{"respiratory", "rate"}, {"respirations"}, {"resp", "rate"}, {"rr"}}, clinical: "RR",
		value: suffixValue("/min", [][]string{{"breaths", "per", "minute"}, {"breaths", "a", "minute"}, {"per", "minute"}, {"/min"}})},
	{names: [][]string{{"temperature"}, {"temp"}, {"t"}}, clinical: "T", expanded: "temperature", value: tempValue},
	{names: [][]string{{"oxygen", "saturation"}, {"o2", "sat"}, {"o2", "sats"}, {"o2", "saturation"},
		{"o", "two", "sat"}, {"sats"}, {"sat"}, {"spo2"}, {"pulse", "ox"}, {"pulse", "oximetry"}, {"saturation"}},
		clinical: "SpO2", expanded: "oxygen saturation",
		value: suffixValue("%", [][]string{{"percent"}, {"per", "cent"}, {"%"}})},
}

// linking words allowed between a vital's name and its value: "blood pressure was 130/80".
var vitalLinks = set("is", "was", "of", "at", "today", "now")

func (f *formatter) vitals() {
	for i := 0; i < len(f.toks); i++ {
		for _, vt := range vitals {
			n := f.matchAny(i, vt.names)
			if n == 0 {
				continue
			}
			j := i + n
			if vitalLinks[f.key(j)] {
				j++
			}
			m, value := vt.value(f, j)
			if m == 0 {
				continue
			}
			var label []token
			switch {
			case !f.expanded:
				label = []token{wordTok(vt.clinical)}
			case vt.expanded != "" && strings.Join(tokenKeys(f.toks[i:i+n]), " ") != vt.expanded:
				for _, w := range strings.Fields(vt.expanded) {
					label = append(label, wordTok(w))
				}
			default:
				label = append(label, f.toks[i:i+n]...)
			}
			repl := append(label, f.toks[i+n:j]...)
			repl = append(repl, token{text: value, key: strings.ToLower(value), kind: word, unit: true})
			f.replace(i, j+m-i, repl...)
			i += len(repl) - 1
			break
		}
	}
}

func tokenKeys(ts []token) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.key
	}
	return out
}

// bpValue reads "140 over 90", "1 40 over 90" (spoken "one forty over ninety"), or a written
// "140/90", with an optional "millimeters of mercury".
func bpValue(f *formatter, i int) (int, string) {
	j := i
	if j < len(f.toks) && f.toks[j].kind == word && isRatio(f.toks[j].text) {
		sys := f.toks[j].text
		j++
		j += f.matchAny(j, mmHg)
		return j - i, sys + " mmHg"
	}
	sys, n := colloquial(f, j)
	if n == 0 || f.key(j+n) != "over" {
		return 0, ""
	}
	j += n + 1
	dia, m := colloquial(f, j)
	if m == 0 {
		return 0, ""
	}
	j += m
	j += f.matchAny(j, mmHg)
	return j - i, sys + "/" + dia + " mmHg"
}

var mmHg = [][]string{{"millimeters", "of", "mercury"}, {"mm", "of", "mercury"}, {"mmhg"}, {"mm", "hg"}}

func isRatio(s string) bool {
	a, b, ok := strings.Cut(s, "/")
	_, okA := digits(a)
	_, okB := digits(b)
	return ok && okA && okB
}

// colloquial reads a blood pressure number: "140", or "1 40" as people say "one forty".
func colloquial(f *formatter, i int) (string, int) {
	if !f.isNum(i) || !f.toks[i].plain {
		return "", 0
	}
	t := f.toks[i]
	if (t.v == 1 || t.v == 2) && f.isNum(i+1) && f.toks[i+1].plain && f.toks[i+1].v >= 10 && f.toks[i+1].v < 100 &&
		f.toks[i+1].v == math.Trunc(f.toks[i+1].v) {
		return strconv.Itoa(int(t.v)*100 + int(f.toks[i+1].v)), 2
	}
	return t.text, 1
}

// suffixValue reads a number and an optional spoken unit, written with suffix (" bpm", "/min",
// "%").
func suffixValue(suffix string, spokenUnits [][]string) func(*formatter, int) (int, string) {
	return func(f *formatter, i int) (int, string) {
		if !f.isNum(i) || !f.toks[i].plain {
			return 0, ""
		}
		n := 1 + f.matchAny(i+1, spokenUnits)
		if suffix == "%" && n == 1 && i+1 < len(f.toks) && f.toks[i+1].text == "%" {
			n++
		}
		return n, f.toks[i].text + suffix
	}
}

// tempValue reads a temperature: "38.2" (°C below 50, °F from 50), with optional "degrees"
// and scale.
func tempValue(f *formatter, i int) (int, string) {
	if !f.isNum(i) || !f.toks[i].plain {
		return 0, ""
	}
	j := i + 1
	if f.key(j) == "degrees" || f.key(j) == "degree" {
		j++
	}
	scale := "°C"
	if f.toks[i].v >= 50 {
		scale = "°F"
	}
	switch f.key(j) {
	case "fahrenheit", "f", "°f":
		scale = "°F"
		j++
	case "celsius", "centigrade", "c", "°c":
		scale = "°C"
		j++
	}
	return j - i, f.toks[i].text + " " + scale
}

// ---- units ----

var unitNames = []struct {
	words []string
	text  string
	dose  bool
}{
	{[]string{"millimeters", "of", "mercury"}, "mmHg", false},
	{[]string{"beats", "per", "minute"}, "bpm", false},
	{[]string{"international", "units"}, "international units", true},
	{[]string{"per", "cent"}, "%", false},
	{[]string{"milligrams"}, "mg", true}, {[]string{"milligram"}, "mg", true}, {[]string{"mg"}, "mg", true},
	{[]string{"micrograms"}, "mcg", true}, {[]string{"microgram"}, "mcg", true}, {[]string{"mcg"}, "mcg", true},
	{[]string{"grams"}, "g", true}, {[]string{"gram"}, "g", true}, {[]string{"g"}, "g", true},
	{[]string{"kilograms"}, "kg", false}, {[]string{"kilogram"}, "kg", false}, {[]string{"kg"}, "kg", false},
	{[]string{"milliliters"}, "mL", true}, {[]string{"milliliter"}, "mL", true}, {[]string{"millilitres"}, "mL", true},
	{[]string{"ml"}, "mL", true},
	{[]string{"liters"}, "L", true}, {[]string{"liter"}, "L", true}, {[]string{"litres"}, "L", true}, {[]string{"litre"}, "L", true},
	{[]string{"milliequivalents"}, "mEq", true}, {[]string{"milliequivalent"}, "mEq", true}, {[]string{"meq"}, "mEq", true},
	{[]string{"units"}, "units", true}, {[]string{"unit"}, "units", true},
	{[]string{"percent"}, "%", false}, {[]string{"%"}, "%", false},
	{[]string{"centimeters"}, "cm", false}, {[]string{"centimeter"}, "cm", false}, {[]string{"cm"}, "cm", false},
	{[]string{"millimeters"}, "mm", false}, {[]string{"millimeter"}, "mm", false}, {[]string{"mm"}, "mm", false},
	{[]string{"degrees"}, "°", false}, {[]string{"degree"}, "°", false}, {[]string{"°"}, "°", false},
	{[]string{"°f"}, "°F", false}, {[]string{"°c"}, "°C", false},
}

// per-unit denominators: "milligrams per kilogram per day" → "mg/kg/day".
var perUnits = map[string]string{"deciliter": "dL", "deciliters": "dL", "dl": "dL", "kilogram": "kg", "kg": "kg",
	"day": "day", "hour": "h", "hr": "h", "minute": "min", "min": "min", "liter": "L", "milliliter": "mL", "dose": "dose",
	"week": "week"}

func (f *formatter) units() {
	for i := 1; i < len(f.toks); i++ {
		if !f.isNum(i - 1) {
			continue
		}
		for _, u := range unitNames {
			n := f.match(i, u.words...)
			if n == 0 {
				continue
			}
			text := u.text
			for f.key(i+n) == "per" && perUnits[f.key(i+n+1)] != "" {
				text += "/" + perUnits[f.key(i+n+1)]
				n += 2
			}
			if t := &f.toks[i-1]; u.dose && t.plain {
				// ISMP: never a trailing zero after a dose ("5.0 mg" is read as 50 mg), and
				// thousands with a comma ("5,000 units")
				if strings.Contains(t.text, ".") {
					t.text = strings.TrimSuffix(strings.TrimRight(t.text, "0"), ".")
				} else if t.v >= 1000 && t.v == math.Trunc(t.v) && t.v < 1e15 {
					t.text = groupThousands(int(t.v))
				}
			}
			if text == "%" || text == "°" {
				f.toks[i-1].text += text
				f.replace(i, n)
				i--
			} else {
				f.replace(i, n, token{text: text, key: strings.ToLower(text), kind: word, unit: true})
			}
			break
		}
	}
}

// ---- frequencies and routes ----

type abbrev struct {
	spoken   [][]string
	clinical string
	expanded string // "" keeps the spoken words
}

var frequencies = []abbrev{
	{[][]string{{"once", "a", "day"}, {"once", "daily"}, {"once", "per", "day"}, {"#1", "time", "a", "day"},
		{"#1", "time", "daily"}, {"#1", "time", "per", "day"}}, "daily", "once daily"},
	{[][]string{{"twice", "a", "day"}, {"twice", "daily"}, {"twice", "per", "day"}, {"#2", "times", "a", "day"},
		{"#2", "times", "daily"}, {"#2", "times", "per", "day"}, {"bid"}, {"b.i.d"}}, "BID", "twice daily"},
	{[][]string{{"three", "times", "a", "day"}, {"three", "times", "daily"}, {"#3", "times", "a", "day"},
		{"#3", "times", "daily"}, {"#3", "times", "per", "day"}, {"tid"}, {"t.i.d"}}, "TID", "three times daily"},
	{[][]string{{"four", "times", "a", "day"}, {"four", "times", "daily"}, {"#4", "times", "a", "day"},
		{"#4", "times", "daily"}, {"#4", "times", "per", "day"}, {"qid"}, {"q.i.d"}}, "QID", "four times daily"},
	{[][]string{{"as", "needed"}, {"as", "required"}, {"prn"}, {"p.r.n"}}, "PRN", "as needed"},
	{[][]string{{"by", "mouth"}, {"orally"}, {"po"}, {"per", "os"}}, "PO", ""},
	{[][]string{{"intravenously"}, {"intravenous"}, {"iv"}, {"i.v"}}, "IV", ""},
	{[][]string{{"subcutaneously"}, {"subcutaneous"}, {"subcut"}, {"subq"}, {"sub", "q"}}, "subcut", ""},
	{[][]string{{"intramuscularly"}, {"intramuscular"}}, "IM", ""},
	{[][]string{{"sublingually"}, {"sublingual"}, {"sl"}}, "SL", ""},
}

// what the expanded policy writes for a spoken abbreviation.
var expandedOf = map[string]string{"po": "by mouth", "iv": "IV", "i.v": "IV", "subq": "subcutaneously",
	"sub q": "subcutaneously", "subcut": "subcutaneously", "sl": "sublingual", "bid": "twice daily",
	"tid": "three times daily", "qid": "four times daily", "prn": "as needed"}

func (f *formatter) frequencies() {
	for i := 0; i < len(f.toks); i++ {
		if f.key(i) == "every" && f.isNum(i+1) {
			var short, long string
			switch f.key(i + 2) {
			case "hours", "hour", "hrs", "hr":
				short, long = "h", "hours"
			case "minutes", "minute", "min", "mins":
				short, long = "min", "minutes"
			}
			if short != "" {
				n := f.toks[i+1].text
				if f.expanded {
					f.replace(i, 3, wordTok("every"), f.toks[i+1], wordTok(long))
				} else {
					f.replace(i, 3, wordTok("q"+n+short))
				}
				continue
			}
		}
		// a lone "im" is more often "I'm" than intramuscular: only after a dose.
		if f.key(i) == "im" && i > 0 && f.toks[i-1].unit {
			f.toks[i] = wordTok("IM")
			continue
		}
		for _, a := range frequencies {
			n := f.matchAny(i, a.spoken)
			if n == 0 {
				continue
			}
			spoken := strings.Join(tokenKeys(f.toks[i:i+n]), " ")
			out := a.clinical
			if f.expanded {
				out = a.expanded
				if e, ok := expandedOf[spoken]; ok {
					out = e
				} else if out == "" {
					break
				}
			}
			var repl []token
			for _, w := range strings.Fields(out) {
				repl = append(repl, wordTok(w))
			}
			f.replace(i, n, repl...)
			i += len(repl) - 1
			break
		}
	}
}

// ages: "65 year old" → "65-year-old".
func (f *formatter) ages() {
	for i := 0; i+2 < len(f.toks); i++ {
		if f.isNum(i) && f.toks[i].plain && f.key(i+2) == "old" {
			switch f.key(i + 1) {
			case "year", "month", "week", "day":
				f.replace(i, 3, wordTok(f.toks[i].text+"-"+f.key(i+1)+"-old"))
			}
		}
	}
}

// ---- rendering ----

func render(toks []token) string {
	var b strings.Builder
	glue := true // no space before the next token
	for _, t := range toks {
		switch {
		case t.kind == brk:
			trimSpace(&b)
			b.WriteString(t.text)
			glue = true
			continue
		case t.kind == punct && t.text != "(":
			trimSpace(&b)
			// "breath. Period.": a recogniser that punctuates and also writes the spoken mark
			if s := b.String(); strings.ContainsAny(t.text, ".,;:?!") && strings.HasSuffix(s, t.text) {
				continue
			}
		case !glue:
			b.WriteByte(' ')
		}
		b.WriteString(t.text)
		glue = t.text == "("
	}
	return sentenceCase(strings.TrimSpace(b.String()))
}

func trimSpace(b *strings.Builder) {
	s := b.String()
	if t := strings.TrimRight(s, " "); len(t) != len(s) {
		b.Reset()
		b.WriteString(t)
	}
}

// sentenceCase capitalises the first letter of the text and of every sentence and line.
func sentenceCase(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	start := true
	for i, r := range s {
		switch {
		case start && unicode.IsLetter(r):
			b.WriteRune(unicode.ToUpper(r))
			start = false
			continue
		case r == '.' || r == '?' || r == '!':
			// a sentence ends at the mark only when a space or line follows ("3.5" is no end)
			next, _ := utf8.DecodeRuneInString(s[i+1:])
			start = i+1 == len(s) || next == ' ' || next == '\n'
		case r == '\n':
			start = true
		case start && r != ' ' && r != '(':
			start = false
		}
		b.WriteRune(r)
	}
	return b.String()
}

// ---- polish guard ----

// PolishError says which kinds of clinical content a model polish changed. It names the kinds
// only, never the text, so it can be logged.
type PolishError struct{ Changed []string }

func (e *PolishError) Error() string {
	return "polish changed clinical content: " + strings.Join(e.Changed, ", ")
}

// CheckPolish compares a formatted note before and after an optional model polish and rejects
// the polish (a *PolishError) if it changed any number, unit, known drug or medical term
// (vocabularies of every specialty, and words with drug-name endings) or negation. Wording,
// order of other words, punctuation and case may change. Numbers are compared by value, so a
// polish that writes "two" for "2" is fine, and one that drops a number or turns 140 into 104
// is not.
func CheckPolish(before, after string) error {
	a, b := clinicalContent(before), clinicalContent(after)
	var changed []string
	for _, k := range []string{"numbers", "units", "drugs and terms", "negations"} {
		if !slices.Equal(a[k], b[k]) {
			changed = append(changed, k)
		}
	}
	if changed != nil {
		return &PolishError{Changed: changed}
	}
	return nil
}

var (
	negations = set("no", "not", "without", "denies", "denied", "deny", "denying", "negative", "never", "none",
		"nor", "neither", "absent", "cannot", "non", "free")
	// endings of generic drug names (USAN stems), for drugs the vocabularies do not list
	drugEndings = []string{"pril", "olol", "alol", "sartan", "statin", "mab", "cillin", "mycin", "micin", "azole",
		"dipine", "prazole", "tidine", "oxacin", "cycline", "parin", "xaban", "gatran", "gliptin", "gliflozin",
		"glutide", "afil", "triptan", "azepam", "azolam", "barbital", "caine", "setron", "lukast", "tinib",
		"vir", "semide", "thiazide", "sone", "olone", "terol", "tropium", "floxacin", "profen", "fenac", "coxib"}
	polishTerms = func() *Corrector { return NewCorrector(AllTerms()) }()
	unitWords   = func() map[string]string {
		m := map[string]string{"bpm": "bpm", "mmhg": "mmHg", "°c": "°C", "°f": "°F", "/min": "/min"}
		for _, u := range unitNames {
			if len(u.words) == 1 {
				m[u.words[0]] = u.text
			}
		}
		m["l"] = "L"
		return m
	}()
)

// clinicalContent collects, sorted, the numbers (by value), units, known terms and drug-like
// words, and negation words of a text.
func clinicalContent(s string) map[string][]string {
	out := map[string][]string{}
	f := formatter{toks: lex(s)}
	f.numbers()
	for _, t := range f.toks {
		switch t.kind {
		case num:
			out["numbers"] = append(out["numbers"], strconv.FormatFloat(t.v, 'f', -1, 64))
		case word:
			// written values: "140/90", "94%", "q6h", "x3", "2-3", "98.6" (but not the 2 of "SpO2")
			if !writtenValue(t.key) {
				goto rest
			}
			for _, part := range strings.FieldsFunc(t.key, func(r rune) bool { return !unicode.IsDigit(r) && r != '.' }) {
				if v, err := strconv.ParseFloat(strings.Trim(part, "."), 64); err == nil {
					out["numbers"] = append(out["numbers"], strconv.FormatFloat(v, 'f', -1, 64))
				}
			}
		rest:
			k := strings.TrimLeft(t.key, "0123456789.,/-x")
			if k != "%" && strings.HasSuffix(k, "%") {
				out["units"] = append(out["units"], "%")
			} else if k != "°" && strings.HasSuffix(k, "°") {
				out["units"] = append(out["units"], "°")
			} else if u, ok := unitWords[k]; ok {
				out["units"] = append(out["units"], u)
			}
			if negations[t.key] || strings.HasSuffix(t.key, "n't") {
				out["negations"] = append(out["negations"], "neg")
			}
			for _, e := range drugEndings {
				if len(t.key) > len(e)+2 && strings.HasSuffix(t.key, e) && isLetters(t.key) {
					out["drugs and terms"] = append(out["drugs and terms"], t.key)
					break
				}
			}
		}
	}
	words := vwords(s)
	for i := 0; i < len(words); {
		n, t := polishTerms.termAt(words, i)
		if n == 0 {
			i++
			continue
		}
		out["drugs and terms"] = append(out["drugs and terms"], "term:"+t.key)
		i += n
	}
	for _, v := range out {
		slices.Sort(v)
	}
	return out
}

func writtenValue(k string) bool {
	if k == "" {
		return false
	}
	if k[0] >= '0' && k[0] <= '9' {
		return true
	}
	return len(k) > 1 && (k[0] == 'q' || k[0] == 'x') && k[1] >= '0' && k[1] <= '9'
}

func isLetters(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}
