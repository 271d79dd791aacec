package dictation

import (
	"bufio"
	"os"
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
