package ner

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestWriteLexicon counts a tiny invented corpus and loads the result: an annotated string
// gets annotated/occurrences, a string seen outside mentions is counted against, and Load
// turns the counts into confidences that Extract honours.
func TestWriteLexicon(t *testing.T) {
	t.Parallel()
	mk := func(text string, ms ...string) Doc {
		d := Doc{Text: text}
		for _, m := range ms {
			i := strings.Index(text, m)
			d.Mentions = append(d.Mentions, Mention{Start: i, End: i + len(m), Type: Disease})
		}
		return d
	}
	docs := []Doc{
		mk("Zorbitis was seen in two dogs.", "Zorbitis"),
		mk("Severe zorbitis again.", "zorbitis"),
		mk("A cat had zorbitis, the vet wrote, but it was not annotated."), // counted against
		mk("The glorp index rose."),
		mk("A glorp syndrome case.", "glorp syndrome"),
	}
	var buf bytes.Buffer
	if err := WriteLexicon([]Corpus{{Docs: docs, Types: []Type{Disease}}}, &buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{"zorbitis\tdisease\t2\t3\n", "glorp syndrome\tdisease\t1\t1\n"} {
		if !strings.Contains(strings.ToLower(out), want) {
			t.Errorf("lexicon lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "dogs") || strings.Contains(out, "vet wrote") {
		t.Errorf("lexicon leaks document text:\n%s", out)
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, LexiconFile), buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	x, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	ents := x.Extract("Zorbitis and glorp syndrome.", Options{})
	if find(ents, "Zorbitis") == nil || find(ents, "glorp syndrome") == nil {
		t.Errorf("counted strings not extracted: %+v", ents)
	}
}
