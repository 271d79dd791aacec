package tests

import (
	"bufio"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

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

// TestBinaryServesAndStopsOnSIGTERM builds the real binary, runs `voiceassist serve`, waits for
// readiness, and checks that SIGTERM ends it cleanly (exit 0, "shutting down" logged).
func TestBinaryServesAndStopsOnSIGTERM(t *testing.T) {
	t.Parallel()
	bin := buildBinary(t)

	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()

	cmd := exec.Command(bin, "serve")
	cmd.Env = append(os.Environ(),
		"HOST=127.0.0.1", "PORT="+strconv.Itoa(port), "ENVIRONMENT=test",
		"DATABASE_URL="+dbtest.NewURL(t), "REDIS_URL="+envOr("REDIS_URL", defaultRedisURL),
		"REDIS_KEY_PREFIX=test:"+randomID()+":", "DATA_DIR="+t.TempDir(),
	)
	stderr, err := cmd.StderrPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()

	base := "http://127.0.0.1:" + strconv.Itoa(port)
	require.Eventually(t, func() bool {
		res, err := http.Get(base + "/ready")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}, 30*time.Second, 50*time.Millisecond, "the binary never became ready")

	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var logged []string
	for line := range lines {
		logged = append(logged, line)
	}
	select {
	case err := <-done:
		require.NoError(t, err, "exit status after SIGTERM")
	case <-time.After(30 * time.Second):
		_ = cmd.Process.Kill()
		t.Fatal("did not stop within 30 s of SIGTERM")
	}
	require.Contains(t, strings.Join(logged, "\n"), "shutting down")
	_, err = http.Get(base + "/health")
	require.Error(t, err, "the port is closed after shutdown")
}
