// Package phi finds the 18 HIPAA Safe Harbor identifiers in free text and redacts them.
// There is no model: structured identifiers are regular expressions, most of them anchored
// on a label ("MRN", "member ID", "fax"); names and places come from context rules (titles,
// credentials, "seen by", relatives, "lives in", "City, ST ZIP") helped by an openly licensed
// name list (data/NOTICE). Offsets are Unicode code points, end exclusive.
package phi

import (
	"sort"
	"strings"
	"unicode/utf8"
)

// The identifier types, as the API names them.
const (
	Name       = "name"
	Geographic = "geographic"
	Date       = "date"
	Phone      = "phone"
	Fax        = "fax"
	Email      = "email"
	SSN        = "ssn"
	MRN        = "mrn"
	HealthPlan = "health_plan"
	Account    = "account"
	License    = "license"
	Vehicle    = "vehicle"
	Device     = "device"
	URL        = "url"
	IP         = "ip"
	Biometric  = "biometric"
	Photo      = "photo"
	AgeOver89  = "age_over_89"
	OtherID    = "other_id"
)

// Types lists every type Detect can return, in a stable order.
var Types = []string{Name, Geographic, Date, Phone, Fax, Email, SSN, MRN, HealthPlan, Account,
	License, Vehicle, Device, URL, IP, Biometric, Photo, AgeOver89, OtherID}

// KnownType reports whether t is one of Types.
func KnownType(t string) bool {
	for _, k := range Types {
		if k == t {
			return true
		}
	}
	return false
}

// Finding is one detected identifier.
type Finding struct {
	Type       string
	Start, End int // code points, end exclusive
	Confidence float64
}

// candidate is a finding in byte offsets, before overlaps are resolved.
type candidate struct {
	typ        string
	start, end int
	conf       float64
	prio       int
}

// Detect returns the identifiers found in text, ordered by position, without overlaps.
func Detect(text string) []Finding {
	if text == "" {
		return nil
	}
	var cs []candidate
	for _, r := range rules {
		cs = r(text, cs)
	}
	cs = resolve(cs)
	cs = propagateNames(text, cs)
	return toFindings(text, cs)
}

// resolve keeps, of overlapping candidates, the one with the higher priority, then the
// longer one, then the earlier one.
func resolve(cs []candidate) []candidate {
	sort.SliceStable(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		if a.prio != b.prio {
			return a.prio > b.prio
		}
		if la, lb := a.end-a.start, b.end-b.start; la != lb {
			return la > lb
		}
		return a.start < b.start
	})
	var kept []candidate
	for _, c := range cs {
		if c.end <= c.start {
			continue
		}
		overlaps := false
		for _, k := range kept {
			if c.start < k.end && k.start < c.end {
				overlaps = true
				break
			}
		}
		if !overlaps {
			kept = append(kept, c)
		}
	}
	sort.Slice(kept, func(i, j int) bool { return kept[i].start < kept[j].start })
	return kept
}

func toFindings(text string, cs []candidate) []Finding {
	if len(cs) == 0 {
		return nil
	}
	// One pass maps byte offsets to code-point offsets.
	idx := make([]int, len(text)+1)
	n := 0
	for i := range text {
		idx[i] = n
		n++
	}
	idx[len(text)] = n
	for i := len(text) - 1; i >= 0; i-- { // continuation bytes take the next rune's index
		if !utf8.RuneStart(text[i]) {
			idx[i] = idx[i+1]
		}
	}
	out := make([]Finding, 0, len(cs))
	for _, c := range cs {
		out = append(out, Finding{Type: c.typ, Start: idx[c.start], End: idx[c.end], Confidence: c.conf})
	}
	return out
}

// Redact replaces each finding's span with [TYPE] (upper case). Findings may come in any
// order; one overlapping an earlier kept one is skipped.
func Redact(text string, findings []Finding) string {
	if len(findings) == 0 {
		return text
	}
	fs := append([]Finding(nil), findings...)
	sort.Slice(fs, func(i, j int) bool { return fs[i].Start < fs[j].Start })
	runes := []rune(text)
	var b strings.Builder
	b.Grow(len(text))
	pos := 0
	for _, f := range fs {
		if f.Start < pos || f.End > len(runes) || f.Start >= f.End {
			continue
		}
		b.WriteString(string(runes[pos:f.Start]))
		b.WriteString("[" + strings.ToUpper(f.Type) + "]")
		pos = f.End
	}
	b.WriteString(string(runes[pos:]))
	return b.String()
}

// Filter keeps the findings whose type is in types; an empty types keeps all.
func Filter(findings []Finding, types []string) []Finding {
	if len(types) == 0 {
		return findings
	}
	out := findings[:0:0]
	for _, f := range findings {
		for _, t := range types {
			if f.Type == t {
				out = append(out, f)
				break
			}
		}
	}
	return out
}

// Counts tallies findings per type.
func Counts(findings []Finding) map[string]int {
	m := map[string]int{}
	for _, f := range findings {
		m[f.Type]++
	}
	return m
}
