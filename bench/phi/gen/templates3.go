package main

import (
	"fmt"
	"strings"
)

// Group 3: written after the second freeze (commit "phi: detector v2, frozen again"), for
// notes-seed3.jsonl, the fresh check of the v2 detector. Group 3 is group 1 plus the 32
// templates below (59 % new relative to group 1); none of group 2's templates, which the v2
// detector was changed after seeing. New names, new formats and new note styles (nursing
// shift notes, radiology and lab headers, pharmacy lines, run sheets, portal e-mails).
var group3new = templateSet{
	headers: []template{
		{"h3-1", "EXAM: CT chest w/o contrast   ACCESSION: {accession}\nPATIENT: {p3_lastfirst}   ORDERING: {doc3}\n\n"},
		{"h3-2", "From: {email}\nTo: {p3_full}\nSubject: your results from {date3}\n\n"},
		{"h3-3", "SHIFT NOTE {date3}\n0700: pt resting, VSS. "},
		{"h3-4", "To whom it may concern,\n{p3_title} has been under my care since {date3}. "},
		{"h3-5", "RUN SHEET  Unit {unitno}  Dispatched {time} to {street3}\n"},
	},
	bodies: []template{
		{"t01", "{relation3} ({p3_other}) at bedside, cell {phone3}."},
		{"t02", "Pharmacy: [Walgreens|CVS|Rite Aid] #{storeno}, {street3}, {city} {state} {zip3}, ph {phone3}."},
		{"t03", "Lives with [grandson|granddaughter|a roommate] {first3} in a trailer park off Route {route} in {city}."},
		{"t04", "Pt found by neighbor {p3_title_other} at {time}; EMS notified."},
		{"t05", "Medicare Beneficiary Identifier {mbi}; secondary [Blue Shield|Tricare|AARP] subscriber {sub3}."},
		{"t06", "[Port-a-cath|Cochlear implant|Spinal cord stimulator] lot/serial {serial3} documented in the implant log."},
		{"t07", "[Inmate|Student] ID {otherid3} per the [facility|school] nurse."},
		{"t08", "She turned {age3} last [week|month] and still gardens daily."},
		{"t09", "DOS {date3num}; charges posted to acct {acct3}."},
		{"t10", "Interpreter ([Portuguese|Tagalog|Somali|Haitian Creole]) {p3_other} present for the whole visit."},
		{"t11", "Discharge instructions reviewed; call the nurse line at {phone3} with questions."},
		{"t12", "Records uploaded to {url3} for the second opinion."},
		{"t13", "Remote monitoring gateway at {ip3} reported no alarms overnight."},
		{"t14", "Pt emailed {email_caps} asking about refills."},
		{"t15", "Problem list: HTN; DM2 (dx {year}); {eponym}. {med}."},
		{"t16", "{doc3} reviewed the imaging with {p3_title} and {relation3} {first3}."},
		{"t17", "Consent signed by {p3_full} and witnessed by {p3_other}."},
		{"t18", "[Hospice|Home health] intake: patient is {age3_phrase}, lives alone in {city}, {zip_label}."},
		{"t19", "Identity verified by {bio3} before the controlled substance was released."},
		{"t20", "Badge photo ({photo3}) retaken at registration."},
		{"t21", "Pt's {vehicle3} was towed from the lot; plate {plate}."},
		{"t22", "Pager for {doc3}: {phone3}. Office fax: {fax3}."},
		{"t23", "{p3_first} reports [her|his] SSN as {ssn3} for the disability form."},
		{"t24", "Chart #{mrn3} merged; old MRN retired on {date3}."},
		{"t25", "BP {vitals}; {lab}; {code}. No identifiers in this sentence."},
	},
	footers: []template{
		{"f3-1", "\n{doc3}\n{date3num} {time}"},
		{"f3-2", "\nCopies: {doc3}, {p3_other}"},
	},
}

var firstNames3 = []string{"Ines", "Mateus", "Rina", "Oskar", "Leontyne", "Ewa", "Tariq", "Yesenia", "Bogumila", "Cosimo",
	"Mary-Kate", "Dalia", "Augustin", "Hiroko", "Ngaio", "Thandiwe", "Idris", "Saoirse", "Kasimir", "Luz"}
var lastNames3 = []string{"Carvalho", "Bhatt", "Okoro", "de la Cruz", "van der Berg", "O'Neill", "Olsen-Reyes", "Ferreira", "Dziedzic", "Mwangi",
	"Abiodun", "Castellano", "Hakimi", "Lindgren", "Marchetti", "Nakashima", "Ruiz-Tagle", "Szabo", "Tshabalala", "Vo"}

func init() {
	name3 := func(b *builder) (string, string) { return pick(b.r, firstNames3), pick(b.r, lastNames3) }
	more := map[string]func(b *builder){
		"p3_full": func(b *builder) { f, l := name3(b); b.phi("name", f+" "+l) },
		"p3_other": func(b *builder) {
			f, l := name3(b)
			b.phi("name", f+" "+l)
		},
		"p3_first":     func(b *builder) { b.phi("name", pick(b.r, firstNames3)) },
		"first3":       func(b *builder) { b.phi("name", pick(b.r, firstNames3)) },
		"p3_lastfirst": func(b *builder) { f, l := name3(b); b.phi("name", strings.ToUpper(l)+", "+strings.ToUpper(f)) },
		"p3_title": func(b *builder) {
			b.lit(pick(b.r, []string{"Ms. ", "Mr. ", "Mrs. ", "Mx. "}))
			b.phi("name", pick(b.r, lastNames3))
		},
		"p3_title_other": func(b *builder) { b.lit(pick(b.r, []string{"Ms. ", "Mr. "})); b.phi("name", pick(b.r, lastNames3)) },
		"relation3": func(b *builder) {
			b.lit(pick(b.r, []string{"Wife", "Husband", "Daughter", "Son", "Partner", "Sister"}))
		},
		"doc3": func(b *builder) {
			f, l := name3(b)
			switch b.r.Intn(3) {
			case 0:
				b.phi("name", l+", "+f)
				b.lit(" MD")
			case 1:
				b.phi("name", f+" "+l)
				b.lit(" MD")
			default:
				b.lit("Dr. ")
				b.phi("name", l)
			}
		},
		"accession": func(b *builder) { b.phi("other_id", digits(b.r, 8)) },
		"date3": func(b *builder) {
			y, m, d := 2018+b.r.Intn(9), 1+b.r.Intn(12), 1+b.r.Intn(28)
			switch b.r.Intn(4) {
			case 0:
				b.phi("date", fmt.Sprintf("%02d%s%d", d, monthsShort[m-1], y))
			case 1:
				b.phi("date", fmt.Sprintf("%d.%02d.%02d", y, m, d))
			case 2:
				b.phi("date", fmt.Sprintf("%s '%02d", monthsLong[m-1], y%100))
			default:
				b.phi("date", fmt.Sprintf("%s %d", monthsShort[m-1], d))
			}
		},
		"date3num": func(b *builder) {
			b.phi("date", fmt.Sprintf("%02d/%02d/%02d", 1+b.r.Intn(12), 1+b.r.Intn(28), b.r.Intn(27)))
		},
		"unitno":  func(b *builder) { b.lit(fmt.Sprint(10 + b.r.Intn(80))) },
		"storeno": func(b *builder) { b.lit(digits(b.r, 4)) },
		"route":   func(b *builder) { b.lit(fmt.Sprint(1 + b.r.Intn(99))) },
		"street3": func(b *builder) {
			b.phi("geographic", fmt.Sprintf("%d %s %s", 1+b.r.Intn(4000), pick(b.r, []string{"Harbor View", "Elm", "Mill Creek", "Saint Anne", "Old County"}), pick(b.r, []string{"Dr", "St", "Road", "Blvd", "Hwy"})))
		},
		"zip3": func(b *builder) { b.phi("geographic", fmt.Sprintf("%05d", 1001+b.r.Intn(98000))) },
		"zip_label": func(b *builder) {
			b.lit("zip ")
			b.phi("geographic", fmt.Sprintf("%05d", 1001+b.r.Intn(98000)))
		},
		"phone3": func(b *builder) {
			a, p, l := fmt.Sprintf("%d%s", 2+b.r.Intn(8), digits(b.r, 2)), fmt.Sprintf("%d%s", 2+b.r.Intn(8), digits(b.r, 2)), digits(b.r, 4)
			switch b.r.Intn(3) {
			case 0:
				b.phi("phone", fmt.Sprintf("%s %s %s", a, p, l))
			case 1:
				b.phi("phone", fmt.Sprintf("1 (%s) %s-%s", a, p, l))
			default:
				b.phi("phone", fmt.Sprintf("%s.%s.%s", a, p, l))
				b.lit(fmt.Sprintf(" x%d", 10+b.r.Intn(89)))
			}
		},
		"fax3": func(b *builder) {
			b.phi("fax", fmt.Sprintf("(%d%s) %d%s %s", 2+b.r.Intn(8), digits(b.r, 2), 2+b.r.Intn(8), digits(b.r, 2), digits(b.r, 4)))
		},
		"mbi": func(b *builder) {
			b.phi("health_plan", fmt.Sprintf("%d%s%d%s-%s%d-%s%d%d", 1+b.r.Intn(9), letters(b.r, 1), b.r.Intn(10), letters(b.r, 1), letters(b.r, 2), b.r.Intn(10), letters(b.r, 2), b.r.Intn(10), b.r.Intn(10)))
		},
		"sub3":     func(b *builder) { b.phi("health_plan", digits(b.r, 4)+"-"+digits(b.r, 4)) },
		"serial3":  func(b *builder) { b.phi("device", digits(b.r, 2)+letters(b.r, 1)+digits(b.r, 4)+letters(b.r, 1)) },
		"otherid3": func(b *builder) { b.phi("other_id", digits(b.r, 4)+"-"+digits(b.r, 3)) },
		"age3":     func(b *builder) { b.phi("age_over_89", fmt.Sprint(90+b.r.Intn(15))) },
		"age3_phrase": func(b *builder) {
			b.phi("age_over_89", pick(b.r, []string{"in her mid-90s", "in his late 90s", "a 96 year-old", "age 91"}))
		},
		"acct3": func(b *builder) { b.phi("account", digits(b.r, 3)+"-"+digits(b.r, 5)+"-"+digits(b.r, 2)) },
		"url3": func(b *builder) {
			b.phi("url", pick(b.r, []string{"bit.ly/", "https://drive.google.com/file/d/", "tinyurl.com/"})+alnum(b.r, 8))
		},
		"ip3": func(b *builder) { b.phi("ip", ipv4(b.r)) },
		"email_caps": func(b *builder) {
			f, l := name3(b)
			b.phi("email", strings.ToUpper(strings.NewReplacer(" ", "", "'", "").Replace(f[:1]+l))+"@"+strings.ToUpper(pick(b.r, domains)))
		},
		"bio3": func(b *builder) {
			b.phi("biometric", pick(b.r, []string{"thumbprint", "fingerprint reader", "palm-vein scan", "iris scanner"}))
		},
		"photo3":   func(b *builder) { b.phi("photo", pick(b.r, []string{"headshot", "face photo", "portrait photo"})) },
		"vehicle3": func(b *builder) { b.lit(pick(b.r, []string{"2014 Honda Civic", "grey minivan", "motorcycle"})) },
		"ssn3": func(b *builder) {
			b.phi("ssn", fmt.Sprintf("%s-%s-%s", digits(b.r, 3), digits(b.r, 2), digits(b.r, 4)))
		},
		"mrn3": func(b *builder) { b.phi("mrn", digits(b.r, 9)) },
	}
	for k, f := range more {
		if _, dup := placeholders[k]; dup {
			panic("gen: placeholder defined twice: " + k)
		}
		placeholders[k] = f
	}
	groups[3] = templateSet{
		headers: append(append([]template{}, group1.headers...), group3new.headers...),
		bodies:  append(append([]template{}, group1.bodies...), group3new.bodies...),
		footers: append(append([]template{}, group1.footers...), group3new.footers...),
	}
}
