package main

import (
	"fmt"
	"strings"
)

// Group 2: written after the detector was frozen (commit "phi: detector frozen"), for the
// headline set notes-seed2.jsonl. Group 2 is group 1 plus the templates below (40 new against
// 54 old: 74 % new relative to group 1, 43 % of the union), and new placeholder kinds with
// formats group 1 never produced (initials, lower-case dictated names, spoken dates,
// extensions, last four of an SSN, social media URLs, ...). Group 1 is left as it was, so
// seed 1 still reproduces its file.
var group2new = templateSet{
	headers: []template{
		{"h2-1", "Patient: {pt_lastfirst} | DOB: {dob2} | Acct: {acct2}\n"},
		{"h2-2", "RE: {pt}  MRN {mrn2}\n\n"},
		{"h2-3", "ED TRIAGE NOTE {date2} {time}\nArrived by private vehicle with {rel2}.\n"},
		{"h2-4", "***CONFIDENTIAL*** {pt} / {dob2} / {phone2}\n"},
		{"h2-5", "Visit: {date2}\nProvider: {dr}\nPatient: {pt_lower}\n"},
		{"h2-6", "Subjective: {pt_first} is a {age} [man|woman] here for [a recheck|med refills|results]. "},
	},
	bodies: []template{
		{"n01", "Called pt's cell {phone2}, no answer; left message with {rel2}."},
		{"n02", "Per {dr}, {pt_title} may return to work on {date2}."},
		{"n03", "Home address on file: {addr2}."},
		{"n04", "Brought in by EMS from {street}, [near|off] {city}."},
		{"n05", "{pt_first}'s {rel2} asked that results be e-mailed to {email}."},
		{"n06", "Hearing aid [serial|SN|s/n] {device2} was cleaned and returned."},
		{"n07", "Chart accessed remotely from {ip2} per the IT audit log."},
		{"n08", "Insurance card: [Humana|Cigna|Kaiser|Tricare|Ambetter] ID {plan2}."},
		{"n09", "Last four of SSN {ssn4} confirmed by phone."},
		{"n10", "Old system chart no. {mrn2} linked."},
		{"n11", "Rx number {rxnum} filled at the pharmacy on {date2}."},
		{"n12", "Drives a [2016 Toyota|2011 Ford pickup|2019 Subaru]; tag {plate}, parking pass requested."},
		{"n13", "Uploaded {photo2} to the identity verification system."},
		{"n14", "{bio2} collected for the research biobank."},
		{"n15", "Patient {pt} is [hard of hearing|visually impaired] and used interpreter {staff2}."},
		{"n16", "{pt_title} requested that records be mailed to {addr2} by {date2}."},
		{"n17", "patient {pt_lower} date of birth {date_spoken} seen for follow up[ period|.]"},
		{"n18", "Social history: lives with partner {first2} in a [condo|house|trailer] in {city}; works at [the post office|a warehouse|the school district]."},
		{"n19", "Emergency contact: {first2} {last2} ([spouse|mother|son|friend]) {phone2}."},
		{"n20", "PCP is {dr} at {facility}, office fax {fax2}."},
		{"n21", "{pt_title} reports [her|his] {age2} [father|mother|aunt] recently passed away."},
		{"n22", "Please call me back at {phone2} ext. {ext}."},
		{"n23", "Next of kin: {first2} {last2}, {addr2}."},
		{"n24", "Medical license {lic2} verified for {dr}."},
		{"n25", "Identity confirmed with two identifiers (name and DOB {dob2})."},
		{"n26", "She shares her recovery on {url2}."},
		{"n27", "Claim {claim} submitted {date2}, guarantor account {acct2}."},
		{"n28", "Seen at {facility} in {city}, {state} on {date2}."},
		{"n29", "{eponym} workup negative; {med}; {code}; recheck {lab}."},
		{"n30", "{pt_first} says [she|he] moved here from {city} after [a divorce|retiring|the flood]."},
	},
	footers: []template{
		{"f2-1", "\nCC: {dr}; {staff2}"},
		{"f2-2", "\nSigned: {staff2} {date2} {time}"},
		{"f2-3", "\nThis note was dictated with voice recognition software; errors may occur."},
		{"f2-4", "\nQuestions? {email} or {phone2}."},
	},
}

// More names, so that group 2 is not only the names of group 1.
var firstNames2 = []string{"Oyelaran", "Marisol", "Teodoro", "Svetlana", "Kofi", "Ngozi", "Thuy", "Rashida", "Ilse", "Bartholomew",
	"Evangelina", "Dashiell", "Folake", "Imogen", "Lorcan", "Maelle", "Nnamdi", "Perpetua", "Radek", "Sione"}
var lastNames2 = []string{"Oduya", "Villanueva", "Kowalski", "Brzezinski", "Achterberg", "Fitzwilliam", "Grünewald", "Houghton", "Iheanacho", "Jovanovic",
	"Kealoha", "Lacroix", "Mbatha", "Nyberg", "Ostrowski", "Pellegrino", "Quiroga", "Rautenbach", "Saelee", "Tuilagi"}

var spokenDays = []string{"first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth",
	"eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth", "eighteenth", "nineteenth", "twentieth"}

func init() {
	more := map[string]func(b *builder){
		"pt_lastfirst": func(b *builder) {
			if b.r.Intn(2) == 0 {
				b.phi("name", strings.ToUpper(b.pt.last)+" "+b.pt.first)
			} else {
				b.phi("name", b.pt.last+", "+string(b.pt.first[0])+".")
			}
		},
		"pt_lower": func(b *builder) { b.phi("name", strings.ToLower(b.pt.first+" "+b.pt.last)) },
		"first2":   func(b *builder) { b.phi("name", pick(b.r, firstNames2)) },
		"last2":    func(b *builder) { b.phi("name", pick(b.r, lastNames2)) },
		"rel2": func(b *builder) {
			b.lit(pick(b.r, []string{"her partner", "his partner", "the patient's mother", "a neighbor,", "stepdaughter", "godson"}) + " ")
			b.phi("name", pick(b.r, firstNames2)+" "+pick(b.r, lastNames2))
		},
		"staff2": func(b *builder) {
			f, l := pick(b.r, firstNames2), pick(b.r, lastNames2)
			switch b.r.Intn(3) {
			case 0:
				b.phi("name", strings.ToUpper(f[:1])+strings.ToUpper(l[:1])+" "+l)
			case 1:
				b.phi("name", f+" "+l)
				b.lit(" (" + pick(b.r, []string{"RN", "interpreter", "scribe", "MA"}) + ")")
			default:
				b.lit(pick(b.r, []string{"RN ", "Nurse ", "MA "}))
				b.phi("name", f+" "+l)
			}
		},
		"date2": func(b *builder) {
			y, m, d := 2019+b.r.Intn(8), 1+b.r.Intn(12), 1+b.r.Intn(28)
			days := []string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday"}
			switch b.r.Intn(6) {
			case 0:
				b.phi("date", fmt.Sprintf("%s, %s %d", pick(b.r, days), monthsLong[m-1], d))
			case 1:
				b.phi("date", fmt.Sprintf("%s of %s, %d", ordinal(d), monthsLong[m-1], y))
			case 2:
				b.phi("date", fmt.Sprintf("%02d-%02d-%d", m, d, y))
			case 3:
				b.phi("date", fmt.Sprintf("%s-%02d-%d", monthsShort[m-1], d, y))
			case 4:
				b.phi("date", fmt.Sprintf("%d/%d", m, y))
			default:
				b.phi("date", fmt.Sprintf("%s %d", strings.ToUpper(monthsShort[m-1]), d))
			}
		},
		"dob2": func(b *builder) {
			y, m, d := 1925+b.r.Intn(85), 1+b.r.Intn(12), 1+b.r.Intn(28)
			if b.r.Intn(2) == 0 {
				b.phi("date", fmt.Sprintf("%02d/%02d/%02d", m, d, y%100))
			} else {
				b.phi("date", fmt.Sprintf("%d-%s-%d", d, monthsShort[m-1], y))
			}
		},
		"date_spoken": func(b *builder) {
			m := pick(b.r, monthsLong)
			b.phi("date", strings.ToLower(m)+" "+pick(b.r, spokenDays)+" "+pick(b.r, []string{"nineteen fifty", "nineteen sixty two", "nineteen forty eight", "two thousand one"}))
		},
		"time": func(b *builder) { b.lit(fmt.Sprintf("%02d:%02d", 6+b.r.Intn(15), b.r.Intn(60))) },
		"phone2": func(b *builder) {
			a, p, l := fmt.Sprintf("%d%s", 2+b.r.Intn(8), digits(b.r, 2)), fmt.Sprintf("%d%s", 2+b.r.Intn(8), digits(b.r, 2)), digits(b.r, 4)
			switch b.r.Intn(4) {
			case 0:
				b.phi("phone", fmt.Sprintf("%s %s %s", a, p, l))
			case 1:
				b.phi("phone", fmt.Sprintf("(%s)-%s-%s", a, p, l))
			case 2:
				b.phi("phone", fmt.Sprintf("+1 (%s) %s-%s", a, p, l))
			default:
				b.phi("phone", fmt.Sprintf("%s/%s-%s", a, p, l))
			}
		},
		"fax2": func(b *builder) {
			b.phi("fax", fmt.Sprintf("%d%s.%d%s.%s", 2+b.r.Intn(8), digits(b.r, 2), 2+b.r.Intn(8), digits(b.r, 2), digits(b.r, 4)))
		},
		"ext": func(b *builder) { b.lit(digits(b.r, 3)) },
		"addr2": func(b *builder) {
			if b.r.Intn(2) == 0 {
				b.lit("PO Box ")
				b.phi("geographic", digits(b.r, 3))
				b.lit(", ")
				city(b)
				b.lit(" " + pick(b.r, states) + " ")
				zip(b)
				return
			}
			b.lit("Unit ")
			b.phi("geographic", fmt.Sprint(1+b.r.Intn(40)))
			b.lit(", ")
			b.phi("geographic", fmt.Sprintf("%d %s %s", 10+b.r.Intn(990), pick(b.r, []string{"Rose Hill", "Old Mill", "Quarry", "Bayview", "Cottonwood"}), pick(b.r, []string{"Rd", "Pike", "Trail", "Loop", "Crossing"})))
			b.lit(", ")
			city(b)
		},
		"ssn4":  func(b *builder) { b.phi("ssn", digits(b.r, 4)) },
		"mrn2":  func(b *builder) { b.phi("mrn", digits(b.r, 2)+"-"+digits(b.r, 3)+"-"+digits(b.r, 3)) },
		"plan2": func(b *builder) { b.phi("health_plan", letters(b.r, 1)+digits(b.r, 8)+"-0"+digits(b.r, 1)) },
		"acct2": func(b *builder) { b.phi("account", "00"+digits(b.r, 8)) },
		"lic2": func(b *builder) {
			b.phi("license", pick(b.r, []string{"MD", "DO", "RN"})+"-"+digits(b.r, 5))
		},
		"rxnum": func(b *builder) { b.phi("other_id", digits(b.r, 7)+"-"+digits(b.r, 2)) },
		"claim": func(b *builder) { b.phi("other_id", "CLM"+digits(b.r, 9)) },
		"device2": func(b *builder) {
			b.phi("device", pick(b.r, []string{"HA", "CGM", "TX"})+"-"+digits(b.r, 4)+"-"+alnum(b.r, 4))
		},
		"ip2": func(b *builder) { b.phi("ip", ipv4(b.r)+":"+fmt.Sprint(1024+b.r.Intn(60000))) },
		"url2": func(b *builder) {
			handle := strings.ToLower(b.pt.first) + "." + strings.ToLower(strings.ReplaceAll(b.pt.last, "'", "")) + digits(b.r, 2)
			b.phi("url", pick(b.r, []string{"facebook.com/", "instagram.com/", "https://www.tiktok.com/@"})+handle)
		},
		"photo2": func(b *builder) {
			b.phi("photo", pick(b.r, []string{"a selfie", "a headshot", "a photograph of the patient's face", "a facial image"}))
		},
		"bio2": func(b *builder) {
			b.phi("biometric", pick(b.r, []string{"Fingerprints", "A voice sample", "A retina image", "A DNA sample", "Palm prints"}))
		},
		"age2": func(b *builder) {
			a := 90 + b.r.Intn(14)
			switch b.r.Intn(3) {
			case 0:
				b.phi("age_over_89", fmt.Sprintf("%d-yr-old", a))
			case 1:
				b.phi("age_over_89", fmt.Sprintf("%d year old", a))
			default:
				b.phi("age_over_89", pick(b.r, []string{"ninety-one-year-old", "ninety-four year old", "ninety-eight-year-old"}))
			}
		},
	}
	for k, f := range more {
		if _, dup := placeholders[k]; dup {
			panic("gen: placeholder defined twice: " + k)
		}
		placeholders[k] = f
	}
	groups[2] = templateSet{
		headers: append(append([]template{}, group1.headers...), group2new.headers...),
		bodies:  append(append([]template{}, group1.bodies...), group2new.bodies...),
		footers: append(append([]template{}, group1.footers...), group2new.footers...),
	}
}
