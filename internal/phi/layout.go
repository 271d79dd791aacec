package phi

import (
	"strings"
)

// Identifiers that a layout, not a sentence, announces: pipe tables with a header row, HL7
// v2 PID segments, and phone numbers dictated digit by digit.

// columnTypes maps a table header cell (lower case) to the type of the cells below it.
var columnTypes = map[string]string{
	"name": Name, "patient": Name, "patient name": Name, "pt": Name, "provider": Name, "attending": Name,
	"dob": Date, "date of birth": Date, "birth date": Date, "date": Date, "admitted": Date, "discharged": Date, "dos": Date,
	"mrn": MRN, "medical record": MRN, "medical record number": MRN, "chart": MRN, "mr#": MRN,
	"phone": Phone, "tel": Phone, "telephone": Phone, "cell": Phone, "fax": Fax,
	"ssn": SSN, "email": Email, "e-mail": Email, "address": Geographic, "city": Geographic, "zip": Geographic,
	"account": Account, "acct": Account, "member id": HealthPlan, "insurance id": HealthPlan, "policy": HealthPlan,
}

func tables(text string, cs []candidate) []candidate {
	var header []string
	off := 0
	for _, line := range strings.SplitAfter(text, "\n") {
		start := off
		off += len(line)
		body := strings.TrimRight(line, "\r\n")
		if strings.Count(body, "|") < 1 || strings.HasPrefix(body, "PID|") {
			header = nil
			continue
		}
		cells := strings.Split(body, "|")
		known := 0
		for _, c := range cells {
			if columnTypes[strings.ToLower(strings.TrimSpace(c))] != "" {
				known++
			}
		}
		if known >= 2 && known*2 >= len(cells) { // a header row
			header = make([]string, len(cells))
			for i, c := range cells {
				header[i] = columnTypes[strings.ToLower(strings.TrimSpace(c))]
			}
			continue
		}
		if header == nil || len(cells) != len(header) {
			header = nil
			continue
		}
		pos := start
		for i, c := range cells {
			t := strings.TrimSpace(c)
			if header[i] != "" && t != "" && strings.IndexFunc(t, func(r rune) bool { return r != '-' && r != ' ' }) >= 0 {
				s := pos + strings.Index(c, t)
				cs = append(cs, candidate{typ: header[i], start: s, end: s + len(t), conf: 0.8, prio: prioLabel})
			}
			pos += len(c) + 1
		}
	}
	return cs
}

var pidRe = compile(`(?m)^PID\|[^\r\n]*`)

// hl7 reads PID-3 (identifiers: the first is taken as the MRN), PID-5 (name) and PID-7 (birth
// date); other segments are left to the general rules.
func hl7(text string, cs []candidate) []candidate {
	for _, m := range pidRe.FindAllStringIndex(text, -1) {
		fields := strings.Split(text[m[0]:m[1]], "|")
		pos := m[0]
		for i, f := range fields {
			var typ string
			val := f
			switch i {
			case 3:
				typ, val = MRN, strings.SplitN(f, "^", 2)[0]
			case 5:
				typ = Name
			case 7:
				typ = Date
			}
			if typ != "" && strings.TrimSpace(val) != "" {
				cs = append(cs, candidate{typ: typ, start: pos, end: pos + len(val), conf: 0.9, prio: prioLabel})
			}
			pos += len(f) + 1
		}
	}
	return cs
}

const digitWord = `(?:zero|oh|one|two|three|four|five|six|seven|eight|nine)`

var spokenPhoneRe = compile(`(?i)\b` + digitWord + `(?:[ ,\-]+` + digitWord + `){9}\b|\b` + digitWord + `(?:[ ,\-]+` + digitWord + `){6}\b`)

// spokenPhones: "phone number is five five five one two three ..." (dictation).
func spokenPhones(text string, cs []candidate) []candidate {
	for _, m := range spokenPhoneRe.FindAllStringIndex(text, -1) {
		cs = append(cs, candidate{typ: Phone, start: m[0], end: m[1], conf: 0.7, prio: prioPattern})
	}
	return cs
}
