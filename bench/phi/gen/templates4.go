package main

import (
	"fmt"
	"strings"
)

// Group 4: written after the third freeze (commit "phi: detector v3, frozen"), for
// notes-seed4.jsonl, the fresh check of the v3 detector. Group 4 is group 1 plus the 30
// templates below (56 % new relative to group 1); none of groups 2 and 3. New names and
// styles: free narrative with few labels, SOAP shorthand, tables, HL7-like segments, e-mail
// signatures, spoken digits in dictation, "92F" ages.
var group4new = templateSet{
	headers: []template{
		{"h4-1", "Name | DOB | MRN\n{q_lastfirst} | {q_iso} | {q_mrn}\n\n"},
		{"h4-2", "PID|1||{q_mrn}^^^MRN||{q_hl7name}||{q_hl7dob}|[M|F]\n"},
		{"h4-3", "S: {q_age}, here with {q_kin}. "},
		{"h4-4", "Consult requested by {q_dr} re: {q_title} (rm {room}), ext. {ext4}.\n"},
	},
	bodies: []template{
		{"u01", "{q_title} came in with {q_kin}, who drove [her|him] from their home on {q_street} in {city}."},
		{"u02", "patient states phone number is {q_spoken_phone}"},
		{"u03", "O: {vitals}. A/P: {code}, continue {med}."},
		{"u04", "Called {q_first} on {q_date} at {q_phone}; no answer."},
		{"u05", "Pump ID: {q_pump}; IMEI {q_imei} registered for remote alerts."},
		{"u06", "Viewer link {q_url} shared with radiology."},
		{"u07", "NPI {q_npi} and DEA# {q_dea} on the prescription."},
		{"u08", "[Ohio|Texas|Iowa] plates {q_plate} noted on the incident report."},
		{"u09", "[She|He] was enrolled for {q_bio} at the pharmacy kiosk."},
		{"u10", "{q_photo} attached to the chart for identification."},
		{"u11", "Assessment: {q_age_short} with {eponym}, [stable|improving]."},
		{"u12", "Lives at {q_rr}; mail goes to the general store."},
		{"u13", "Last seen {q_date}; prior visit {q_date} with {q_dr}."},
		{"u14", "Rosters list the patient's son, {q_full}, as health care proxy."},
		{"u15", "Group #00412 is the employer plan; subscriber number {q_sub}."},
		{"u16", "Billing: account {q_acct}, statement mailed {q_date}."},
		{"u17", "Passport {q_passport} was copied for the travel clinic."},
		{"u18", "SSN xxx-xx-{q_ssn4} on the consent (partially masked)."},
		{"u19", "Email from the patient ({q_email}) forwarded to the care team."},
		{"u20", "Transferred from {facility} in {q_county} by ambulance."},
		{"u21", "{q_full}, the patient's neighbor, found [her|him] on the floor."},
		{"u22", "Weight 68 kg, height 165 cm; BMI 25; LMP 2 weeks ago; G2P2."},
		{"u23", "Remote session from {q_ip} (VPN) was logged."},
	},
	footers: []template{
		{"f4-1", "\n{q_full}, RN | Cardiology | {q_email} | {q_phone}"},
		{"f4-2", "\nDictated but not read. {q_dr} {q_date}"},
		{"f4-3", "\nFax results to {q_fax} attn: {q_full}"},
	},
}

var firstNames4 = []string{"Tunde", "Piotr", "Rosa", "Anneliese", "Chukwuemeka", "Galina", "Hemi", "Ileana", "Jarrah", "Kwabena",
	"Liesel", "Matthias", "Nilufar", "Osvaldo", "Paraskevi", "Quilla", "Rustam", "Sigrun", "Tevita", "Wilhelmina"}
var lastNames4 = []string{"Adebowale", "Kowal", "Quintanilla", "Fontaine", "Amadi", "Bergstrom", "Ceausescu", "Drozdov", "Eriksen", "Fairweather",
	"Gogoladze", "Hollingsworth", "Ijeoma", "Jablonski", "Kerrigan", "Lautoka", "Mazur", "Nandakumar", "Ozturk", "Pettigrew"}

var digitWords = []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}

func init() {
	nm := func(b *builder) (string, string) { return pick(b.r, firstNames4), pick(b.r, lastNames4) }
	date4 := func(b *builder) string {
		y, m, d := 2019+b.r.Intn(8), 1+b.r.Intn(12), 1+b.r.Intn(28)
		switch b.r.Intn(4) {
		case 0:
			return fmt.Sprintf("%s %s, %d", monthsShort[m-1], ordinal(d), y)
		case 1:
			return fmt.Sprintf("%s %s", ordinal(d), pick(b.r, []string{"Sept", "Jan", "March", "Oct"}))
		case 2:
			return fmt.Sprintf("%d/%d", m, d)
		default:
			return fmt.Sprintf("%d-%s", d, monthsShort[m-1])
		}
	}
	more := map[string]func(b *builder){
		"q_lastfirst": func(b *builder) { f, l := nm(b); b.phi("name", l+", "+f) },
		"q_full":      func(b *builder) { f, l := nm(b); b.phi("name", f+" "+l) },
		"q_first":     func(b *builder) { b.phi("name", pick(b.r, firstNames4)) },
		"q_hl7name":   func(b *builder) { f, l := nm(b); b.phi("name", strings.ToUpper(l)+"^"+strings.ToUpper(f)) },
		"q_title": func(b *builder) {
			b.lit(pick(b.r, []string{"Mrs ", "Mr ", "Ms "}))
			b.phi("name", pick(b.r, lastNames4))
		},
		"q_kin": func(b *builder) {
			b.lit(pick(b.r, []string{"her son ", "his daughter ", "her husband ", "his wife "}))
			b.phi("name", pick(b.r, firstNames4))
		},
		"q_dr": func(b *builder) {
			if b.r.Intn(2) == 0 {
				b.lit("Dr ")
				b.phi("name", pick(b.r, lastNames4))
			} else {
				f, l := nm(b)
				b.lit("Dr. ")
				b.phi("name", f[:1]+". "+l)
			}
		},
		"q_iso": func(b *builder) {
			b.phi("date", fmt.Sprintf("%d-%02d-%02d", 1930+b.r.Intn(80), 1+b.r.Intn(12), 1+b.r.Intn(28)))
		},
		"q_hl7dob": func(b *builder) {
			b.phi("date", fmt.Sprintf("%d%02d%02d", 1930+b.r.Intn(80), 1+b.r.Intn(12), 1+b.r.Intn(28)))
		},
		"q_date": func(b *builder) { b.phi("date", date4(b)) },
		"q_mrn":  func(b *builder) { b.phi("mrn", digits(b.r, 8)) },
		"q_age": func(b *builder) {
			b.phi("age_over_89", fmt.Sprintf("%d%s", 90+b.r.Intn(12), pick(b.r, []string{"F", "M", " yo F", " yo M"})))
		},
		"q_age_short": func(b *builder) {
			b.phi("age_over_89", fmt.Sprintf("%d%s", 90+b.r.Intn(12), pick(b.r, []string{"F", "M"})))
		},
		"room": func(b *builder) { b.lit(fmt.Sprintf("%d%c", 1+b.r.Intn(9), 'A'+rune(b.r.Intn(4)))) },
		"ext4": func(b *builder) { b.lit(digits(b.r, 4)) },
		"q_street": func(b *builder) {
			b.phi("geographic", fmt.Sprintf("%s %s", pick(b.r, []string{"Lakeshore", "Bramble", "Fox Hollow", "Kingfisher"}), pick(b.r, []string{"Terrace", "Circle", "Lane", "Court"})))
		},
		"q_rr": func(b *builder) { b.phi("geographic", fmt.Sprintf("RR %d Box %d", 1+b.r.Intn(9), 1+b.r.Intn(99))) },
		"q_county": func(b *builder) {
			b.phi("geographic", pick(b.r, []string{"Polk", "Greene", "Clay", "Marion"})+" County")
		},
		"q_spoken_phone": func(b *builder) {
			var w []string
			for i := 0; i < 10; i++ {
				d := b.r.Intn(10)
				if i == 0 || i == 3 {
					d = 2 + b.r.Intn(8)
				}
				w = append(w, digitWords[d])
			}
			b.phi("phone", strings.Join(w, " "))
		},
		"q_phone": func(b *builder) {
			p := fmt.Sprintf("%d%s-%d%s-%s", 2+b.r.Intn(8), digits(b.r, 2), 2+b.r.Intn(8), digits(b.r, 2), digits(b.r, 4))
			b.phi("phone", p)
			if b.r.Intn(2) == 0 {
				b.lit(" (c)")
			}
		},
		"q_fax": func(b *builder) {
			b.phi("fax", fmt.Sprintf("%d%s %d%s %s", 2+b.r.Intn(8), digits(b.r, 2), 2+b.r.Intn(8), digits(b.r, 2), digits(b.r, 4)))
		},
		"q_pump": func(b *builder) { b.phi("device", "MED-"+digits(b.r, 4)+"-"+letters(b.r, 2)) },
		"q_imei": func(b *builder) { b.phi("device", "35"+digits(b.r, 13)) },
		"q_url": func(b *builder) {
			b.phi("url", fmt.Sprintf("http://%s/pacs/viewer?study=1.2.840.%s", ipv4(b.r), digits(b.r, 6)))
		},
		"q_npi":   func(b *builder) { b.phi("license", "1"+digits(b.r, 9)) },
		"q_dea":   func(b *builder) { b.phi("license", letters(b.r, 2)+digits(b.r, 7)) },
		"q_plate": func(b *builder) { b.phi("vehicle", letters(b.r, 3)+"-"+digits(b.r, 4)) },
		"q_bio": func(b *builder) {
			b.phi("biometric", pick(b.r, []string{"voiceprint enrollment", "fingerprint login", "facial ID"}))
		},
		"q_photo":    func(b *builder) { b.phi("photo", fmt.Sprintf("Photo of face (face_%s.heic)", digits(b.r, 4))) },
		"q_sub":      func(b *builder) { b.phi("health_plan", letters(b.r, 2)+digits(b.r, 7)) },
		"q_acct":     func(b *builder) { b.phi("account", digits(b.r, 9)) },
		"q_passport": func(b *builder) { b.phi("other_id", letters(b.r, 1)+digits(b.r, 8)) },
		"q_ssn4":     func(b *builder) { b.phi("ssn", digits(b.r, 4)) },
		"q_email": func(b *builder) {
			f, l := nm(b)
			b.phi("email", strings.ToLower(f+"."+l[:1])+"@"+pick(b.r, orgDomains))
		},
		"q_ip": func(b *builder) { b.phi("ip", ipv4(b.r)) },
	}
	for k, f := range more {
		if _, dup := placeholders[k]; dup {
			panic("gen: placeholder defined twice: " + k)
		}
		placeholders[k] = f
	}
	groups[4] = templateSet{
		headers: append(append([]template{}, group1.headers...), group4new.headers...),
		bodies:  append(append([]template{}, group1.bodies...), group4new.bodies...),
		footers: append(append([]template{}, group1.footers...), group4new.footers...),
	}
}
