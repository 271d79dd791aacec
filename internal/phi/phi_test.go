package phi

import (
	"errors"
	"strings"
	"testing"

	"github.com/voiceassist/gateway/internal/apierr"
)

// found reports whether a finding of typ covers want (by overlap) in text.
func found(text string, fs []Finding, typ, want string) bool {
	i := strings.Index(text, want)
	if i < 0 {
		return false
	}
	s := len([]rune(text[:i]))
	e := s + len([]rune(want))
	for _, f := range fs {
		if f.Type == typ && f.Start < e && s < f.End {
			return true
		}
	}
	return false
}

// Sentences written for these tests, not by the benchmark generator.
func TestDetectEachType(t *testing.T) {
	cases := []struct{ typ, text, want string }{
		{Name, "Seen today with Mr. Okonkwo for knee pain.", "Okonkwo"},
		{Name, "Discussed plan with Dr. Priya Venkataraman.", "Priya Venkataraman"},
		{Name, "Note written by Lucia Fernsby, NP.", "Lucia Fernsby"},
		{Name, "Patient: ZHANG, WEI", "ZHANG, WEI"},
		{Name, "Her husband Tobias was present.", "Tobias"},
		{Name, "Emily Watson presents with cough.", "Emily Watson"},
		{Name, "Referred by Mary Jones for evaluation.", "Mary Jones"},
		{Geographic, "She lives at 42 Wallaby Way, Sydney, NY 10001.", "42 Wallaby Way"},
		{Geographic, "She lives at 42 Wallaby Way, Sydney, NY 10001.", "Sydney"},
		{Geographic, "She lives at 42 Wallaby Way, Sydney, NY 10001.", "10001"},
		{Geographic, "Family moved to Tallahassee last spring.", "Tallahassee"},
		{Geographic, "Lives alone in Marin County.", "Marin County"},
		{Geographic, "Mail to P.O. Box 1234.", "P.O. Box 1234"},
		{Date, "Admitted 03/07/2024 for CHF.", "03/07/2024"},
		{Date, "Surgery on 7 March 2023.", "7 March 2023"},
		{Date, "Last colonoscopy Sept 3, 2021.", "Sept 3, 2021"},
		{Date, "DOB: 1950-11-02", "1950-11-02"},
		{Date, "Follow-up scheduled for March 2025.", "March 2025"},
		{Phone, "Cell (312) 555-0199.", "(312) 555-0199"},
		{Phone, "Call me at 312.555.0199 after 5.", "312.555.0199"},
		{Fax, "Fax: 312-555-0100", "312-555-0100"},
		{Email, "Contact: wei.zhang@example.org.", "wei.zhang@example.org"},
		{SSN, "SSN 078-05-1120 on file.", "078-05-1120"},
		{SSN, "social security no. 078051120", "078051120"},
		{MRN, "MRN: 0048213", "0048213"},
		{MRN, "medical record # H7789012", "H7789012"},
		{HealthPlan, "Aetna member ID: XYZ889900112", "XYZ889900112"},
		{HealthPlan, "Medicaid number 99887766A", "99887766A"},
		{Account, "Acct # 5567-112233", "5567-112233"},
		{License, "Driver's license number G1234567", "G1234567"},
		{License, "NPI 1234567893", "1234567893"},
		{Vehicle, "VIN 1FTFW1ET5DFC10312", "1FTFW1ET5DFC10312"},
		{Vehicle, "plate number 8XYZ123", "8XYZ123"},
		{Device, "Defibrillator serial no. PZR-448812", "PZR-448812"},
		{URL, "See https://example.org/u/jdoe for photos.", "https://example.org/u/jdoe"},
		{URL, "Blog at www.janedoe-recovery.com daily.", "www.janedoe-recovery.com"},
		{IP, "Accessed from 172.16.254.1.", "172.16.254.1"},
		{IP, "IPv6 fe80::1ff:fe23:4567:890a seen.", "fe80::1ff:fe23:4567:890a"},
		{Biometric, "Enrolled left thumbprint for the medication cabinet.", "left thumbprint"},
		{Photo, "Full-face photograph scanned into chart.", "Full-face photograph"},
		{AgeOver89, "A 93-year-old woman with dementia.", "93-year-old"},
		{AgeOver89, "Age: 101", "101"},
		{OtherID, "Research participant ID 2020-447 consented.", "2020-447"},
		{OtherID, "Employee number 883311 (hospital staff).", "883311"},
	}
	for _, c := range cases {
		fs := Detect(c.text)
		if !found(c.text, fs, c.typ, c.want) {
			t.Errorf("%s: %q not found in %q; got %+v", c.typ, c.want, c.text, fs)
		}
	}
}

// Clinical text with no identifiers: vitals, doses, codes, years, ages under 90, eponyms,
// facility names.
func TestDetectLeavesClinicalTextAlone(t *testing.T) {
	texts := []string{
		"BP 138/84, HR 72, RR 16, T 98.4 F, SpO2 97% on room air.",
		"Metformin 500 mg BID, Lisinopril 10 mg daily; take 1/2 tab at bedtime.",
		"History of Parkinson's disease and Graves disease, diagnosed in 2015.",
		"A 67-year-old man seen in the Emergency Department at Mercy General Hospital.",
		"ICD-10 E11.9, CPT 99214, A1c 7.4%, LDL 128.",
		"Will follow up in 2 weeks. May increase dose if tolerated.",
		"Assessment and Plan: continue current regimen.",
	}
	for _, text := range texts {
		if fs := Detect(text); len(fs) > 0 {
			var got []string
			for _, f := range fs {
				got = append(got, f.Type+":"+string([]rune(text)[f.Start:f.End]))
			}
			t.Errorf("%q: unexpected %v", text, got)
		}
	}
}

func TestOffsetsAreCodePoints(t *testing.T) {
	text := "Pätiënt José — MRN 12345678, café"
	fs := Detect(text)
	if !found(text, fs, MRN, "12345678") {
		t.Fatalf("MRN not found: %+v", fs)
	}
	for _, f := range fs {
		if f.Type == MRN && string([]rune(text)[f.Start:f.End]) != "12345678" {
			t.Errorf("span %d..%d is %q", f.Start, f.End, string([]rune(text)[f.Start:f.End]))
		}
	}
}

func TestRedact(t *testing.T) {
	text := "Mr. Okonkwo, MRN 12345678, call 312-555-0199 — ok"
	got := Redact(text, Detect(text))
	want := "Mr. [NAME], MRN [MRN], call [PHONE] — ok"
	if got != want {
		t.Errorf("Redact = %q, want %q", got, want)
	}
	if Redact(text, nil) != text {
		t.Error("Redact without findings changed the text")
	}
}

func TestFilterAndCounts(t *testing.T) {
	fs := []Finding{{Type: Name}, {Type: Phone}, {Type: Name}}
	if got := Filter(fs, []string{Phone}); len(got) != 1 || got[0].Type != Phone {
		t.Errorf("Filter = %+v", got)
	}
	if got := Filter(fs, nil); len(got) != 3 {
		t.Errorf("Filter(nil) = %+v", got)
	}
	if c := Counts(fs); c[Name] != 2 || c[Phone] != 1 {
		t.Errorf("Counts = %v", c)
	}
	if !KnownType("age_over_89") || KnownType("zip") {
		t.Error("KnownType")
	}
}

func TestFuzzyLabels(t *testing.T) {
	text := "acount nubmer 44556677 and medcial record numbr 99881122"
	fs := Detect(text)
	if !found(text, fs, Account, "44556677") || !found(text, fs, MRN, "99881122") {
		t.Errorf("misspelt labels: %+v", fs)
	}
}

func TestDetectMoreShapes(t *testing.T) {
	cases := []struct{ typ, text, want string }{
		{Phone, "Call back at 555-0142 (home phone 555-0142).", "555-0142"},
		{Phone, "UK mobile +44 20 7946 0958 while abroad.", "+44 20 7946 0958"},
		{AgeOver89, "She is ninety-two years old.", "ninety-two years old"},
		{Account, "Card on file, acct ending in 4421.", "4421"},
		{Name, "Examined Tobiah Quarrington today.", "Tobiah Quarrington"},
		{Geographic, "Grew up in the town of Millbrook.", "Millbrook"},
		{URL, "Fundraiser at gofundme.co/helpjane now.", "gofundme.co/helpjane"},
	}
	for _, c := range cases {
		fs := Detect(c.text)
		if !found(c.text, fs, c.typ, c.want) {
			t.Errorf("%s: %q not found in %q; got %+v", c.typ, c.want, c.text, fs)
		}
	}
}

func TestGuard(t *testing.T) {
	text := "Mr. Okonkwo, call 312-555-0199."
	got, err := NewGuard(PolicyRedact).Outbound(text)
	if err != nil || got != "Mr. [NAME], call [PHONE]." {
		t.Errorf("redact: %q, %v", got, err)
	}
	if got, err := NewGuard("").Outbound(text); err != nil || got != "Mr. [NAME], call [PHONE]." {
		t.Errorf("default is redact: %q, %v", got, err)
	}
	if got, err := NewGuard(PolicyAllow).Outbound(text); err != nil || got != text {
		t.Errorf("allow: %q, %v", got, err)
	}
	_, err = NewGuard(PolicyBlock).Outbound(text)
	var ae *apierr.Error
	if !errors.As(err, &ae) || ae.Status != 422 || ae.Code != "PHI_BLOCKED" || !strings.Contains(ae.Message, "name, phone") || strings.Contains(ae.Message, "Okonkwo") {
		t.Errorf("block: %v", err)
	}
	if got, err := NewGuard(PolicyBlock).Outbound("BP 120/80, no complaints."); err != nil || got != "BP 120/80, no complaints." {
		t.Errorf("block without PHI: %q, %v", got, err)
	}
}

// Shapes added after the first freeze (written here, not taken from the benchmark sets).
func TestDetectAfterFirstFreeze(t *testing.T) {
	cases := []struct{ typ, text, want string }{
		{Phone, "Home (415)-555-0188.", "(415)-555-0188"},
		{Date, "Seen Oct-02-2023 in clinic.", "Oct-02-2023"},
		{Date, "date of birth july twenty third nineteen sixty four", "july twenty third nineteen sixty four"},
		{Name, "patient name: tomasz wrobel\nchief complaint cough", "tomasz wrobel"},
		{Name, "Intake: Esperanza is a 51-year-old teacher.", "Esperanza"},
		{Name, "PATIENT LIST\nNGUYEN, THAO / 4B", "NGUYEN, THAO"},
		{Geographic, "Found at 10 Old Mill Pike, near Shelbyville.", "Shelbyville"},
		{HealthPlan, "Cigna ID U7788990011 verified.", "U7788990011"},
		{Vehicle, "Parked car, tag KLM 442.", "KLM 442"},
		{Biometric, "A DNA sample was banked.", "DNA sample"},
	}
	for _, c := range cases {
		fs := Detect(c.text)
		if !found(c.text, fs, c.typ, c.want) {
			t.Errorf("%s: %q not found in %q; got %+v", c.typ, c.want, c.text, fs)
		}
	}
	// "Visit:" is not an account label, and a date after it stays a date.
	text := "Visit: Nov-26-2024"
	if fs := Detect(text); len(fs) != 1 || fs[0].Type != Date {
		t.Errorf("%q: %+v", text, fs)
	}
}

// Layouts added in v4 (written here).
func TestDetectLayouts(t *testing.T) {
	table := "Patient | DOB | MRN | Room\nLindqvist, Bo | 1944-01-30 | 7733120 | 4B\n"
	fs := Detect(table)
	for _, c := range []struct{ typ, want string }{{Name, "Lindqvist, Bo"}, {Date, "1944-01-30"}, {MRN, "7733120"}} {
		if !found(table, fs, c.typ, c.want) {
			t.Errorf("table %s %q: %+v", c.typ, c.want, fs)
		}
	}
	if found(table, fs, Geographic, "4B") || found(table, fs, Name, "4B") {
		t.Errorf("room column taken: %+v", fs)
	}
	pid := "PID|1||5512034^^^MRN||DOE^JANE^Q||19500314|F\n"
	fs = Detect(pid)
	for _, c := range []struct{ typ, want string }{{MRN, "5512034"}, {Name, "DOE^JANE^Q"}, {Date, "19500314"}} {
		if !found(pid, fs, c.typ, c.want) {
			t.Errorf("PID %s %q: %+v", c.typ, c.want, fs)
		}
	}
	cases := []struct{ typ, text, want string }{
		{Phone, "callback number is six one seven five five five zero one nine nine", "six one seven five five five zero one nine nine"},
		{AgeOver89, "S: 94F with a fall at home.", "94F"},
		{Device, "Insulin pump ID: TX-2231-QQ replaced.", "TX-2231-QQ"},
		{Geographic, "Mail to RR 3 Box 41.", "RR 3 Box 41"},
		{Name, "Dictated but not read. Dr Pettersen Mar 3rd, 2024", "Pettersen"},
	}
	for _, c := range cases {
		if fs := Detect(c.text); !found(c.text, fs, c.typ, c.want) {
			t.Errorf("%s: %q not found in %q; got %+v", c.typ, c.want, c.text, fs)
		}
	}
	if fs := Detect("T 98F, HR 80."); len(fs) > 0 {
		t.Errorf("a temperature taken for an age: %+v", fs)
	}
}
