// Package kbeval measures knowledge-base retrieval through the real service: it loads a
// BEIR-layout dataset (corpus.jsonl, queries.jsonl, qrels/<split>.tsv), ingests the corpus
// into a throwaway PostgreSQL database through kb.Service.Ingest, lets the indexing workers
// run in process, searches every judged query through kb.Service.Search and scores the
// rankings (nDCG@10, Recall@100, MRR@10). `voiceassist kb eval` and bench/kb share it.
package kbeval

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/config"
	"github.com/voiceassist/gateway/internal/database"
	"github.com/voiceassist/gateway/internal/extract"
	"github.com/voiceassist/gateway/internal/kb"
	"github.com/voiceassist/gateway/internal/search"
)

// Options of an evaluation.
type Options struct {
	// Data is the BEIR directory; Split names qrels/<Split>.tsv ("train").
	Data, Split string
	// Modes to run (ParseModes); empty: keyword, vector and both hybrid fusions.
	Modes []Mode
	// Workers is the number of indexing jobs run at once in process (2).
	Workers int
	// TopK is the number of chunk hits asked per query (100, the API's maximum); the
	// document ranking is their documents in order of first occurrence.
	TopK int
	// Batch is the number of uploads per Ingest call, one transaction each (200).
	Batch int
	// Tune also sweeps the vector weight of both fusions (VectorWeights) and, for each of
	// ChunkSizes, re-indexes the corpus into another scratch database.
	Tune          bool
	VectorWeights []float64
	ChunkSizes    []int
	// DBPrefix names the scratch databases ("va_eval_").
	DBPrefix string
	// Log receives the service's log (warnings and errors are enough); nil discards it.
	Log *slog.Logger
	// Progress receives progress lines (stderr); nil discards them.
	Progress io.Writer
	// Open opens the knowledge base of cfg on pool exactly as the server does, with workers
	// indexing jobs at once (app.OpenKBService); required.
	Open Opener
}

// Opener opens a knowledge base and returns it with the function that closes it (its
// workers, keyword index and vector store).
type Opener func(ctx context.Context, cfg *config.Config, pool *pgxpool.Pool, log *slog.Logger, workers int) (*kb.Service, func(context.Context) error, error)

// DefaultVectorWeights are the vector weights -tune tries (the keyword weight stays as
// configured).
var DefaultVectorWeights = []float64{0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7, 1}

// Mode is one retrieval configuration: a kb search mode and, for hybrid, a fusion.
type Mode struct {
	Mode   string // kb.ModeKeyword, kb.ModeVector or kb.ModeHybrid
	Fusion string // kb.FusionRRF or kb.FusionWeighted when hybrid
}

// ParseModes reads a comma-separated list of keyword, vector, hybrid (both fusions),
// hybrid:rrf and hybrid:weighted.
func ParseModes(s string) ([]Mode, error) {
	var out []Mode
	add := func(m Mode) {
		if !slices.Contains(out, m) {
			out = append(out, m)
		}
	}
	for _, p := range strings.Split(s, ",") {
		switch strings.TrimSpace(strings.ToLower(p)) {
		case kb.ModeKeyword:
			add(Mode{Mode: kb.ModeKeyword})
		case kb.ModeVector:
			add(Mode{Mode: kb.ModeVector})
		case kb.ModeHybrid:
			add(Mode{Mode: kb.ModeHybrid, Fusion: kb.FusionRRF})
			add(Mode{Mode: kb.ModeHybrid, Fusion: kb.FusionWeighted})
		case "hybrid:rrf", "rrf":
			add(Mode{Mode: kb.ModeHybrid, Fusion: kb.FusionRRF})
		case "hybrid:weighted", "weighted":
			add(Mode{Mode: kb.ModeHybrid, Fusion: kb.FusionWeighted})
		case "":
		default:
			return nil, fmt.Errorf("unknown mode %q (keyword, vector, hybrid, hybrid:rrf, hybrid:weighted)", p)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no mode given")
	}
	return out, nil
}

func (o *Options) defaults() {
	if o.Split == "" {
		o.Split = "train"
	}
	if len(o.Modes) == 0 {
		o.Modes, _ = ParseModes("keyword,vector,hybrid")
	}
	if o.Workers <= 0 {
		o.Workers = 2
	}
	if o.TopK <= 0 {
		o.TopK = 100
	}
	if o.Batch <= 0 {
		o.Batch = 200
	}
	if len(o.VectorWeights) == 0 {
		o.VectorWeights = DefaultVectorWeights
	}
	if o.DBPrefix == "" {
		o.DBPrefix = "va_eval_"
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Progress == nil {
		o.Progress = io.Discard
	}
}

// Run evaluates the knowledge base configured by base (embedder, chunking, fusion and
// weights; base.DatabaseURL names the server the scratch databases are created on; the
// vector store is always the in-process one, so that nothing is written to a shared
// Qdrant collection) and writes the report to out as Markdown.
func Run(ctx context.Context, base *config.Config, opt Options, out io.Writer) error {
	if opt.Open == nil {
		return errors.New("kbeval: Options.Open is required")
	}
	opt.defaults()
	ds, err := Load(opt.Data, opt.Split)
	if err != nil {
		return err
	}
	cfg := *base
	cfg.QdrantHost = ""
	fmt.Fprintf(opt.Progress, "kbeval: %s: %d documents, %d judged %s queries\n", opt.Data, len(ds.Docs), len(ds.Queries), ds.Split)

	in, err := open(ctx, cfg, ds, opt)
	if err != nil {
		return err
	}
	defer in.close()

	results := make([]modeResult, 0, len(opt.Modes))
	for _, m := range opt.Modes {
		fmt.Fprintf(opt.Progress, "kbeval: searching %d queries, %s\n", len(ds.Queries), in.label(m))
		r, err := in.search(ctx, ds, m, opt.TopK)
		if err != nil {
			return err
		}
		results = append(results, r)
	}
	in.report(out, ds, opt, results)

	if !opt.Tune {
		return nil
	}
	fmt.Fprintf(opt.Progress, "kbeval: tuning the fusion weights\n")
	ls, err := in.lists(ctx, ds, opt.TopK)
	if err != nil {
		return err
	}
	fmt.Fprintln(out)
	in.weightSweep(out, ds, opt, ls, results)

	if len(opt.ChunkSizes) == 0 {
		return nil
	}
	type sizeRow struct {
		size, chunks int
		indexDur     time.Duration
		scores       []Scores
		best         [2]weightScore
	}
	rows := []sizeRow{{size: cfg.KBChunkTokens, chunks: in.chunks, indexDur: in.indexDur}}
	for _, r := range results {
		rows[0].scores = append(rows[0].scores, r.scores)
	}
	rows[0].best = [2]weightScore{bestWeight(ls.sweep(ds, kb.FusionRRF, in, opt)), bestWeight(ls.sweep(ds, kb.FusionWeighted, in, opt))}
	for _, size := range opt.ChunkSizes {
		if size == cfg.KBChunkTokens {
			continue
		}
		c := cfg
		c.KBChunkTokens = size
		c.KBChunkOverlap = min(cfg.KBChunkOverlap, size-1)
		fmt.Fprintf(opt.Progress, "kbeval: re-indexing with %d-token chunks\n", size)
		o, err := open(ctx, c, ds, opt)
		if err != nil {
			return err
		}
		row := sizeRow{size: size, chunks: o.chunks, indexDur: o.indexDur}
		for _, m := range opt.Modes {
			r, err := o.search(ctx, ds, m, opt.TopK)
			if err != nil {
				o.close()
				return err
			}
			row.scores = append(row.scores, r.scores)
		}
		l, err := o.lists(ctx, ds, opt.TopK)
		if err != nil {
			o.close()
			return err
		}
		row.best = [2]weightScore{bestWeight(l.sweep(ds, kb.FusionRRF, o, opt)), bestWeight(l.sweep(ds, kb.FusionWeighted, o, opt))}
		o.close()
		rows = append(rows, row)
	}
	sort.Slice(rows, func(i, j int) bool { return rows[i].size < rows[j].size })
	fmt.Fprintf(out, "\nChunk size (overlap %d tokens, weights as configured), nDCG@10; the last two columns are the best vector weight of each fusion and its nDCG@10:\n\n",
		cfg.KBChunkOverlap)
	fmt.Fprintf(out, "| chunk tokens | chunks | per document | indexing |")
	for _, m := range opt.Modes {
		fmt.Fprintf(out, " %s |", in.short(m))
	}
	fmt.Fprintf(out, " best rrf | best weighted |\n|---|---|---|---|%s---|---|\n", strings.Repeat("---|", len(opt.Modes)))
	for _, r := range rows {
		fmt.Fprintf(out, "| %d | %d | %.2f | %s |", r.size, r.chunks, float64(r.chunks)/float64(len(ds.Docs)), fmtDur(r.indexDur))
		for _, s := range r.scores {
			fmt.Fprintf(out, " %.3f |", s.NDCG10)
		}
		fmt.Fprintf(out, " %.3f (w=%s) | %.3f (w=%s) |\n", r.best[0].ndcg, fmtW(r.best[0].w), r.best[1].ndcg, fmtW(r.best[1].w))
	}
	return nil
}

// instance is one scratch knowledge base with the corpus indexed.
type instance struct {
	cfg     config.Config
	kb      *kb.Service
	closeKB func(context.Context) error
	pool    *pgxpool.Pool
	drop    func() error
	tmp     string
	docOf   map[uuid.UUID]string // kb document id -> corpus id

	chunks              int
	ingestDur, indexDur time.Duration
}

// open creates a scratch database, opens the knowledge base on it with the workers running,
// ingests the corpus and waits until every document is indexed.
func open(ctx context.Context, cfg config.Config, ds *Dataset, opt Options) (*instance, error) {
	in := &instance{cfg: cfg, drop: func() error { return nil }}
	ok := false
	defer func() {
		if !ok {
			in.close() // drops the scratch database on any failure or interruption
		}
	}()
	url, err := database.CreateScratch(ctx, cfg.DatabaseURL, opt.DBPrefix, "")
	if err != nil {
		return nil, fmt.Errorf("kbeval: %w", err)
	}
	in.drop = func() error { return database.DropScratch(url) }
	if in.pool, err = database.Open(ctx, url, opt.Workers+8); err != nil {
		return nil, err
	}
	if err := database.Migrate(ctx, in.pool, "up", io.Discard); err != nil {
		return nil, err
	}
	if in.tmp, err = os.MkdirTemp("", "kbeval-"); err != nil {
		return nil, err
	}
	in.cfg.DatabaseURL, in.cfg.DataDir = url, in.tmp
	if in.kb, in.closeKB, err = opt.Open(ctx, &in.cfg, in.pool, opt.Log, opt.Workers); err != nil {
		return nil, err
	}
	// Labels and offline sweeps use what the service resolved ("auto" fusion picks weights).
	f := in.kb.Fusion()
	in.cfg.KBFusion, in.cfg.KBRRFK, in.cfg.KBKeywordWeight, in.cfg.KBVectorWeight = f.Name, f.K, f.Keyword, f.Vector
	if err := in.kb.Start(ctx); err != nil {
		return nil, err
	}

	// Each corpus document is one JSON upload {"_id", "title", "text"}: the extractor reads
	// the title and the text (one section) and ignores "_id", which keeps documents of equal
	// content distinct. The corpus id is recovered from the kb document id Ingest returns.
	actor := audit.Actor{Email: "kbeval"}
	in.docOf = make(map[uuid.UUID]string, len(ds.Docs))
	ids := make([]uuid.UUID, 0, len(ds.Docs))
	start := time.Now()
	lastReport := start
	for from := 0; from < len(ds.Docs); from += opt.Batch {
		batch := ds.Docs[from:min(from+opt.Batch, len(ds.Docs))]
		ups := make([]kb.Upload, len(batch))
		for i, d := range batch {
			data, err := json.Marshal(d)
			if err != nil {
				return nil, err
			}
			ups[i] = kb.Upload{Filename: d.ID + ".json", Format: extract.JSON, Data: data, Title: d.Title,
				Metadata: map[string]any{"corpus_id": d.ID}}
		}
		items, err := in.kb.Ingest(ctx, actor, ups)
		if err != nil {
			return nil, fmt.Errorf("kbeval: ingest documents %d-%d: %w", from, from+len(batch)-1, err)
		}
		for i, it := range items {
			if prev, dup := in.docOf[it.Document.ID]; dup || it.Duplicate {
				return nil, fmt.Errorf("kbeval: corpus document %s stored as a duplicate of %s", batch[i].ID, prev)
			}
			in.docOf[it.Document.ID] = batch[i].ID
			ids = append(ids, it.Document.ID)
		}
		if time.Since(lastReport) > 5*time.Second {
			fmt.Fprintf(opt.Progress, "kbeval: ingested %d/%d\n", len(ids), len(ds.Docs))
			lastReport = time.Now()
		}
	}
	in.ingestDur = time.Since(start)
	lastReport = time.Time{}
	docs, st, err := in.kb.WaitIndexed(ctx, ids, 200*time.Millisecond, func(s kb.IndexState) {
		if time.Since(lastReport) > 5*time.Second || s.Done() {
			fmt.Fprintf(opt.Progress, "kbeval: indexed %d/%d (%d failed, %s)\n", s.Indexed, s.Total, s.Failed, fmtDur(time.Since(start)))
			lastReport = time.Now()
		}
	})
	if err != nil {
		return nil, err
	}
	in.indexDur = time.Since(start)
	if st.Failed > 0 {
		for _, d := range docs {
			if d.Status != "indexed" {
				return nil, fmt.Errorf("kbeval: %d of %d documents failed to index, e.g. %s: %s", st.Failed, st.Total, in.docOf[d.ID], errorOf(d.Error))
			}
		}
		return nil, fmt.Errorf("kbeval: %d of %d documents failed to index", st.Failed, st.Total)
	}
	for _, d := range docs {
		in.chunks += int(d.ChunkCount)
	}
	ok = true
	return in, nil
}

func (in *instance) close() {
	if in.kb != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := in.closeKB(ctx); err != nil {
			fmt.Fprintln(os.Stderr, "kbeval: close:", err)
		}
		cancel()
		in.kb = nil
	}
	if in.pool != nil {
		in.pool.Close()
		in.pool = nil
	}
	if in.tmp != "" {
		_ = os.RemoveAll(in.tmp)
		in.tmp = ""
	}
	if err := in.drop(); err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	in.drop = func() error { return nil }
}

// modeResult is one mode's rankings, scores and latencies.
type modeResult struct {
	mode    Mode
	runs    map[string][]string
	scores  Scores
	latency []time.Duration
}

// search runs every judged query through kb.Service.Search, one at a time.
func (in *instance) search(ctx context.Context, ds *Dataset, m Mode, topK int) (modeResult, error) {
	r := modeResult{mode: m, runs: make(map[string][]string, len(ds.Queries)), latency: make([]time.Duration, 0, len(ds.Queries))}
	for _, q := range ds.Queries {
		t := time.Now()
		res, err := in.kb.Search(ctx, kb.Query{Text: q.Text, TopK: topK, Mode: m.Mode, Fusion: m.Fusion})
		if err != nil {
			return r, fmt.Errorf("kbeval: search %s (%s): %w", q.ID, m.Mode, err)
		}
		r.latency = append(r.latency, time.Since(t))
		ranked, err := in.documents(res.Hits)
		if err != nil {
			return r, err
		}
		r.runs[q.ID] = ranked
	}
	r.scores = Evaluate(r.runs, ds.Qrels)
	return r, nil
}

// documents maps chunk hits to corpus ids; a document ranks where its first chunk does.
func (in *instance) documents(hits []kb.Hit) ([]string, error) {
	seen := make(map[string]bool, len(hits))
	out := make([]string, 0, len(hits))
	for _, h := range hits {
		id, ok := in.docOf[h.Citation.DocumentID]
		if !ok {
			return nil, fmt.Errorf("kbeval: hit of unknown document %s (%q)", h.Citation.DocumentID, h.Citation.Filename)
		}
		if !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out, nil
}

func (in *instance) label(m Mode) string {
	c := &in.cfg
	switch {
	case m.Mode == kb.ModeKeyword:
		return "keyword (Bleve BM25)"
	case m.Mode == kb.ModeVector:
		return fmt.Sprintf("vector (%s, exact)", in.kb.EmbeddingModel())
	case m.Fusion == kb.FusionWeighted:
		return fmt.Sprintf("hybrid weighted (min-max; keyword %s, vector %s)", fmtW(c.KBKeywordWeight), fmtW(c.KBVectorWeight))
	default:
		return fmt.Sprintf("hybrid rrf (k=%d; keyword %s, vector %s)", c.KBRRFK, fmtW(c.KBKeywordWeight), fmtW(c.KBVectorWeight))
	}
}

func (in *instance) short(m Mode) string {
	if m.Mode == kb.ModeHybrid {
		return m.Fusion
	}
	return m.Mode
}

func (in *instance) report(out io.Writer, ds *Dataset, opt Options, results []modeResult) {
	c := &in.cfg
	fmt.Fprintf(out, "%s, %s split, through kb.Service: %d documents, %d judged queries, %d relevant pairs; %s/%s, %d CPUs, %s\n\n",
		filepath.Base(filepath.Clean(opt.Data)), ds.Split, len(ds.Docs), len(ds.Queries), ds.Pairs(), runtime.GOOS, runtime.GOARCH, runtime.NumCPU(), runtime.Version())
	fmt.Fprintf(out, "Knowledge base: embedder %s, in-process exact vectors; %d-token chunks (overlap %d): %d chunks, %.2f per document; "+
		"top %d chunks per query, ranked as documents by first occurrence.\n\n",
		in.kb.EmbeddingModel(), c.KBChunkTokens, c.KBChunkOverlap, in.chunks, float64(in.chunks)/float64(len(ds.Docs)), opt.TopK)
	fmt.Fprintf(out, "| mode | nDCG@10 | Recall@100 | MRR@10 | p50 latency | p99 latency |\n|---|---|---|---|---|---|\n")
	for _, r := range results {
		fmt.Fprintf(out, "| %s | %.3f | %.3f | %.3f | %s | %s |\n", in.label(r.mode), r.scores.NDCG10, r.scores.Recall100, r.scores.MRR10,
			fmtDur(Percentile(r.latency, 50)), fmtDur(Percentile(r.latency, 99)))
	}
	n := float64(len(ds.Docs))
	fmt.Fprintf(out, "\nIndexing: Ingest (store + queue, %d documents per call) %.0f docs/s (%s); every document indexed "+
		"(extract, chunk, embed, store, keyword and vector index) %s after the first upload with %d in-process workers: "+
		"%.1f docs/s, %.1f chunks/s.\n",
		opt.Batch, n/in.ingestDur.Seconds(), fmtDur(in.ingestDur), fmtDur(in.indexDur), opt.Workers,
		n/in.indexDur.Seconds(), float64(in.chunks)/in.indexDur.Seconds())
	fmt.Fprintf(out, "Latency: one kb.Service.Search per query, sequential, including the index catch-up check, "+
		"embedding the query, both retrievers (hybrid) and hydrating the hits from PostgreSQL.\n")
}

// lists are each query's keyword and vector chunk lists as deep as hybrid search takes
// them, to fuse them offline with other weights.
type lists struct {
	kw, vec map[string][]search.Hit
	doc     map[string]string // chunk id -> corpus id
	topK    int
}

// hybridDepth is how deep kb.Service.Search takes each list in hybrid mode (kb/search.go).
func hybridDepth(topK int) int { return max(100, topK+topK/2+5) }

func (in *instance) lists(ctx context.Context, ds *Dataset, topK int) (*lists, error) {
	l := &lists{kw: map[string][]search.Hit{}, vec: map[string][]search.Hit{}, doc: map[string]string{}, topK: topK}
	depth := hybridDepth(topK)
	for _, q := range ds.Queries {
		for _, mode := range []string{kb.ModeKeyword, kb.ModeVector} {
			res, err := in.kb.Search(ctx, kb.Query{Text: q.Text, TopK: depth, Mode: mode})
			if err != nil {
				return nil, err
			}
			hs := make([]search.Hit, 0, len(res.Hits))
			for _, h := range res.Hits {
				s := h.Keyword
				if mode == kb.ModeVector {
					s = h.Vector
				}
				if s == nil {
					return nil, fmt.Errorf("kbeval: %s hit without its retriever score", mode)
				}
				id := h.ChunkID.String()
				hs = append(hs, search.Hit{ID: id, Score: s.Score})
				l.doc[id] = in.docOf[h.Citation.DocumentID]
			}
			if mode == kb.ModeKeyword {
				l.kw[q.ID] = hs
			} else {
				l.vec[q.ID] = hs
			}
		}
	}
	return l, nil
}

// fuse ranks the documents of each query in only as kb.Service.Search does in hybrid mode
// with the given fusion and weights.
func (l *lists) fuse(only map[string]map[string]bool, fusion string, rrfK int, kwW, vecW float64) map[string][]string {
	runs := make(map[string][]string, len(only))
	w := []float64{kwW, vecW}
	for q := range only {
		var f []search.Fused
		if fusion == kb.FusionWeighted {
			f = search.FuseWeighted(w, l.kw[q], l.vec[q])
		} else {
			f = search.FuseRRFWeighted(rrfK, w, l.kw[q], l.vec[q])
		}
		seen := map[string]bool{}
		var ranked []string
		for _, x := range f[:min(l.topK, len(f))] {
			if d := l.doc[x.ID]; !seen[d] {
				seen[d] = true
				ranked = append(ranked, d)
			}
		}
		runs[q] = ranked
	}
	return runs
}

type weightScore struct {
	w    float64
	ndcg float64
	s    Scores
}

func (l *lists) sweepOn(qrels map[string]map[string]bool, fusion string, in *instance, ws []float64) []weightScore {
	out := make([]weightScore, 0, len(ws))
	for _, w := range ws {
		s := Evaluate(l.fuse(qrels, fusion, in.cfg.KBRRFK, in.cfg.KBKeywordWeight, w), qrels)
		out = append(out, weightScore{w: w, ndcg: s.NDCG10, s: s})
	}
	return out
}

func (l *lists) sweep(ds *Dataset, fusion string, in *instance, opt Options) []weightScore {
	return l.sweepOn(ds.Qrels, fusion, in, opt.VectorWeights)
}

func bestWeight(ws []weightScore) weightScore {
	best := ws[0]
	for _, s := range ws[1:] {
		if s.ndcg > best.ndcg {
			best = s
		}
	}
	return best
}

// weightSweep prints nDCG@10 of both fusions over the vector weights, checks that the
// offline fusion reproduces the service's hybrid rankings at the configured weights, and
// cross-validates the choice of weight in two folds of the queries.
func (in *instance) weightSweep(out io.Writer, ds *Dataset, opt Options, l *lists, results []modeResult) {
	c := &in.cfg
	rrf := l.sweep(ds, kb.FusionRRF, in, opt)
	wtd := l.sweep(ds, kb.FusionWeighted, in, opt)
	fmt.Fprintf(out, "Vector weight sweep (keyword weight %s; rrf k=%d), nDCG@10 (Recall@100):\n\n| vector weight | hybrid rrf | hybrid weighted |\n|---|---|---|\n",
		fmtW(c.KBKeywordWeight), c.KBRRFK)
	for i := range rrf {
		mark := ""
		if rrf[i].w == c.KBVectorWeight {
			mark = " (configured)"
		}
		fmt.Fprintf(out, "| %s%s | %.3f (%.3f) | %.3f (%.3f) |\n", fmtW(rrf[i].w), mark, rrf[i].ndcg, rrf[i].s.Recall100, wtd[i].ndcg, wtd[i].s.Recall100)
	}

	// The sweep fuses the lists offline; at the configured weights it must give what the
	// service gave.
	for _, r := range results {
		if r.mode.Mode != kb.ModeHybrid {
			continue
		}
		same := 0
		fused := l.fuse(ds.Qrels, r.mode.Fusion, c.KBRRFK, c.KBKeywordWeight, c.KBVectorWeight)
		for q, ranked := range r.runs {
			if slices.Equal(ranked, fused[q]) {
				same++
			}
		}
		fmt.Fprintf(out, "\nCheck: the offline %s fusion at the configured weights reproduces the service's hybrid ranking for %d of %d queries.",
			r.mode.Fusion, same, len(r.runs))
	}
	fmt.Fprintln(out)

	// Two folds by query id: pick the weight on one, score it on the other.
	ids := make([]string, 0, len(ds.Qrels))
	for q := range ds.Qrels {
		ids = append(ids, q)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, errA := strconv.Atoi(ids[i])
		b, errB := strconv.Atoi(ids[j])
		if errA == nil && errB == nil {
			return a < b
		}
		return ids[i] < ids[j]
	})
	folds := [2]map[string]map[string]bool{{}, {}}
	for i, q := range ids {
		folds[i%2][q] = ds.Qrels[q]
	}
	for _, fusion := range []string{kb.FusionRRF, kb.FusionWeighted} {
		var held, kwHeld float64
		var picked []string
		for f := range 2 {
			train, test := folds[f], folds[1-f]
			w := bestWeight(l.sweepOn(train, fusion, in, opt.VectorWeights)).w
			picked = append(picked, fmtW(w))
			held += Evaluate(l.fuse(test, fusion, c.KBRRFK, c.KBKeywordWeight, w), test).NDCG10 / 2
			kwHeld += Evaluate(l.fuse(test, fusion, c.KBRRFK, c.KBKeywordWeight, 0), test).NDCG10 / 2
		}
		fmt.Fprintf(out, "\nTwo-fold cross-validation, %s: weights picked on each half %s; held-out nDCG@10 %.3f (vector weight 0 on the same folds: %.3f).",
			fusion, strings.Join(picked, " and "), held, kwHeld)
	}
	fmt.Fprintln(out)
}

func fmtW(w float64) string { return strconv.FormatFloat(w, 'f', -1, 64) }

func fmtDur(d time.Duration) string {
	switch {
	case d >= time.Second:
		return fmt.Sprintf("%.1f s", d.Seconds())
	case d >= time.Millisecond:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	default:
		return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond))
	}
}

// errorOf is a document's recorded failure, "" when none.
func errorOf(e *string) string {
	if e == nil {
		return ""
	}
	return *e
}
