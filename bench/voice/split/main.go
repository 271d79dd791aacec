// Command split assigns the benchmark sentences of bench/voice/testdata/sentences.tsv to a
// tune half and a heldout half and writes bench/voice/testdata/split.tsv (id<TAB>set).
//
// The split is fixed before any dictionary or recogniser tuning so held-out numbers stay
// honest: it is stratified by kind (half of the general and half of the clinical sentences
// in each set), and each kind is shuffled by Fisher-Yates driven by splitmix64 seeded with
// Seed. Both are written out here rather than taken from math/rand so the result never
// depends on the Go version. The committed split.tsv is checked by main_test.go.
//
//	go run ./bench/voice/split            # rewrites bench/voice/testdata/split.tsv
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
)

// Seed is the fixed seed of the split (never change it once results are published).
const Seed uint64 = 20261204

// Sentence is one line of sentences.tsv.
type Sentence struct {
	ID, Kind, Text string
}

func main() {
	in := flag.String("in", "bench/voice/testdata/sentences.tsv", "sentences (id<TAB>kind<TAB>text)")
	out := flag.String("out", "bench/voice/testdata/split.tsv", "split to write (id<TAB>tune|heldout)")
	flag.Parse()
	data, err := os.ReadFile(*in)
	if err != nil {
		log.Fatal(err)
	}
	sentences, err := Parse(data)
	if err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, Format(Split(sentences, Seed)), 0o644); err != nil {
		log.Fatal(err)
	}
}

// Parse reads sentences.tsv.
func Parse(data []byte) ([]Sentence, error) {
	var out []Sentence
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 || (f[1] != "general" && f[1] != "clinical") {
			return nil, fmt.Errorf("sentences line %d: want id<TAB>general|clinical<TAB>text", n)
		}
		out = append(out, Sentence{ID: f[0], Kind: f[1], Text: f[2]})
	}
	return out, sc.Err()
}

// Split returns id -> "tune" or "heldout" in input order: per kind, the first half of a
// seeded shuffle is tune, the rest heldout (an odd count gives heldout the extra one).
func Split(sentences []Sentence, seed uint64) []Assignment {
	rng := splitmix64(seed)
	set := map[string]string{}
	for _, kind := range []string{"general", "clinical"} {
		var ids []string
		for _, s := range sentences {
			if s.Kind == kind {
				ids = append(ids, s.ID)
			}
		}
		for i := len(ids) - 1; i > 0; i-- { // Fisher-Yates
			j := int(rng.next() % uint64(i+1))
			ids[i], ids[j] = ids[j], ids[i]
		}
		for i, id := range ids {
			if i < len(ids)/2 {
				set[id] = "tune"
			} else {
				set[id] = "heldout"
			}
		}
	}
	out := make([]Assignment, len(sentences))
	for i, s := range sentences {
		out[i] = Assignment{ID: s.ID, Set: set[s.ID]}
	}
	return out
}

// Assignment is one line of split.tsv.
type Assignment struct{ ID, Set string }

// Format writes split.tsv.
func Format(as []Assignment) []byte {
	var b bytes.Buffer
	for _, a := range as {
		fmt.Fprintf(&b, "%s\t%s\n", a.ID, a.Set)
	}
	return b.Bytes()
}

type splitmix64 uint64

func (s *splitmix64) next() uint64 {
	*s += 0x9e3779b97f4a7c15
	z := uint64(*s)
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
