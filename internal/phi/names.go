package phi

import (
	_ "embed"
	"strings"
)

// The name list: first and last names of the English locale of @faker-js/faker 10.6.0 (MIT
// licence), see data/NOTICE.
var (
	//go:embed data/first_names.txt
	firstNamesData string
	//go:embed data/last_names.txt
	lastNamesData string

	firstNames = wordSet(firstNamesData)
	lastNames  = wordSet(lastNamesData)
)

func wordSet(data string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(data) {
		m[w] = true
	}
	return m
}

// notName are capitalised words of clinical text that a name rule must not take, many of
// them also in the name list (General, Mercy, Blue, Will, May...).
var notName = wordSet(`
A An The This That These Those He She They It We I You His Her Their Our My Your Its
Patient Pt Pts Name Caller Provider Attending Doctor Dr Mr Mrs Ms Miss Nurse Self Family
Hospital Clinic Center Centre Medical Medicine Health Healthcare Care Memorial General Mercy Saint St
University Regional Community County Department Emergency Urgent Unit Ward Room Floor Office
Pharmacy Laboratory Lab Labs Radiology Cardiology Oncology Neurology Orthopedics Pediatrics Surgery
Insurance Blue Cross Shield Aetna Cigna Humana Medicare Medicaid UnitedHealthcare Kaiser Tricare
Assessment Plan Subjective Objective History Exam Vitals Vital Signs Impression Diagnosis Diagnoses
Medications Medication Allergies Allergy Labs Results Imaging Procedure Procedures Note Notes Summary
Discharge Admission Progress Referral Letter Telephone Encounter Follow Followup Return Instructions
Chief Complaint Problem Problems Review Systems Physical Social Past Surgical Present Illness HPI ROS
Date Service DOB MRN SSN Age Sex Address Phone Fax Email Male Female Man Woman Other Unknown
Mon Tue Wed Thu Fri Sat Sun Monday Tuesday Wednesday Thursday Friday Saturday Sunday
January February March April May June July August September October November December
Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec Today Tomorrow Yesterday Morning Evening
Will Hope Faith Grace Joy Summer Major King Chase Art Bill Mark Iris Lane Dawn Sunny Green Brown
White Black Gray Grey Ruby Pearl Sterling Miles Page Rose Honor Justice Precious Lucky Young
Yes No Not None Normal Negative Positive Denies Reports States Presents Continue Start Stop
Electronically Signed Dictated Transcribed Dear Sincerely Regards Thanks Thank Please Per
Type Diabetes Hypertension Disease Syndrome Cancer Heart Failure COPD Asthma Pain Acute Chronic
Left Right Bilateral Upper Lower Anterior Posterior North South East West Street Avenue Road Drive
Lane Boulevard Court Way Place Apt Suite Mg Mcg ML BID TID PRN QID HR RR BP Temp SpO2 ICD CPT NDC
Identity Identified Identification Verified Insulin Pacemaker Telehealth Login Records Record Wound
Workers Enrolled Seen Spoke Called Left Moved Transfer Next Home Prescribed Social Billing Current
Retired Widow Veteran Trial Study Case Employee Passport Member Group Policy Account License Plate
Vehicle Serial Device Portal Link Photo Photos Image Images Scan MD DO RN NP PA LPN MSW PhD
`)

// A name token: capitalised word (Okafor, O'Donnell, Seo-yeon) or ALL CAPS (OKAFOR).
const tok = `[A-Z][a-zA-Z'\-]*[a-zA-Z]`

// ptok is a surname that may start with lower-case particles: "van der Berg", "de la Cruz".
const ptok = `(?:(?:van|von|de|del|della|der|den|la|le|da|di|du|dos|das|bin|ibn|al|el|ter|ten)[ \t]+){0,3}` + tok

var (
	titleRe      = compile(`\b(?:Dr|Mr|Mrs|Ms|Miss|Mx|Prof)\.?[ \t]+((?:[A-Z]\.[ \t]*)?` + ptok + `(?:[ \t]+(?:[A-Z]\.[ \t]+)?` + ptok + `)?)`)
	credentialRe = compile(`\b(` + tok + `(?:[ \t]+[A-Z]\.)?[ \t]+` + ptok + `|` + ptok + `,[ \t]+` + tok + `),?[ \t]+(?:MD|M\.D\.|DO|RN|NP|PA-C|PA|LPN|MSW|LCSW|PhD|DDS|PharmD|CNA|APRN)\b`)
	labelNameRe  = compileLazy(func() string {
		return `(?i:\b(?:` + fuzzy(`attn|attention|re|signed|signed by|witnessed by|witness|copies|patient name is|patient is|name is|this is|saw|examined|evaluated|visited|met with|admitted|discharged|patient name|patient|pt|name|caller|attending|provider|physician|surgeon|pcp|nurse|therapist|interpreter|witness|proxy|poa|informant|historian|requested by|reviewed by|performed by|ordered by|covering|cosigned by|co-signed by|transcribed by|authored by|verified by|consulted|consult with|message from|message for|notified|paged|seen by|signed by|dictated by|referred by|prescribed by|discussed with|spoke with|spoke to|called|left voicemail for|voicemail for|dear|regarding|accompanied by|cc|per|contact|emergency contact|next of kin|guardian|mother|father|parent|from|with|and|by|to`) + `)\b)(?:[ \t]*\([^)\n]{1,30}\))?[ \t]*:?[ \t]+` +
			`((?:` + ptok + `,[ \t]+` + tok + `)|(?:` + tok + `(?:[ \t]+[A-Z]\.)?(?:[ \t]+` + ptok + `){0,2})|(?:[A-Z]\.[ \t]+` + ptok + `))`
	})
	relativeRe = compileLazy(func() string {
		return `(?i:\b(?:` + fuzzy(`stepdaughter|stepson|godson|goddaughter|godmother|godfather|stepmother|stepfather|grandchild|daughter|son|wife|husband|sister|brother|niece|nephew|mother|father|caregiver|spouse|partner|friend|grandson|granddaughter|grandmother|grandfather|aunt|uncle|cousin|neighbor|neighbour|fiance|fiancee|roommate`) + `)),?[ \t]+(` + tok + `(?:[ \t]+` + tok + `)?)`
	})
	sigRe = compile(`(?m)^[ \t]*(?:--|—|/s/)[ \t]*((?:[A-Z]\.[ \t]+)?` + tok + `(?:[ \t]+` + tok + `)?)`)
	// "Okafor, 91, ..." / "Robert Okafor is a 47-year-old ..." / "Robert Okafor was born ..."
	subjectRe = compile(`(?m)(?:^|[.!?:][ \t]+)((?:` + tok + `[ \t]+){1,2}` + tok + `|` + tok + `,[ \t]` + tok + `)(?:,?[ \t]+(?:is[ \t]+)?(?:an?[ \t]+)?\d{1,3}[ \t\-]?(?:years?|yrs?|y/o|yo)\b|[ \t]+(?:was born|was seen|was admitted|presents|presented|reports|reported|returns|returned|states|stated|denies|denied|is|was|has|had|came|comes|called|arrived|underwent|tolerated|agrees|agreed|declined|missed|needs|will|lives|lived)\b)`)
	// Any run of capitalised tokens, for the list look-up.
	capsRunRe  = compile(tok + `(?:[ \t]+(?:[A-Z]\.[ \t]+)?` + tok + `)*`)
	ccLineRe   = compile(`(?im)^[ \t]*(?:cc|copies|copies to|copy to)[ \t]*:[^\n]*`)
	capsPairRe = compile(`\b([A-Z]{2,}(?:['\-][A-Z]+)?,[ \t][A-Z]{2,}(?:['\-][A-Z]+)?)\b`)
	// Dictated text is often all lower case: "patient wanjiru bhattacharya date of birth ...".
	lowerNameRe = compile(`(?i:\b(?:patient name is|patient name|patient is|patient|pt|name is|name))[ \t]*:?[ \t]+([a-z][a-z'\-]+(?:[ \t][a-z][a-z'\-]+){1,2})\b`)
	// What may follow a dictated name: the end of the line, or its date of birth, age, MRN.
	lowerNameEndRe = compile(`^(?:[ \t]*(?:\n|$|,|\(|;)|[ \t]+(?:date of birth|dob|born|age|aged|mrn|medical record|is a|is an|was born|who is)\b)`)
	// "Dagny is a 72-year-old ...", "Bich says ...": one capitalised word starting a sentence,
	// then a verb only a person takes.
	soloRe     = compile(`(?m)(?:^|[.!?:][ \t]+)(` + tok + `)(?:,?[ \t]+is[ \t]+an?[ \t]+\d{1,3}[ \t\-]?(?:years?|yrs?|y/o|yo)\b|[ \t]+(?:says|said|reports|reported|states|stated|denies|denied|agrees|agreed|lives|complains|tells)\b)`)
	initialsRe = compile(`\b([A-Z]\.[ \t]` + tok + `)`)
)

// titleStop: after a title only these end the name ("Dr Kowal Feb 17th").
var titleStop = func() map[string]bool {
	m := wordSet(`Jan Feb Mar Apr May Jun Jul Aug Sep Sept Oct Nov Dec January February March April June July
August September October November December Mon Tue Wed Thu Fri Sat Sun Monday Tuesday Wednesday Thursday Friday
Saturday Sunday MD DO RN NP PA`)
	for w := range facilityWords {
		m[w] = true
	}
	return m
}()

// placeWords start or end place names ("Lake Forest", "Fort Collins"): a run with one is not
// a person even when the list knows the other word.
var placeWords = wordSet(`Lake Forest Falls Springs Valley Heights Hills Park City Beach Harbor Port Fort Mount Grove
Creek Ridge Bay Bluffs Junction Rapids`)

// facilityWords after a capitalised run make it an organisation, not a person.
var facilityWords = wordSet(`Hospital Clinic Center Centre Medical Health Healthcare Care Pharmacy Orthopedics Cardiology
Associates Group Institute University College School Labs Laboratory Street St Avenue Ave Road Rd Drive Dr Lane Ln
Boulevard Blvd Court Ct Way Place County Foundation Services Insurance Syndrome Disease Palsy Phenomenon Thyroiditis Esophagus`)

func names(text string, cs []candidate) []candidate {
	add := func(s, e int, conf float64) {
		s, e = trimName(text, s, e)
		if e <= s {
			return
		}
		cs = append(cs, candidate{typ: Name, start: s, end: e, conf: conf, prio: prioName})
	}
	// After a title almost anything capitalised is a surname, even Brown or Will.
	for _, m := range titleRe.FindAllStringSubmatchIndex(text, -1) {
		if s, e := trimNameWith(text, m[2], m[3], titleStop); e > s {
			cs = append(cs, candidate{typ: Name, start: s, end: e, conf: 0.9, prio: prioName})
		}
	}
	// Above geography: "Obi, MD" is a doctor, not Maryland.
	for _, m := range credentialRe.FindAllStringSubmatchIndex(text, -1) {
		// "Sioux Falls, PA 65356" is a place.
		if zipAfter.MatchString(text[m[1]:]) {
			continue
		}
		if s, e := trimName(text, m[2], m[3]); e > s {
			cs = append(cs, candidate{typ: Name, start: s, end: e, conf: 0.9, prio: prioGeo + 5})
		}
	}
	for _, m := range labelNameRe.FindAllStringSubmatchIndex(text, -1) {
		label := strings.ToLower(strings.TrimSpace(text[m[0]:m[2]]))
		label = strings.TrimRight(label, ": ")
		// "To: Kasimir Abiodun" (a header) is a label; "to Springfield" is not.
		weak := (label == "from" || label == "with" || label == "and" || label == "by" || label == "to") &&
			!strings.Contains(text[m[0]:m[2]], ":")
		if weak && !looksLikeName(text[m[2]:m[3]]) {
			continue
		}
		conf := 0.85
		if weak {
			conf = 0.7
		}
		add(m[2], m[3], conf)
	}
	for _, m := range relativeRe.FindAllStringSubmatchIndex(text, -1) {
		add(m[2], m[3], 0.8)
	}
	for _, m := range sigRe.FindAllStringSubmatchIndex(text, -1) {
		add(m[2], m[3], 0.8)
	}
	for _, m := range subjectRe.FindAllStringSubmatchIndex(text, -1) {
		strong := strings.Contains(text[m[3]:m[1]], "born") || strings.ContainsAny(text[m[3]:m[1]], "0123456789")
		if looksLikeName(text[m[2]:m[3]]) || (strong && allCapitalisedUnknown(text[m[2]:m[3]])) {
			add(m[2], m[3], 0.7)
		}
	}
	for _, m := range capsPairRe.FindAllStringSubmatchIndex(text, -1) {
		parts := strings.Split(text[m[2]:m[3]], ",")
		a, b := strings.TrimSpace(parts[0]), strings.TrimSpace(parts[1])
		if len(a) >= 3 && len(b) >= 3 && !notName[title(a)] && !notName[title(b)] && !notName[a] && !notName[b] {
			add(m[2], m[3], 0.65)
		}
	}
	for _, m := range lowerNameRe.FindAllStringSubmatchIndex(text, -1) {
		if e := lowerName(text, m[2], m[3]); e > m[2] {
			add(m[2], e, 0.6)
		}
	}
	// A copy list: "CC: Dr. Yilmaz; Dashiell Oduya (scribe)".
	for _, m := range ccLineRe.FindAllStringIndex(text, -1) {
		for _, r := range capsRunRe.FindAllStringIndex(text[m[0]:m[1]], -1) {
			if allCapitalisedUnknown(text[m[0]+r[0] : m[0]+r[1]]) {
				add(m[0]+r[0], m[0]+r[1], 0.7)
			}
		}
	}
	for _, m := range soloRe.FindAllStringSubmatchIndex(text, -1) {
		w := text[m[2]:m[3]]
		if len(w) >= 3 && !notName[w] && !notName[title(w)] && !facilityWords[w] && !kinship[strings.ToLower(w)] {
			add(m[2], m[3], 0.6)
		}
	}
	for _, m := range initialsRe.FindAllStringSubmatchIndex(text, -1) {
		add(m[2], m[3], 0.6)
	}
	// The list: a run of two or three capitalised tokens with a known first or last name.
	for _, m := range capsRunRe.FindAllStringIndex(text, -1) {
		if looksLikeName(text[m[0]:m[1]]) {
			add(m[0], m[1], 0.75)
		}
	}
	return cs
}

// trimName drops leading and trailing tokens that are not name-like (titles, "Patient",
// facility words) and stops at a facility word.
func trimName(text string, s, e int) (int, int) { return trimNameWith(text, s, e, notName) }

var zipAfter = compile(`^,?[ \t]+\d{5}\b`)

func trimNameWith(text string, s, e int, stop map[string]bool) (int, int) {
	span := text[s:e]
	words := strings.Fields(span)
	if len(words) == 0 {
		return s, s
	}
	// An organisation ("Mercy General Hospital"): nothing to take.
	next := nextWord(text, e)
	if facilityWords[next] {
		return s, s
	}
	for _, w := range words {
		if facilityWords[strings.Trim(w, ",.")] {
			return s, s
		}
	}
	// Drop stop words at both ends.
	for len(words) > 0 && stop[strings.Trim(words[0], ",.")] {
		i := strings.Index(text[s:e], words[0]) + len(words[0])
		s += i
		for s < e && (text[s] == ' ' || text[s] == ',' || text[s] == '\n') {
			s++
		}
		words = words[1:]
	}
	for len(words) > 0 && stop[strings.Trim(words[len(words)-1], ",.")] {
		e = s + strings.LastIndex(text[s:e], words[len(words)-1])
		for e > s && (text[e-1] == ' ' || text[e-1] == ',' || text[e-1] == '\n') {
			e--
		}
		words = words[:len(words)-1]
	}
	if len(words) == 0 {
		return s, s
	}
	// A single all-caps token of two or three letters is an abbreviation (MRN, COPD).
	if len(words) == 1 && len(words[0]) <= 3 && strings.ToUpper(words[0]) == words[0] {
		return s, s
	}
	return s, e
}

func nextWord(text string, e int) string {
	rest := strings.TrimLeft(text[e:], " ")
	if i := strings.IndexAny(rest, " ,.;:\n"); i >= 0 {
		rest = rest[:i]
	}
	return rest
}

func title(w string) string {
	if w == "" {
		return w
	}
	return w[:1] + strings.ToLower(w[1:])
}

// looksLikeName: two or three tokens, none a stop word, one of them a known first or last name.
func looksLikeName(s string) bool {
	words := strings.Fields(strings.ReplaceAll(s, ",", " "))
	if len(words) < 2 || len(words) > 3 {
		return false
	}
	known := false
	for _, w := range words {
		w = strings.Trim(w, ".")
		if len(w) == 1 { // an initial
			continue
		}
		if notName[w] || notName[title(w)] || facilityWords[w] || placeWords[w] {
			return false
		}
		if firstNames[title(w)] || lastNames[title(w)] {
			known = true
		}
	}
	return known
}

// allCapitalisedUnknown: two or three capitalised tokens none of which is a known
// non-name word; used only where the sentence shape already says "person".
func allCapitalisedUnknown(s string) bool {
	words := strings.Fields(s)
	if len(words) < 2 || len(words) > 3 {
		return false
	}
	for _, w := range words {
		if notName[w] || facilityWords[w] {
			return false
		}
	}
	return true
}

// propagateNames marks every other occurrence of a found name's tokens as a name too, so
// "Mr. Okafor" found once also catches "Okafor" alone further on.
func propagateNames(text string, cs []candidate) []candidate {
	seen := map[string]bool{}
	for _, c := range cs {
		if c.typ != Name {
			continue
		}
		for _, w := range strings.FieldsFunc(text[c.start:c.end], func(r rune) bool { return r == ' ' || r == ',' || r == '.' }) {
			if len(w) >= 3 && !notName[w] && !notName[title(w)] {
				seen[w] = true
			}
		}
	}
	if len(seen) == 0 {
		return cs
	}
	var extra []candidate
	for w := range seen {
		for off := 0; ; {
			i := strings.Index(text[off:], w)
			if i < 0 {
				break
			}
			s, e := off+i, off+i+len(w)
			off = e
			if (s > 0 && isWordByte(text[s-1])) || (e < len(text) && isWordByte(text[e])) {
				continue
			}
			extra = append(extra, candidate{typ: Name, start: s, end: e, conf: 0.7, prio: prioWeak - 1})
		}
	}
	return resolve(append(cs, extra...))
}

var (
	streetRe     = compile(`\b\d{1,5}[ \t]+(?:(?:[NSEW]\.?|North|South|East|West)[ \t]+)?(?:(?:` + tok + `|\d+(?:st|nd|rd|th))[ \t]+){1,3}(?:Street|St|Avenue|Ave|Road|Rd|Drive|Dr|Lane|Ln|Boulevard|Blvd|Court|Ct|Way|Place|Pl|Terrace|Ter|Circle|Cir|Parkway|Pkwy|Highway|Hwy|Trail|Trl|Square|Sq|Crossing|Xing|Pike|Turnpike|Loop|Run|Row|Path|Pass|Ridge|Bend|Cove|Hollow|Landing|Plaza|Point|Pt|Alley|Aly|Expressway|Expy|Freeway|Fwy)\b\.?(?:,[ \t]+(?:(?:near|off|in|outside)[ \t]+)?(` + tok + `(?:[ \t]` + tok + `){0,2})\b)?`)
	poBoxRe      = compile(`(?i)\bP\.?[ \t]?O\.?[ \t]+Box[ \t]+\d+\b`)
	unitRe       = compile(`(?i:\b(?:apt|apartment|unit|suite|ste))\.?[ \t]*(\d{1,5}[A-Za-z]?)\b(,)?`)
	cityStRe     = compile(`\b(` + tok + `(?:[ \t]` + tok + `){0,2}),[ \t]+(?:` + stateAbbr + `|` + stateFull + `)\b(?:,?[ \t]+(\d{5}(?:-\d{4})?))?`)
	cityZipRe    = compile(`\b(` + tok + `(?:[ \t]` + tok + `){0,2})[ \t]+(?:` + stateAbbr + `)[ \t]+(\d{5}(?:-\d{4})?)\b`)
	placeLabelRe = compile(`(?i:\b(?:city|town|hometown|birthplace|place of birth|county|neighborhood|neighbourhood)[ \t]*:|\b(?:town|city|village|township|borough) of)[ \t]*(` + tok + `(?:[ \t]` + tok + `){0,2})`)
	zipRe        = compile(`(?i:\bzip(?:[ \t]*code)?:?)[ \t]*(\d{5}(?:-\d{4})?)\b`)
	countyRe     = compile(`\b(?:` + tok + `[ \t]){1,2}(?:County|Parish|Borough)\b`)
	// "lives in Fairview", "moved from Salem to Bristol", "born ... in Duluth".
	movedRe = compileLazy(func() string {
		return `(?i:\b(?:` + fuzzy(`home|house|lives|living|lived|live|moved|moving|born|resides|reside|resident|relocated|relocating|grew up|hometown|originally`) + `))\b(?:[^.;\n]|\.[^\s]|\.[ \t]\d){0,60}`
	})
	placeRe = compile(`\b(?:in|from|to|of|near)[ \t]+(` + tok + `(?:[ \t]` + tok + `)?)`)
)

var stateNameRe = compile(`^(?:` + stateAbbr + `|` + stateFull + `)$`)

const (
	stateAbbr = `AL|AK|AZ|AR|CA|CO|CT|DE|FL|GA|HI|ID|IL|IN|IA|KS|KY|LA|ME|MD|MA|MI|MN|MS|MO|MT|NE|NV|NH|NJ|NM|NY|NC|ND|OH|OK|OR|PA|RI|SC|SD|TN|TX|UT|VT|VA|WA|WV|WI|WY|DC|PR`
	stateFull = `Alabama|Alaska|Arizona|Arkansas|California|Colorado|Connecticut|Delaware|Florida|Georgia|Hawaii|Idaho|Illinois|Indiana|Iowa|Kansas|Kentucky|Louisiana|Maine|Maryland|Massachusetts|Michigan|Minnesota|Mississippi|Missouri|Montana|Nebraska|Nevada|New Hampshire|New Jersey|New Mexico|New York|North Carolina|North Dakota|Ohio|Oklahoma|Oregon|Pennsylvania|Rhode Island|South Carolina|South Dakota|Tennessee|Texas|Utah|Vermont|Virginia|Washington|West Virginia|Wisconsin|Wyoming`
)

func geography(text string, cs []candidate) []candidate {
	add := func(s, e int, conf float64) {
		cs = append(cs, candidate{typ: Geographic, start: s, end: e, conf: conf, prio: prioGeo})
	}
	for _, m := range streetRe.FindAllStringSubmatchIndex(text, -1) {
		if m[2] < 0 {
			add(m[0], m[1], 0.9)
			continue
		}
		// "12 Quarry Rd, Eau Claire": the street, then the town after it (above the name
		// rules, which would take "Eau Claire" for a person), unless it is a state or unit.
		add(m[0], strings.LastIndex(text[:m[2]], ","), 0.9)
		town := text[m[2]:m[3]]
		if !stateNameRe.MatchString(town) && !notName[strings.Fields(town)[0]] {
			cs = append(cs, candidate{typ: Geographic, start: m[2], end: m[3], conf: 0.75, prio: prioGeo + 6})
		}
	}
	for _, m := range poBoxRe.FindAllStringIndex(text, -1) {
		add(m[0], m[1], 0.9)
	}
	for _, m := range unitRe.FindAllStringSubmatchIndex(text, -1) {
		// "Unit 74 dispatched" is an ambulance: a unit of an address sits next to a comma.
		if strings.EqualFold(text[m[0]:m[0]+4], "unit") && m[4] < 0 && !strings.HasSuffix(strings.TrimRight(text[:m[0]], " \t"), ",") {
			continue
		}
		add(m[2], m[3], 0.6)
	}
	for _, m := range cityStRe.FindAllStringSubmatchIndex(text, -1) {
		s := m[2]
		// "Mercy General Hospital, Springfield, IL": only the last run before the state.
		city := text[m[2]:m[3]]
		if facilityWords[lastWord(city)] || notName[city] {
			continue
		}
		add(s, m[3], 0.85)
		if m[4] >= 0 {
			add(m[4], m[5], 0.9)
		}
	}
	for _, m := range cityZipRe.FindAllStringSubmatchIndex(text, -1) {
		if !facilityWords[lastWord(text[m[2]:m[3]])] {
			add(m[2], m[3], 0.8)
		}
		add(m[4], m[5], 0.9)
	}
	for _, m := range placeLabelRe.FindAllStringSubmatchIndex(text, -1) {
		add(m[2], m[3], 0.8)
	}
	for _, m := range zipRe.FindAllStringSubmatchIndex(text, -1) {
		add(m[2], m[3], 0.9)
	}
	for _, m := range countyRe.FindAllStringIndex(text, -1) {
		add(m[0], m[1], 0.85)
	}
	for _, m := range movedRe.FindAllStringIndex(text, -1) {
		clause := text[m[0]:m[1]]
		for _, p := range placeRe.FindAllStringSubmatchIndex(clause, -1) {
			place := clause[p[2]:p[3]]
			if notName[place] || notName[strings.Fields(place)[0]] || facilityWords[lastWord(place)] {
				continue
			}
			add(m[0]+p[2], m[0]+p[3], 0.7)
		}
	}
	return cs
}

func lastWord(s string) string {
	f := strings.Fields(s)
	if len(f) == 0 {
		return ""
	}
	return f[len(f)-1]
}

func isWordByte(c byte) bool {
	return c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= 0x80
}

var kinship = wordSet(`mom dad mother father wife husband son daughter sister brother grandma grandpa
aunt uncle nurse doctor caregiver everyone nobody someone family pharmacy`)

// commonWords are lower-case words that follow "patient" in ordinary clinical prose, so a
// run of them is not a dictated name.
var commonWords = wordSet(`
a an the and or but of to in on at by for with from as is was are were be been being has have had
do does did not no will would can could should may might must shall who whom whose which that this
these those he she they it his her their its him them we our you your i me my reports reported
states stated says said denies denied presents presented returns returned agrees agreed declined
tolerated tolerates takes took taking needs needed wants wanted feels felt appears appeared seems
education instructions instructed counseled understands verbalized portal care room here today now
seen evaluated examined admitted discharged transferred referred arrived came comes called left
went goes is also still again currently continues continued remains remained underwent received
history complaint complains complained doing well stable improved improving worse worsening better
date dob birth age sex male female man woman year years old yo visit visits follow up followup
identified verified consented consent signed name number id mrn chart record records and then
`)

// lowerName returns the end of a lower-case name run starting at s: up to three words, none of
// them common, with at least two and at least one known first or last name.
func lowerName(text string, s, e int) int {
	words := strings.Fields(text[s:e])
	n, end, known := 0, s, false
	pos := s
	for _, w := range words {
		if commonWords[w] {
			break
		}
		i := strings.Index(text[pos:], w)
		pos += i + len(w)
		end = pos
		n++
		if firstNames[title(w)] || lastNames[title(w)] {
			known = true
		}
	}
	if n < 2 || (!known && !lowerNameEndRe.MatchString(text[end:])) {
		return s
	}
	return end
}
