package dictation

import (
	"bufio"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"
)

type pair struct {
	policy          Policy
	spoken, written string
}

// loadPairs reads testdata/dictation/formatter_pairs.tsv (written by hand before the formatter).
func loadPairs(t testing.TB) []pair {
	t.Helper()
	file, err := os.Open("../../testdata/dictation/formatter_pairs.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	var out []pair
	sc := bufio.NewScanner(file)
	for first := true; sc.Scan(); first = false {
		if first {
			continue
		}
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) != 3 {
			t.Fatalf("pairs: %q: want 3 columns", sc.Text())
		}
		out = append(out, pair{Policy(cols[0]), cols[1], strings.ReplaceAll(cols[2], `\n`, "\n")})
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFormatPairs asserts a floor on the exact-match rate of the pairs table; the rate itself is
// measured by bench/dictation.
func TestFormatPairs(t *testing.T) {
	pairs := loadPairs(t)
	if len(pairs) < 150 {
		t.Fatalf("%d pairs, want at least 150", len(pairs))
	}
	ok := 0
	for _, p := range pairs {
		if got := Format(p.spoken, p.policy); got == p.written {
			ok++
		} else {
			t.Logf("%s %q\n  got  %q\n  want %q", p.policy, p.spoken, got, p.written)
		}
	}
	rate := float64(ok) / float64(len(pairs))
	t.Logf("exact match %d/%d = %.3f", ok, len(pairs), rate)
	if rate < 0.9 {
		t.Errorf("exact-match rate %.3f below the floor 0.90", rate)
	}
}

// BenchmarkFormat formats every spoken side of the pairs table once per iteration:
// go test -run '^$' -bench Format ./internal/dictation/
func BenchmarkFormat(b *testing.B) {
	pairs := loadPairs(b)
	b.ReportAllocs()
	for b.Loop() {
		for _, p := range pairs {
			Format(p.spoken, p.policy)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*len(pairs)), "ns/chunk")
}

// Written text passes through: formatting the formatter's output changes nothing.
func TestFormatIdempotent(t *testing.T) {
	for _, p := range loadPairs(t) {
		once := Format(p.spoken, p.policy)
		if twice := Format(once, p.policy); twice != once {
			t.Errorf("%s: Format(%q) = %q, but formatting that gives %q", p.policy, p.spoken, once, twice)
		}
	}
}

func TestFormatEdges(t *testing.T) {
	cases := []struct {
		p            Policy
		spoken, want string
	}{
		{Clinical, "", ""},
		{Clinical, "um uh", ""},
		{Clinical, "The patient, um, is stable.", "The patient is stable."},
		{Clinical, "Um, you know, she is better.", "She is better."},
		{Clinical, "a new line was placed in the left arm period", "A new line was placed in the left arm."},
		{Clinical, "the postoperative period was uneventful", "The postoperative period was uneventful"},
		{Clinical, "Vital signs:\nBP 120/80 mmHg\n\nPlan: rest.", "Vital signs:\nBP 120/80 mmHg\n\nPlan: rest."},
		{Clinical, "temperature 38.5 °C", "T 38.5 °C"},
		{"unknown", "twice a day", "BID"}, // anything but expanded is the clinical policy
		{Expanded, "BID PO PRN", "Twice daily by mouth as needed"},
		// recognisers that punctuate and write digits (Whisper)
		{Clinical, "Blood pressure is 140 over 90. Heart rate 88.", "BP is 140/90 mmHg. HR 88 bpm."},
		{Clinical, "Temperature 98.6°F, oxygen saturation 97%.", "T 98.6 °F, SpO2 97%."},
		{Expanded, "Temperature 98.6°F, oxygen saturation 97%.", "Temperature 98.6 °F, oxygen saturation 97%."},
		{Clinical, "She takes metformin 1000 mg twice a day.", "She takes metformin 1,000 mg BID."},
		{Clinical, "No chest pain. Period.", "No chest pain."},
		{Clinical, "In 2024 she had 3 admissions.", "In 2024 she had 3 admissions."},
		{Clinical, "Flexion to 90°.", "Flexion to 90°."},
	}
	for _, c := range cases {
		if got := Format(c.spoken, c.p); got != c.want {
			t.Errorf("Format(%q, %s) = %q, want %q", c.spoken, c.p, got, c.want)
		}
	}
}

func TestCheckPolish(t *testing.T) {
	before := "Metformin 500 mg BID. BP 140/90 mmHg, SpO2 94% on room air. Denies chest pain. No edema. Follow up in 2 weeks."
	ok := []string{
		before,
		"BP 140/90 mmHg and SpO2 94% on room air. Metformin 500 mg BID. Denies chest pain. No edema. Follow up in two weeks.",
		"metformin 500 milligrams BID; BP 140/90 mmHg; SpO2 94 percent on room air; denies chest pain; no edema; follow-up in 2 weeks",
	}
	for _, after := range ok {
		if err := CheckPolish(before, after); err != nil {
			t.Errorf("CheckPolish(%q) = %v, want nil", after, err)
		}
	}
	bad := []struct{ after, want string }{
		{"Metformin 500 mg BID. BP 104/90 mmHg, SpO2 94% on room air. Denies chest pain. No edema. Follow up in 2 weeks.", "numbers"},
		{"Metformin 500 mg BID. BP 140/90 mmHg, SpO2 94% on room air. Denies chest pain. No edema. Follow up soon.", "numbers"},
		{"Metformin 500 mcg BID. BP 140/90 mmHg, SpO2 94% on room air. Denies chest pain. No edema. Follow up in 2 weeks.", "units"},
		{"Metoprolol 500 mg BID. BP 140/90 mmHg, SpO2 94% on room air. Denies chest pain. No edema. Follow up in 2 weeks.", "drugs and terms"},
		{"Metformin 500 mg BID. BP 140/90 mmHg, SpO2 94% on room air. Reports chest pain. No edema. Follow up in 2 weeks.", "negations"},
		{"Metformin 500 mg BID. BP 140/90 mmHg, SpO2 94% on room air. Denies chest pain. Edema. Follow up in 2 weeks.", "negations"},
	}
	for _, c := range bad {
		err := CheckPolish(before, c.after)
		var pe *PolishError
		if !errors.As(err, &pe) || !slices.Contains(pe.Changed, c.want) {
			t.Errorf("CheckPolish(%q) = %v, want a change of %s", c.after, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "Metformin") {
			t.Errorf("the error names content: %v", err)
		}
	}
	// a drug the vocabularies do not list is still caught by its ending
	if err := CheckPolish("Start finerenone and dapagliflozin.", "Start finerenone."); err == nil {
		t.Error("dropping an unlisted drug-like word must be caught")
	}
}

// FuzzFormat checks that any text formats without a panic and that formatting is idempotent
// on the formatter's own output. go test -fuzz FuzzFormat ./internal/dictation/
func FuzzFormat(f *testing.F) {
	for _, s := range []string{"blood pressure one forty over", "every four to", "point", "one hundred and",
		"temperature", "times", "out of ten", "um, , you know", "(", "period period", "\n\n new line", "5.0 mg"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range []Policy{Clinical, Expanded} {
			once := Format(s, p)
			_ = CheckPolish(s, once)
			if twice := Format(once, p); twice != Format(twice, p) {
				t.Fatalf("Format does not settle on %q", s)
			}
		}
	})
}
