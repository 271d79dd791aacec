package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/app"
	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/config"
	"github.com/voiceassist/gateway/internal/database"
	"github.com/voiceassist/gateway/internal/extract"
	"github.com/voiceassist/gateway/internal/kb"
	"github.com/voiceassist/gateway/internal/kbeval"
	"github.com/voiceassist/gateway/internal/logging"
)

// cliActor is who CLI ingestion is recorded as in the audit log.
var cliActor = audit.Actor{Email: "cli"}

// kbCommand runs `voiceassist kb ingest|eval`.
func kbCommand(args []string) error {
	if len(args) == 0 {
		return errors.New("kb needs a subcommand: ingest or eval")
	}
	switch args[0] {
	case "ingest":
		return kbIngest(args[1:])
	case "eval":
		return kbEval(args[1:])
	}
	return fmt.Errorf("kb: unknown subcommand %q (ingest or eval)", args[0])
}

// openDB connects to DATABASE_URL and migrates it when DATABASE_AUTO_MIGRATE, as serve does.
func openDB(ctx context.Context, cfg *config.Config, maxConns int) (*pgxpool.Pool, error) {
	pool, err := database.Open(ctx, cfg.DatabaseURL, maxConns)
	if err != nil {
		return nil, err
	}
	if cfg.DatabaseAutoMigrate {
		if err := database.Migrate(ctx, pool, "up", io.Discard); err != nil {
			pool.Close()
			return nil, err
		}
	}
	return pool, nil
}

// openCLIKB opens the knowledge base as configured, but with its keyword index in a private
// temporary directory: a running server holds DATA_DIR/kb locked, and the knowledge base
// takes an index it cannot open for a damaged one and rebuilds it, which would pull the
// server's index from under it. The private index is rebuilt from PostgreSQL at open (quick
// for a small knowledge base; proportional to its chunks). close stops the workers, when
// any, and removes the directory.
func openCLIKB(ctx context.Context, cfg *config.Config, pool *pgxpool.Pool, log *slog.Logger, workers int) (*app.KB, func(), error) {
	dir, err := os.MkdirTemp("", "voiceassist-kb-")
	if err != nil {
		return nil, nil, err
	}
	c := *cfg
	c.DataDir = dir
	k, err := app.OpenKB(ctx, &c, pool, log, workers)
	if err != nil {
		_ = os.RemoveAll(dir)
		return nil, nil, err
	}
	return k, func() {
		sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
		defer cancel()
		if err := k.Close(sctx); err != nil {
			log.Warn("kb: close", "error", err)
		}
		_ = os.RemoveAll(dir)
	}, nil
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// parseArgs parses flags placed anywhere among the positional arguments (the standard
// package stops at the first positional one); everything after "--" is positional.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		if len(rest) == 0 {
			return pos, nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// kbTag is the API's tag pattern (openapi KbTag).
var kbTag = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]*$`)

// ingestFile is one file to ingest; explicit ones were named on the command line.
type ingestFile struct {
	path     string
	explicit bool
}

// collectFiles expands the paths: directories are walked (hidden entries skipped), files of
// a supported extension kept; the others are returned as skipped (from a directory) or
// refused (named explicitly, or unreadable) with the reason.
func collectFiles(paths []string) (files []ingestFile, skipped, refused [][2]string) {
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			refused = append(refused, [2]string{p, err.Error()})
			continue
		}
		if !st.IsDir() {
			if _, err := extract.FormatOf(p, ""); err != nil {
				refused = append(refused, [2]string{p, "unsupported file type (accepted: .txt, .md, .html, .pdf, .json)"})
				continue
			}
			files = append(files, ingestFile{path: p, explicit: true})
			continue
		}
		err = filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				refused = append(refused, [2]string{path, err.Error()})
				if d != nil && d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if path != p && strings.HasPrefix(d.Name(), ".") {
				if d.IsDir() {
					return fs.SkipDir
				}
				return nil
			}
			if d.IsDir() {
				return nil
			}
			if !d.Type().IsRegular() {
				skipped = append(skipped, [2]string{path, "not a regular file"})
				return nil
			}
			if _, err := extract.FormatOf(path, ""); err != nil {
				skipped = append(skipped, [2]string{path, "unsupported extension"})
				return nil
			}
			files = append(files, ingestFile{path: path})
			return nil
		})
		if err != nil {
			refused = append(refused, [2]string{p, err.Error()})
		}
	}
	return files, skipped, refused
}

func kbIngest(args []string) error {
	fs := flag.NewFlagSet("kb ingest", flag.ContinueOnError)
	var tags stringList
	fs.Var(&tags, "tag", "tag every ingested document (repeatable; lower case letters, digits, '.', '_', '-')")
	wait := fs.Bool("wait", false, "run the indexing workers in this process until every ingested document is indexed or failed")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: voiceassist kb ingest [--tag T]... [--wait] PATH...")
		fs.PrintDefaults()
	}
	paths, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		fs.Usage()
		return errors.New("kb ingest: no file or directory given")
	}
	if len(tags) > 20 {
		return fmt.Errorf("kb ingest: at most 20 tags, got %d", len(tags))
	}
	for _, t := range tags {
		if len(t) > 64 || !kbTag.MatchString(t) {
			return fmt.Errorf("kb ingest: tag %q: use 1-64 lower case letters, digits, '.', '_' or '-', starting with a letter or digit", t)
		}
	}
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return err
	}
	log := logging.New(os.Stderr, cfg.LogFormat, "warn")
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	files, skipped, refusedPaths := collectFiles(paths)
	for _, s := range skipped {
		fmt.Printf("skipped    %s: %s\n", s[0], s[1])
	}
	refused := 0
	for _, r := range refusedPaths {
		fmt.Printf("refused    %s: %s\n", r[0], r[1])
		refused++
	}
	pool, err := openDB(ctx, cfg, 4)
	if err != nil {
		return err
	}
	defer pool.Close()
	workers := 0
	if *wait {
		workers = max(cfg.KBIndexWorkers, 1)
	}
	k, closeKB, err := openCLIKB(ctx, cfg, pool, log, workers)
	if err != nil {
		return err
	}
	defer closeKB()
	if *wait {
		if err := k.Start(ctx); err != nil {
			return err
		}
	}

	var ids []uuid.UUID
	pathsOf := map[uuid.UUID][]string{}
	created, duplicates := 0, 0
	for _, f := range files {
		item, reason, err := ingestOne(ctx, k.Service, cfg, f.path, tags)
		if err != nil {
			return fmt.Errorf("kb ingest: %s: %w", f.path, err)
		}
		if reason != "" {
			fmt.Printf("refused    %s: %s\n", f.path, reason)
			refused++
			continue
		}
		d := item.Document
		if item.Duplicate {
			duplicates++
			fmt.Printf("duplicate  %s: already stored as %s %q (%s)\n", f.path, d.ID, d.Title, d.Status)
		} else {
			created++
			fmt.Printf("created    %s: %s %q\n", f.path, d.ID, d.Title)
		}
		if len(pathsOf[d.ID]) == 0 {
			ids = append(ids, d.ID)
		}
		pathsOf[d.ID] = append(pathsOf[d.ID], f.path)
	}
	fmt.Printf("kb ingest: %d created, %d duplicate, %d refused, %d skipped\n", created, duplicates, refused, len(skipped))

	failed := 0
	if *wait && len(ids) > 0 {
		var last time.Time
		docs, st, err := k.WaitIndexed(ctx, ids, 250*time.Millisecond, func(s kb.IndexState) {
			if time.Since(last) >= time.Second || s.Done() {
				fmt.Printf("indexing   %d/%d indexed", s.Indexed, s.Total)
				if s.Failed > 0 {
					fmt.Printf(", %d failed", s.Failed)
				}
				fmt.Println()
				last = time.Now()
			}
		})
		if err != nil {
			return fmt.Errorf("kb ingest: waiting for indexing: %w", err)
		}
		failed = st.Failed
		found := map[uuid.UUID]bool{}
		for _, d := range docs {
			found[d.ID] = true
			if d.Status == "failed" {
				reason := ""
				if d.Error != nil {
					reason = *d.Error
				}
				fmt.Printf("failed     %s: %s\n", strings.Join(pathsOf[d.ID], ", "), reason)
			}
		}
		for _, id := range ids {
			if !found[id] {
				fmt.Printf("failed     %s: deleted while indexing\n", strings.Join(pathsOf[id], ", "))
			}
		}
	} else if len(ids) > 0 && created > 0 {
		fmt.Println("kb ingest: queued for indexing; a running server indexes them (or run again with --wait)")
	}
	if refused > 0 || failed > 0 {
		return fmt.Errorf("kb ingest: %d refused, %d failed to index", refused, failed)
	}
	return nil
}

// ingestOne ingests one file through kb.Service.Ingest. A file the knowledge base refuses
// (type, size, no readable text) gives the reason; err is kept for failures that should
// stop the command (the database is down, interrupted).
func ingestOne(ctx context.Context, s *kb.Service, cfg *config.Config, path string, tags []string) (item kb.Item, reason string, err error) {
	st, err := os.Stat(path)
	if err != nil {
		return item, err.Error(), nil
	}
	if st.Size() > cfg.MaxUploadBytes {
		return item, fmt.Sprintf("%d bytes, more than the limit of %d (MAX_UPLOAD_BYTES)", st.Size(), cfg.MaxUploadBytes), nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return item, err.Error(), nil
	}
	items, err := s.Ingest(ctx, cliActor, []kb.Upload{{
		Filename: filepath.Base(path), Data: data, Tags: tags, Metadata: map[string]any{"source": "voiceassist kb ingest", "path": path},
	}})
	var ae *apierr.Error
	if errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 {
		return item, ae.Message, nil
	}
	if err != nil {
		return item, "", err
	}
	return items[0], "", nil
}

func kbEval(args []string) error {
	fs := flag.NewFlagSet("kb eval", flag.ContinueOnError)
	data := fs.String("data", "../shared/data/scifact", "dataset directory in BEIR layout: corpus.jsonl, queries.jsonl, qrels/<split>.tsv")
	split := fs.String("split", "train", "qrels split to evaluate")
	modes := fs.String("modes", "keyword,vector,hybrid", "modes: keyword, vector, hybrid (both fusions), hybrid:rrf, hybrid:weighted")
	workers := fs.Int("workers", 8, "indexing workers run in this process")
	tune := fs.Bool("tune", false, "also sweep the vector weight of both fusions")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), `usage: voiceassist kb eval [--data DIR] [--split train] [--modes keyword,vector,hybrid]

Ingests the corpus into a scratch database created next to DATABASE_URL's (dropped at the
end; needs CREATEDB), with the configured embedder, chunking and fusion settings (the vector
store is always the in-process one), and scores every judged query (nDCG@10, Recall@100,
MRR@10). With an OpenAI-compatible embedder configured, the whole corpus is embedded by it.`)
		fs.PrintDefaults()
	}
	rest, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		fs.Usage()
		return fmt.Errorf("kb eval: unexpected argument %q", rest[0])
	}
	ms, err := kbeval.ParseModes(*modes)
	if err != nil {
		return fmt.Errorf("kb eval: --modes: %w", err)
	}
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return kbeval.Run(ctx, cfg, kbeval.Options{
		Data: *data, Split: *split, Modes: ms, Workers: *workers, Tune: *tune,
		Log: logging.New(os.Stderr, cfg.LogFormat, "warn"), Progress: os.Stderr, Open: app.OpenKBService,
	}, os.Stdout)
}
