package tests

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lestrrat-go/jwx/v2/jwa"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/auth"
)

// fuzzContractSeed makes the committed plan (testdata/fuzz/contract-plan.golden).
const fuzzContractSeed = 20261205

const fuzzGolden = "../testdata/fuzz/contract-plan.golden"

// TestFuzzContract walks openapi/openapi.yaml and sends every operation valid requests, with
// every kind of caller, and boundary or invalid ones (see fuzz_plan_test.go). Every answer must
// come within the client timeout, never be a 5xx, carry a status the operation declares, and
// match the declared schema (the envelope, or OFREP's shapes under /ofrep). Streams (the
// operations declaring text/event-stream or 101) get their handshakes and invalid variants, but
// an accepted stream is closed at once, never held.
//
// By default it runs the committed plan (seed fuzzContractSeed, at least 3,800 requests; its
// summary must match testdata/fuzz/contract-plan.golden, FUZZ_CONTRACT_UPDATE=1 rewrites it).
// With FUZZ_CONTRACT_DURATION (a Go duration) it keeps sending random variants from a
// time-based seed, printed, until the duration ends; FUZZ_CONTRACT_SEED replays a seed.
func TestFuzzContract(t *testing.T) {
	doc, _, err := loadSpec()
	require.NoError(t, err)

	var duration time.Duration
	if v := os.Getenv("FUZZ_CONTRACT_DURATION"); v != "" {
		duration, err = time.ParseDuration(v)
		require.NoError(t, err, "FUZZ_CONTRACT_DURATION")
	}
	seed := int64(fuzzContractSeed)
	if duration > 0 {
		seed = time.Now().UnixNano()
	}
	if v := os.Getenv("FUZZ_CONTRACT_SEED"); v != "" {
		seed, err = strconv.ParseInt(v, 10, 64)
		require.NoError(t, err, "FUZZ_CONTRACT_SEED")
	}

	var plan []fuzzCase
	if duration == 0 {
		plan = buildFuzzPlan(doc, seed)
		require.GreaterOrEqual(t, len(plan), 3800, "the committed plan sends at least 3,800 requests")
		summary := planSummary(seed, plan)
		if os.Getenv("FUZZ_CONTRACT_UPDATE") != "" {
			require.NoError(t, os.MkdirAll(filepath.Dir(fuzzGolden), 0o755))
			require.NoError(t, os.WriteFile(fuzzGolden, []byte(summary), 0o644))
		}
		golden, err := os.ReadFile(fuzzGolden)
		require.NoError(t, err, "run with FUZZ_CONTRACT_UPDATE=1 to write the golden summary")
		require.Equal(t, string(golden), summary, "the fuzz plan changed: review, then FUZZ_CONTRACT_UPDATE=1")
	}

	t.Parallel()
	s := startServer(t, map[string]string{
		"RATE_LIMIT_ENABLED":         "false", // rate limits would stop the walk at the validator
		"MAX_CONVERSATIONS_PER_USER": "1000",
		"MAX_API_KEYS_PER_USER":      "1000",
	})
	fx := newFuzzFixtures(t, s)
	r := &fuzzRunner{t: t, s: s, fx: fx, seed: seed}

	start := time.Now()
	if duration == 0 {
		r.run(plan)
		t.Logf("contract fuzz: %d requests (seed %d) in %s", len(plan), seed, time.Since(start).Round(time.Millisecond))
	} else {
		t.Logf("contract fuzz: random run for %s, seed %d (replay with FUZZ_CONTRACT_SEED=%d)", duration, seed, seed)
		sent := 0
		for round := int64(0); time.Since(start) < duration && len(r.failures) == 0; round++ {
			if round > 0 {
				// Fresh fixtures and sessions: the last round deleted some, and tokens expire.
				r.fx = newFuzzFixtures(t, s)
			}
			p := randomFuzzPlan(doc, seed+round, 16)
			r.deadline = start.Add(duration)
			r.run(p)
			sent += len(p)
		}
		t.Logf("contract fuzz: about %d requests in %s", sent, time.Since(start).Round(time.Second))
	}
	r.report()
}

// fuzzFixtures are real objects the plan's placeholders point at, so that valid requests
// reach the handlers' deep paths.
type fuzzFixtures struct {
	t        *testing.T
	s        *testServer
	accounts map[string]account
	tokens   map[string]string
	values   map[string]string
	apiKey   string
	algNone  string
	expired  string
}

func newFuzzFixtures(t *testing.T, s *testServer) *fuzzFixtures {
	fx := &fuzzFixtures{t: t, s: s, accounts: map[string]account{}, tokens: map[string]string{}, values: map[string]string{}}
	for _, r := range []auth.Role{auth.RoleUser, auth.RoleViewer, auth.RoleAdmin, auth.RoleSuperadmin} {
		fx.accounts[string(r)] = s.account(t, r)
		fx.tokens[string(r)] = s.token(t, fx.accounts[string(r)])
	}
	victim, grantee := s.account(t, auth.RoleUser), s.account(t, auth.RoleUser)
	user := fx.accounts["user"]
	u, err := s.App.Auth.GetUser(context.Background(), user.User.ID)
	require.NoError(t, err)
	pair, err := s.App.Auth.IssueFor(context.Background(), u)
	require.NoError(t, err)
	claims := s.baseClaims(t, user)
	fx.algNone = unsigned(t, claims)
	claims["exp"], claims["iat"], claims["nbf"] = time.Now().Add(-time.Hour).Unix(), time.Now().Add(-2*time.Hour).Unix(), time.Now().Add(-2*time.Hour).Unix()
	fx.expired = sign(t, claims, jwa.HS256, []byte(s.Env["JWT_SECRET_KEY"]))

	admin, usr := fx.tokens["admin"], fx.tokens["user"]
	fx.apiKey = fx.str(fx.create(admin, "POST", "/api/auth/api-keys", `{"name":"fuzz","role":"admin"}`), "key")
	v := fx.values
	v["victim"], v["grantee"] = victim.User.ID.String(), grantee.User.ID.String()
	v["user_email"], v["refresh"], v["tok_user"] = user.Email, pair.Refresh, usr
	v["apikey_id"] = findID(fx.create(usr, "POST", "/api/auth/api-keys", `{"name":"fuzz-delete"}`))
	v["conv"] = findID(fx.create(usr, "POST", "/conversations", `{"title":"fuzz"}`))
	fx.create(usr, "POST", "/conversations/"+v["conv"]+"/messages", `{"content":"What is amoxicillin?"}`)
	v["msg"] = findID(fx.create(usr, "GET", "/conversations/"+v["conv"]+"/messages", ""))
	v["flag"] = "experiment.fz_flag_" + randomID() // fresh per fixture set (long runs make several)
	fx.create(admin, "POST", "/api/admin/feature-flags", `{"key":"`+v["flag"]+`","type":"multivariate","enabled":true,`+
		`"variants":[{"id":"a","name":"A","value":"a","weight":50},{"id":"b","name":"B","value":"b","weight":50}],`+
		`"default_value":"a","visibility":"public"}`)
	v["tkey"] = "fz-target"
	fx.create(admin, "PUT", "/api/admin/feature-flags/"+v["flag"]+"/overrides/fz-target", `{"variant":"b"}`)
	v["sched"] = findID(fx.create(admin, "POST", "/api/admin/feature-flags/"+v["flag"]+"/scheduled-changes",
		`{"scheduled_at":"2030-01-02T03:04:05Z","changes":{"a":40,"b":60}}`))
	v["doc"] = findID(fx.create(admin, "POST", "/api/admin/kb/documents", `{"title":"Fuzz","text":"Amoxicillin is a penicillin antibiotic."}`))
	v["patient"] = findID(fx.create(usr, "POST", "/api/patients", `{"name":"Fuzz Patient","birth_date":"1980-02-03","sex":"female"}`))
	v["dict"] = findID(fx.create(usr, "POST", "/api/voice/dictation/sessions", `{"note_type":"soap"}`))
	v["term"] = "fuzzterm"
	fx.create(usr, "POST", "/api/voice/vocabulary", `{"terms":["fuzzterm"]}`)
	for k, val := range v {
		require.NotEmpty(t, val, "fixture %s", k)
	}
	return fx
}

// create sends a setup request and returns the envelope's data.
func (fx *fuzzFixtures) create(tok, method, path, body string) any {
	fx.t.Helper()
	res := fx.s.send(fx.t, method, path, body, map[string]string{"Authorization": "Bearer " + tok})
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	require.Less(fx.t, res.StatusCode, 300, "fixture %s %s: %s", method, path, b)
	var env struct{ Data any }
	require.NoError(fx.t, json.Unmarshal(b, &env))
	return env.Data
}

func (fx *fuzzFixtures) str(v any, key string) string {
	m, _ := v.(map[string]any)
	s, _ := m[key].(string)
	require.NotEmpty(fx.t, s, "fixture field %s in %v", key, v)
	return s
}

// findID returns the first "id" in a JSON value, depth first.
func findID(v any) string {
	switch x := v.(type) {
	case map[string]any:
		if id, ok := x["id"].(string); ok {
			return id
		}
		for _, k := range sortedKeys(x) {
			if id := findID(x[k]); id != "" {
				return id
			}
		}
	case []any:
		for _, e := range x {
			if id := findID(e); id != "" {
				return id
			}
		}
	}
	return ""
}

type fuzzFailure struct {
	c      fuzzCase
	status int
	msg    string
}

type fuzzRunner struct {
	t        *testing.T
	s        *testServer
	fx       *fuzzFixtures
	seed     int64
	deadline time.Time // random runs stop sending at it

	mu       sync.Mutex
	failures []fuzzFailure
	statuses map[int]int
	sent     atomic.Int64
}

// destructive operations run after the others, so that deleting a fixture or ending a
// session does not turn the rest of the plan into 404s and 401s.
func destructive(c fuzzCase) bool {
	return c.Method == http.MethodDelete || strings.HasSuffix(c.Op, "/logout") || strings.HasSuffix(c.Op, "/password") ||
		strings.HasSuffix(c.Op, "/role")
}

const fuzzWorkers = 6

func (r *fuzzRunner) run(plan []fuzzCase) {
	var first, last []fuzzCase
	for _, c := range plan {
		if destructive(c) {
			last = append(last, c)
		} else {
			first = append(first, c)
		}
	}
	client := &http.Client{
		Timeout:   20 * time.Second, // "never a hang": an answer within this or a failure
		Transport: &http.Transport{MaxIdleConnsPerHost: fuzzWorkers, DisableCompression: true},
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
	for _, phase := range [][]fuzzCase{first, last} {
		ch := make(chan fuzzCase)
		var wg sync.WaitGroup
		for i := 0; i < fuzzWorkers; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for c := range ch {
					r.one(client, c)
				}
			}()
		}
		for _, c := range phase {
			if !r.deadline.IsZero() && time.Now().After(r.deadline) {
				break
			}
			ch <- c
		}
		close(ch)
		wg.Wait()
	}
}

var uniq atomic.Int64

func (r *fuzzRunner) fill(s string) string {
	if !strings.Contains(s, "{{") {
		return s
	}
	for k, v := range r.fx.values {
		s = strings.ReplaceAll(s, "{{"+k+"}}", v)
	}
	return strings.ReplaceAll(s, "{{uniq}}", strconv.FormatInt(uniq.Add(1), 10)+randomID())
}

func (r *fuzzRunner) one(client *http.Client, c fuzzCase) {
	u := r.s.URL + r.fill(c.Path)
	if c.Query != "" {
		u += "?" + r.fill(c.Query)
	}
	var body io.Reader
	if c.Body != "" {
		body = strings.NewReader(r.fill(c.Body))
	}
	req, err := http.NewRequest(c.Method, u, body)
	if err != nil {
		r.fail(c, 0, "cannot build the request: "+err.Error())
		return
	}
	if c.CT != "" {
		req.Header.Set("Content-Type", c.CT)
	}
	if err := r.credentials(req, c); err != nil {
		r.fail(c, 0, err.Error())
		return
	}
	for _, h := range c.Header {
		req.Header.Add(h[0], headerSafe(h[1]))
	}
	r.sent.Add(1)
	res, err := client.Do(req)
	if err != nil {
		r.fail(c, 0, "no answer: "+err.Error())
		return
	}
	defer res.Body.Close()
	r.mu.Lock()
	if r.statuses == nil {
		r.statuses = map[int]int{}
	}
	r.statuses[res.StatusCode]++
	r.mu.Unlock()
	if res.StatusCode >= 500 {
		b, _ := io.ReadAll(io.LimitReader(res.Body, 600))
		// A provider-only operation (/api/medical-ai/generate) answers a declared 503
		// PROVIDER_UNAVAILABLE on this offline server whatever the input: its configuration,
		// not the input, decides.
		if res.StatusCode == http.StatusServiceUnavailable && r.declared(c, res.StatusCode) &&
			strings.Contains(string(b), `"code":"PROVIDER_UNAVAILABLE"`) {
			return
		}
		r.fail(c, res.StatusCode, "server error: "+string(b))
		return
	}
	if res.StatusCode == http.StatusSwitchingProtocols || strings.HasPrefix(res.Header.Get("Content-Type"), "text/event-stream") {
		// An accepted stream: its status must be declared; the stream itself is not held.
		if !r.declared(c, res.StatusCode) {
			r.fail(c, res.StatusCode, "undeclared status for a stream")
		}
		return
	}
	b, err := io.ReadAll(res.Body)
	if err != nil {
		r.fail(c, res.StatusCode, "reading the answer: "+err.Error())
		return
	}
	if verr := fuzzValidate(req, res, b); verr != nil {
		msg, _, _ := strings.Cut(verr.Error(), "\nSchema:") // the schema dump drowns the report
		r.fail(c, res.StatusCode, fmt.Sprintf("violates the contract: %s\nbody: %.300s", msg, b))
	}
}

// credentials puts the caller's credentials on the request. The password change and logout
// end sessions, so their authenticated callers get a fresh session (or account) each time.
func (r *fuzzRunner) credentials(req *http.Request, c fuzzCase) error {
	fx := r.fx
	switch c.Caller {
	case callerAnon:
	case callerUser, callerViewer, callerAdmin, callerSuperadmin:
		tok := fx.tokens[c.Caller]
		if strings.HasSuffix(c.Op, "/logout") || strings.HasSuffix(c.Op, "/password") {
			a := fx.accounts[c.Caller]
			if strings.HasSuffix(c.Op, "/password") {
				u, err := r.s.App.Auth.CreateUser(context.Background(), "fzpw"+randomID()+"@example.org", goodPassword, "Fuzz", auth.Role(c.Caller), nil)
				if err != nil {
					return err
				}
				a = account{User: u}
			}
			u, err := r.s.App.Auth.GetUser(context.Background(), a.User.ID)
			if err != nil {
				return err
			}
			p, err := r.s.App.Auth.IssueFor(context.Background(), u)
			if err != nil {
				return err
			}
			tok = p.Access
		}
		req.Header.Set("Authorization", "Bearer "+tok)
	case callerAPIKey:
		req.Header.Set("X-API-Key", fx.apiKey)
	case callerGarbage:
		req.Header.Set("Authorization", "Bearer garbage.garbage.garbage")
	case callerAlgNone:
		req.Header.Set("Authorization", "Bearer "+fx.algNone)
	case callerExpired:
		req.Header.Set("Authorization", "Bearer "+fx.expired)
	case callerBadKey:
		req.Header.Set("X-API-Key", "va_garbage_"+uuid.NewString())
	default:
		return errors.New("unknown caller " + c.Caller)
	}
	return nil
}

// headerSafe drops the bytes net/http refuses to send in a header value (control
// characters); bytes 0x80-0xFF (invalid UTF-8) stay.
func headerSafe(v string) string {
	return strings.Map(func(r rune) rune {
		if (r < 0x20 && r != '\t') || r == 0x7f {
			return -1
		}
		return r
	}, v)
}

func (r *fuzzRunner) declared(c fuzzCase, status int) bool {
	doc, _, _ := loadSpec()
	method, path, _ := strings.Cut(c.Op, " ")
	op := doc.Paths.Find(path).GetOperation(method)
	return op != nil && op.Responses.Status(status) != nil
}

func (r *fuzzRunner) fail(c fuzzCase, status int, msg string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failures = append(r.failures, fuzzFailure{c, status, msg})
}

// report fails the test with the distinct failures (by operation, variant and status),
// each with enough to replay it.
func (r *fuzzRunner) report() {
	t := r.t
	codes := make([]int, 0, len(r.statuses))
	for code := range r.statuses {
		codes = append(codes, code)
	}
	sort.Ints(codes)
	var b bytes.Buffer
	for _, code := range codes {
		fmt.Fprintf(&b, " %d:%d", code, r.statuses[code])
	}
	t.Logf("contract fuzz: %d sent; statuses%s", r.sent.Load(), b.String())
	if len(r.failures) == 0 {
		return
	}
	seen := map[string]int{}
	var distinct []fuzzFailure
	for _, f := range r.failures {
		kind, _, _ := strings.Cut(f.c.Kind, ":random")
		k := fmt.Sprintf("%s|%s|%d", f.c.Op, kind, f.status)
		if seen[k] == 0 {
			distinct = append(distinct, f)
		}
		seen[k]++
	}
	t.Errorf("contract fuzz (seed %d): %d failures, %d distinct", r.seed, len(r.failures), len(distinct))
	for i, f := range distinct {
		if i == 80 {
			t.Errorf("... and %d more distinct failures", len(distinct)-i)
			break
		}
		q := f.c.Query
		if len(q) > 200 {
			q = q[:200] + "..."
		}
		body := f.c.Body
		if len(body) > 200 {
			body = body[:200] + "..."
		}
		t.Errorf("%s [%s] as %s -> %d: %s\n  path=%q query=%q ct=%q body=%q", f.c.Op, f.c.Kind, f.c.Caller, f.status, f.msg, f.c.Path, q, f.c.CT, body)
	}
}

// fuzzValidate is the harness's contract check, except for a path under /ofrep/ that names no
// operation (say an empty flag key): the gateway answers it in OFREP's error shape, which
// OFREP providers parse, not in the envelope the harness expects for unknown paths.
func fuzzValidate(req *http.Request, res *http.Response, body []byte) error {
	doc, router, err := loadSpec()
	if err != nil {
		return err
	}
	r2 := req.Clone(req.Context())
	r2.URL = &url.URL{Path: req.URL.Path, RawPath: req.URL.RawPath, RawQuery: req.URL.RawQuery}
	if _, _, ferr := router.FindRoute(r2); ferr != nil && strings.HasPrefix(req.URL.Path, "/ofrep/") {
		if res.StatusCode < 400 {
			return fmt.Errorf("status %d for a path the spec does not declare", res.StatusCode)
		}
		var v any
		if err := json.Unmarshal(body, &v); err != nil {
			return fmt.Errorf("error body is not JSON: %w", err)
		}
		return doc.Components.Schemas["OfrepGeneralError"].Value.VisitJSON(v)
	}
	return validateResponse(req, res, body)
}
