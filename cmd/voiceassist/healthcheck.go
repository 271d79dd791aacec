package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/voiceassist/gateway/internal/config"
)

// healthcheck is the container's HEALTHCHECK (distroless images have no shell, curl or
// wget): GET /health of this container's server (HOST:PORT) or, with --worker, of its
// worker (WORKER_HEALTH_ADDR); nil only for a 200. It reads the two or three variables it
// needs, not the whole configuration, so a health check never fails on an unrelated setting.
func healthcheck(args []string, getenv func(string) string) error {
	fs := flag.NewFlagSet("healthcheck", flag.ContinueOnError)
	worker := fs.Bool("worker", false, "check the worker's liveness listener (WORKER_HEALTH_ADDR)")
	url := fs.String("url", "", "check this URL instead")
	timeout := fs.Duration("timeout", 3*time.Second, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("healthcheck: unexpected argument %q", fs.Arg(0))
	}
	target := *url
	if target == "" {
		var err error
		if target, err = healthURL(*worker, getenv); err != nil {
			return err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s answered %s", target, res.Status)
	}
	return nil
}

// healthURL is where the local server or worker answers /health: a wildcard listen address
// is reached on the loopback interface.
func healthURL(worker bool, getenv func(string) string) (string, error) {
	get := func(name string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return config.Default(name)
	}
	var host, port string
	if worker {
		addr := get("WORKER_HEALTH_ADDR")
		if addr == "off" {
			return "", fmt.Errorf("healthcheck: WORKER_HEALTH_ADDR is off: the worker has no health listener")
		}
		var err error
		if host, port, err = net.SplitHostPort(addr); err != nil {
			return "", fmt.Errorf("healthcheck: WORKER_HEALTH_ADDR: %w", err)
		}
	} else {
		host, port = get("HOST"), get("PORT")
	}
	switch host {
	case "", "0.0.0.0", "::":
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/health", nil
}
