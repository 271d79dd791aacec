// Command voiceassist runs the VoiceAssist API gateway.
//
//	voiceassist serve                  serve the API (default)
//	voiceassist worker                 run the background jobs without the API
//	voiceassist healthcheck [--worker] exit 0 when the local server (or worker) is alive
//	voiceassist migrate up|down|status apply, roll back or list migrations
//	voiceassist user create            create an account
//	voiceassist seed                   load demo flags and sample knowledge-base documents
//	voiceassist kb ingest|eval         add files to the knowledge base; measure retrieval
//	voiceassist version                print build information
package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	_ "net/http/pprof"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"syscall"

	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/app"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/buildinfo"
	"github.com/voiceassist/gateway/internal/config"
	"github.com/voiceassist/gateway/internal/database"
	"github.com/voiceassist/gateway/internal/flagstore"
	"github.com/voiceassist/gateway/internal/logging"
	"github.com/voiceassist/gateway/internal/seed"
	"github.com/voiceassist/gateway/internal/telemetry"
)

const usage = `usage: voiceassist <command>

commands:
  serve                   serve the API on HOST:PORT (default command); runs the
                          background jobs too unless JOBS_ENABLED=false
  worker                  run the background jobs (document indexing, scheduled flag
                          changes, session cleanup) without the API; liveness on
                          WORKER_HEALTH_ADDR (GET /health)
  healthcheck [--worker] [--url URL] [--timeout D]
                          exit 0 when GET /health of the local server (HOST:PORT), or
                          with --worker of the local worker (WORKER_HEALTH_ADDR),
                          answers 200; for container health checks (no shell needed)
  migrate up|down|status  apply all, roll back one, or list database migrations
  user create --email E [--role R] [--name N]
                          create an account (role user|viewer|admin|superadmin, default
                          superadmin); the password is read from stdin when it is piped,
                          otherwise generated and printed once
  seed                    load demo data: feature flags (into an empty flag table) and
                          the sample knowledge-base documents (deduplicated by content)
  kb ingest [--tag T]... [--wait] PATH...
                          add files (.txt .md .html .pdf .json; directories are walked)
                          to the knowledge base; --wait indexes them in this process
  kb eval [--data DIR] [--split train] [--modes keyword,vector,hybrid]
                          ingest a BEIR dataset into a scratch database and score
                          retrieval (nDCG@10, Recall@100, MRR@10)
  version                 print build information

Configuration comes from the environment; see .env.example.
`

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "voiceassist:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	cmd := "serve"
	if len(args) > 0 {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "version", "--version", "-v":
		fmt.Printf("voiceassist %s (commit %s, built %s, %s)\n", buildinfo.Version, buildinfo.Commit, buildinfo.BuildTime, buildinfo.GoVersion())
		return nil
	case "help", "--help", "-h":
		fmt.Print(usage)
		return nil
	case "serve":
		return serve()
	case "worker":
		return worker()
	case "healthcheck":
		return healthcheck(args, os.Getenv)
	case "user":
		if len(args) == 0 || args[0] != "create" {
			return errors.New("user needs a subcommand: create")
		}
		return createUser(args[1:])
	case "seed":
		return seedDemo()
	case "kb":
		return kbCommand(args)
	case "migrate":
		if len(args) != 1 {
			return errors.New("migrate needs one of: up, down, status")
		}
		return migrate(args[0])
	}
	fmt.Fprint(os.Stderr, usage)
	return fmt.Errorf("unknown command %q", cmd)
}

func serve() error {
	// The gateway's live heap is a few MB, so with the default GOGC=100 the collector runs
	// almost continuously under load; GOGC=400 measured +19 % and +26 % OFREP throughput in
	// A/B runs (docs/benchmarks.md). An explicit GOGC in the environment wins.
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return err
	}
	log := logging.New(os.Stderr, cfg.LogFormat, cfg.LogLevel)
	telemetry.LogErrors(log)
	if cfg.JWTSecretGenerated {
		log.Warn("JWT_SECRET_KEY is not set: using a random key, so tokens do not survive a restart")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	// Start-up's garbage (the contract's parse above all) is short-lived: collecting it while
	// the heap grows from 4 MB took several cycles and about 8 ms of CPU before the first
	// answer. The collector waits until the gateway serves, then collects once (below).
	// GOMEMLIMIT, when set, still bounds the heap meanwhile.
	gcPercent := debug.SetGCPercent(-1)
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		debug.SetGCPercent(gcPercent)
		return err
	}
	l, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		a.Close()
		return fmt.Errorf("listen on %s: %w", cfg.Addr(), err)
	}
	log.Info("serving", "addr", l.Addr().String(), "version", buildinfo.Version, "environment", cfg.Environment)
	if cfg.PprofAddr != "" {
		go func() {
			// net/http/pprof registers on http.DefaultServeMux; only this listener serves it.
			log.Warn("pprof listening", "addr", cfg.PprofAddr)
			if err := http.ListenAndServe(cfg.PprofAddr, nil); err != nil {
				log.Error("pprof listener", "error", err)
			}
		}()
	}

	errc := make(chan error, 1)
	go func() { errc <- a.Serve(l) }()
	// Start-up (migrations, the contract, the flag snapshot) leaves a heap several times the
	// live one; collect it once and hand it back now rather than when the scavenger gets to it
	// (idle RSS, issue 17), then let the collector pace itself again from the small live heap.
	go func() {
		debug.FreeOSMemory()
		debug.SetGCPercent(gcPercent)
	}()
	select {
	case err := <-errc:
		a.Close()
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down", "timeout", cfg.ShutdownTimeout.String())
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	return a.Shutdown(sctx)
}

func worker() error {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return err
	}
	log := logging.New(os.Stderr, cfg.LogFormat, cfg.LogLevel)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return app.RunWorker(ctx, cfg, log, nil)
}

func migrate(command string) error {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return err
	}
	ctx := context.Background()
	pool, err := database.Open(ctx, cfg.DatabaseURL, 2)
	if err != nil {
		return err
	}
	defer pool.Close()
	return database.Migrate(ctx, pool, command, os.Stdout)
}

func createUser(args []string) error {
	fs := flag.NewFlagSet("user create", flag.ContinueOnError)
	email := fs.String("email", "", "email address (required)")
	role := fs.String("role", "superadmin", "user, viewer, admin or superadmin")
	name := fs.String("name", "", "full name")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *email == "" {
		return errors.New("user create: --email is required")
	}
	if !auth.Role(*role).Valid() {
		return fmt.Errorf("user create: --role %q is not one of user, viewer, admin, superadmin", *role)
	}
	password, generated, err := readPassword(os.Stdin)
	if err != nil {
		return err
	}
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return err
	}
	log := logging.New(os.Stderr, cfg.LogFormat, "warn")
	ctx := context.Background()
	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	u, err := a.Auth.CreateUser(ctx, *email, password, *name, auth.Role(*role), nil)
	if err != nil {
		var ae *apierr.Error
		if errors.As(err, &ae) {
			return fmt.Errorf("user create: %s", ae.Message)
		}
		return err
	}
	fmt.Printf("created %s %s (%s)\n", u.Role, u.Email, u.ID)
	if generated {
		fmt.Printf("password (shown once): %s\n", password)
	}
	return nil
}

// readPassword takes the first line of piped stdin, or generates a strong password when
// stdin is a terminal or empty.
func readPassword(in *os.File) (pw string, generated bool, err error) {
	if st, err := in.Stat(); err == nil && st.Mode()&os.ModeCharDevice == 0 {
		line, err := bufio.NewReader(in).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", false, err
		}
		if line = strings.TrimRight(line, "\r\n"); line != "" {
			return line, false, nil
		}
	}
	var b [18]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", false, err
	}
	return base64.RawURLEncoding.EncodeToString(b[:]), true, nil
}

// seedDemo loads the demo flags and the sample documents. It opens only what it needs (not
// the whole app), with a private knowledge-base index (see openCLIKB), so it is safe next to
// a running server; the indexing workers of a server or a worker index the documents.
func seedDemo() error {
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return err
	}
	log := logging.New(os.Stderr, cfg.LogFormat, "warn")
	ctx := context.Background()
	pool, err := openDB(ctx, cfg, 4)
	if err != nil {
		return err
	}
	defer pool.Close()
	flags, err := flagstore.New(ctx, pool, log, cfg.FlagPollInterval, nil)
	if err != nil {
		return err
	}
	n, err := seed.Flags(ctx, flags)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "seed: %d demo feature flags created\n", n)
	k, closeKB, err := openCLIKB(ctx, cfg, pool, log, 0)
	if err != nil {
		return err
	}
	defer closeKB()
	created, dup, err := seed.Documents(ctx, k.Service)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "seed: %d sample knowledge-base documents queued for indexing, %d already present (duplicates)\n", created, dup)
	return nil
}
