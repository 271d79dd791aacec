package patient

import (
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/voiceassist/gateway/internal/apierr"
)

// Limits, the same as the contract's (checked here too for callers that are not HTTP).
const (
	MaxName        = 200
	MaxMRN         = 64
	MaxItem        = 200 // one problem, medication or allergy
	MaxProblems    = 50
	MaxMeds        = 100
	MaxAllergies   = 50
	MaxVitals      = 50
	MaxLabs        = 100
	MaxObsName     = 64
	MaxObsValue    = 64
	MaxObsUnit     = 32
	MaxPurpose     = 200
	MaxGrants      = 100
	DefaultPurpose = "treatment"
)

// earliestBirth bounds birth dates from below; a later one than today is refused too.
var earliestBirth = time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC)

// clockSkew is how far in the future an observation's time may be (clients' clocks differ).
const clockSkew = 10 * time.Minute

// Purpose checks and trims the purpose of a read.
func Purpose(p string) (string, error) {
	p = strings.TrimSpace(p)
	switch n := utf8.RuneCountInString(p); {
	case n == 0:
		return "", apierr.Invalid("purpose", "must not be blank: say why the record is read")
	case n > MaxPurpose:
		return "", apierr.Invalid("purpose", fmt.Sprintf("must be at most %d characters", MaxPurpose))
	}
	return p, nil
}

func text(field, s string, max int) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", apierr.Invalid(field, "must not be blank")
	}
	if utf8.RuneCountInString(s) > max {
		return "", apierr.Invalid(field, fmt.Sprintf("must be at most %d characters", max))
	}
	return s, nil
}

func list(field string, in []string, maxItems int) ([]string, error) {
	if len(in) > maxItems {
		return nil, apierr.Invalid(field, fmt.Sprintf("must have at most %d items", maxItems))
	}
	out := make([]string, len(in))
	for i, s := range in {
		var err error
		if out[i], err = text(fmt.Sprintf("%s[%d]", field, i), s, MaxItem); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func observations(field string, in []Observation, maxItems int, now time.Time) ([]Observation, error) {
	if len(in) > maxItems {
		return nil, apierr.Invalid(field, fmt.Sprintf("must have at most %d items", maxItems))
	}
	out := make([]Observation, len(in))
	for i, o := range in {
		f := fmt.Sprintf("%s[%d]", field, i)
		var err error
		if o.Name, err = text(f+".name", o.Name, MaxObsName); err != nil {
			return nil, err
		}
		if o.Value, err = text(f+".value", o.Value, MaxObsValue); err != nil {
			return nil, err
		}
		if o.Unit = strings.TrimSpace(o.Unit); utf8.RuneCountInString(o.Unit) > MaxObsUnit {
			return nil, apierr.Invalid(f+".unit", fmt.Sprintf("must be at most %d characters", MaxObsUnit))
		}
		if o.TakenAt.IsZero() || o.TakenAt.After(now.Add(clockSkew)) {
			return nil, apierr.Invalid(f+".taken_at", "must be a time in the past")
		}
		o.TakenAt = o.TakenAt.UTC().Truncate(time.Second)
		out[i] = o
	}
	return out, nil
}

func birthDate(d, now time.Time) (time.Time, error) {
	d = time.Date(d.Year(), d.Month(), d.Day(), 0, 0, 0, 0, time.UTC)
	if d.Before(earliestBirth) || d.After(now) {
		return d, apierr.Invalid("birth_date", "must be between 1900-01-01 and today")
	}
	return d, nil
}

// valid checks and normalises a complete record's fields (trimmed text, UTC times).
func (in Input) valid(now time.Time) (Input, error) {
	var err error
	if in.Name, err = text("name", in.Name, MaxName); err != nil {
		return in, err
	}
	if in.BirthDate, err = birthDate(in.BirthDate, now); err != nil {
		return in, err
	}
	if !slices.Contains(Sexes, in.Sex) {
		return in, apierr.Invalid("sex", "must be one of "+strings.Join(Sexes, ", "))
	}
	if in.MRN != nil {
		m, err := text("mrn", *in.MRN, MaxMRN)
		if err != nil {
			return in, err
		}
		in.MRN = &m
	}
	if in.Problems, err = list("problems", in.Problems, MaxProblems); err != nil {
		return in, err
	}
	if in.Meds, err = list("medications", in.Meds, MaxMeds); err != nil {
		return in, err
	}
	if in.Allergies, err = list("allergies", in.Allergies, MaxAllergies); err != nil {
		return in, err
	}
	if in.Vitals, err = observations("vitals", in.Vitals, MaxVitals, now); err != nil {
		return in, err
	}
	if in.Labs, err = observations("labs", in.Labs, MaxLabs, now); err != nil {
		return in, err
	}
	return in, nil
}

// apply merges p into r's fields and returns the names of the fields it sets.
func (p Patch) apply(in *Input) []string {
	var changed []string
	set := func(name string, ok bool, do func()) {
		if ok {
			do()
			changed = append(changed, name)
		}
	}
	set("name", p.Name != nil, func() { in.Name = *p.Name })
	set("birth_date", p.BirthDate != nil, func() { in.BirthDate = *p.BirthDate })
	set("sex", p.Sex != nil, func() { in.Sex = *p.Sex })
	set("mrn", p.MRN != nil, func() {
		if strings.TrimSpace(*p.MRN) == "" {
			in.MRN = nil
		} else {
			in.MRN = p.MRN
		}
	})
	set("problems", p.Problems != nil, func() { in.Problems = *p.Problems })
	set("medications", p.Meds != nil, func() { in.Meds = *p.Meds })
	set("allergies", p.Allergies != nil, func() { in.Allergies = *p.Allergies })
	set("vitals", p.Vitals != nil, func() { in.Vitals = *p.Vitals })
	set("labs", p.Labs != nil, func() { in.Labs = *p.Labs })
	return changed
}
