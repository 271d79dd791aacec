// Command kb benchmarks knowledge-base retrieval through the real service on a BEIR
// dataset, by default the SciFact training split read from ../shared/data/scifact (never
// copied into the repo).
//
// It creates a throwaway PostgreSQL database on the server of DATABASE_URL, migrates it,
// opens kb.Service exactly as the server does (app.OpenKB) with the default configuration,
// the offline hashing embedder, the in-process vector store and a temporary DATA_DIR,
// ingests every abstract as one JSON upload through kb.Service.Ingest, lets the indexing
// workers run in process until every document is indexed, then searches every query judged
// in qrels/train.tsv through kb.Service.Search (top 100 chunks) in keyword, vector and both
// hybrid modes, and prints a markdown table of nDCG@10, Recall@100 and MRR@10 with indexing
// throughput and search latency. The database is dropped at the end.
//
//	go run ./bench/kb -data ../shared/data/scifact            # make bench-kb
//	go run ./bench/kb -tune                                    # + fusion weight and chunk size sweeps
//	go run ./bench/kb -component [-tune]                       # the engine alone (BM25 tuning)
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"log/slog"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"

	"github.com/voiceassist/gateway/internal/app"
	"github.com/voiceassist/gateway/internal/config"
	"github.com/voiceassist/gateway/internal/embed"
	"github.com/voiceassist/gateway/internal/kbeval"
	"github.com/voiceassist/gateway/internal/search"
)

// defaultDatabaseURL is used when DATABASE_URL is unset (as internal/dbtest does).
const defaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/voiceassist?sslmode=disable"

func main() {
	var (
		dataDir  = flag.String("data", "../shared/data/scifact", "dataset directory in BEIR layout (corpus.jsonl, queries.jsonl, qrels/<split>.tsv)")
		split    = flag.String("split", "train", "qrels split to evaluate")
		modes    = flag.String("modes", "keyword,vector,hybrid", "modes: keyword, vector, hybrid (both fusions), hybrid:rrf, hybrid:weighted")
		workers  = flag.Int("workers", 8, "indexing workers run in process (indexing throughput is bound by River's 100 ms fetch cooldown: about 10 documents per second per worker)")
		topK     = flag.Int("topk", 100, "chunk hits asked per query")
		tune     = flag.Bool("tune", false, "also sweep the vector weight of both fusions and the chunk size (with -component: BM25 and fusion sweeps)")
		sizes    = flag.String("chunk-sizes", "200,400,600,1000", "chunk sizes (tokens) tried by -tune")
		weights  = flag.String("vector-weights", "", "vector weights tried by -tune (default 0,0.05,0.1,0.15,0.2,0.3,0.4,0.5,0.7,1)")
		chunkTok = flag.Int("chunk-tokens", 0, "KB_CHUNK_TOKENS (0: the configured default)")
		vecW     = flag.Float64("vector-weight", -1, "KB_VECTOR_WEIGHT (negative: the configured default)")

		component  = flag.Bool("component", false, "benchmark the retrieval engine alone (BM25 index and exact vector store, whole abstracts), as before the service existed")
		depth      = flag.Int("depth", 100, "-component: results taken from each retriever (and kept after fusion)")
		dim        = flag.Int("dim", embed.DefaultDim, "-component: offline embedder dimension")
		titleBoost = flag.Float64("title-boost", -1, "-component: BM25 title boost (negative: the package default)")
		analyzer   = flag.String("analyzer", "", "-component: BM25 analyzer (empty: the package default)")
		k1         = flag.Float64("k1", 0, "-component: BM25 k1 (0: the package default)")
		b          = flag.Float64("b", -1, "-component: BM25 b (negative: the package default)")
		rrfK       = flag.Int("rrf-k", search.DefaultRRFK, "-component: RRF constant")
		weight     = flag.Float64("w", -1, "-component: keyword weight of weighted fusion (vector gets 1-w); negative: tune on the training split")
	)
	flag.Parse()
	if *component {
		if *k1 > 0 || *b >= 0 {
			cur1, curB := search.BM25Params()
			if *k1 > 0 {
				cur1 = *k1
			}
			if *b >= 0 {
				curB = *b
			}
			search.SetBM25Params(cur1, curB)
		}
		if err := runComponent(*dataDir, componentConfig{
			depth: *depth, dim: *dim, titleBoost: *titleBoost, analyzer: *analyzer,
			rrfK: *rrfK, weight: *weight, tune: *tune,
		}, os.Stdout); err != nil {
			log.Fatal(err)
		}
		return
	}

	cfg, err := benchConfig()
	if err != nil {
		log.Fatal(err)
	}
	if *chunkTok > 0 {
		cfg.KBChunkTokens = *chunkTok
		cfg.KBChunkOverlap = min(cfg.KBChunkOverlap, *chunkTok-1)
	}
	if *vecW >= 0 {
		cfg.KBVectorWeight = *vecW
	}
	ms, err := kbeval.ParseModes(*modes)
	if err != nil {
		log.Fatal(err)
	}
	opt := kbeval.Options{
		Data: *dataDir, Split: *split, Modes: ms, Workers: *workers, TopK: *topK, Tune: *tune,
		DBPrefix: "va_bench_", Progress: os.Stderr, Open: app.OpenKBService,
		Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})),
	}
	if *tune {
		if opt.ChunkSizes, err = parseInts(*sizes); err != nil {
			log.Fatalf("-chunk-sizes: %v", err)
		}
		if *weights != "" {
			if opt.VectorWeights, err = parseFloats(*weights); err != nil {
				log.Fatalf("-vector-weights: %v", err)
			}
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := kbeval.Run(ctx, cfg, opt, os.Stdout); err != nil {
		log.Fatal(err)
	}
}

// benchConfig is the default configuration with only DATABASE_URL taken from the
// environment: the benchmark measures the defaults (offline embedder, in-process vectors),
// whatever the shell exports.
func benchConfig() (*config.Config, error) {
	dbURL := os.Getenv("DATABASE_URL")
	if dbURL == "" {
		dbURL = defaultDatabaseURL
	}
	return config.Load(func(k string) string {
		if k == "DATABASE_URL" {
			return dbURL
		}
		return ""
	})
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		n, err := strconv.Atoi(p)
		if err != nil || n < 32 {
			return nil, fmt.Errorf("%q is not a chunk size of at least 32 tokens", p)
		}
		out = append(out, n)
	}
	return out, nil
}

func parseFloats(s string) ([]float64, error) {
	var out []float64
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		f, err := strconv.ParseFloat(p, 64)
		if err != nil || f < 0 {
			return nil, fmt.Errorf("%q is not a non-negative number", p)
		}
		out = append(out, f)
	}
	return out, nil
}
