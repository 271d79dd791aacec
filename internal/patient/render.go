package patient

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"time"
)

// How many of the newest observations a prompt gets.
const (
	renderVitals = 10
	renderLabs   = 20
)

// Render is the record as a model sees it: age, sex and the clinical lists, newest
// observations first. The name, MRN and birth date are left out (minimum necessary: an
// answer needs the age, not the identity).
func Render(r Record, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Age: %d years; sex: %s\n", ageOn(r.BirthDate, now), r.Sex)
	line := func(label string, items []string) {
		if len(items) == 0 {
			fmt.Fprintf(&b, "%s: none recorded\n", label)
			return
		}
		fmt.Fprintf(&b, "%s: %s\n", label, strings.Join(items, "; "))
	}
	line("Problems", r.Problems)
	line("Medications", r.Meds)
	line("Allergies", r.Allergies)
	line("Recent vitals", newest(r.Vitals, renderVitals))
	line("Recent labs", newest(r.Labs, renderLabs))
	return strings.TrimRight(b.String(), "\n")
}

// ageOn is the age in whole years on now's date.
func ageOn(birth, now time.Time) int {
	now = now.UTC()
	age := now.Year() - birth.Year()
	if now.Month() < birth.Month() || (now.Month() == birth.Month() && now.Day() < birth.Day()) {
		age--
	}
	return max(age, 0)
}

// newest renders the n most recent observations, newest first: "BP 140/90 mmHg (2026-12-01)".
func newest(obs []Observation, n int) []string {
	obs = slices.Clone(obs)
	slices.SortStableFunc(obs, func(a, b Observation) int { return cmp.Compare(b.TakenAt.UnixNano(), a.TakenAt.UnixNano()) })
	out := make([]string, 0, min(n, len(obs)))
	for _, o := range obs[:min(n, len(obs))] {
		s := o.Name + " " + o.Value
		if o.Unit != "" {
			s += " " + o.Unit
		}
		out = append(out, s+" ("+o.TakenAt.UTC().Format("2006-01-02")+")")
	}
	return out
}
