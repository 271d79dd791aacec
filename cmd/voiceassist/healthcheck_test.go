package main

import (
	"net"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
)

func env(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }

// healthcheck exits 0 (nil) only when /health answers 200, found the way the container's
// HEALTHCHECK finds it: HOST:PORT for the server, WORKER_HEALTH_ADDR for a worker.
func TestHealthcheck(t *testing.T) {
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/health" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
	}))
	defer srv.Close()
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	require.NoError(t, err)

	server := env(map[string]string{"HOST": "0.0.0.0", "PORT": port}) // a wildcard is reached on loopback
	worker := env(map[string]string{"PORT": "1", "WORKER_HEALTH_ADDR": ":" + port})
	require.NoError(t, healthcheck(nil, server))
	require.NoError(t, healthcheck([]string{"--worker"}, worker))
	require.NoError(t, healthcheck([]string{"--url", srv.URL + "/health"}, env(nil)))

	status = http.StatusServiceUnavailable
	require.ErrorContains(t, healthcheck(nil, server), "503")
	require.Error(t, healthcheck([]string{"--worker"}, worker))

	srv.Close() // nothing listens any more
	require.Error(t, healthcheck(nil, server))
	require.ErrorContains(t, healthcheck([]string{"--worker"}, env(map[string]string{"WORKER_HEALTH_ADDR": "off"})), "off")
	require.Error(t, healthcheck([]string{"--bogus"}, server))
	require.Error(t, healthcheck([]string{"extra"}, server))
}

func TestHealthURLDefaults(t *testing.T) {
	u, err := healthURL(false, env(nil))
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:8000/health", u)
	u, err = healthURL(true, env(nil))
	require.NoError(t, err)
	require.Equal(t, "http://127.0.0.1:8001/health", u)
	u, err = healthURL(false, env(map[string]string{"HOST": "::1", "PORT": "9000"}))
	require.NoError(t, err)
	require.Equal(t, "http://[::1]:9000/health", u)
}
