package ner

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func extractor(t *testing.T) *Extractor {
	t.Helper()
	x, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func find(ents []Entity, text string) *Entity {
	for i := range ents {
		if ents[i].Text == text {
			return &ents[i]
		}
	}
	return nil
}

func TestNormalization(t *testing.T) {
	t.Parallel()
	x := extractor(t)
	cases := []struct {
		text, mention string
		typ           Type
		want          Normalized
	}{
		{"She took Tylenol for the pain.", "Tylenol", Drug, Normalized{"fda", "acetaminophen", "acetaminophen"}},
		{"Switched from Motrin to aspirin.", "Motrin", Drug, Normalized{"fda", "ibuprofen", "ibuprofen"}},
		{"Switched from Motrin to aspirin.", "aspirin", Drug, Normalized{"fda", "aspirin", "aspirin"}},
		{"He had a heart attack in 2019.", "heart attack", Disease, Normalized{"doid", "DOID:5844", "myocardial infarction"}},
		{"Known type 2 diabetes.", "type 2 diabetes", Disease, Normalized{"doid", "DOID:9352", "type 2 diabetes mellitus"}},
		{"Huntington disease runs in the family.", "Huntington disease", Disease, Normalized{"doid", "DOID:12858", "Huntington's disease"}},
		// possessive and hyphen variants meet the vocabulary's spelling
		{"Huntington's disease was confirmed.", "Huntington's disease", Disease, Normalized{"doid", "DOID:12858", "Huntington's disease"}},
		// plural
		{"Two myocardial infarctions in five years.", "myocardial infarctions", Disease, Normalized{"doid", "DOID:5844", "myocardial infarction"}},
		// all capitals (headings of clinical notes)
		{"DIAGNOSIS: MYOCARDIAL INFARCTION", "MYOCARDIAL INFARCTION", Disease, Normalized{"doid", "DOID:5844", "myocardial infarction"}},
	}
	for _, c := range cases {
		e := find(x.Extract(c.text, Options{}), c.mention)
		if e == nil {
			t.Errorf("%q: %q not found in %+v", c.text, c.mention, x.Extract(c.text, Options{}))
			continue
		}
		if e.Type != c.typ || e.Normalized == nil || *e.Normalized != c.want {
			t.Errorf("%q: %q = %s %+v, want %s %+v", c.text, c.mention, e.Type, e.Normalized, c.typ, c.want)
		}
	}
}

func TestOffsetsAreCodePoints(t *testing.T) {
	t.Parallel()
	x := extractor(t)
	text := "Pätient (72 ans, Zürich) – ménière? No: pneumonia and ibuprofen."
	ents := x.Extract(text, Options{Types: []Type{Disease, Drug}})
	r := []rune(text)
	if len(ents) < 2 {
		t.Fatalf("want pneumonia and ibuprofen, got %+v", ents)
	}
	for _, e := range ents {
		if got := string(r[e.Start:e.End]); got != e.Text {
			t.Errorf("runes[%d:%d] = %q, entity text %q", e.Start, e.End, got, e.Text)
		}
	}
	if e := find(ents, "pneumonia"); e == nil || e.Start != 40 {
		t.Errorf("pneumonia at code point 40, got %+v", e)
	}
}

func TestSortedNonOverlappingDeterministic(t *testing.T) {
	t.Parallel()
	x := extractor(t)
	text := "Breast cancer (BC) and ovarian cancer in BRCA1 carriers; BC risk rises with age. " +
		"Treated with cisplatin and doxorubicin; no cardiotoxicity. Hypertension, diabetes mellitus type 2, asthma."
	a := x.Extract(text, Options{DetectNegation: true})
	if len(a) < 5 {
		t.Fatalf("too few entities: %+v", a)
	}
	for i := 1; i < len(a); i++ {
		if a[i].Start < a[i-1].End {
			t.Errorf("overlap or disorder: %+v then %+v", a[i-1], a[i])
		}
	}
	for i := 0; i < 5; i++ {
		if b := x.Extract(text, Options{DetectNegation: true}); !reflect.DeepEqual(a, b) {
			t.Fatalf("not deterministic:\n%+v\n%+v", a, b)
		}
	}
}

func TestAbbreviations(t *testing.T) {
	t.Parallel()
	x := extractor(t)
	// a short form defined after its long form becomes the same concept everywhere
	text := "Patients with Wiskott-Aldrich syndrome (WAS) were studied. WAS is X-linked."
	ents := x.Extract(text, Options{})
	var was int
	for _, e := range ents {
		if e.Text == "WAS" {
			was++
			if e.Type != Disease {
				t.Errorf("WAS typed %s", e.Type)
			}
		}
	}
	if was != 2 {
		t.Errorf("want both WAS as disease, got %+v", ents)
	}
	// an acronym of the vocabulary defined as something else in this text is not an entity
	text = "Samples were measured by mass spectrometry (MS). MS showed two peaks."
	for _, e := range x.Extract(text, Options{}) {
		if e.Text == "MS" {
			t.Errorf("MS defined as mass spectrometry taken as %s", e.Type)
		}
	}
	// lower-case words are no acronyms: "was" is not Wiskott-Aldrich syndrome
	for _, e := range x.Extract("The test was normal.", Options{}) {
		if e.Text == "was" {
			t.Errorf("the verb was taken as %s", e.Type)
		}
	}
}

func TestOptions(t *testing.T) {
	t.Parallel()
	x := extractor(t)
	text := "Aspirin was given for myocardial infarction after an echocardiogram of the heart."
	all := x.Extract(text, Options{})
	types := map[Type]bool{}
	for _, e := range all {
		types[e.Type] = true
	}
	for _, want := range []Type{Drug, Disease, Procedure, Anatomy} {
		if !types[want] {
			t.Errorf("no %s in %+v", want, all)
		}
	}
	for _, e := range x.Extract(text, Options{Types: []Type{Drug}}) {
		if e.Type != Drug {
			t.Errorf("type filter drug returned %+v", e)
		}
	}
	// MinConfidence above every confidence returns nothing
	if got := x.Extract(text, Options{MinConfidence: 1.01}); len(got) != 0 {
		t.Errorf("MinConfidence 1.01 returned %+v", got)
	}
	for _, e := range all {
		if e.Confidence < DefaultMinConfidence || e.Confidence > 1 {
			t.Errorf("confidence %v out of [%v, 1]: %+v", e.Confidence, DefaultMinConfidence, e)
		}
	}
	// without DetectNegation no context flag is set
	for _, e := range x.Extract("No history of asthma.", Options{}) {
		if e.Negated || e.Historical {
			t.Errorf("flags set without DetectNegation: %+v", e)
		}
	}
	if got := x.Extract("", Options{}); len(got) != 0 {
		t.Errorf("empty text: %+v", got)
	}
}

func TestContextThroughExtract(t *testing.T) {
	t.Parallel()
	x := extractor(t)
	ents := x.Extract("Denies chest pain. Mother had breast cancer. Possible pneumonia. History of asthma.", Options{DetectNegation: true})
	want := map[string]string{"breast cancer": "family", "pneumonia": "uncertain", "asthma": "historical"}
	for text, f := range want {
		e := find(ents, text)
		if e == nil {
			t.Errorf("%q not found in %+v", text, ents)
			continue
		}
		if got := flags(*e); got != f {
			t.Errorf("%q: %s, want %s", text, got, f)
		}
	}
}

func TestLoadOverridesEmbeddedData(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// a directory with only terms.tsv replaces that file and keeps the others embedded
	if err := os.WriteFile(filepath.Join(dir, "terms.tsv"), []byte("term\ttype\tcanonical\nzorbometry\tprocedure\tzorbometry\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	x, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	ents := x.Extract("Zorbometry after aspirin; echocardiogram planned.", Options{})
	if e := find(ents, "Zorbometry"); e == nil || e.Type != Procedure {
		t.Errorf("override term not found: %+v", ents)
	}
	if find(ents, "aspirin") == nil {
		t.Errorf("embedded drugs lost: %+v", ents)
	}
	if find(ents, "echocardiogram") != nil {
		t.Errorf("embedded terms.tsv not replaced: %+v", ents)
	}
	// a broken file is an error naming it, not a panic
	if err := os.WriteFile(filepath.Join(dir, "lexicon-train.tsv"), []byte("text\ttype\tannotated\toccurrences\nfoo\tdisease\tx\t1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err == nil {
		t.Error("bad lexicon counts accepted")
	}
	for name, body := range map[string]string{
		"terms.tsv":                  "term\ttype\tcanonical\nfoo\tgene\tfoo\n",
		"context-triggers.tsv":       "trigger\ttag\tdirection\tmeaning\nfoo\t[WHAT]\tforward\tx\n",
		"clinical-abbreviations.tsv": "abbreviation\tdoid\nFOO\tDOID:nope\n",
		"diseases.tsv":               "id\tname\tsynonym\nDOID:1\tonly two columns\n",
	} {
		bad := t.TempDir()
		if err := os.WriteFile(filepath.Join(bad, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := Load(bad); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("bad %s: error %v should name the file", name, err)
		}
	}
	if _, err := Load(filepath.Join(dir, "missing")); err == nil {
		t.Error("a missing data directory is a misconfiguration, want an error")
	}
}

func BenchmarkExtract(b *testing.B) {
	x, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	text := "A 63-year-old man with a history of hypertension and type 2 diabetes mellitus presented with chest pain. " +
		"He denies shortness of breath. His mother had breast cancer. Possible pneumonia in the right lower lobe. " +
		"He takes metformin and lisinopril; aspirin was started. Rule out myocardial infarction (MI). MI was excluded by troponin. "
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		x.Extract(text, Options{DetectNegation: true})
	}
}

func TestConcurrentExtract(t *testing.T) {
	t.Parallel()
	x := extractor(t)
	text := "Huntington disease (HD): no history of diabetes; mother had breast cancer; Tylenol given."
	want := x.Extract(text, Options{DetectNegation: true})
	done := make(chan []Entity)
	for i := 0; i < 8; i++ {
		go func() { done <- x.Extract(text, Options{DetectNegation: true}) }()
	}
	for i := 0; i < 8; i++ {
		if got := <-done; !reflect.DeepEqual(got, want) {
			t.Errorf("concurrent result differs:\n%+v\n%+v", got, want)
		}
	}
}

func TestNormalizedIsACopy(t *testing.T) {
	t.Parallel()
	x := extractor(t)
	e := find(x.Extract("Tylenol twice.", Options{}), "Tylenol")
	if e == nil || e.Normalized == nil {
		t.Fatal("Tylenol not normalized")
	}
	e.Normalized.ID = "changed"
	if e2 := find(x.Extract("Tylenol twice.", Options{}), "Tylenol"); e2.Normalized.ID != "acetaminophen" {
		t.Errorf("a caller's change reached the vocabulary: %+v", e2.Normalized)
	}
	if !Drug.Valid() || Type("gene").Valid() {
		t.Error("Type.Valid")
	}
}

// BenchmarkExtractLong is the API's largest input (50,000 characters) with many short forms
// and triggers, to keep Extract linear.
func BenchmarkExtractLong(b *testing.B) {
	x, err := Default()
	if err != nil {
		b.Fatal(err)
	}
	var sb strings.Builder
	for i := 0; sb.Len() < 50000; i++ {
		fmt.Fprintf(&sb, "Huntington disease (HD%d) and no asthma; HD%d worsened, mother had breast cancer. ", i, i)
	}
	text := sb.String()[:50000]
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		x.Extract(text, Options{DetectNegation: true})
	}
}

func TestCoordination(t *testing.T) {
	t.Parallel()
	x := extractor(t)
	ents := x.Extract("Carriers of BRCA1 mutations have breast and ovarian cancer more often.", Options{})
	e := find(ents, "breast and ovarian cancer")
	if e == nil || e.Type != Disease || e.Normalized != nil {
		t.Errorf("want one disease mention without a single id, got %+v", ents)
	}
	// two entities joined by "and" stay two
	ents = x.Extract("He had nausea and vomiting.", Options{})
	if find(ents, "nausea") == nil || find(ents, "vomiting") == nil {
		t.Errorf("nausea and vomiting: %+v", ents)
	}
}

// TestClinicalNote: a note in the style of the product's users, not of the corpora.
func TestClinicalNote(t *testing.T) {
	t.Parallel()
	x := extractor(t)
	note := "67-year-old male with HTN, DM2 and CKD presents with chest pain. Denies fever, cough. " +
		"History of MI s/p PCI. Mother had colon cancer. Meds: metoprolol, Lipitor 40 mg. " +
		"CT chest: no pulmonary embolism. Assessment: possible NSTEMI; rule out pneumonia."
	ents := x.Extract(note, Options{DetectNegation: true})
	want := []struct{ text, id, flags string }{
		{"HTN", "DOID:10763", "none"},
		{"DM2", "DOID:9352", "none"},
		{"CKD", "DOID:784", "none"},
		{"fever", "", "negated"}, // a trigger is never taken into a mention as a modifier
		{"MI", "DOID:5844", "historical"},
		{"colon cancer", "DOID:219", "family"},
		{"metoprolol", "metoprolol", "none"},
		{"Lipitor", "atorvastatin calcium", "none"},
		{"pulmonary embolism", "DOID:9477", "negated"},
		{"NSTEMI", "DOID:5844", "uncertain"},
		{"pneumonia", "DOID:552", "uncertain"},
	}
	for _, w := range want {
		e := find(ents, w.text)
		if e == nil {
			t.Errorf("%q not found in %+v", w.text, ents)
			continue
		}
		if w.id != "" && (e.Normalized == nil || e.Normalized.ID != w.id) {
			t.Errorf("%q normalized %+v, want %s", w.text, e.Normalized, w.id)
		}
		if got := flags(*e); got != w.flags {
			t.Errorf("%q flags %s, want %s", w.text, got, w.flags)
		}
	}
}

func TestDeferredBuildsOnFirstUse(t *testing.T) {
	x := Deferred()
	if x.m != nil {
		t.Fatal("a deferred extractor built its dictionaries before its first use")
	}
	got := x.Extract("The patient denies asthma.", Options{DetectNegation: true})
	if x.Err() != nil || len(got) == 0 || !got[0].Negated {
		t.Fatalf("deferred extractor: %v, %+v", x.Err(), got)
	}
}
