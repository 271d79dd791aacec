package phi

import (
	"strconv"
	"strings"
)

// Priorities settle overlaps: a labelled identifier beats a bare pattern, and anything
// structured beats a name guess.
const (
	prioEmail   = 100
	prioURL     = 95
	prioLabel   = 90
	prioStrong  = 80
	prioPattern = 70
	prioGeo     = 60
	prioName    = 50
	prioWeak    = 40
)

type rule func(text string, cs []candidate) []candidate

var rules = []rule{
	simple(Email, prioEmail, 0.99, `\b[A-Za-z0-9._%+\-]+@[A-Za-z0-9\-]+(?:\.[A-Za-z0-9\-]+)*\.[A-Za-z]{2,}\b`),
	urls,
	ips,
	labelled,
	simple(Vehicle, prioLabel, 0.9, `(?i:\blicense plate|\bplates?|\btag)(?i:\s*(?:number|no\.?|#|:))*\s*([A-Z0-9]{2,4}[ \-]?[A-Z0-9]{2,4})\b`),
	ssns,
	phones,
	dates,
	ages,
	simple(Vehicle, prioPattern, 0.8, `\b([A-HJ-NPR-Z0-9]{17})\b`),
	simple(Device, prioPattern, 0.85, `\b(SN-[A-Z0-9]+(?:-[A-Z0-9]+)*)\b`),
	simple(Device, prioURL, 0.9, `(?i)\b(?:[0-9a-f]{2}[:\-]){5}[0-9a-f]{2}\b`), // MAC address
	simple(Biometric, prioStrong, 0.85, `(?i)\b(?:(?:right|left)\s+)?(?:(?:index|thumb|middle|ring)\s+)?(?:finger ?prints?|thumb ?prints?|voice ?prints?|retinal? scans?|iris scans?|palm[\- ](?:vein[\- ]|print[\- ])?scans?|(?:finger ?print|thumb ?print|iris|retina|palm[\- ]vein)[\- ]?(?:scanners?|readers?)|palm ?prints?|facial recognition(?: templates?)?|facial geometry|facial id|face id|voice samples?|dna samples?|retina(?:l)? images?|iris images?|hand geometry|dna profiles?)(?:\s+(?:id|ref|#|no\.?|template)\s*#?\s*[A-Za-z0-9\-]*\d[A-Za-z0-9\-]*)?`),
	simple(Photo, prioStrong, 0.85, `(?i)\b(?:full[\- ]face (?:photo(?:graph)?s?|images?|pictures?)|facial (?:photo(?:graph)?s?|images?)|photo id(?: image)?(?:\s+[\w\-]+\.(?:png|jpe?g|heic|gif))?|patient photo(?:graph)?s?|(?:face|portrait|passport|id)[\- ]photo(?:graph)?s?|head ?shots?|selfies?|photo(?:graph)?s? of (?:the )?(?:patient'?s? )?face(?:[ \t]*\([\w\-]+\.(?:png|jpe?g|heic|gif)\))?|(?:IMG|DSC|PXL|PHOTO)_[\w\-]+\.(?:jpe?g|png|heic|gif))\b`),
	simple(Device, prioLabel, 0.85, `(?i:\b(?:pump|pacemaker|defibrillator|icd|monitor|transmitter|implant|stimulator|hearing aid|cgm|sensor|device)[ \t]+(?:id|serial|sn|s/n|number|#)(?:[ \t]+(?:number|no\.?|#))?[ \t]*[:#]?[ \t]*)((?:[A-Za-z0-9]+-)*[A-Za-z]*\d[A-Za-z0-9]*(?:-[A-Za-z0-9]+)*)\b`),
	simple(AgeOver89, prioStrong, 0.7, `(?m)(?:^|[:;,.(][ \t]*|\b(?:a|an|is|S:|Assessment:)[ \t]+)((?:9\d|1[01]\d)[ \t]?(?:yo[ \t])?[FM])\b`),
	simple(Geographic, prioGeo, 0.85, `(?i)\b(?:RR|R\.R\.|rural route|HC|star route)[ \t]*\d+[ \t]*,?[ \t]*box[ \t]*\d+\b`),
	tables,
	hl7,
	spokenPhones,
	geography,
	names,
}

func simple(typ string, prio int, conf float64, expr string) rule {
	re := compile(expr)
	return func(text string, cs []candidate) []candidate {
		for _, m := range re.FindAllStringSubmatchIndex(text, -1) {
			s, e := m[0], m[1]
			if len(m) >= 4 && m[2] >= 0 {
				s, e = m[2], m[3]
			}
			cs = append(cs, candidate{typ: typ, start: s, end: e, conf: conf, prio: prio})
		}
		return cs
	}
}

var urlRe = compile(`(?i)\b(?:https?://|www\.)[^\s<>"'()]+|\b[a-z0-9\-]+(?:\.[a-z0-9\-]+)*\.(?:com|org|net|edu|gov|io|me|us|info|health|care|uk|ca|co|biz|app|site|online|ly|tv|ai)(?:/[^\s<>"'()]*)?\b`)

func urls(text string, cs []candidate) []candidate {
	for _, m := range urlRe.FindAllStringIndex(text, -1) {
		s, e := m[0], m[1]
		for e > s && strings.ContainsRune(".,;:!?", rune(text[e-1])) {
			e--
		}
		// "user@host.com": the e-mail rule has it.
		if s > 0 && text[s-1] == '@' {
			continue
		}
		cs = append(cs, candidate{typ: URL, start: s, end: e, conf: 0.95, prio: prioURL})
	}
	return cs
}

var (
	ipv4Re = compile(`\b(?:\d{1,3}\.){3}\d{1,3}\b`)
	ipv6Re = compile(`(?i)\b[0-9a-f]{1,4}(?::[0-9a-f]{0,4}){2,7}\b`)
)

func ips(text string, cs []candidate) []candidate {
	for _, m := range ipv4Re.FindAllStringIndex(text, -1) {
		ok := true
		for _, p := range strings.Split(text[m[0]:m[1]], ".") {
			if n, _ := strconv.Atoi(p); n > 255 {
				ok = false
			}
		}
		if ok {
			cs = append(cs, candidate{typ: IP, start: m[0], end: m[1], conf: 0.95, prio: prioURL})
		}
	}
	for _, m := range ipv6Re.FindAllStringIndex(text, -1) {
		s := text[m[0]:m[1]]
		// Times ("10:30:15") also have colons: an address has "::" or at least five.
		if strings.Contains(s, "::") || strings.Count(s, ":") >= 5 {
			cs = append(cs, candidate{typ: IP, start: m[0], end: m[1], conf: 0.9, prio: prioURL})
		}
	}
	return cs
}

// Labels that announce an identifier of a type. The value that follows must contain a
// digit, so "account is overdue" is not an account number.
var labelRules = []struct {
	typ   string
	label string
	conf  float64
}{
	{SSN, `ssn|ss|social security|social sec`, 0.97},
	{MRN, `mrn|mr|medical record|med rec|med\. rec\.|chart|hospital (?:number|no)|patient id|record`, 0.95},
	{HealthPlan, `(?:aetna|cigna|humana|kaiser|tricare|ambetter|anthem|bcbs|blue cross(?: blue shield)?|unitedhealthcare|united healthcare|uhc|molina|centene|wellcare|oscar|health net|highmark|carefirst|caresource|amerigroup)(?: insurance)?(?: member)? (?:id|number|no|#)|insurance card|policyholder id|policy holder id|member id|member|subscriber id|subscriber|policy|beneficiary|health plan id|health plan|insurance id|insurance|plan id|medicaid|medicare|mbi|group member`, 0.93},
	{Account, `account|acct|billing account|billing|encounter (?:number|no|#|id)|visit (?:number|no|#|id)|fin|csn|har|invoice|guarantor`, 0.9},
	{License, `driver'?s'? licen[cs]e|drivers? lic|dl|lic|certification|dea|licen[cs]e|medical licen[cs]e|nursing licen[cs]e|npi|certificate`, 0.92},
	{Vehicle, `vin|vehicle identification|vehicle id|vehicle registration|registration|tag`, 0.93},
	{Device, `serial|s/n|sn|device id|device identifier|device serial|udi|implant id|model/serial|imei|meid|mac address|mac`, 0.9},
	{OtherID, `study subject id|study id|subject id|participant id|research id|employee id|employee|badge|case|passport|claim|student id|military id|prisoner id|inmate|accession|specimen id|donor id|unos id|unos|rx|prescription|voucher|ticket|certificate of birth|birth certificate|death certificate`, 0.88},
}

// yearLike: "chart 2019" is a year.
var yearLike = compile(`^(?:19|20)\d\d$`)

// dateLike: "ENCOUNTER 2024-11-27" is a date, not an encounter number.
var dateLike = compile(`(?i)^(?:\d{1,4}[\-/.]\d{1,2}[\-/.]\d{2,4}|\d{1,2}-(?:` + monthShort + `|May)-\d{2,4}|(?:` + monthShort + `|May)-\d{1,2}-\d{2,4}|\d{1,2}(?:st|nd|rd|th))$`)

type compiledLabel struct {
	typ  string
	re   *pattern
	conf float64
}

var compiledLabels = func() []compiledLabel {
	var out []compiledLabel
	for _, l := range labelRules {
		re := compileLazy(func() string {
			return `(?i:\b(?:` + fuzzy(l.label) + `)\b\.?)` +
				`(?i:\s*(?:(?:` + fuzzy("number") + `|no|nr|num|id|identifier|is|was|on file|ending in|ends in|ending)\b\.?|[#:\-]))*\s*` +
				`((?:[A-Za-z0-9]+-)*[A-Za-z]*\d[A-Za-z0-9]*(?:-[A-Za-z0-9]+)*)\b`
		})
		out = append(out, compiledLabel{l.typ, re, l.conf})
	}
	return out
}()

func labelled(text string, cs []candidate) []candidate {
	for _, l := range compiledLabels {
		for _, m := range l.re.FindAllStringSubmatchIndex(text, -1) {
			v := text[m[2]:m[3]]
			if len(v) < 4 || dateLike.MatchString(v) || yearLike.MatchString(v) {
				continue
			}
			// "license plate" is a vehicle; the plate rule has it.
			if l.typ == License && strings.HasPrefix(strings.ToLower(text[m[0]:]), "license plate") {
				continue
			}
			cs = append(cs, candidate{typ: l.typ, start: m[2], end: m[3], conf: l.conf, prio: prioLabel})
		}
	}
	return cs
}

var (
	ssnDashRe  = compile(`\b\d{3}-\d{2}-\d{4}\b`)
	ssnSpaceRe = compile(`\b\d{3} \d{2} \d{4}\b`)
)

func ssns(text string, cs []candidate) []candidate {
	for _, m := range ssnDashRe.FindAllStringIndex(text, -1) {
		cs = append(cs, candidate{typ: SSN, start: m[0], end: m[1], conf: 0.9, prio: prioStrong})
	}
	for _, m := range ssnSpaceRe.FindAllStringIndex(text, -1) {
		cs = append(cs, candidate{typ: SSN, start: m[0], end: m[1], conf: 0.7, prio: prioStrong})
	}
	return cs
}

var (
	phoneRe      = compile(`(?:\+1[\s.\-]?|\b1[\s.\-])?(?:\(\d{3}\)[\s\-]?|\b\d{3}[\s.\-/])\d{3}[\s.\-]\d{4}\b`)
	phoneBareRe  = compile(`\b\d{10}\b`)
	phoneLocalRe = compile(`\b\d{3}-\d{4}\b`)
	phoneIntlRe  = compile(`\+(?:[2-9]\d{0,2})(?:[ \-.]?\(?\d{1,4}\)?){2,5}\b`)
	// The nearest of these words before a number says whether it is a fax.
	phoneCueRe = compile(`(?i)\b(?:fax(?:ed|ing)?|phone|ph|tel|telephone|call(?:ed)?|cell|mobile|home|work|contact|reached|number|text|voicemail|callback|call-back|fx)\b|\bF:`)
)

func phones(text string, cs []candidate) []candidate {
	add := func(s, e int, conf float64) {
		typ := Phone
		before := text[max(0, s-40):s]
		if cues := phoneCueRe.FindAllString(before, -1); len(cues) > 0 {
			last := strings.ToLower(cues[len(cues)-1])
			if strings.HasPrefix(last, "fax") || last == "fx" || last == "f:" {
				typ = Fax
			}
		}
		if after := strings.ToLower(text[e:min(len(text), e+8)]); strings.HasPrefix(after, " (fax)") || strings.HasPrefix(after, " fax") {
			typ = Fax
		}
		cs = append(cs, candidate{typ: typ, start: s, end: e, conf: conf, prio: prioPattern})
	}
	for _, m := range phoneRe.FindAllStringIndex(text, -1) {
		add(m[0], m[1], 0.9)
	}
	for _, m := range phoneIntlRe.FindAllStringIndex(text, -1) {
		if digitCount(text[m[0]:m[1]]) >= 8 {
			add(m[0], m[1], 0.8)
		}
	}
	for _, m := range phoneLocalRe.FindAllStringIndex(text, -1) {
		// Seven digits only when a word says phone or fax.
		if phoneCueRe.MatchString(text[max(0, m[0]-20):m[0]]) {
			add(m[0], m[1], 0.6)
		}
	}
	for _, m := range phoneBareRe.FindAllStringIndex(text, -1) {
		// Ten bare digits: a phone number when a word says so, or when they have the
		// shape of a North American one (area code and exchange not starting 0 or 1);
		// labelled account or plan numbers win over this by priority.
		if phoneCueRe.MatchString(text[max(0, m[0]-25):m[0]]) {
			add(m[0], m[1], 0.6)
		} else if text[m[0]] >= '2' && text[m[0]+3] >= '2' {
			add(m[0], m[1], 0.5)
		}
	}
	return cs
}

func digitCount(s string) int {
	n := 0
	for _, c := range s {
		if c >= '0' && c <= '9' {
			n++
		}
	}
	return n
}

const (
	monthLong  = `January|February|March|April|May|June|July|August|September|October|November|December`
	monthShort = `Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec`
)

var (
	dateNumRe  = compile(`\b(\d{1,2})[/\-.](\d{1,2})[/\-.](\d{4}|\d{2})\b`)
	dateISORe  = compile(`\b(?:19|20)\d{2}[\-/.](\d{1,2})[\-/.](\d{1,2})\b`)
	dateTextRe = compile(`(?i:\b(?:` + monthLong + `|` + monthShort + `)\.?)\s+\d{1,2}(?:st|nd|rd|th)?(?:,?\s+(?:19|20)\d{2})?\b` +
		`|\b\d{1,2}(?:st|nd|rd|th)?(?:\s+of)?[\s\-](?i:` + monthLong + `|` + monthShort + `)\.?(?:[\s\-,]+(?:19|20)\d{2})?\b` +
		`|\b(?:` + monthLong + `|` + monthShort + `)\.?,?\s+(?:19|20)\d{2}\b`)
	dateMonFirstRe = compile(`(?i)\b(?:` + monthShort + `|May)-\d{1,2}-(?:19|20)?\d{2}\b|\b\d{1,2}(?:` + monthShort + `|May)(?:19|20)?\d{2}\b|\b(?:` + monthLong + `|` + monthShort + `)\.?[ \t]+'\d{2}\b`)
	// Dictated dates come as words: "february nineteenth nineteen fifty".
	dateSpokenRe = compile(`(?i)\b(?:` + monthLong + `)\s+(?:the\s+)?(?:(?:twenty|thirty)[\s\-])?(?:first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth|fourteenth|fifteenth|sixteenth|seventeenth|eighteenth|nineteenth|twentieth|thirtieth)(?:\s*,?\s+(?:(?:nineteen|twenty)\s+(?:(?:ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)(?:[\s\-](?:one|two|three|four|five|six|seven|eight|nine))?|oh[\s\-](?:one|two|three|four|five|six|seven|eight|nine)|hundred)|two thousand(?:\s+(?:and\s+)?(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen|twenty(?:[\s\-](?:one|two|three|four|five|six|seven|eight|nine))?))?))?\b`)
	dateMDRe     = compile(`\b(\d{1,2})/(\d{1,2})\b`)
	dateMYRe     = compile(`\b(?:0?[1-9]|1[0-2])/(?:19|20)\d{2}\b`)
)

func dates(text string, cs []candidate) []candidate {
	valid := func(m, d int) bool { return m >= 1 && m <= 12 && d >= 1 && d <= 31 }
	for _, m := range dateNumRe.FindAllStringSubmatchIndex(text, -1) {
		a, _ := strconv.Atoi(text[m[2]:m[3]])
		b, _ := strconv.Atoi(text[m[4]:m[5]])
		if valid(a, b) || valid(b, a) {
			cs = append(cs, candidate{typ: Date, start: m[0], end: m[1], conf: 0.9, prio: prioPattern})
		}
	}
	for _, m := range dateISORe.FindAllStringSubmatchIndex(text, -1) {
		a, _ := strconv.Atoi(text[m[2]:m[3]])
		b, _ := strconv.Atoi(text[m[4]:m[5]])
		if valid(a, b) {
			cs = append(cs, candidate{typ: Date, start: m[0], end: m[1], conf: 0.9, prio: prioPattern})
		}
	}
	for _, m := range dateTextRe.FindAllStringIndex(text, -1) {
		s := text[m[0]:m[1]]
		// "may 5" in lower case is usually the verb.
		if strings.HasPrefix(s, "may") || strings.HasPrefix(s, "mar ") {
			continue
		}
		cs = append(cs, candidate{typ: Date, start: m[0], end: m[1], conf: 0.9, prio: prioPattern})
	}
	for _, re := range []*pattern{dateMonFirstRe, dateSpokenRe} {
		for _, m := range re.FindAllStringIndex(text, -1) {
			cs = append(cs, candidate{typ: Date, start: m[0], end: m[1], conf: 0.85, prio: prioPattern})
		}
	}
	for _, m := range dateMYRe.FindAllStringIndex(text, -1) {
		cs = append(cs, candidate{typ: Date, start: m[0], end: m[1], conf: 0.8, prio: prioPattern})
	}
	for _, m := range dateMDRe.FindAllStringSubmatchIndex(text, -1) {
		a, _ := strconv.Atoi(text[m[2]:m[3]])
		b, _ := strconv.Atoi(text[m[4]:m[5]])
		if !valid(a, b) {
			continue
		}
		// Blood pressure, fractions and ratios share the shape.
		before := strings.ToLower(text[max(0, m[0]-6):m[0]])
		after := strings.ToLower(text[m[1]:min(len(text), m[1]+6)])
		if strings.Contains(before, "bp") || strings.HasPrefix(strings.TrimSpace(after), "tab") ||
			(m[1] < len(text) && (text[m[1]] == '/' || text[m[1]] == '%')) || (m[0] > 0 && text[m[0]-1] == '/') {
			continue
		}
		cs = append(cs, candidate{typ: Date, start: m[0], end: m[1], conf: 0.6, prio: prioWeak})
	}
	return cs
}

var ageRe = compile(`(?i)\b(?:9\d|1[0-2]\d)(?:\s*|-)(?:years?|yrs?)(?:-|\s)old\b|\b(?:9\d|1[0-2]\d)\s*(?:y/o|yo|y\.o\.|yr old)|\b(?:aged?|age:)\s*(9\d|1[0-2]\d)\b|\b(?:9\d|1[0-2]\d)(?:-|\s)year-old\b|\bin (?:his|her|their) (?:(?:early|mid|late)[\- ])?(?:9\d|1[0-2]\d|90|100)'?s\b|\b(?:9\d|1[0-2]\d)[ \-]?(?:yo|y/o|yr|yrs)\b|\b(?:ninety|one hundred)(?:[\- ](?:and[\- ])?(?:one|two|three|four|five|six|seven|eight|nine|ten))?[\- ](?:years?[\- ]old|yo)\b|\b(?:turned|turns|turning|at age|age of|at the age of|aged)[ \t]+(?:9\d|1[0-2]\d)\b|\baged (?:ninety|one hundred)(?:[\- ](?:one|two|three|four|five|six|seven|eight|nine))?\b`)

func ages(text string, cs []candidate) []candidate {
	for _, m := range ageRe.FindAllStringSubmatchIndex(text, -1) {
		s, e := m[0], m[1]
		if m[2] >= 0 {
			s, e = m[2], m[3]
		}
		cs = append(cs, candidate{typ: AgeOver89, start: s, end: e, conf: 0.95, prio: prioStrong})
	}
	return cs
}
