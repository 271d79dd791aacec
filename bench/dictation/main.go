// Command dictation measures the clinical note formatter (internal/dictation.Format) on the
// hand-written spoken→written pairs of testdata/dictation: the exact-match rate per
// abbreviation policy, for the main table (frozen before the formatter was written) and for
// the held-out table (written after it, never tuned on), and the formatter's throughput on the
// main table's spoken sides.
//
//	go run ./bench/dictation          # rates and throughput
//	go run ./bench/dictation -v       # and every pair that does not match
package main

import (
	"bufio"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/voiceassist/gateway/internal/dictation"
)

type pair struct {
	policy          dictation.Policy
	spoken, written string
}

// readPairs reads a pairs table: a header, then policy, spoken, written; `\n` in written is a
// line break.
func readPairs(path string) ([]pair, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []pair
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		if line == 1 {
			continue
		}
		cols := strings.Split(sc.Text(), "\t")
		if len(cols) != 3 {
			return nil, fmt.Errorf("%s:%d: want 3 columns", path, line)
		}
		out = append(out, pair{dictation.Policy(cols[0]), cols[1], strings.ReplaceAll(cols[2], `\n`, "\n")})
	}
	return out, sc.Err()
}

func main() {
	dir := flag.String("data", "testdata/dictation", "directory of the pairs tables")
	verbose := flag.Bool("v", false, "print every pair that does not match")
	flag.Parse()

	fmt.Printf("%-28s %-9s %6s %6s %8s\n", "table", "policy", "pairs", "exact", "rate")
	var main []pair
	for _, name := range []string{"formatter_pairs.tsv", "formatter_pairs_heldout.tsv"} {
		pairs, err := readPairs(filepath.Join(*dir, name))
		if err != nil {
			log.Fatal(err)
		}
		if main == nil {
			main = pairs
		}
		total, totalOK := 0, 0
		for _, pol := range []dictation.Policy{dictation.Clinical, dictation.Expanded} {
			n, ok := 0, 0
			for _, p := range pairs {
				if p.policy != pol {
					continue
				}
				n++
				got := dictation.Format(p.spoken, p.policy)
				if got == p.written {
					ok++
				} else if *verbose {
					fmt.Printf("  %s %q\n    got  %q\n    want %q\n", pol, p.spoken, got, p.written)
				}
			}
			total += n
			totalOK += ok
			fmt.Printf("%-28s %-9s %6d %6d %8.3f\n", name, pol, n, ok, float64(ok)/float64(n))
		}
		fmt.Printf("%-28s %-9s %6d %6d %8.3f\n", name, "all", total, totalOK, float64(totalOK)/float64(total))
	}

	// throughput: every spoken side of the main table once per iteration, one goroutine
	var words int
	for _, p := range main {
		words += len(strings.Fields(p.spoken))
	}
	r := testing.Benchmark(func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			for _, p := range main {
				dictation.Format(p.spoken, p.policy)
			}
		}
	})
	perChunk := float64(r.NsPerOp()) / float64(len(main))
	fmt.Printf("\nthroughput (%s, GOMAXPROCS %d): %.1f µs per chunk (%.1f words), %.0f chunks/s, %.0f words/s, %d allocs per chunk\n",
		runtime.Version(), runtime.GOMAXPROCS(0), perChunk/1e3, float64(words)/float64(len(main)),
		1e9/perChunk, 1e9/perChunk*float64(words)/float64(len(main)), r.AllocsPerOp()/int64(len(main)))
}
