// Command voiceassist runs the VoiceAssist API gateway.
//
//	voiceassist serve                  serve the API (default)
//	voiceassist migrate up|down|status apply, roll back or list migrations
//	voiceassist version                print build information
package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/signal"
	"syscall"

	"github.com/voiceassist/gateway/internal/app"
	"github.com/voiceassist/gateway/internal/buildinfo"
	"github.com/voiceassist/gateway/internal/config"
	"github.com/voiceassist/gateway/internal/database"
	"github.com/voiceassist/gateway/internal/logging"
)

const usage = `usage: voiceassist <command>

commands:
  serve                   serve the API on HOST:PORT (default command)
  migrate up|down|status  apply all, roll back one, or list database migrations
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
	cfg, err := config.Load(os.Getenv)
	if err != nil {
		return err
	}
	log := logging.New(os.Stderr, cfg.LogFormat, cfg.LogLevel)
	if cfg.JWTSecretGenerated {
		log.Warn("JWT_SECRET_KEY is not set: using a random key, so tokens do not survive a restart")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	a, err := app.New(ctx, cfg, log)
	if err != nil {
		return err
	}
	l, err := net.Listen("tcp", cfg.Addr())
	if err != nil {
		a.Close()
		return fmt.Errorf("listen on %s: %w", cfg.Addr(), err)
	}
	log.Info("serving", "addr", l.Addr().String(), "version", buildinfo.Version, "environment", cfg.Environment)

	errc := make(chan error, 1)
	go func() { errc <- a.Serve(l) }()
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
