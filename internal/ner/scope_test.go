package ner

import (
	"bufio"
	"os"
	"strings"
	"testing"
)

// TestScopeTable drives the context rules with the sentences of testdata/ner/scope.tsv (the
// entity's span is given, so the table tests the rules, not the vocabularies).
func TestScopeTable(t *testing.T) {
	t.Parallel()
	x, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	f, err := os.Open("../../testdata/ner/scope.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n, header := 0, false
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !header {
			header = true
			continue
		}
		col := strings.Split(line, "\t")
		if len(col) != 3 {
			t.Fatalf("bad line %q", line)
		}
		sent, ent, want := col[0], col[1], col[2]
		i := strings.Index(sent, ent)
		if i < 0 {
			t.Fatalf("%q: entity %q not in sentence", sent, ent)
		}
		// the table is ASCII: byte offsets are code point offsets
		es := []Entity{{Start: i, End: i + len(ent), Type: Disease}}
		x.Annotate(sent, es)
		if got := flags(es[0]); got != want {
			t.Errorf("%q [%s]: got %s, want %s", sent, ent, got, want)
		}
		n++
	}
	if n < 100 {
		t.Fatalf("scope table has %d sentences, want at least 100", n)
	}
}

func flags(e Entity) string {
	var f []string
	if e.Negated {
		f = append(f, "negated")
	}
	if e.Uncertain {
		f = append(f, "uncertain")
	}
	if e.Historical {
		f = append(f, "historical")
	}
	if e.Family {
		f = append(f, "family")
	}
	if len(f) == 0 {
		return "none"
	}
	return strings.Join(f, ",")
}
