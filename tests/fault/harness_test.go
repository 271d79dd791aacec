// Package fault runs the gateway as real processes against its own PostgreSQL and Redis
// (started here on free ports, never the shared instances) and breaks things: restarts,
// stops, SIGKILLs, stalled clients. Each test gets its own database and Redis key prefix;
// tests run one after another because some stop the shared private servers.
package fault

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/apptest"
)

// env is the package's private world, set up once by TestMain.
var env struct {
	skip   string // why the fault tests cannot run here
	bin    string
	tmp    string
	pg     *postgres
	redis  *redisServer
	jwtKey string
}

func TestMain(m *testing.M) {
	code := func() int {
		tmp, err := os.MkdirTemp("", "voiceassist-fault-")
		if err != nil {
			fmt.Fprintln(os.Stderr, "fault:", err)
			return 1
		}
		defer os.RemoveAll(tmp)
		// The postgres OS user must reach its data directory below tmp.
		_ = os.Chmod(tmp, 0o755)
		env.tmp = tmp
		env.jwtKey = "fault-test-secret-key-that-is-long-enough-0123456789"
		if err := setup(tmp); err != nil {
			env.skip = err.Error()
		}
		defer teardown()
		return m.Run()
	}()
	os.Exit(code)
}

// setup builds the binary and starts PostgreSQL and Redis. An error means "skip": the
// tools are missing here (CI has them).
func setup(tmp string) error {
	if _, err := exec.LookPath("redis-server"); err != nil {
		return fmt.Errorf("redis-server not found: %v", err)
	}
	bindirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Strings(bindirs)
	var pgbin string
	for _, d := range bindirs {
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			pgbin = d
		}
	}
	if pgbin == "" {
		return fmt.Errorf("initdb not found under /usr/lib/postgresql/*/bin")
	}
	tags, _ := exec.Command("../../scripts/voice-deps.sh").Output()
	env.bin = filepath.Join(tmp, "voiceassist")
	if out, err := exec.Command("go", "build", "-tags", strings.TrimSpace(string(tags)), "-o", env.bin, "../../cmd/voiceassist").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	pg := &postgres{bin: pgbin, data: filepath.Join(tmp, "pg"), port: freePort()}
	if err := pg.init(); err != nil {
		return err
	}
	env.pg = pg
	if err := pg.start(); err != nil {
		return err
	}
	env.redis = &redisServer{port: freePort(), dir: tmp}
	return env.redis.start()
}

func teardown() {
	if env.pg != nil {
		_ = env.pg.stop("immediate")
	}
	if env.redis != nil {
		env.redis.stop()
	}
}

func needEnv(t *testing.T) {
	t.Helper()
	if env.skip != "" {
		t.Skipf("fault tests need their own PostgreSQL and Redis: %s", env.skip)
	}
	// A previous test may have left a server stopped.
	require.NoError(t, env.pg.ensureUp())
	require.NoError(t, env.redis.ensureUp())
}

func freePort() int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// ---------------------------------------------------------------- PostgreSQL

type postgres struct {
	bin, data string
	port      int
	mu        sync.Mutex
	up        bool
}

// asPG runs a PostgreSQL tool, as the postgres OS user when we are root (initdb and
// postgres refuse to run as root), as scripts/services.sh does.
func (p *postgres) asPG(name string, args ...string) *exec.Cmd {
	path := filepath.Join(p.bin, name)
	var c *exec.Cmd
	if os.Geteuid() == 0 {
		c = exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
		c.Dir = "/"
	} else {
		c = exec.Command(path, args...)
	}
	return c
}

func (p *postgres) init() error {
	if err := os.MkdirAll(p.data, 0o700); err != nil {
		return err
	}
	if os.Geteuid() == 0 {
		if out, err := exec.Command("chown", "postgres:", p.data).CombinedOutput(); err != nil {
			return fmt.Errorf("chown %s: %v %s", p.data, err, out)
		}
	}
	if out, err := p.asPG("initdb", "-D", p.data, "-A", "trust", "-U", "postgres", "-E", "UTF8").CombinedOutput(); err != nil {
		return fmt.Errorf("initdb: %v\n%s", err, out)
	}
	conf := fmt.Sprintf("\nlisten_addresses = '127.0.0.1'\nport = %d\nunix_socket_directories = ''\nfsync = off\nfull_page_writes = off\nmax_connections = 300\n", p.port)
	var c *exec.Cmd
	if os.Geteuid() == 0 {
		c = exec.Command("runuser", "-u", "postgres", "--", "sh", "-c", "cat >> "+filepath.Join(p.data, "postgresql.conf"))
	} else {
		c = exec.Command("sh", "-c", "cat >> "+filepath.Join(p.data, "postgresql.conf"))
	}
	c.Stdin = strings.NewReader(conf)
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("postgresql.conf: %v %s", err, out)
	}
	return nil
}

func (p *postgres) start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.asPG("pg_ctl", "-D", p.data, "-l", filepath.Join(p.data, "server.log"), "-w", "-t", "60", "start")
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("pg_ctl start: %v\n%s", err, out)
	}
	p.up = true
	return nil
}

// stop stops the server: "fast" (clean) or "immediate" (like a crash).
func (p *postgres) stop(mode string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.up = false
	out, err := p.asPG("pg_ctl", "-D", p.data, "-m", mode, "-w", "-t", "60", "stop").CombinedOutput()
	if err != nil {
		return fmt.Errorf("pg_ctl stop: %v\n%s", err, out)
	}
	return nil
}

func (p *postgres) ensureUp() error {
	p.mu.Lock()
	up := p.up
	p.mu.Unlock()
	if up {
		return nil
	}
	return p.start()
}

func (p *postgres) url(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", p.port, db)
}

// newDatabase creates an empty database for one test.
func (p *postgres) newDatabase(t *testing.T) string {
	t.Helper()
	name := "fault_" + apptest.RandomID()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, p.url("postgres"))
	require.NoError(t, err)
	defer conn.Close(ctx)
	_, err = conn.Exec(ctx, "CREATE DATABASE "+name)
	require.NoError(t, err)
	return p.url(name)
}

// ---------------------------------------------------------------- Redis

type redisServer struct {
	port int
	dir  string
	mu   sync.Mutex
	cmd  *exec.Cmd
	done chan struct{}
}

func (r *redisServer) start() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	c := exec.Command("redis-server", "--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
		"--save", "", "--appendonly", "no", "--dir", r.dir, "--logfile", "")
	c.Stdout, c.Stderr = io.Discard, io.Discard
	if err := c.Start(); err != nil {
		return err
	}
	r.cmd = c
	r.done = make(chan struct{})
	go func(done chan struct{}) { _ = c.Wait(); close(done) }(r.done)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", r.port)); err == nil {
			_, _ = conn.Write([]byte("PING\r\n"))
			buf := make([]byte, 7)
			_ = conn.SetReadDeadline(time.Now().Add(time.Second))
			n, _ := conn.Read(buf)
			conn.Close()
			if strings.HasPrefix(string(buf[:n]), "+PONG") {
				return nil
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("redis-server on %d did not answer", r.port)
}

// stop kills Redis (no persistence: everything it held is gone).
func (r *redisServer) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Kill()
	<-r.done
	r.cmd = nil
}

func (r *redisServer) ensureUp() error {
	r.mu.Lock()
	up := r.cmd != nil
	r.mu.Unlock()
	if up {
		return nil
	}
	return r.start()
}

func (r *redisServer) url() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

// ---------------------------------------------------------------- gateway replicas

// cluster is a set of gateway processes sharing one database and one Redis key prefix.
type cluster struct {
	t        *testing.T
	dbURL    string
	prefix   string
	env      map[string]string
	replicas []*replica
	admin    string // admin access token, set by login
}

const adminEmail = "ops@fault.example.org"
const adminPassword = "vivid-orchid-Lantern-93"

func newCluster(t *testing.T, env map[string]string) *cluster {
	t.Helper()
	needEnv(t)
	return &cluster{t: t, dbURL: envPG().newDatabase(t), prefix: "fault:" + apptest.RandomID() + ":", env: env}
}

func envPG() *postgres { return env.pg }

type replica struct {
	name string
	URL  string
	cmd  *exec.Cmd
	logs *apptest.LogBuffer
	done chan struct{}
	C    *client.ClientWithResponses
}

// start launches one more replica and waits for /health.
func (c *cluster) start(extra map[string]string) *replica {
	t := c.t
	t.Helper()
	port := freePort()
	vars := map[string]string{
		"ENVIRONMENT": "test", "HOST": "127.0.0.1", "PORT": strconv.Itoa(port),
		"DATABASE_URL": c.dbURL, "REDIS_URL": env.redis.url(), "REDIS_KEY_PREFIX": c.prefix,
		"JWT_SECRET_KEY": env.jwtKey, "DATA_DIR": t.TempDir(), "LOG_LEVEL": "info",
		"ADMIN_EMAIL": adminEmail, "ADMIN_PASSWORD": adminPassword,
		"RATE_LIMIT_LOGIN_PER_MINUTE": "1000", "FLAG_POLL_INTERVAL_MS": "200",
		"TRUSTED_PROXIES": "127.0.0.1/32",
	}
	for k, v := range c.env {
		vars[k] = v
	}
	for k, v := range extra {
		vars[k] = v
	}
	cmd := exec.Command(env.bin, "serve")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	logs := &apptest.LogBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	require.NoError(t, cmd.Start())
	r := &replica{name: fmt.Sprintf("r%d", len(c.replicas)+1), URL: fmt.Sprintf("http://127.0.0.1:%d", port), cmd: cmd, logs: logs, done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(r.done) }()
	var err error
	r.C, err = client.NewClientWithResponses(r.URL, client.WithHTTPClient(&http.Client{Timeout: 30 * time.Second}))
	require.NoError(t, err)
	c.replicas = append(c.replicas, r)
	t.Cleanup(func() {
		r.stop()
		if t.Failed() {
			t.Logf("%s logs (tail):\n%s", r.name, tail(logs.String(), 40))
		}
	})
	eventually(t, 60*time.Second, func() error {
		select {
		case <-r.done:
			t.Fatalf("%s exited:\n%s", r.name, tail(logs.String(), 30))
		default:
		}
		res, err := http.Get(r.URL + "/health")
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode != 200 {
			return fmt.Errorf("health %d", res.StatusCode)
		}
		return nil
	})
	return r
}

// kill ends the replica with SIGKILL: no shutdown, no last words.
func (r *replica) kill() {
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	<-r.done
}

func (r *replica) stop() {
	select {
	case <-r.done:
		return
	default:
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(15 * time.Second):
		r.kill()
	}
}

// login returns an access and a refresh token for the bootstrap admin.
func (r *replica) login(t *testing.T, email, password string) (string, string) {
	t.Helper()
	var access, refresh string
	eventually(t, 30*time.Second, func() error {
		res, err := r.C.LoginWithResponse(context.Background(), client.LoginRequest{Email: email, Password: password})
		if err != nil {
			return err
		}
		if res.JSON200 == nil {
			return fmt.Errorf("login: %d %s", res.StatusCode(), res.Body)
		}
		access, refresh = res.JSON200.Data.AccessToken, res.JSON200.Data.RefreshToken
		return nil
	})
	return access, refresh
}

// do sends a JSON request and returns the status and body.
func do(ctx context.Context, method, url, token string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

func bearer(tok string) client.RequestEditorFn {
	return func(_ context.Context, r *http.Request) error {
		r.Header.Set("Authorization", "Bearer "+tok)
		return nil
	}
}

// eventually retries f until it returns nil or the deadline passes.
func eventually(t *testing.T, within time.Duration, f func() error) {
	t.Helper()
	deadline := time.Now().Add(within)
	var err error
	for {
		if err = f(); err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not within %s: %v", within, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func tail(s string, n int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
