package tests

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/apptest"
	"github.com/voiceassist/gateway/internal/dbtest"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binOut  []byte
)

// buildBinary builds cmd/voiceassist once per test run.
func buildBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "voiceassist-bin-")
		if err != nil {
			binErr = err
			return
		}
		binPath = filepath.Join(dir, "voiceassist")
		binOut, binErr = exec.Command("go", "build", "-o", binPath, "../cmd/voiceassist").CombinedOutput()
	})
	require.NoError(t, binErr, "%s", binOut)
	return binPath
}

// binaryServer is `voiceassist serve` running as its own process.
type binaryServer struct {
	cmd  *exec.Cmd
	base string
	logs *apptest.LogBuffer
}

// startBinary runs the built binary with a fresh database (unless env names one), a private
// Redis prefix and data directory, and waits until it is ready. It is killed when t ends.
func startBinary(t *testing.T, env map[string]string) *binaryServer {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	vars := map[string]string{
		"HOST": "127.0.0.1", "PORT": strconv.Itoa(port), "ENVIRONMENT": "test",
		"REDIS_URL": envOr("REDIS_URL", defaultRedisURL), "REDIS_KEY_PREFIX": "test:" + randomID() + ":", "DATA_DIR": t.TempDir(),
	}
	for k, v := range env {
		vars[k] = v
	}
	if vars["DATABASE_URL"] == "" {
		vars["DATABASE_URL"] = dbtest.NewURL(t)
	}
	s := &binaryServer{cmd: exec.Command(buildBinary(t), "serve"), base: "http://127.0.0.1:" + strconv.Itoa(port), logs: &apptest.LogBuffer{}}
	s.cmd.Env = os.Environ()
	for k, v := range vars {
		s.cmd.Env = append(s.cmd.Env, k+"="+v)
	}
	s.cmd.Stderr = s.logs
	require.NoError(t, s.cmd.Start())
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Kill()
			_ = s.cmd.Wait()
		}
	})
	require.Eventually(t, func() bool {
		res, err := http.Get(s.base + "/ready")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}, 60*time.Second, 50*time.Millisecond, "the binary never became ready: %s", s.logs)
	return s
}

// TestBinaryServesAndStopsOnSIGTERM builds the real binary, runs `voiceassist serve`, waits for
// readiness, and checks that SIGTERM ends it cleanly (exit 0, "shutting down" logged).
func TestBinaryServesAndStopsOnSIGTERM(t *testing.T) {
	t.Parallel()
	s := startBinary(t, nil)
	require.NoError(t, s.cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "exit status after SIGTERM")
	case <-time.After(30 * time.Second):
		_ = s.cmd.Process.Kill()
		t.Fatal("did not stop within 30 s of SIGTERM")
	}
	require.Contains(t, s.logs.String(), "shutting down")
	_, err := http.Get(s.base + "/health")
	require.Error(t, err, "the port is closed after shutdown")
}
