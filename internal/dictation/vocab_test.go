package dictation

import (
	"slices"
	"strings"
	"testing"
)

func TestSpecialtiesAndTerms(t *testing.T) {
	sp := Specialties()
	for _, want := range []string{"cardiology", "general_medicine", "neurology", "pharmacology", "pulmonology"} {
		if !slices.Contains(sp, want) {
			t.Errorf("Specialties() = %v, missing %s", sp, want)
		}
		if n := len(Terms(want)); n < 50 {
			t.Errorf("Terms(%s) has %d terms, want at least 50", want, n)
		}
	}
	if slices.Contains(sp, "common") {
		t.Error("the ordinary-word list is not a specialty")
	}
	if Terms("astrology") != nil {
		t.Error("Terms of an unknown specialty should be nil")
	}
	terms := Terms("cardiology")
	terms[0] = "changed"
	if Terms("cardiology")[0] == "changed" {
		t.Error("Terms returned the built-in slice")
	}
}

func TestCorrect(t *testing.T) {
	c := NewCorrector(AllTerms())
	cases := []struct{ in, want string }{
		{"Start metformen 500 mg BID.", "Start metformin 500 mg BID."},
		{"history of atrial fibrilation on apixaban", "history of atrial fibrillation on apixaban"},
		{"continue lisinipril and amlodapine", "continue lisinopril and amlodipine"},
		{"hydro chlorothiazide 25 mg daily", "hydrochlorothiazide 25 mg daily"},
		{"Zertraline 50 mg daily", "Sertraline 50 mg daily"},
		{"load with fenytoin", "load with phenytoin"},
		{"Levotyroxine 75 mcg", "Levothyroxine 75 mcg"},
		{"signs of congestive hart failure", "signs of congestive heart failure"},
		{"chronic obstructive pulmonary desease", "chronic obstructive pulmonary disease"},
	}
	for _, cs := range cases {
		got, fixes := c.Correct(cs.in)
		if got != cs.want {
			t.Errorf("Correct(%q) = %q, want %q", cs.in, got, cs.want)
			continue
		}
		// the corrections describe the change exactly
		rebuilt, last := "", 0
		for _, f := range fixes {
			if cs.in[f.Start:f.End] != f.From {
				t.Errorf("Correct(%q): span %d:%d is %q, not %q", cs.in, f.Start, f.End, cs.in[f.Start:f.End], f.From)
			}
			rebuilt += cs.in[last:f.Start] + f.To
			last = f.End
		}
		if rebuilt += cs.in[last:]; rebuilt != got {
			t.Errorf("Correct(%q): corrections rebuild %q, not %q", cs.in, rebuilt, got)
		}
	}
}

// Ordinary words and other forms of listed words stay as they are.
func TestCorrectLeavesOrdinaryText(t *testing.T) {
	c := NewCorrector(AllTerms())
	for _, text := range []string{
		"The patient is a 65-year-old male seen at the nursing station, stating he feels better.",
		"He received intravenous fluids and subcutaneous heparin.",
		"She is hypertensive and tachycardic, with a depressive mood.",
		"No fever, fewer chills, favors the left side.",
		"A febrile illness was suspected; strike that from the plan.",
		"Echocardiography showed atherosclerotic changes; creatine kinase normal.",
		"Hepatitis-B serology negative. Carbidopa-levodopa continued.",
		"Tremors improved; stents patent; cranial nerve exam normal.",
		"BP 140/90 mmHg, HR 88 bpm, SpO2 94% on room air.",
		"Parkinson's disease, stable on current regimen.",
		"We discussed the roles of diet and exercise at this station.",
		"",
	} {
		got, fixes := c.Correct(text)
		if got != text || len(fixes) != 0 {
			t.Errorf("Correct(%q) = %q, %v; want it unchanged", text, got, fixes)
		}
	}
}

func TestCorrectUserTermsAndTies(t *testing.T) {
	c := NewCorrector([]string{"Xarelto", "tirzepatide", "  ", "tirzepatide"})
	if got, _ := c.Correct("started tirzepatyde weekly"); got != "started tirzepatide weekly" {
		t.Errorf("user term: got %q", got)
	}
	if got, _ := c.Correct("xarelto 20 mg"); got != "xarelto 20 mg" {
		t.Errorf("a term written in another case is kept: got %q", got)
	}
	// two terms equally near: no guess
	tie := NewCorrector([]string{"abcdefgh", "abcdefgk"})
	if got, fixes := tie.Correct("abcdefgx"); got != "abcdefgx" || fixes != nil {
		t.Errorf("tie: got %q %v", got, fixes)
	}
	var none *Corrector
	if got, _ := none.Correct("metformen"); got != "metformen" {
		t.Error("a nil corrector changes nothing")
	}
	if !strings.Contains(strings.Join(AllTerms(), "|"), "metformin") {
		t.Error("AllTerms misses pharmacology")
	}
}
