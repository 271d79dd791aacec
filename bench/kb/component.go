package main

// The component-level benchmark (-component): the BM25 index and the exact vector store
// used directly, one whole abstract per document, without PostgreSQL or the kb service.
// It is what the retrieval engine was tuned with (BM25 k1/b, analyzer, title boost) and
// stays for that purpose; the default mode measures the service end to end.

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"time"

	"github.com/voiceassist/gateway/internal/embed"
	"github.com/voiceassist/gateway/internal/kbeval"
	"github.com/voiceassist/gateway/internal/search"
	"github.com/voiceassist/gateway/internal/vector"
)

type componentConfig struct {
	depth      int
	dim        int
	titleBoost float64
	analyzer   string
	rrfK       int
	weight     float64
	tune       bool
}

// mode is one retrieval configuration's results.
type mode struct {
	name    string
	runs    map[string][]string
	latency []time.Duration
}

// measure runs one query of m, records its latency and its ranking (ids gives the ranked
// ids of its hits), and returns the hits.
func measure[H any](m *mode, id string, run func() ([]H, error), ids func([]H) []string) ([]H, error) {
	t := time.Now()
	hs, err := run()
	if err != nil {
		return nil, err
	}
	m.latency = append(m.latency, time.Since(t))
	m.runs[id] = ids(hs)
	return hs, nil
}

func runComponent(dataDir string, cfg componentConfig, out io.Writer) error {
	ctx := context.Background()
	ds, err := kbeval.Load(dataDir, "train")
	if err != nil {
		return err
	}
	tmp, err := os.MkdirTemp("", "kb-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)

	docs := make([]search.Doc, len(ds.Docs))
	texts := make([]string, len(ds.Docs))
	for i, d := range ds.Docs {
		docs[i] = search.Doc{ID: d.ID, Title: d.Title, Text: d.Text}
		texts[i] = d.Title + " " + d.Text
	}

	// Keyword index.
	idx, err := search.OpenWith(filepath.Join(tmp, "bm25"), search.Options{TitleBoost: cfg.titleBoost, Analyzer: cfg.analyzer})
	if err != nil {
		return err
	}
	defer idx.Close()
	start := time.Now()
	if err := idx.Put(docs...); err != nil {
		return err
	}
	bm25Time := time.Since(start)
	if n, err := idx.Count(); err != nil || int(n) != len(docs) {
		return fmt.Errorf("indexed %d of %d documents: %v", n, len(docs), err)
	}

	// Vector store.
	emb := embed.NewHashing(cfg.dim)
	start = time.Now()
	vecs, err := emb.Embed(ctx, texts)
	if err != nil {
		return err
	}
	embedTime := time.Since(start)
	store := vector.NewExact(emb.Dim())
	items := make([]vector.Item, len(docs))
	for i, d := range docs {
		items[i] = vector.Item{ID: d.ID, Vector: vecs[i]}
	}
	start = time.Now()
	if err := store.Upsert(ctx, items); err != nil {
		return err
	}
	upsertTime := time.Since(start)

	// Retrieval; per-query lists are kept for the fusion variants.
	kwLists := map[string][]search.Hit{}
	vecLists := map[string][]search.Hit{}
	keyword := mode{name: "keyword (BM25)", runs: map[string][]string{}}
	vec := mode{name: "vector (" + emb.Model() + ", exact)", runs: map[string][]string{}}
	rrf := mode{name: fmt.Sprintf("hybrid RRF (k=%d)", cfg.rrfK), runs: map[string][]string{}}
	fusedIDs := func(fs []search.Fused) []string { return search.IDs(fs)[:min(cfg.depth, len(fs))] }
	for _, q := range ds.Queries {
		kw, err := measure(&keyword, q.ID, func() ([]search.Hit, error) { return idx.Search(q.Text, cfg.depth, nil) }, hitIDs)
		if err != nil {
			return err
		}
		kwLists[q.ID] = kw

		vh, err := measure(&vec, q.ID, func() ([]search.Hit, error) { return vectorSearch(ctx, emb, store, q.Text, cfg.depth) }, hitIDs)
		if err != nil {
			return err
		}
		vecLists[q.ID] = vh

		if _, err := measure(&rrf, q.ID, func() ([]search.Fused, error) {
			return hybrid(ctx, idx, emb, store, q.Text, cfg.depth, func(kw, vh []search.Hit) []search.Fused {
				return search.FuseRRF(cfg.rrfK, kw, vh)
			})
		}, fusedIDs); err != nil {
			return err
		}
	}

	// Weighted fusion: the keyword weight is chosen on the training split
	// (in-sample), and checked by two-fold cross-validation.
	w := cfg.weight
	var sweep []weightScore
	if w < 0 {
		sweep = sweepWeights(ds.Qrels, kwLists, vecLists, cfg.depth)
		w = bestWeight(sweep)
	}
	weighted := mode{name: fmt.Sprintf("hybrid weighted (%.2f kw + %.2f vec, min-max)", w, 1-w), runs: map[string][]string{}}
	for _, q := range ds.Queries {
		if _, err := measure(&weighted, q.ID, func() ([]search.Fused, error) {
			return hybrid(ctx, idx, emb, store, q.Text, cfg.depth, func(kw, vh []search.Hit) []search.Fused {
				return search.FuseWeighted([]float64{w, 1 - w}, kw, vh)
			})
		}, fusedIDs); err != nil {
			return err
		}
	}

	k1, b := search.BM25Params()
	fmt.Fprintf(out, "SciFact training split: %d documents, %d judged queries, %d relevant pairs; %s/%s, %d CPUs, %s\n\n",
		len(ds.Docs), len(ds.Queries), ds.Pairs(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	fmt.Fprintf(out, "| mode | nDCG@10 | Recall@100 | MRR@10 | p50 latency | p99 latency |\n")
	fmt.Fprintf(out, "|---|---|---|---|---|---|\n")
	for _, m := range []mode{keyword, vec, rrf, weighted} {
		s := kbeval.Evaluate(m.runs, ds.Qrels)
		p50, p99 := kbeval.Percentile(m.latency, 50), kbeval.Percentile(m.latency, 99)
		fmt.Fprintf(out, "| %s | %.3f | %.3f | %.3f | %s | %s |\n", m.name, s.NDCG10, s.Recall100, s.MRR10, fmtDur(p50), fmtDur(p99))
	}
	fmt.Fprintf(out, "\nIndexing: BM25 (Bleve, on disk, analyzer %q, k1=%.2f b=%.2f, title boost %.2f) %.0f docs/s (%s); "+
		"embedding (%s) %.0f docs/s (%s); vector upsert %.0f docs/s (%s).\n",
		idx.Analyzer(), k1, b, idx.TitleBoost(), rate(len(docs), bm25Time), fmtDur(bm25Time),
		emb.Model(), rate(len(docs), embedTime), fmtDur(embedTime), rate(len(docs), upsertTime), fmtDur(upsertTime))
	fmt.Fprintf(out, "Latency is per query, single-threaded, and includes embedding the query; hybrid runs both retrievers (top %d each) then fuses.\n", cfg.depth)

	if len(sweep) > 0 {
		cv := crossValidate(ds, kwLists, vecLists, cfg.depth)
		fmt.Fprintf(out, "Weighted fusion: keyword weight %.2f chosen on the whole training split (in-sample); "+
			"two-fold cross-validation (tune on one half of the queries, score the other) gives nDCG@10 %.3f (keyword alone on the same folds %.3f).\n",
			w, cv.fused, cv.keyword)
	}
	if cfg.tune {
		fmt.Fprintln(out)
		printWeightSweep(out, sweep)
		if err := tuneBM25(out, ds, docs, idx, tmp, cfg.depth); err != nil {
			return err
		}
	}
	return nil
}

func hitIDs(hs []search.Hit) []string {
	ids := make([]string, len(hs))
	for i, h := range hs {
		ids[i] = h.ID
	}
	return ids
}

func vectorSearch(ctx context.Context, emb embed.Embedder, store vector.Store, q string, k int) ([]search.Hit, error) {
	qv, err := emb.Embed(ctx, []string{q})
	if err != nil {
		return nil, err
	}
	vh, err := store.Search(ctx, qv[0], k, nil)
	if err != nil {
		return nil, err
	}
	hits := make([]search.Hit, len(vh))
	for i, h := range vh {
		hits[i] = search.Hit{ID: h.ID, Score: float64(h.Score)}
	}
	return hits, nil
}

func hybrid(ctx context.Context, idx *search.Index, emb embed.Embedder, store vector.Store, q string, k int,
	fuse func(kw, vh []search.Hit) []search.Fused) ([]search.Fused, error) {
	kw, err := idx.Search(q, k, nil)
	if err != nil {
		return nil, err
	}
	vh, err := vectorSearch(ctx, emb, store, q, k)
	if err != nil {
		return nil, err
	}
	return fuse(kw, vh), nil
}

type weightScore struct {
	w    float64
	ndcg float64
}

func fusedRuns(lists map[string][]search.Hit, vecLists map[string][]search.Hit, w float64, depth int, only map[string]map[string]bool) map[string][]string {
	runs := map[string][]string{}
	for q := range only {
		f := search.FuseWeighted([]float64{w, 1 - w}, lists[q], vecLists[q])
		runs[q] = search.IDs(f)[:min(depth, len(f))]
	}
	return runs
}

func sweepWeights(qrels map[string]map[string]bool, kw, vec map[string][]search.Hit, depth int) []weightScore {
	var out []weightScore
	for i := 0; i <= 20; i++ {
		w := float64(i) / 20
		out = append(out, weightScore{w: w, ndcg: kbeval.Evaluate(fusedRuns(kw, vec, w, depth, qrels), qrels).NDCG10})
	}
	return out
}

func bestWeight(sweep []weightScore) float64 {
	best := sweep[0]
	for _, s := range sweep[1:] {
		if s.ndcg > best.ndcg {
			best = s
		}
	}
	return best.w
}

type cvResult struct{ fused, keyword float64 }

// crossValidate splits the queries in two folds by position, tunes the weight
// on one fold and scores the other, and averages the two held-out scores.
func crossValidate(ds *kbeval.Dataset, kw, vec map[string][]search.Hit, depth int) cvResult {
	ids := make([]string, 0, len(ds.Qrels))
	for q := range ds.Qrels {
		ids = append(ids, q)
	}
	sort.Strings(ids)
	folds := [2]map[string]map[string]bool{{}, {}}
	for i, q := range ids {
		folds[i%2][q] = ds.Qrels[q]
	}
	var res cvResult
	for f := range 2 {
		train, test := folds[f], folds[1-f]
		w := bestWeight(sweepWeights(train, kw, vec, depth))
		res.fused += kbeval.Evaluate(fusedRuns(kw, vec, w, depth, test), test).NDCG10 / 2
		kwRuns := map[string][]string{}
		for q := range test {
			kwRuns[q] = hitIDs(kw[q])
		}
		res.keyword += kbeval.Evaluate(kwRuns, test).NDCG10 / 2
	}
	return res
}

func printWeightSweep(out io.Writer, sweep []weightScore) {
	fmt.Fprintf(out, "Weighted fusion sweep (keyword weight w, vector 1-w), nDCG@10:\n\n| w |")
	for _, s := range sweep {
		fmt.Fprintf(out, " %.2f |", s.w)
	}
	fmt.Fprintf(out, "\n|---|%s\n| nDCG@10 |", strings.Repeat("---|", len(sweep)))
	for _, s := range sweep {
		fmt.Fprintf(out, " %.3f |", s.ndcg)
	}
	fmt.Fprintln(out)
}

// tuneBM25 prints nDCG@10 of the keyword index over analyzers, title boosts
// and BM25 k1/b; it restores the BM25 parameters afterwards.
func tuneBM25(out io.Writer, ds *kbeval.Dataset, docs []search.Doc, idx *search.Index, tmp string, depth int) error {
	k1, b := search.BM25Params()
	defer search.SetBM25Params(k1, b)
	eval := func(idx *search.Index) (float64, error) {
		runs := map[string][]string{}
		for _, q := range ds.Queries {
			hs, err := idx.Search(q.Text, depth, nil)
			if err != nil {
				return 0, err
			}
			runs[q.ID] = hitIDs(hs)
		}
		return kbeval.Evaluate(runs, ds.Qrels).NDCG10, nil
	}
	fmt.Fprintf(out, "\nBM25 analyzer x title boost (k1=%.2f, b=%.2f), nDCG@10:\n\n| analyzer | boost 0 | 0.25 | 0.5 | 1 | 2 |\n|---|---|---|---|---|---|\n", k1, b)
	for i, an := range search.Analyzers() {
		dir := filepath.Join(tmp, fmt.Sprintf("tune-%d", i))
		fmt.Fprintf(out, "| %s |", an)
		for j, boost := range []float64{0, 0.25, 0.5, 1, 2} {
			idx, err := search.OpenWith(dir, search.Options{Analyzer: an, TitleBoost: boost})
			if err != nil {
				return err
			}
			if j == 0 {
				if err := idx.Put(docs...); err != nil {
					return err
				}
			}
			s, err := eval(idx)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, " %.3f |", s)
			if err := idx.Close(); err != nil {
				return err
			}
		}
		fmt.Fprintln(out)
	}

	k1s := []float64{0.2, 0.35, 0.6, 0.9, 1.2, 2.0}
	bs := []float64{0.03, 0.05, 0.1, 0.2, 0.4, 0.75, 1.0}
	fmt.Fprintf(out, "\nBM25 k1 x b (analyzer %q, title boost %.2f), nDCG@10:\n\n| k1 \\ b |", idx.Analyzer(), idx.TitleBoost())
	for _, bv := range bs {
		fmt.Fprintf(out, " %.2f |", bv)
	}
	fmt.Fprintf(out, "\n|---|%s\n", strings.Repeat("---|", len(bs)))
	for _, kv := range k1s {
		fmt.Fprintf(out, "| %.2f |", kv)
		for _, bv := range bs {
			search.SetBM25Params(kv, bv)
			s, err := eval(idx)
			if err != nil {
				return err
			}
			fmt.Fprintf(out, " %.3f |", s)
		}
		fmt.Fprintln(out)
	}
	return nil
}

func rate(n int, d time.Duration) float64 { return float64(n) / d.Seconds() }

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.2f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	}
}
