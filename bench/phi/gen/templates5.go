package main

import (
	"fmt"
	"strings"
)

// Group 5: written after the fourth freeze (commit "phi: detector v4"), for notes-seed5.jsonl,
// the fresh check of the v4 detector. Group 5 is group 1 plus the 28 templates below (52 % new
// relative to group 1); none of groups 2-4. New names and styles: operative notes, paediatric
// and psychiatric notes, insurer letters, suffixes (Jr., III), negatives such as wound photos.
var group5new = templateSet{
	headers: []template{
		{"h5-1", "OPERATIVE NOTE\nSurgeon: {r_full}, MD\nAssistant: {r_initial}, PA-C\nAnesthesia: {r_full}, CRNA\nDate: {r_date}\n\n"},
		{"h5-2", "PEDIATRICS - {r_date}\n{r_kid} is brought in by [mother|father|grandmother] {r_full}. "},
		{"h5-3", "Subscriber: {r_suffix_name}; Group: 00{grp}; ID: {r_planid}\n"},
	},
	bodies: []template{
		{"v01", "Pt's [girlfriend|boyfriend|roommate] {r_first} (cell {r_phone}) will pick [her|him] up."},
		{"v02", "Lives on the 3rd floor, {r_street}, {city}, {r_statename} {zip}."},
		{"v03", "Apartment {r_apt} at {r_street}; elevator broken."},
		{"v04", "Family lives in rural {r_county}."},
		{"v05", "email: {r_email}"},
		{"v06", "Updates are posted on {r_url}."},
		{"v07", "[WIC|Veteran|DoD] ID {r_other} on file."},
		{"v08", "Drives a red Ford F-150 (VIN {vin})."},
		{"v09", "CPAP serial # {r_cpap} downloaded; AHI 3."},
		{"v10", "On {r_day_month} [she|he] fell at home; seen again on the {r_ordinal}."},
		{"v11", "Labs drawn {r_dotted}; last A1c {r_monthyear}."},
		{"v12", "{r_title} celebrated [her|his] {r_birthday} birthday last week."},
		{"v13", "Age {r_age_paren} per family."},
		{"v14", "Wound photo taken for the chart (not identifying); {med}."},
		{"v15", "Voice biometrics enrollment completed as {r_voice}."},
		{"v16", "[Home|Cell|Work]: {r_phone}; alt {r_phone}."},
		{"v17", "Medicaid # {r_medicaid} active through {r_date}."},
		{"v18", "Contact the patient's attorney {r_suffix_name} at {r_phone}."},
		{"v19", "Hgb {lab}; {vitals}; {code}; plan unchanged."},
		{"v20", "Tox screen sent; chain of custody form #{r_coc} signed by {r_initial}."},
		{"v21", "{r_kid}'s teacher, {r_title}, reports trouble focusing."},
		{"v22", "Psych: pt lives with [mother|partner] {r_first} at {r_street}; denies SI."},
	},
	footers: []template{
		{"f5-1", "\nElectronically signed: {r_suffix_name} {r_date} {time}"},
		{"f5-2", "\ncc: {r_title}; {r_full}"},
		{"f5-3", ""},
	},
}

var firstNames5 = []string{"Aisha", "Carla", "Priya", "Lars", "Kasia", "Obafemi", "Mireille", "Nandor", "Ottilie", "Pavel",
	"Rahel", "Stellan", "Tahmina", "Ugo", "Vesna", "Wendell", "Xochitl", "Yannick", "Zofia", "Emrys"}
var lastNames5 = []string{"Rahimi", "Petrosyan", "Natarajan", "Obuya", "Henning", "Albrecht", "Baptiste", "Cardenas", "Dunleavy", "Esposito",
	"Fagerlund", "Grabowski", "Hanrahan", "Isaksen", "Jaworski", "Kiplagat", "Lemaire", "Mendelsohn", "Nakagawa", "Oyelowo"}

func init() {
	nm := func(b *builder) (string, string) { return pick(b.r, firstNames5), pick(b.r, lastNames5) }
	more := map[string]func(b *builder){
		"r_full":    func(b *builder) { f, l := nm(b); b.phi("name", f+" "+l) },
		"r_first":   func(b *builder) { b.phi("name", pick(b.r, firstNames5)) },
		"r_kid":     func(b *builder) { b.phi("name", pick(b.r, firstNames5)) },
		"r_initial": func(b *builder) { f, l := nm(b); b.phi("name", f[:1]+". "+l) },
		"r_title": func(b *builder) {
			b.lit(pick(b.r, []string{"Mrs. ", "Mr. ", "Ms. "}))
			b.phi("name", pick(b.r, lastNames5))
		},
		"r_suffix_name": func(b *builder) {
			f, l := nm(b)
			b.phi("name", f+" "+l+pick(b.r, []string{" Jr.", " III", " Sr.", ""}))
		},
		"r_date": func(b *builder) { b.phi("date", date(b.r, 2020, 2026)) },
		"r_day_month": func(b *builder) {
			b.phi("date", fmt.Sprintf("%d %s", 1+b.r.Intn(28), pick(b.r, monthsLong)))
		},
		"r_ordinal": func(b *builder) { b.phi("date", ordinal(1+b.r.Intn(28))) },
		"r_dotted": func(b *builder) {
			b.phi("date", fmt.Sprintf("%02d.%02d.%d", 1+b.r.Intn(28), 1+b.r.Intn(12), 2019+b.r.Intn(8)))
		},
		"r_monthyear": func(b *builder) { b.phi("date", fmt.Sprintf("%02d/%d", 1+b.r.Intn(12), 2019+b.r.Intn(8))) },
		"r_birthday": func(b *builder) {
			b.phi("age_over_89", pick(b.r, []string{"90th", "91st", "93rd", "95th", "99th", "100th", "102nd"}))
		},
		"r_age_paren": func(b *builder) { b.phi("age_over_89", fmt.Sprint(90+b.r.Intn(12))) },
		"grp":         func(b *builder) { b.lit(digits(b.r, 3)) },
		"r_planid":    func(b *builder) { b.phi("health_plan", letters(b.r, 3)+digits(b.r, 6)) },
		"r_medicaid":  func(b *builder) { b.phi("health_plan", digits(b.r, 8)+letters(b.r, 1)) },
		"r_phone": func(b *builder) {
			a, p, l := fmt.Sprintf("%d%s", 2+b.r.Intn(8), digits(b.r, 2)), fmt.Sprintf("%d%s", 2+b.r.Intn(8), digits(b.r, 2)), digits(b.r, 4)
			switch b.r.Intn(3) {
			case 0:
				b.phi("phone", fmt.Sprintf("%s %s %s", a, p, l))
			case 1:
				b.phi("phone", fmt.Sprintf("+1-%s-%s-%s", a, p, l))
			default:
				b.phi("phone", fmt.Sprintf("%s.%s.%s", a, p, l))
			}
		},
		"r_street": func(b *builder) {
			b.phi("geographic", fmt.Sprintf("%d %s %s", 2+b.r.Intn(400), pick(b.r, []string{"Bedford", "W 96th", "Grand Concourse", "Linden", "Bay Ridge"}), pick(b.r, []string{"Ave", "St", "Pkwy", "Blvd"})))
		},
		"r_statename": func(b *builder) { b.lit(pick(b.r, stateNames)) },
		"r_apt":       func(b *builder) { b.phi("geographic", fmt.Sprintf("%d%c", 1+b.r.Intn(20), 'A'+rune(b.r.Intn(6)))) },
		"r_county": func(b *builder) {
			b.phi("geographic", pick(b.r, []string{"Kanawha", "Oconee", "Tippecanoe", "Yakima"})+" County")
		},
		"r_email": func(b *builder) {
			f, l := nm(b)
			b.phi("email", strings.ToLower(f[:1]+"_"+l)+digits(b.r, 2)+"@"+pick(b.r, domains))
		},
		"r_url": func(b *builder) {
			f, l := nm(b)
			b.phi("url", "www.caringbridge.org/visit/"+strings.ToLower(f+l))
		},
		"r_other": func(b *builder) { b.phi("other_id", digits(b.r, 10)) },
		"r_cpap":  func(b *builder) { b.phi("device", letters(b.r, 1)+digits(b.r, 7)) },
		"r_voice": func(b *builder) { b.phi("biometric", "voiceprint VP-"+digits(b.r, 5)) },
		"r_coc":   func(b *builder) { b.phi("other_id", digits(b.r, 7)) },
	}
	for k, f := range more {
		if _, dup := placeholders[k]; dup {
			panic("gen: placeholder defined twice: " + k)
		}
		placeholders[k] = f
	}
	groups[5] = templateSet{
		headers: append(append([]template{}, group1.headers...), group5new.headers...),
		bodies:  append(append([]template{}, group1.bodies...), group5new.bodies...),
		footers: append(append([]template{}, group1.footers...), group5new.footers...),
	}
}
