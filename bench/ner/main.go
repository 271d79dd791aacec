// Command ner benchmarks the offline clinical entity extractor (internal/ner) exactly as it
// ships (ner.Default(), the embedded vocabularies and training lexicon) on the corpora in
// ../shared/data/medical-ner (never copied into the repository):
//
//   - NCBI Disease (disease) and BC5CDR (Chemical scored as drug, and Disease): strict (same
//     span and type) and partial (any character overlap, same type) precision, recall, F1;
//   - the NegEx test kit: precision and recall of the negated class, on the gold spans
//     (ner.Extractor.Annotate, the rules Extract uses);
//   - throughput (abstracts/s and ns per 1,000 characters on one core, negation on),
//     allocations per abstract, and the heap the loaded vocabularies take.
//
// Tuning runs on train only: -split train -kfold 5 rebuilds the training lexicon from four
// folds (ner.WriteLexicon into a temporary directory, loaded with ner.Load), scores the fifth
// and reports the mean F1 for each confidence cut-off of -grid. -write-lexicon rebuilds
// internal/ner/data/lexicon-train.tsv from the whole training split.
//
//	go run ./bench/ner                                  # make bench-ner: dev figures
//	go run ./bench/ner -split train -kfold 5            # choose thresholds on train
//	go run ./bench/ner -write-lexicon internal/ner/data/lexicon-train.tsv
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/voiceassist/gateway/internal/ner"
)

type jsonDoc struct {
	ID       string `json:"id"`
	Text     string `json:"text"`
	Entities []struct {
		Start    int    `json:"start"`
		End      int    `json:"end"`
		Type     string `json:"type"`
		Negation string `json:"negation"`
	} `json:"entities"`
}

// corpus is one annotated file and how its types map to ours.
type corpus struct {
	name  string
	file  string
	types map[string]ner.Type
}

var corpora = []corpus{
	{"NCBI Disease", "ncbi_disease.jsonl", map[string]ner.Type{"Disease": ner.Disease}},
	{"BC5CDR", "bc5cdr.jsonl", map[string]ner.Type{"Chemical": ner.Drug, "Disease": ner.Disease}},
}

func main() {
	def := os.Getenv("NER_DATA")
	if def == "" {
		def = "../shared/data/medical-ner"
	}
	var (
		data     = flag.String("data", def, "corpus directory (train/, dev/; NER_DATA)")
		split    = flag.String("split", "dev", "split to score: dev or train")
		kfold    = flag.Int("kfold", 0, "with -split train: k-fold cross-validation of the training lexicon")
		grid     = flag.String("grid", "0.2,0.3,0.35,0.4,0.45,0.5,0.55,0.6,0.7", "confidence cut-offs tried by -kfold")
		writeLex = flag.String("write-lexicon", "", "write the training lexicon counted on the whole train split to this file and exit")
		minConf  = flag.Float64("min-confidence", 0, "Options.MinConfidence (0: the shipped default)")
		errs     = flag.Int("errors", 0, "with -kfold: print the N most frequent false positive and false negative strings (at the default cut-off)")
	)
	flag.Parse()

	if *writeLex != "" {
		docs := map[string][]ner.Doc{}
		for _, c := range corpora {
			docs[c.name] = toDocs(mustRead(filepath.Join(*data, "train", c.file)), c)
		}
		f, err := os.Create(*writeLex)
		if err != nil {
			log.Fatal(err)
		}
		if err := ner.WriteLexicon(lexCorpora(docs), f); err != nil {
			log.Fatal(err)
		}
		if err := f.Close(); err != nil {
			log.Fatal(err)
		}
		return
	}
	if *kfold > 1 {
		if *split != "train" {
			log.Fatal("-kfold runs on -split train only (dev is for the reported figures)")
		}
		crossValidate(*data, *kfold, parseGrid(*grid), *errs)
		return
	}

	runtime.GOMAXPROCS(1)
	var before runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	t0 := time.Now()
	x, err := ner.Default()
	if err != nil {
		log.Fatal(err)
	}
	loadTime := time.Since(t0)
	var after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&after)

	fmt.Printf("Split %s, ner.Default() (load %s, heap %.1f MB), MinConfidence %.2f (0 = default %.2f)\n\n",
		*split, loadTime.Round(time.Millisecond), float64(after.HeapAlloc-before.HeapAlloc)/1e6, *minConf, ner.DefaultMinConfidence)
	fmt.Println("| corpus | type | gold | predicted | strict P | strict R | strict F1 | partial P | partial R | partial F1 |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
	var all []string
	for _, c := range corpora {
		jd := mustRead(filepath.Join(*data, *split, c.file))
		docs := toDocs(jd, c)
		for _, t := range typesOf(c) {
			s := score(x, docs, t, *minConf)
			fmt.Printf("| %s | %s | %s |\n", c.name, t, s.row())
		}
		for _, d := range jd {
			all = append(all, d.Text)
		}
	}
	if *split == "dev" {
		negex(x, filepath.Join(*data, "dev", "negex_testkit.jsonl"))
	}
	throughput(x, all)
}

func typesOf(c corpus) []ner.Type {
	var ts []ner.Type
	for _, t := range ner.Types {
		for _, u := range c.types {
			if u == t {
				ts = append(ts, t)
				break
			}
		}
	}
	return ts
}

func mustRead(path string) []jsonDoc {
	f, err := os.Open(path)
	if err != nil {
		log.Fatal(err)
	}
	defer f.Close()
	var out []jsonDoc
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var d jsonDoc
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			log.Fatalf("%s: %v", path, err)
		}
		out = append(out, d)
	}
	if err := sc.Err(); err != nil {
		log.Fatal(err)
	}
	return out
}

// toDocs keeps the mentions of the corpus's types, in our type names; the texts are ASCII,
// so the byte offsets of the files are code point offsets too. The duplicate NCBI document
// is dropped.
func toDocs(jd []jsonDoc, c corpus) []ner.Doc {
	var out []ner.Doc
	for _, d := range jd {
		if strings.HasSuffix(d.ID, "_2") {
			continue
		}
		nd := ner.Doc{Text: d.Text}
		for _, e := range d.Entities {
			if t, ok := c.types[e.Type]; ok {
				nd.Mentions = append(nd.Mentions, ner.Mention{Start: e.Start, End: e.End, Type: t})
			}
		}
		out = append(out, nd)
	}
	return out
}

func lexCorpora(docs map[string][]ner.Doc) []ner.Corpus {
	var out []ner.Corpus
	for _, c := range corpora {
		out = append(out, ner.Corpus{Docs: docs[c.name], Types: typesOf(c)})
	}
	return out
}

type counts struct{ gold, pred, strictTP, partPredTP, partGoldTP int }

func (s counts) add(o counts) counts {
	return counts{s.gold + o.gold, s.pred + o.pred, s.strictTP + o.strictTP, s.partPredTP + o.partPredTP, s.partGoldTP + o.partGoldTP}
}

func prf(tpP, pred, tpR, gold int) (p, r, f float64) {
	if pred > 0 {
		p = float64(tpP) / float64(pred)
	}
	if gold > 0 {
		r = float64(tpR) / float64(gold)
	}
	if p+r > 0 {
		f = 2 * p * r / (p + r)
	}
	return
}

func (s counts) strictF1() float64 { _, _, f := prf(s.strictTP, s.pred, s.strictTP, s.gold); return f }

func (s counts) row() string {
	sp, sr, sf := prf(s.strictTP, s.pred, s.strictTP, s.gold)
	pp, pr, pf := prf(s.partPredTP, s.pred, s.partGoldTP, s.gold)
	return fmt.Sprintf("%d | %d | %.3f | %.3f | **%.3f** | %.3f | %.3f | %.3f", s.gold, s.pred, sp, sr, sf, pp, pr, pf)
}

// score runs Extract on every document and compares the entities of type t with the gold.
func score(x *ner.Extractor, docs []ner.Doc, t ner.Type, minConf float64) counts {
	var s counts
	for _, d := range docs {
		s = s.add(scoreDoc(x.Extract(d.Text, ner.Options{DetectNegation: true, MinConfidence: minConf}), d, t))
	}
	return s
}

func scoreDoc(ents []ner.Entity, d ner.Doc, t ner.Type) counts {
	var s counts
	type span struct{ a, b int }
	gold := map[span]bool{}
	var golds []span
	for _, m := range d.Mentions {
		if m.Type == t {
			gold[span{m.Start, m.End}] = true
			golds = append(golds, span{m.Start, m.End})
		}
	}
	var preds []span
	for _, e := range ents {
		if e.Type == t {
			preds = append(preds, span{e.Start, e.End})
		}
	}
	s.gold, s.pred = len(golds), len(preds)
	overlap := func(x, y span) bool { return x.a < y.b && y.a < x.b }
	for _, p := range preds {
		if gold[p] {
			s.strictTP++
		}
		for _, g := range golds {
			if overlap(p, g) {
				s.partPredTP++
				break
			}
		}
	}
	for _, g := range golds {
		for _, p := range preds {
			if overlap(p, g) {
				s.partGoldTP++
				break
			}
		}
	}
	return s
}

func negex(x *ner.Extractor, path string) {
	jd := mustRead(path)
	var tp, fp, fn, correct, n int
	for _, d := range jd {
		for _, e := range d.Entities {
			ents := []ner.Entity{{Start: e.Start, End: e.End, Type: ner.Disease}}
			x.Annotate(d.Text, ents)
			gold := e.Negation == "negated"
			got := ents[0].Negated
			n++
			switch {
			case got && gold:
				tp++
			case got && !gold:
				fp++
			case !got && gold:
				fn++
			}
			if got == gold {
				correct++
			}
		}
	}
	p, r, f := prf(tp, tp+fp, tp, tp+fn)
	fmt.Printf("\nNegEx test kit (%d sentences, gold spans): negated precision %.3f, recall %.3f, F1 %.3f, accuracy %.3f\n",
		n, p, r, f, float64(correct)/float64(n))
}

func throughput(x *ner.Extractor, texts []string) {
	chars := 0
	for _, t := range texts {
		chars += len(t)
	}
	o := ner.Options{DetectNegation: true}
	for _, t := range texts[:min(50, len(texts))] { // warm the pools
		x.Extract(t, o)
	}
	var a, b runtime.MemStats
	runtime.ReadMemStats(&a)
	t0 := time.Now()
	rounds := 0
	for time.Since(t0) < 3*time.Second || rounds == 0 {
		for _, t := range texts {
			x.Extract(t, o)
		}
		rounds++
	}
	el := time.Since(t0)
	runtime.ReadMemStats(&b)
	docs := rounds * len(texts)
	fmt.Printf("\nThroughput (GOMAXPROCS=1, negation on, %d abstracts x %d rounds): %.0f abstracts/s, %.0f ns per 1,000 characters, %.1f allocations and %.1f KB per abstract\n",
		len(texts), rounds, float64(docs)/el.Seconds(), float64(el.Nanoseconds())/float64(rounds*chars)*1000,
		float64(b.Mallocs-a.Mallocs)/float64(docs), float64(b.TotalAlloc-a.TotalAlloc)/float64(docs)/1024)
}

func parseGrid(s string) []float64 {
	var out []float64
	for _, f := range strings.Split(s, ",") {
		v, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
		if err != nil {
			log.Fatalf("-grid: %v", err)
		}
		out = append(out, v)
	}
	return out
}

// crossValidate: for each fold, the lexicon counted on the other folds, scored on the fold.
func crossValidate(data string, k int, grid []float64, nErrs int) {
	fps, fns := map[string]int{}, map[string]int{}
	docs := map[string][]ner.Doc{}
	for _, c := range corpora {
		docs[c.name] = toDocs(mustRead(filepath.Join(data, "train", c.file)), c)
	}
	type key struct {
		corpus string
		t      ner.Type
		g      int
	}
	sum := map[key]counts{}
	for f := 0; f < k; f++ {
		train := map[string][]ner.Doc{}
		test := map[string][]ner.Doc{}
		for name, ds := range docs {
			for i, d := range ds {
				if i%k == f {
					test[name] = append(test[name], d)
				} else {
					train[name] = append(train[name], d)
				}
			}
		}
		dir, err := os.MkdirTemp("", "ner-kfold")
		if err != nil {
			log.Fatal(err)
		}
		lf, err := os.Create(filepath.Join(dir, ner.LexiconFile))
		if err != nil {
			log.Fatal(err)
		}
		if err := ner.WriteLexicon(lexCorpora(train), lf); err != nil {
			log.Fatal(err)
		}
		lf.Close()
		x, err := ner.Load(dir)
		os.RemoveAll(dir)
		if err != nil {
			log.Fatal(err)
		}
		if nErrs > 0 {
			for _, c := range corpora {
				for _, d := range test[c.name] {
					collectErrors(x.Extract(d.Text, ner.Options{DetectNegation: true}), d, c.name, fps, fns)
				}
			}
		}
		for _, c := range corpora {
			for _, t := range typesOf(c) {
				for gi, g := range grid {
					kk := key{c.name, t, gi}
					sum[kk] = sum[kk].add(score(x, test[c.name], t, g))
				}
			}
		}
		fmt.Fprintf(os.Stderr, "fold %d/%d done\n", f+1, k)
	}
	fmt.Printf("%d-fold cross-validation on train (lexicon from the other folds); pooled over folds\n\n", k)
	fmt.Println("| corpus | type | cut-off | gold | predicted | strict P | strict R | strict F1 | partial P | partial R | partial F1 |")
	fmt.Println("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, c := range corpora {
		for _, t := range typesOf(c) {
			for gi, g := range grid {
				fmt.Printf("| %s | %s | %.2f | %s |\n", c.name, t, g, sum[key{c.name, t, gi}].row())
			}
		}
	}
	if nErrs > 0 {
		fmt.Println("\nfalse positives (strict):")
		printTop(fps, nErrs)
		fmt.Println("\nfalse negatives (strict):")
		printTop(fns, nErrs)
	}
	fmt.Println("\nmean strict F1 over the three scored lines:")
	for gi, g := range grid {
		m := 0.0
		n := 0
		for _, c := range corpora {
			for _, t := range typesOf(c) {
				m += sum[key{c.name, t, gi}].strictF1()
				n++
			}
		}
		fmt.Printf("  cut-off %.2f: %.3f\n", g, m/float64(n))
	}
}

func collectErrors(ents []ner.Entity, d ner.Doc, corpus string, fps, fns map[string]int) {
	type sp struct {
		a, b int
		t    ner.Type
	}
	gold := map[sp]bool{}
	for _, m := range d.Mentions {
		gold[sp{m.Start, m.End, m.Type}] = true
	}
	pred := map[sp]bool{}
	for _, e := range ents {
		k := sp{e.Start, e.End, e.Type}
		if e.Type != ner.Disease && e.Type != ner.Drug || corpus == "NCBI Disease" && e.Type == ner.Drug {
			continue
		}
		pred[k] = true
		if !gold[k] {
			fps[corpus+" "+string(e.Type)+" "+e.Text]++
		}
	}
	for k := range gold {
		if !pred[k] {
			fns[corpus+" "+string(k.t)+" "+d.Text[k.a:k.b]]++
		}
	}
}

func printTop(m map[string]int, n int) {
	type kv struct {
		k string
		v int
	}
	var all []kv
	for k, v := range m {
		all = append(all, kv{k, v})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].v > all[j].v || all[i].v == all[j].v && all[i].k < all[j].k })
	for i := 0; i < n && i < len(all); i++ {
		fmt.Printf("  %4d  %s\n", all[i].v, all[i].k)
	}
}
