// Command phi scores internal/phi on a labelled note set written by bench/phi/gen:
//
//	go run ./bench/phi -set testdata/phi/notes-seed2.jsonl
//
// Matching is by overlap: a labelled span is found when a finding of the same type overlaps
// it (recall); a finding is right when it overlaps a labelled span of its type (precision).
// "any type" counts a labelled span as found when any finding overlaps it, which is what
// redaction needs. Throughput runs Detect over the whole set -rounds times.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"sort"
	"time"

	"github.com/voiceassist/gateway/internal/phi"
)

type span struct {
	Type       string `json:"type"`
	Start, End int
}

type note struct {
	ID    string `json:"id"`
	Text  string `json:"text"`
	Spans []span `json:"spans"`
}

type tally struct{ gold, found, foundAny, pred, right int }

func main() {
	set := flag.String("set", "testdata/phi/notes-seed2.jsonl", "labelled notes (JSON lines)")
	rounds := flag.Int("rounds", 5, "passes over the set for the throughput figure")
	misses := flag.Int("misses", 0, "print up to this many misses and false positives per type")
	flag.Parse()
	notes, err := load(*set)
	if err != nil {
		fmt.Fprintln(os.Stderr, "phi bench:", err)
		os.Exit(1)
	}
	per := map[string]*tally{}
	get := func(t string) *tally {
		if per[t] == nil {
			per[t] = &tally{}
		}
		return per[t]
	}
	shownMiss, shownFP := map[string]int{}, map[string]int{}
	for _, n := range notes {
		fs := phi.Detect(n.Text)
		runes := []rune(n.Text)
		for _, g := range n.Spans {
			t := get(g.Type)
			t.gold++
			same, any := false, false
			for _, f := range fs {
				if f.Start < g.End && g.Start < f.End {
					any = true
					if f.Type == g.Type {
						same = true
					}
				}
			}
			if same {
				t.found++
			} else if shownMiss[g.Type] < *misses {
				shownMiss[g.Type]++
				fmt.Printf("MISS %-12s %q in %s: %q\n", g.Type, string(runes[g.Start:g.End]), n.ID, context(runes, g.Start, g.End))
			}
			if any {
				t.foundAny++
			}
		}
		for _, f := range fs {
			t := get(f.Type)
			t.pred++
			ok := false
			for _, g := range n.Spans {
				if f.Start < g.End && g.Start < f.End && f.Type == g.Type {
					ok = true
					break
				}
			}
			if ok {
				t.right++
			} else if shownFP[f.Type] < *misses {
				shownFP[f.Type]++
				fmt.Printf("FP   %-12s %q in %s: %q\n", f.Type, string(runes[f.Start:f.End]), n.ID, context(runes, f.Start, f.End))
			}
		}
	}

	types := make([]string, 0, len(per))
	for t := range per {
		types = append(types, t)
	}
	sort.Strings(types)
	var all tally
	fmt.Printf("set %s: %d notes\n\n", *set, len(notes))
	fmt.Println("| type | labelled | recall | recall (any type) | found | precision |")
	fmt.Println("| --- | ---: | ---: | ---: | ---: | ---: |")
	for _, t := range types {
		c := per[t]
		all.gold += c.gold
		all.found += c.found
		all.foundAny += c.foundAny
		all.pred += c.pred
		all.right += c.right
		fmt.Printf("| %s | %d | %s | %s | %d | %s |\n", t, c.gold, ratio(c.found, c.gold), ratio(c.foundAny, c.gold), c.pred, ratio(c.right, c.pred))
	}
	fmt.Printf("| **all** | %d | %s | %s | %d | %s |\n", all.gold, ratio(all.found, all.gold), ratio(all.foundAny, all.gold), all.pred, ratio(all.right, all.pred))

	start := time.Now()
	for i := 0; i < *rounds; i++ {
		for _, n := range notes {
			phi.Detect(n.Text)
		}
	}
	el := time.Since(start)
	fmt.Printf("\nthroughput: %.0f notes/s (%d notes x %d rounds in %s, GOMAXPROCS=%d, one goroutine)\n",
		float64(len(notes)**rounds)/el.Seconds(), len(notes), *rounds, el.Round(time.Millisecond), runtime.GOMAXPROCS(0))
}

func ratio(a, b int) string {
	if b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.3f", float64(a)/float64(b))
}

func context(r []rune, s, e int) string {
	return string(r[max(0, s-30):min(len(r), e+30)])
}

func load(path string) ([]note, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []note
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	for sc.Scan() {
		var n note
		if err := json.Unmarshal(sc.Bytes(), &n); err != nil {
			return nil, fmt.Errorf("%s line %d: %w", path, len(out)+1, err)
		}
		out = append(out, n)
	}
	return out, sc.Err()
}
