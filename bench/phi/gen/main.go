// Command gen writes synthetic clinical notes with labelled PHI spans, one JSON object a
// line, for the PHI detection benchmark (bench/phi). The output is a pure function of
// -seed, -n and -group:
//
//	go run ./bench/phi/gen -seed 1 -n 240 -group 1 > testdata/phi/notes-seed1.jsonl
//
// Spans are {type, start, end} in Unicode code points, end exclusive. A note is a header,
// a few body sentences and a sign-off, each drawn from a template group; templates mix
// formats, misspellings and identifiers inside sentences, and carry non-PHI look-alikes
// (vitals, doses, codes, years, ages under 90, eponymous diseases) so that precision means
// something.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"math/rand"
	"os"
	"strings"
	"unicode/utf8"
)

// Span is one labelled identifier.
type Span struct {
	Type  string `json:"type"`
	Start int    `json:"start"`
	End   int    `json:"end"`
}

// Note is one line of the output.
type Note struct {
	ID       string   `json:"id"`
	Group    int      `json:"group"`
	Template []string `json:"templates"`
	Text     string   `json:"text"`
	Spans    []Span   `json:"spans"`
}

// person is the identity a note is about, so later mentions ("Mr. Okafor") agree with the
// first one.
type person struct {
	first, last, title, pronoun string
	mid                         byte
}

type builder struct {
	r     *rand.Rand
	sb    strings.Builder
	n     int
	spans []Span
	pt    person
	typos bool
}

func (b *builder) lit(s string) {
	b.sb.WriteString(s)
	b.n += utf8.RuneCountInString(s)
}

func (b *builder) phi(typ, s string) {
	start := b.n
	b.lit(s)
	b.spans = append(b.spans, Span{Type: typ, Start: start, End: b.n})
}

func newPerson(r *rand.Rand) person {
	p := person{first: pick(r, firstNames), last: pick(r, lastNames), mid: middleInitials[r.Intn(len(middleInitials))]}
	switch r.Intn(3) {
	case 0:
		p.title, p.pronoun = "Mr.", "He"
	case 1:
		p.title, p.pronoun = "Ms.", "She"
	default:
		p.title, p.pronoun = "Mrs.", "She"
	}
	return p
}

// placeholders write one {kind} of a template. Group 1 kinds only: the set of kinds, their
// formats and their order of random draws must not change, or seed 1 stops reproducing.
var placeholders = map[string]func(b *builder){
	// Names. Titles and credentials stay outside the span: they are not identifying.
	"pt": func(b *builder) {
		p := b.pt
		switch b.r.Intn(5) {
		case 0, 1:
			b.phi("name", p.first+" "+p.last)
		case 2:
			b.phi("name", fmt.Sprintf("%s %c. %s", p.first, p.mid, p.last))
		case 3:
			b.phi("name", strings.ToUpper(p.last)+", "+strings.ToUpper(p.first))
		default:
			b.phi("name", p.last+", "+p.first)
		}
	},
	"pt_title": func(b *builder) { b.lit(b.pt.title + " "); b.phi("name", b.pt.last) },
	"pt_first": func(b *builder) { b.phi("name", b.pt.first) },
	"dr": func(b *builder) {
		f, l := pick(b.r, firstNames), pick(b.r, lastNames)
		switch b.r.Intn(4) {
		case 0:
			b.lit("Dr. ")
			b.phi("name", l)
		case 1:
			b.lit("Dr. ")
			b.phi("name", f+" "+l)
		case 2:
			b.phi("name", f+" "+l)
			b.lit(", MD")
		default:
			b.lit("Dr ")
			b.phi("name", l)
		}
	},
	"staff": func(b *builder) {
		f, l := pick(b.r, firstNames), pick(b.r, lastNames)
		if b.r.Intn(2) == 0 {
			b.phi("name", f+" "+l)
			b.lit(", " + pick(b.r, []string{"RN", "NP", "PA-C", "LPN", "MSW"}))
		} else {
			b.phi("name", fmt.Sprintf("%c. %s", f[0], l))
		}
	},
	"rel": func(b *builder) {
		b.lit(pick(b.r, []string{"daughter", "son", "wife", "husband", "sister", "brother", "niece", "caregiver"}) + " ")
		if b.r.Intn(2) == 0 {
			b.phi("name", pick(b.r, firstNames))
		} else {
			b.phi("name", pick(b.r, firstNames)+" "+pick(b.r, lastNames))
		}
	},
	// Geography below the state.
	"street": street,
	"city":   city,
	"zip":    zip,
	"county": func(b *builder) { b.phi("geographic", pick(b.r, counties)+" County") },
	"addr": func(b *builder) {
		street(b)
		if b.r.Intn(3) == 0 {
			b.lit(", Apt ")
			b.phi("geographic", fmt.Sprintf("%d%c", 1+b.r.Intn(30), 'A'+rune(b.r.Intn(6))))
		}
		b.lit(", ")
		city(b)
		b.lit(", ")
		if b.r.Intn(4) == 0 {
			b.lit(pick(b.r, stateNames) + " ")
		} else {
			b.lit(pick(b.r, states) + " ")
		}
		zip(b)
	},
	"state": func(b *builder) { b.lit(pick(b.r, states)) },
	// Dates other than a bare year.
	"date":  func(b *builder) { b.phi("date", date(b.r, 2019, 2026)) },
	"dob":   func(b *builder) { b.phi("date", date(b.r, 1931, 2010)) },
	"year":  func(b *builder) { b.lit(fmt.Sprint(1995 + b.r.Intn(31))) },
	"phone": func(b *builder) { b.phi("phone", phone(b.r)) },
	"fax":   func(b *builder) { b.phi("fax", phone(b.r)) },
	"email": func(b *builder) {
		f, l := strings.ToLower(pick(b.r, firstNames)), strings.ToLower(strings.ReplaceAll(pick(b.r, lastNames), "'", ""))
		var local string
		switch b.r.Intn(4) {
		case 0:
			local = f + "." + l
		case 1:
			local = f[:1] + l + digits(b.r, 2)
		case 2:
			local = f + "_" + l
		default:
			local = l + f[:1]
		}
		d := pick(b.r, domains)
		if b.r.Intn(4) == 0 {
			d = pick(b.r, orgDomains)
		}
		b.phi("email", local+"@"+d)
	},
	"ssn":     func(b *builder) { b.phi("ssn", ssn(b.r)) },
	"mrn":     func(b *builder) { b.phi("mrn", mrnValue(b.r)) },
	"plan":    func(b *builder) { b.phi("health_plan", planValue(b.r)) },
	"account": func(b *builder) { b.phi("account", accountValue(b.r)) },
	"dl": func(b *builder) {
		switch b.r.Intn(3) {
		case 0:
			b.phi("license", letters(b.r, 1)+digits(b.r, 7))
		case 1:
			b.phi("license", letters(b.r, 1)+digits(b.r, 3)+"-"+digits(b.r, 4)+"-"+digits(b.r, 4))
		default:
			b.phi("license", digits(b.r, 9))
		}
	},
	"dea":   func(b *builder) { b.phi("license", letters(b.r, 2)+digits(b.r, 7)) },
	"vin":   func(b *builder) { b.phi("vehicle", vin(b.r)) },
	"plate": func(b *builder) { b.phi("vehicle", plate(b.r)) },
	"device": func(b *builder) {
		switch b.r.Intn(3) {
		case 0:
			b.phi("device", letters(b.r, 3)+digits(b.r, 8))
		case 1:
			b.phi("device", digits(b.r, 2)+letters(b.r, 1)+digits(b.r, 2)+"-"+alnum(b.r, 4))
		default:
			b.phi("device", "SN-"+digits(b.r, 5)+"-"+letters(b.r, 2))
		}
	},
	"url": func(b *builder) {
		switch b.r.Intn(4) {
		case 0:
			b.phi("url", "https://mychart."+pick(b.r, orgDomains)+"/patient/"+digits(b.r, 6))
		case 1:
			b.phi("url", "www."+pick(b.r, orgDomains)+"/portal?id="+digits(b.r, 7))
		case 2:
			b.phi("url", "http://"+strings.ToLower(b.pt.last)+strings.ToLower(b.pt.first[:1])+".blogspot.com")
		default:
			b.phi("url", "https://share."+pick(b.r, orgDomains)+"/f/"+alnum(b.r, 10))
		}
	},
	"ip": func(b *builder) {
		if b.r.Intn(5) == 0 {
			b.phi("ip", ipv6(b.r))
		} else {
			b.phi("ip", ipv4(b.r))
		}
	},
	"bio": func(b *builder) {
		s := pick(b.r, []string{"fingerprint scan", "right index fingerprint", "voiceprint", "retinal scan", "iris scan", "palm vein scan", "facial recognition template"})
		if b.r.Intn(2) == 0 {
			s += " " + pick(b.r, []string{"ID", "ref", "#"}) + " " + "BIO-" + digits(b.r, 6)
		}
		b.phi("biometric", s)
	},
	"photo": func(b *builder) {
		switch b.r.Intn(3) {
		case 0:
			b.phi("photo", pick(b.r, []string{"full-face photograph", "full face photo", "facial photograph"}))
		case 1:
			b.phi("photo", fmt.Sprintf("IMG_%d%02d%02d_%s.jpg", 2019+b.r.Intn(7), 1+b.r.Intn(12), 1+b.r.Intn(28), digits(b.r, 4)))
		default:
			b.phi("photo", "photo ID image "+digits(b.r, 6)+".png")
		}
	},
	"age90": func(b *builder) {
		a := 90 + b.r.Intn(16)
		switch b.r.Intn(5) {
		case 0:
			b.phi("age_over_89", fmt.Sprintf("%d-year-old", a))
		case 1:
			b.phi("age_over_89", fmt.Sprintf("%d y/o", a))
		case 2:
			b.lit("aged ")
			b.phi("age_over_89", fmt.Sprint(a))
		case 3:
			b.phi("age_over_89", fmt.Sprintf("%d yo", a))
		default:
			b.phi("age_over_89", fmt.Sprintf("%d years old", a))
		}
	},
	"age": func(b *builder) { b.lit(fmt.Sprintf("%d-year-old", 18+b.r.Intn(71))) },
	"other": func(b *builder) {
		switch b.r.Intn(4) {
		case 0:
			b.lit("study subject ID ")
			b.phi("other_id", "ST-"+digits(b.r, 4)+"-"+digits(b.r, 2))
		case 1:
			b.lit("employee ID ")
			b.phi("other_id", "E"+digits(b.r, 6))
		case 2:
			b.lit("case number ")
			b.phi("other_id", fmt.Sprintf("%d-CV-%s", 2019+b.r.Intn(7), digits(b.r, 5)))
		default:
			b.lit("passport number ")
			b.phi("other_id", digits(b.r, 9))
		}
	},
	// Non-PHI look-alikes.
	"vitals": func(b *builder) {
		b.lit(fmt.Sprintf("BP %d/%d, HR %d, RR %d, T %.1f F, SpO2 %d%%", 100+b.r.Intn(70), 60+b.r.Intn(40), 55+b.r.Intn(60), 12+b.r.Intn(10), 97.0+float64(b.r.Intn(40))/10, 88+b.r.Intn(12)))
	},
	"med": func(b *builder) {
		b.lit(fmt.Sprintf("%s %d mg %s", pick(b.r, []string{"Metformin", "Lisinopril", "Atorvastatin", "Amlodipine", "Levothyroxine", "Gabapentin", "Sertraline", "Warfarin", "Apixaban", "Furosemide"}),
			[]int{5, 10, 20, 25, 40, 50, 100, 500}[b.r.Intn(8)], pick(b.r, []string{"daily", "BID", "TID", "q12h", "at bedtime", "PRN"})))
	},
	"lab": func(b *builder) {
		b.lit(fmt.Sprintf("A1c %d.%d%%, creatinine %d.%d, LDL %d, Hgb %d.%d", 5+b.r.Intn(6), b.r.Intn(10), b.r.Intn(3), b.r.Intn(10), 60+b.r.Intn(120), 8+b.r.Intn(8), b.r.Intn(10)))
	},
	"code": func(b *builder) {
		b.lit(pick(b.r, []string{"ICD-10 E11.9", "ICD-10 I10", "ICD-10 J44.1", "CPT 99214", "CPT 93000", "ICD-10 M54.5", "NDC 0093-7214-01", "LOINC 4548-4"}))
	},
	"eponym": func(b *builder) {
		b.lit(pick(b.r, []string{"Parkinson's disease", "Crohn's disease", "Hashimoto thyroiditis", "Bell's palsy", "Alzheimer's dementia", "Graves disease", "Raynaud phenomenon", "Addison disease", "Cushing syndrome", "Barrett esophagus"}))
	},
	"facility": func(b *builder) {
		b.lit(pick(b.r, []string{"Mercy General Hospital", "St. Luke's Medical Center", "the Cardiology clinic", "Summit Orthopedics", "the Emergency Department", "Memorial Hospital"}))
	},
}

func street(b *builder) {
	s := fmt.Sprintf("%d %s %s", 1+b.r.Intn(9899), pick(b.r, streetNames), pick(b.r, streetTypes))
	if b.r.Intn(4) == 0 {
		s = fmt.Sprintf("%d %s %s %s", 1+b.r.Intn(999), pick(b.r, []string{"N.", "S.", "E.", "W.", "North", "South"}), pick(b.r, streetNames), pick(b.r, streetTypes))
	}
	b.phi("geographic", s)
}

func city(b *builder) { b.phi("geographic", pick(b.r, cities)) }

func zip(b *builder) {
	z := fmt.Sprintf("%05d", 1001+b.r.Intn(98000))
	if b.r.Intn(4) == 0 {
		z += "-" + digits(b.r, 4)
	}
	b.phi("geographic", z)
}

func main() {
	seed := flag.Int64("seed", 1, "random seed; the output is a pure function of seed, n and group")
	n := flag.Int("n", 240, "number of notes")
	group := flag.Int("group", 1, "template group: 1, or 2 (group 1 plus the templates written after the detector was frozen)")
	flag.Parse()
	set, ok := groups[*group]
	if !ok {
		fmt.Fprintf(os.Stderr, "gen: unknown template group %d\n", *group)
		os.Exit(2)
	}
	r := rand.New(rand.NewSource(*seed))
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	for i := 0; i < *n; i++ {
		note := generate(r, set)
		note.ID = fmt.Sprintf("s%d-g%d-%04d", *seed, *group, i+1)
		note.Group = *group
		if err := enc.Encode(note); err != nil {
			fmt.Fprintln(os.Stderr, "gen:", err)
			os.Exit(1)
		}
	}
}

// generate draws one note: a header, 3 to 7 body sentences and a sign-off.
func generate(r *rand.Rand, set templateSet) Note {
	b := &builder{r: r, pt: newPerson(r)}
	var used []string
	h := set.headers[r.Intn(len(set.headers))]
	used = append(used, h.id)
	b.render(h.text)
	body := 3 + r.Intn(5)
	sep := pick(r, []string{" ", " ", "\n", "\n\n"})
	for i := 0; i < body; i++ {
		t := set.bodies[r.Intn(len(set.bodies))]
		used = append(used, t.id)
		b.render(t.text)
		b.lit(sep)
	}
	f := set.footers[r.Intn(len(set.footers))]
	used = append(used, f.id)
	b.render(f.text)
	return Note{Template: used, Text: b.sb.String(), Spans: b.spans}
}

// render expands {kind} placeholders and [a|b|c] literal alternatives; literal words may get
// a typo, as dictated and typed notes do.
func (b *builder) render(t string) {
	for len(t) > 0 {
		switch t[0] {
		case '{':
			end := strings.IndexByte(t, '}')
			kind := t[1:end]
			fn, ok := placeholders[kind]
			if !ok {
				panic("gen: unknown placeholder " + kind)
			}
			fn(b)
			t = t[end+1:]
		case '[':
			end := strings.IndexByte(t, ']')
			alts := strings.Split(t[1:end], "|")
			b.literal(alts[b.r.Intn(len(alts))])
			t = t[end+1:]
		default:
			end := strings.IndexAny(t, "{[")
			if end < 0 {
				end = len(t)
			}
			b.literal(t[:end])
			t = t[end:]
		}
	}
}

// literal writes template text, misspelling about one long lower-case word in 25.
func (b *builder) literal(s string) {
	words := strings.SplitAfter(s, " ")
	for _, w := range words {
		core := strings.TrimRight(w, " ,.;:")
		if len(core) >= 6 && strings.ToLower(core) == core && isLetters(core) && b.r.Intn(25) == 0 {
			w = typo(b.r, core) + w[len(core):]
		}
		b.lit(w)
	}
}

func isLetters(s string) bool {
	for _, c := range s {
		if c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

func typo(r *rand.Rand, w string) string {
	i := 1 + r.Intn(len(w)-2)
	switch r.Intn(3) {
	case 0: // swap two letters
		return w[:i] + string(w[i+1]) + string(w[i]) + w[i+2:]
	case 1: // drop one
		return w[:i] + w[i+1:]
	default: // double one
		return w[:i] + string(w[i]) + w[i:]
	}
}
