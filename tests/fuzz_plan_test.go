package tests

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand"
	"net/url"
	"regexp"
	"sort"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
)

// The contract fuzz plan: every operation of openapi/openapi.yaml gets valid requests (with
// every kind of caller) and boundary or invalid variants of each parameter, header and body
// field its contract declares. A plan is a pure function of the spec and a seed; fixtures
// (ids of a real conversation, flag, document, ...) appear as {{name}} placeholders filled in
// at send time, so the plan, and its hash in testdata/fuzz/contract-plan.golden, is the same
// on every run.

// fuzzCase is one request of the plan.
type fuzzCase struct {
	Op     string      `json:"op"`   // "METHOD /template"
	Kind   string      `json:"kind"` // what this request varies
	Caller string      `json:"caller"`
	Method string      `json:"method"`
	Path   string      `json:"path"`  // escaped, with {{fixture}} placeholders
	Query  string      `json:"query"` // raw query string
	Header [][2]string `json:"header,omitempty"`
	CT     string      `json:"ct,omitempty"` // Content-Type; empty: none
	Body   string      `json:"body,omitempty"`
}

// Callers: the credentials a request carries.
const (
	callerAnon       = "anonymous"
	callerUser       = "user"
	callerViewer     = "viewer"
	callerAdmin      = "admin"
	callerSuperadmin = "superadmin"
	callerAPIKey     = "apikey"
	callerGarbage    = "bearer-garbage"
	callerAlgNone    = "bearer-alg-none"
	callerExpired    = "bearer-expired"
	callerBadKey     = "apikey-garbage"
)

var allCallers = []string{callerAnon, callerUser, callerViewer, callerAdmin, callerSuperadmin,
	callerAPIKey, callerGarbage, callerAlgNone, callerExpired, callerBadKey}

// Markers replaced in serialised JSON bodies by bytes json.Marshal cannot produce.
const (
	markBadUTF8   = "\ue000BADUTF8\ue000"   // -> the bytes FF FE (invalid UTF-8)
	markSurrogate = "\ue000SURROGATE\ue000" // -> the escape \ud800 (a lone surrogate)
)

// minFuzzPerOp is how many requests each operation gets at least (random extra variants
// fill up to it), so that the committed plan reaches its size on every operation.
const minFuzzPerOp = 34

type fuzzOp struct {
	method, path string
	item         *openapi3.PathItem
	op           *openapi3.Operation
}

func (o fuzzOp) name() string { return o.method + " " + o.path }

// streaming reports whether the contract declares the operation as a stream (an event
// stream or a WebSocket switch): its variants are sent, but an accepted stream is closed at
// once, never held.
func (o fuzzOp) streaming() bool {
	for code, r := range o.op.Responses.Map() {
		if code == "101" || (r.Value != nil && r.Value.Content.Get("text/event-stream") != nil) {
			return true
		}
	}
	return false
}

// role is the lowest role the contract declares for the operation ("" when public or when
// anonymous callers are admitted).
func (o fuzzOp) role(doc *openapi3.T) string {
	if r, ok := o.op.Extensions["x-required-role"].(string); ok {
		return r
	}
	sec := doc.Security
	if o.op.Security != nil {
		sec = *o.op.Security
	}
	role := ""
	for _, req := range sec {
		if len(req) == 0 {
			return ""
		}
		if s, ok := req["bearerAuth"]; ok && len(s) > 0 {
			role = s[0]
		}
	}
	return role
}

// goodCaller is the caller the invalid variants use: allowed in, so the input itself is judged.
func (o fuzzOp) goodCaller(doc *openapi3.T) string {
	switch r := o.role(doc); r {
	case "":
		if o.op.Security != nil && len(*o.op.Security) == 0 && o.op.Extensions["x-required-role"] == nil {
			return callerAnon
		}
		return callerUser
	default:
		return r
	}
}

func (o fuzzOp) params() []*openapi3.Parameter {
	var out []*openapi3.Parameter
	for _, ref := range append(append(openapi3.Parameters{}, o.item.Parameters...), o.op.Parameters...) {
		if ref.Value != nil {
			out = append(out, ref.Value)
		}
	}
	return out
}

func fuzzOps(doc *openapi3.T) []fuzzOp {
	var ops []fuzzOp
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops = append(ops, fuzzOp{method, path, item, op})
		}
	}
	sort.Slice(ops, func(i, j int) bool { return ops[i].name() < ops[j].name() })
	return ops
}

var pathParam = regexp.MustCompile(`\{([^}]+)\}`)

// fixtureFor names the fixture that fills a path parameter.
func fixtureFor(path, param string) string {
	switch {
	case param == "message_id":
		return "{{msg}}"
	case param == "targeting_key":
		return "{{tkey}}"
	case param == "flag" || param == "key":
		return "{{flag}}"
	case param == "name":
		return "swagger-init.js"
	case param == "asset":
		return "app.js"
	case param == "term":
		return "{{term}}"
	case param == "user_id":
		return "{{grantee}}"
	case strings.Contains(path, "/scheduled-changes/"):
		return "{{sched}}"
	case strings.HasPrefix(path, "/api/auth/api-keys/"):
		return "{{apikey_id}}"
	case strings.HasPrefix(path, "/api/users/"):
		return "{{victim}}"
	case strings.HasPrefix(path, "/conversations/"):
		return "{{conv}}"
	case strings.HasPrefix(path, "/api/admin/kb/documents/"):
		return "{{doc}}"
	case strings.HasPrefix(path, "/api/patients/"):
		return "{{patient}}"
	case strings.HasPrefix(path, "/api/voice/dictation/sessions/"):
		return "{{dict}}"
	}
	return "x"
}

// validBodies are hand-made valid bodies for the operations whose rules a schema alone
// cannot satisfy (consistent weights, a real conversation, the caller's password), so that
// deep handlers are reached. Others are generated from their schema.
var validBodies = map[string]string{
	"POST /api/auth/register":                                       `{"email":"fz{{uniq}}@example.org","password":"vivid-orchid-Lantern-93","full_name":"Fuzz"}`,
	"POST /api/auth/login":                                          `{"email":"{{user_email}}","password":"vivid-orchid-Lantern-93"}`,
	"POST /api/auth/refresh":                                        `{"refresh_token":"{{refresh}}"}`,
	"POST /api/auth/password":                                       `{"current_password":"vivid-orchid-Lantern-93","new_password":"vivid-orchid-Lantern-94"}`,
	"POST /api/auth/api-keys":                                       `{"name":"fuzz","expires_in_days":30}`,
	"PATCH /api/users/me":                                           `{"full_name":"Fuzz Me"}`,
	"PATCH /api/users/{id}":                                         `{"full_name":"Fuzz Victim"}`,
	"PUT /api/users/{id}/role":                                      `{"role":"viewer"}`,
	"POST /conversations":                                           `{"title":"fuzz","folder":"fuzz"}`,
	"PATCH /conversations/{id}":                                     `{"title":"fuzz 2"}`,
	"POST /conversations/{id}/messages":                             `{"content":"What is the dose of amoxicillin?"}`,
	"POST /conversations/{id}/messages/stream":                      `{"content":"What is the dose of amoxicillin?"}`,
	"POST /api/admin/cache/clear":                                   `{}`,
	"POST /api/admin/cache/invalidate":                              `{"pattern":"flag:*"}`,
	"POST /api/admin/kb/documents":                                  `{"title":"Fuzz doc","text":"Amoxicillin is a penicillin antibiotic.","tags":["fuzz"]}`,
	"POST /api/kb/search":                                           `{"query":"amoxicillin","top_k":3}`,
	"POST /api/admin/feature-flags":                                 `{"key":"ops.fz_{{uniq}}","type":"boolean","enabled":true,"value":true,"default_value":false}`,
	"POST /api/admin/feature-flags/import":                          `{"flags":[{"key":"ops.fz_import","type":"boolean","enabled":true,"value":true,"default_value":false}]}`,
	"PATCH /api/admin/feature-flags/{flag}":                         `{"description":"fuzzed"}`,
	"PUT /api/admin/feature-flags/{flag}/overrides/{targeting_key}": `{"variant":"a","reason":"fuzz"}`,
	"POST /api/flags/evaluate":                                      `{"keys":["{{flag}}"],"context":{"targetingKey":"u1","plan":"pro"}}`,
	"POST /ofrep/v1/evaluate/flags/{key}":                           `{"context":{"targetingKey":"u1","plan":"pro"}}`,
	"POST /ofrep/v1/evaluate/flags":                                 `{"context":{"targetingKey":"u1"}}`,
	"POST /api/admin/feature-flags/{flag}/scheduled-changes":        `{"scheduled_at":"2030-01-02T03:04:05Z","changes":{"a":40,"b":60},"timezone_id":"Europe/Berlin"}`,
	"PATCH /api/admin/feature-flags/{flag}/scheduled-changes/{id}":  `{"description":"fuzzed"}`,
	"POST /api/patients":                                            `{"name":"Fuzz Patient","birth_date":"1980-02-03","sex":"female"}`,
	"PATCH /api/patients/{id}":                                      `{"version":1,"name":"Fuzz Patient 2"}`,
	"POST /api/patients/{id}/grants":                                `{"user_id":"{{grantee}}","access":"read"}`,
	"POST /api/voice/synthesize":                                    `{"text":"Take one tablet."}`,
	"POST /api/voice/synthesize/stream":                             `{"text":"Take one tablet."}`,
	"PUT /api/voice/preferences":                                    `{"provider":"auto","speed":1,"auto_play":false,"language":"en"}`,
	"POST /api/voice/relay":                                         `{"conversation_id":"{{conv}}","transcript":"What is the dose of amoxicillin?"}`,
	"POST /api/voice/dictation/sessions":                            `{"note_type":"soap"}`,
	"POST /api/voice/dictation/sessions/{id}/text":                  `{"text":"Patient reports headache.","version":1}`,
	"POST /api/voice/dictation/sessions/{id}/commands":              `{"command":"new paragraph","version":1}`,
	"POST /api/voice/dictation/sessions/{id}/finalize":              `{"version":1}`,
	"POST /api/voice/vocabulary":                                    `{"terms":["amoxicillin"]}`,
	"POST /api/phi/detect":                                          `{"text":"John Smith, born 1980-02-03, MRN 12345."}`,
	"POST /api/phi/redact":                                          `{"text":"John Smith, born 1980-02-03, MRN 12345."}`,
}

// planGen builds the plan of one operation.
type planGen struct {
	doc   *openapi3.T
	rng   *rand.Rand
	op    fuzzOp
	cases []fuzzCase
}

// buildFuzzPlan is the committed plan: every systematic variant of every operation, topped
// up with random ones to minFuzzPerOp per operation.
func buildFuzzPlan(doc *openapi3.T, seed int64) []fuzzCase {
	rng := rand.New(rand.NewSource(seed))
	var plan []fuzzCase
	for _, op := range fuzzOps(doc) {
		g := &planGen{doc: doc, rng: rng, op: op}
		g.generate()
		for i := 0; len(g.cases) < minFuzzPerOp; i++ {
			g.add(g.randomCase(i))
		}
		plan = append(plan, g.cases...)
	}
	return plan
}

// randomFuzzPlan is one round of the long run: perOp random variants of every operation.
func randomFuzzPlan(doc *openapi3.T, seed int64, perOp int) []fuzzCase {
	rng := rand.New(rand.NewSource(seed))
	var plan []fuzzCase
	for _, op := range fuzzOps(doc) {
		g := &planGen{doc: doc, rng: rng, op: op}
		for i := 0; i < perOp; i++ {
			g.add(g.randomCase(i))
		}
		plan = append(plan, g.cases...)
	}
	rng.Shuffle(len(plan), func(i, j int) { plan[i], plan[j] = plan[j], plan[i] })
	return plan
}

// base is the valid request of the operation, sent by its good caller.
func (g *planGen) base(kind string) fuzzCase {
	o := g.op
	path := pathParam.ReplaceAllStringFunc(o.path, func(m string) string {
		return fixtureFor(o.path, m[1:len(m)-1])
	})
	c := fuzzCase{Op: o.name(), Kind: kind, Caller: o.goodCaller(g.doc), Method: o.method, Path: path}
	var q []string
	for _, p := range o.params() {
		if p.In == openapi3.ParameterInQuery && (p.Required || g.rng.Intn(2) == 0) {
			if p.Name == "token" {
				q = append(q, "token={{tok_user}}")
				continue
			}
			q = append(q, url.QueryEscape(p.Name)+"="+url.QueryEscape(g.paramValue(p)))
		}
	}
	c.Query = strings.Join(q, "&")
	if rb := o.op.RequestBody; rb != nil && rb.Value != nil {
		switch {
		case rb.Value.Content.Get("application/json") != nil:
			c.CT = "application/json"
			if b, ok := validBodies[o.name()]; ok {
				c.Body = b
			} else {
				c.Body = string(mustMarshal(g.valid(rb.Value.Content.Get("application/json").Schema.Value, 0)))
			}
		case rb.Value.Content.Get("multipart/form-data") != nil:
			c.CT, c.Body = multipartFor(o.path, "")
		}
	}
	return c
}

func (g *planGen) add(c fuzzCase) { g.cases = append(g.cases, c) }

func (g *planGen) generate() {
	o := g.op
	// Valid requests with every caller, and the stream handshakes.
	for _, caller := range allCallers {
		c := g.base("valid")
		c.Caller = caller
		g.add(c)
	}
	if strings.HasSuffix(o.path, "-ws") || o.path == "/ws" {
		for _, kind := range []string{"upgrade", "upgrade-bad-key", "upgrade-bad-version", "upgrade-subprotocol-garbage"} {
			c := g.base(kind)
			c.Header = wsHeaders(kind)
			g.add(c)
		}
	}
	// Path parameters.
	for _, p := range o.params() {
		if p.In != openapi3.ParameterInPath {
			continue
		}
		for _, v := range []struct{ kind, val string }{
			{"unknown-uuid", "00000000-0000-4000-8000-000000000000"},
			{"garbage", "not-a-valid-id"},
			{"nul", "a%00b"},
			{"control", "a%01%1Fb"},
			{"bad-utf8", "%FF%FE"},
			{"overlong-utf8", "%C0%AF"},
			{"long", strings.Repeat("a", 300+g.rng.Intn(700))},
			{"traversal", "..%2F..%2Fetc%2Fpasswd"},
			{"unicode", "%E2%80%8B%F0%9F%98%80"},
		} {
			c := g.base("path:" + p.Name + ":" + v.kind)
			c.Path = strings.Replace(c.Path, fixtureFor(o.path, p.Name), v.val, 1)
			g.add(c)
		}
	}
	// Query parameters.
	for _, p := range o.params() {
		if p.In != openapi3.ParameterInQuery {
			continue
		}
		for _, v := range g.badParamValues(p) {
			c := g.base("query:" + p.Name + ":" + v.kind)
			c.Query = setQuery(c.Query, p.Name, v.val)
			g.add(c)
		}
		c := g.base("query:" + p.Name + ":twice")
		c.Query = setQuery(c.Query, p.Name, url.QueryEscape(g.paramValue(p))) + "&" + url.QueryEscape(p.Name) + "=" + url.QueryEscape(g.paramValue(p))
		g.add(c)
	}
	// Header parameters.
	for _, p := range o.params() {
		if p.In != openapi3.ParameterInHeader {
			continue
		}
		for _, v := range []struct{ kind, val string }{
			{"garbage", "garbage"}, {"bad-utf8", "\"\xff\xfe\""}, {"long", strings.Repeat("9", 5000)},
			{"negative", "-1"}, {"huge", "99999999999999999999999"}, {"quoted", `W/"x", "y"`},
		} {
			c := g.base("header:" + p.Name + ":" + v.kind)
			c.Header = append(c.Header, [2]string{p.Name, v.val})
			g.add(c)
		}
	}
	// Credentials in odd shapes and limits every operation shares.
	for _, v := range []struct {
		kind   string
		header [2]string
	}{
		{"auth-bad-utf8", [2]string{"Authorization", "Bearer \xff\xfe"}},
		{"auth-basic", [2]string{"Authorization", "Basic dXNlcjpwYXNz"}},
		{"auth-empty-bearer", [2]string{"Authorization", "Bearer "}},
		{"apikey-bad-utf8", [2]string{"X-API-Key", "va_\xff\xfe"}},
		{"apikey-long", [2]string{"X-API-Key", "va_" + strings.Repeat("k", 3000)}},
		{"headers-too-large", [2]string{"X-Fuzz-Padding", strings.Repeat("h", 70<<10)}},
		{"request-id-hostile", [2]string{"X-Request-ID", "../../<script>" + strings.Repeat("r", 200)}},
		{"traceparent-garbage", [2]string{"traceparent", "00-zz-zz-zz"}},
	} {
		c := g.base(v.kind)
		if strings.HasPrefix(v.kind, "auth") || strings.HasPrefix(v.kind, "apikey") {
			c.Caller = callerAnon
		}
		c.Header = append(c.Header, v.header)
		g.add(c)
	}
	c := g.base("uri-too-long")
	c.Query = strings.TrimPrefix(c.Query+"&pad="+strings.Repeat("u", 9<<10), "&")
	g.add(c)
	c = g.base("query-bad-escape")
	c.Query = strings.TrimPrefix(c.Query+"&a=%zz", "&")
	g.add(c)
	c = g.base("query-unknown-nul-utf8")
	c.Query = strings.TrimPrefix(c.Query+"&fz%FF=%00", "&")
	g.add(c)
	c = g.base("query-unknown-nul")
	c.Query = strings.TrimPrefix(c.Query+"&fz=a%00b", "&")
	g.add(c)
	// Bodies.
	if rb := o.op.RequestBody; rb != nil && rb.Value != nil {
		if mt := rb.Value.Content.Get("application/json"); mt != nil && mt.Schema != nil {
			g.jsonBodies(mt.Schema.Value)
		}
		if rb.Value.Content.Get("multipart/form-data") != nil {
			g.multipartBodies()
		}
	} else if o.method != "GET" {
		c := g.base("unexpected-body")
		c.CT, c.Body = "application/json", `{"a":1,"a":2}`
		g.add(c)
	}
}

// randomCase picks a random variant: a valid request by a random caller, or a random junk
// value in one random place.
func (g *planGen) randomCase(i int) fuzzCase {
	c := g.base(fmt.Sprintf("random-%d", i))
	junk := junkStrings[g.rng.Intn(len(junkStrings))]
	if g.rng.Intn(3) == 0 {
		c.Caller = allCallers[g.rng.Intn(len(allCallers))]
		c.Kind += ":" + c.Caller
	}
	switch g.rng.Intn(5) {
	case 0:
		for _, p := range g.op.params() {
			if p.In == openapi3.ParameterInPath && g.rng.Intn(2) == 0 {
				c.Path = strings.Replace(c.Path, fixtureFor(g.op.path, p.Name), url.PathEscape(junk), 1)
				c.Kind += ":path:" + p.Name
				break
			}
		}
	case 1:
		var qs []*openapi3.Parameter
		for _, p := range g.op.params() {
			if p.In == openapi3.ParameterInQuery {
				qs = append(qs, p)
			}
		}
		if len(qs) > 0 {
			p := qs[g.rng.Intn(len(qs))]
			c.Query = setQuery(c.Query, p.Name, url.QueryEscape(junk))
			c.Kind += ":query:" + p.Name
		}
	case 2:
		if c.CT == "application/json" {
			var v any
			if json.Unmarshal([]byte(c.Body), &v) == nil {
				if m, ok := v.(map[string]any); ok && len(m) > 0 {
					keys := sortedKeys(m)
					k := keys[g.rng.Intn(len(keys))]
					m[k] = junk
					c.Body = encodeBody(m)
					c.Kind += ":body:" + k
				}
			}
		}
	case 3:
		c.Header = append(c.Header, [2]string{"Accept", junk})
		c.Kind += ":accept"
	case 4:
		if c.CT == "application/json" {
			var v any
			if json.Unmarshal([]byte(c.Body), &v) == nil {
				if m, ok := v.(map[string]any); ok {
					m["fz_"+strings.Repeat("k", g.rng.Intn(3))] = junk
					c.Body = encodeBody(m)
					c.Kind += ":body:extra"
				}
			}
		}
	}
	return c
}

var junkStrings = []string{"", " ", "\x00", "\x01\x02", "\u202e", "\ufeff", "null", "-1", "0", "1e309",
	"9223372036854775808", "'; DROP TABLE users; --", "../../../etc/passwd", "{{7*7}}", "%s%n",
	"<script>alert(1)</script>", "\U0001F600", strings.Repeat("x", 5000), "true", "[]", "{}", "\t\n\r",
	"ａｄｍｉｎ", "\u0000admin"}

type badValue struct{ kind, val string } // val is already query-escaped

func (g *planGen) badParamValues(p *openapi3.Parameter) []badValue {
	out := []badValue{
		{"empty", ""}, {"nul", "a%00b"}, {"control", "%01%1B"}, {"bad-utf8", "%FF%FE"},
		{"long", strings.Repeat("q", 2000+g.rng.Intn(2000))}, {"injection", url.QueryEscape("' OR 1=1 --")},
	}
	if p.Schema == nil || p.Schema.Value == nil {
		return out
	}
	s := p.Schema.Value
	switch {
	case s.Type.Is("integer") || s.Type.Is("number"):
		out = append(out, badValue{"not-a-number", "abc"}, badValue{"negative", "-1"}, badValue{"huge", "99999999999999999999"},
			badValue{"float", "1.5"}, badValue{"zero", "0"})
		if s.Min != nil {
			out = append(out, badValue{"min-1", fmt.Sprint(*s.Min - 1)})
		}
		if s.Max != nil {
			out = append(out, badValue{"max+1", fmt.Sprint(*s.Max + 1)})
		}
	case s.Type.Is("boolean"):
		out = append(out, badValue{"not-a-bool", "yes"})
	case s.Type.Is("array"):
		out = append(out, badValue{"many", strings.Repeat("a,", 300) + "a"})
	case s.Type.Is("string"):
		if len(s.Enum) > 0 {
			out = append(out, badValue{"enum-garbage", "not_an_enum_value"})
		}
		if s.Format != "" {
			out = append(out, badValue{"format-garbage", "garbage"})
		}
		if s.MaxLength != nil {
			out = append(out, badValue{"max+1", strings.Repeat("m", int(*s.MaxLength)+1)})
		}
		if s.MinLength > 1 {
			out = append(out, badValue{"min-1", strings.Repeat("m", int(s.MinLength)-1)})
		}
	}
	if p.Name == "cursor" {
		out = append(out, badValue{"cursor-garbage-base64", "eyJpZCI6Ii0xIn0"}, badValue{"cursor-not-base64", "!!!"},
			badValue{"cursor-json-garbage", url.QueryEscape("eyJ4Ijp7fX0=")}, badValue{"cursor-huge", strings.Repeat("QUFB", 1500)})
	}
	return out
}

// paramValue is a valid value for a query parameter.
func (g *planGen) paramValue(p *openapi3.Parameter) string {
	if p.Schema == nil || p.Schema.Value == nil {
		return "x"
	}
	switch p.Name {
	case "since_version":
		return "0"
	case "flag":
		return "{{flag}}"
	}
	v := g.valid(p.Schema.Value, 0)
	switch x := v.(type) {
	case string:
		return x
	case []any:
		parts := make([]string, len(x))
		for i, e := range x {
			parts[i] = fmt.Sprint(e)
		}
		return strings.Join(parts, ",")
	default:
		return fmt.Sprint(x)
	}
}

// valid generates a value the schema accepts (best effort: patterns are met by the hand
// bodies where they matter).
func (g *planGen) valid(s *openapi3.Schema, depth int) any {
	if s == nil || depth > 6 {
		return nil
	}
	if len(s.Enum) > 0 {
		return s.Enum[0]
	}
	if len(s.AllOf) > 0 {
		return g.valid(s.AllOf[0].Value, depth+1)
	}
	if len(s.OneOf) > 0 {
		return g.valid(s.OneOf[0].Value, depth+1)
	}
	switch {
	case s.Type.Is("string"):
		switch s.Format {
		case "uuid":
			return "00000000-0000-4000-8000-000000000001"
		case "email":
			return "fz@example.org"
		case "date-time":
			return "2030-01-02T03:04:05Z"
		case "date":
			return "1980-02-03"
		case "uri":
			return "https://example.org/fz"
		}
		n := int(s.MinLength)
		if n < 3 {
			n = 3
		}
		if s.MaxLength != nil && int(*s.MaxLength) < n {
			n = int(*s.MaxLength)
		}
		return strings.Repeat("f", n)
	case s.Type.Is("integer"):
		if s.Min != nil && *s.Min > 1 {
			return int(*s.Min)
		}
		return 1
	case s.Type.Is("number"):
		if s.Min != nil {
			return *s.Min
		}
		return 1
	case s.Type.Is("boolean"):
		return true
	case s.Type.Is("array"):
		if s.Items == nil {
			return []any{}
		}
		return []any{g.valid(s.Items.Value, depth+1)}
	case s.Type.Is("object"):
		m := map[string]any{}
		for _, name := range s.Required {
			if p := s.Properties[name]; p != nil {
				m[name] = g.valid(p.Value, depth+1)
			}
		}
		return m
	}
	return "x"
}

// jsonBodies sends the body-level and field-level variants of a JSON request body.
func (g *planGen) jsonBodies(s *openapi3.Schema) {
	for _, v := range []struct{ kind, ct, body string }{
		{"body-empty", "application/json", ""},
		{"body-null", "application/json", "null"},
		{"body-array", "application/json", "[]"},
		{"body-string", "application/json", `"x"`},
		{"body-number", "application/json", "12"},
		{"body-truncated", "application/json", `{"a":`},
		{"body-trailing-garbage", "application/json", `{} {}`},
		{"body-bad-utf8", "application/json", "{\"x\":\"\xff\xfe\"}"},
		{"body-bom", "application/json", "\ufeff{}"},
		{"body-nul-raw", "application/json", "{\"x\":\"a\x00b\"}"},
		{"body-deep-array", "application/json", strings.Repeat("[", 5000) + strings.Repeat("]", 5000)},
		{"body-deep-object", "application/json", strings.Repeat(`{"a":`, 200) + "1" + strings.Repeat("}", 200)},
		{"body-wide", "application/json", wideObject(5000)},
		{"body-huge", "application/json", `{"x":"` + strings.Repeat("h", 1<<20+10) + `"}`},
		{"ct-missing", "", "{}"},
		{"ct-text", "text/plain", "{}"},
		{"ct-form", "application/x-www-form-urlencoded", "a=b"},
		{"ct-garbage", "garbage/\xff;;", "{}"},
		{"ct-json-latin1", "application/json; charset=latin1", "{}"},
		{"ct-xml", "application/xml", "<a/>"},
	} {
		c := g.base(v.kind)
		c.CT, c.Body = v.ct, v.body
		g.add(c)
	}
	c := g.base("body-valid-no-ct")
	c.CT = ""
	g.add(c)
	base := g.base("")
	var m map[string]any
	if json.Unmarshal([]byte(base.Body), &m) != nil || m == nil {
		return
	}
	// Duplicate keys: the first key again, at the top and nested.
	keys := sortedKeys(m)
	if len(keys) > 0 {
		c := g.base("body-duplicate-key")
		c.Body = strings.TrimSuffix(base.Body, "}") + "," + mustJSONString(keys[0]) + ":" + string(mustMarshal(m[keys[0]])) + "}"
		g.add(c)
	}
	c = g.base("body-duplicate-key-nested")
	m2 := copyMap(m)
	m2["fz_nested"] = json.RawMessage(`{"k":1,"k":2}`)
	c.Body = encodeBody(m2)
	g.add(c)
	c = g.base("body-unknown-field")
	m2 = copyMap(m)
	m2["fz_unknown"] = 1
	c.Body = encodeBody(m2)
	g.add(c)
	for _, name := range s.Required {
		c := g.base("body:" + name + ":missing")
		m2 := copyMap(m)
		delete(m2, name)
		c.Body = encodeBody(m2)
		g.add(c)
	}
	props := make([]string, 0, len(s.Properties))
	for k := range s.Properties {
		props = append(props, k)
	}
	sort.Strings(props)
	for _, name := range props {
		ps := s.Properties[name].Value
		if ps == nil {
			continue
		}
		for _, v := range g.badFieldValues(ps) {
			c := g.base("body:" + name + ":" + v.kind)
			m2 := copyMap(m)
			m2[name] = v.val
			c.Body = encodeBody(m2)
			g.add(c)
		}
	}
}

type badField struct {
	kind string
	val  any
}

func (g *planGen) badFieldValues(s *openapi3.Schema) []badField {
	out := []badField{{"null", nil}, {"nul", "a\x00b"}, {"control", "a\x01\x1b\x7fb"}, {"bad-utf8", "a" + markBadUTF8},
		{"lone-surrogate", markSurrogate}, {"object", map[string]any{"x": 1}}}
	switch {
	case s.Type.Is("string"):
		out = append(out, badField{"number", 12}, badField{"empty", ""}, badField{"bidi", "\u202egnp.exe"},
			badField{"zero-width", "a\u200bb"}, badField{"emoji", "\U0001F600"})
		if s.MaxLength != nil && *s.MaxLength < 1<<20 {
			out = append(out, badField{"max+1", strings.Repeat("m", int(*s.MaxLength)+1)}, badField{"max", strings.Repeat("m", int(*s.MaxLength))})
		}
		if s.MinLength > 0 {
			out = append(out, badField{"min-1", strings.Repeat("m", int(s.MinLength)-1)})
		}
		if len(s.Enum) > 0 {
			out = append(out, badField{"enum-garbage", "not_an_enum_value"})
		}
		if s.Format != "" {
			out = append(out, badField{"format-garbage", "garbage-" + s.Format})
		}
	case s.Type.Is("integer"), s.Type.Is("number"):
		out = append(out, badField{"string", "1"}, badField{"negative", -1}, badField{"huge", json.Number("1e309")},
			badField{"big-int", json.Number("99999999999999999999999")}, badField{"float", 1.5})
		if s.Min != nil {
			out = append(out, badField{"min-1", *s.Min - 1})
		}
		if s.Max != nil {
			out = append(out, badField{"max+1", *s.Max + 1})
		}
	case s.Type.Is("boolean"):
		out = append(out, badField{"string", "true"}, badField{"number", 1})
	case s.Type.Is("array"):
		out = append(out, badField{"not-array", "x"}, badField{"empty", []any{}}, badField{"items-wrong", []any{map[string]any{"x": []any{}}, nil}})
		if s.MaxItems != nil && *s.MaxItems < 10000 {
			items := make([]any, *s.MaxItems+1)
			for i := range items {
				items[i] = g.valid(s.Items.Value, 1)
			}
			out = append(out, badField{"max+1", items})
		}
	case s.Type.Is("object"):
		out = append(out, badField{"array", []any{1}}, badField{"wide", json.RawMessage(wideObject(300))},
			badField{"deep", json.RawMessage(strings.Repeat(`{"a":`, 100) + "1" + strings.Repeat("}", 100))})
	default: // any value (flag values)
		out = append(out, badField{"deep", json.RawMessage(strings.Repeat("[", 300) + strings.Repeat("]", 300))},
			badField{"huge-string", strings.Repeat("v", 200000)})
	}
	return out
}

func (g *planGen) multipartBodies() {
	for _, kind := range []string{"mp-nul-field", "mp-bad-utf8-field", "mp-nul-text", "mp-empty-file", "mp-garbage-audio",
		"mp-no-boundary", "mp-truncated", "mp-wrong-field", "mp-duplicate-field"} {
		c := g.base(kind)
		c.CT, c.Body = multipartFor(g.op.path, kind)
		if kind == "mp-no-boundary" {
			c.CT = "multipart/form-data"
		}
		g.add(c)
	}
}

const fuzzBoundary = "fuzzboundary7MA4YWxk"

// multipartFor builds a multipart body for an upload operation: valid, or with one defect.
func multipartFor(path, kind string) (string, string) {
	part := func(name, filename, ct, body string) string {
		h := "--" + fuzzBoundary + "\r\nContent-Disposition: form-data; name=\"" + name + "\""
		if filename != "" {
			h += "; filename=\"" + filename + "\""
		}
		if ct != "" {
			h += "\r\nContent-Type: " + ct
		}
		return h + "\r\n\r\n" + body + "\r\n"
	}
	var parts []string
	text := "Amoxicillin is a penicillin antibiotic."
	field := "en"
	switch kind {
	case "mp-nul-text":
		text = "Amoxi\x00cillin"
	case "mp-nul-field":
		field = "e\x00n"
	case "mp-bad-utf8-field":
		field = "e\xff\xfe"
	}
	switch {
	case strings.HasPrefix(path, "/api/admin/kb/"):
		name := "files"
		if kind == "mp-wrong-field" {
			name = "nofiles"
		}
		body := text
		if kind == "mp-empty-file" {
			body = ""
		}
		parts = append(parts, part(name, "fuzz.txt", "text/plain", body), part("tags", "", "", field))
		if kind == "mp-duplicate-field" {
			parts = append(parts, part("tags", "", "", field))
		}
	default: // audio uploads
		name := "audio"
		if kind == "mp-wrong-field" {
			name = "noaudio"
		}
		audio := string(silenceWAV())
		switch kind {
		case "mp-empty-file":
			audio = ""
		case "mp-garbage-audio", "mp-nul-text":
			audio = "RIFF\x00\x00\x00\x00WAVEgarbage"
		}
		parts = append(parts, part(name, "fuzz.wav", "audio/wav", audio), part("language", "", "", field))
		if strings.Contains(path, "/dictation/") {
			parts = append(parts, part("version", "", "", "1"))
		}
		if kind == "mp-duplicate-field" {
			parts = append(parts, part("language", "", "", field))
		}
	}
	body := strings.Join(parts, "") + "--" + fuzzBoundary + "--\r\n"
	if kind == "mp-truncated" {
		body = body[:len(body)/2]
	}
	return "multipart/form-data; boundary=" + fuzzBoundary, body
}

// silenceWAV is 0.2 s of 16 kHz mono PCM16 silence.
func silenceWAV() []byte {
	const n = 3200
	b := make([]byte, 44+2*n)
	copy(b, "RIFF")
	le32(b[4:], uint32(36+2*n))
	copy(b[8:], "WAVEfmt ")
	le32(b[16:], 16)
	b[20], b[22] = 1, 1
	le32(b[24:], 16000)
	le32(b[28:], 32000)
	b[32], b[34] = 2, 16
	copy(b[36:], "data")
	le32(b[40:], 2*n)
	return b
}

func le32(b []byte, v uint32) { b[0], b[1], b[2], b[3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24) }

func wsHeaders(kind string) [][2]string {
	h := [][2]string{{"Connection", "Upgrade"}, {"Upgrade", "websocket"}, {"Sec-WebSocket-Version", "13"},
		{"Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="}}
	switch kind {
	case "upgrade-bad-key":
		h[3][1] = "\xff\xfe"
	case "upgrade-bad-version":
		h[2][1] = "99"
	case "upgrade-subprotocol-garbage":
		h = append(h, [2]string{"Sec-WebSocket-Protocol", "bearer, garbage.garbage.garbage"})
	}
	return h
}

func wideObject(n int) string {
	var b strings.Builder
	b.WriteString("{")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `"k%d":%d`, i, i)
	}
	b.WriteString("}")
	return b.String()
}

func setQuery(q, name, val string) string {
	var out []string
	for _, kv := range strings.Split(q, "&") {
		if kv == "" || strings.HasPrefix(kv, url.QueryEscape(name)+"=") {
			continue
		}
		out = append(out, kv)
	}
	return strings.Join(append(out, url.QueryEscape(name)+"="+val), "&")
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m)+1)
	for k, v := range m {
		out[k] = v
	}
	return out
}

func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func mustJSONString(s string) string { return string(mustMarshal(s)) }

// encodeBody serialises a body and puts in the bytes json.Marshal cannot write.
func encodeBody(v any) string {
	s := string(mustMarshal(v))
	s = strings.ReplaceAll(s, markBadUTF8, "\xff\xfe")
	return strings.ReplaceAll(s, markSurrogate, `\ud800`)
}

// planSummary is the committed golden summary: the seed, the request count per operation
// and a hash of the whole plan, so that a change to the plan shows in review.
func planSummary(seed int64, plan []fuzzCase) string {
	h := sha256.New()
	per := map[string]int{}
	for _, c := range plan {
		// %+q (strconv.QuoteToASCII) keeps every byte, invalid UTF-8 included, the same way on
		// every Go release; encoding/json's rendering of invalid UTF-8 changed in Go 1.27.
		_, _ = fmt.Fprintf(h, "%+q\n", []any{c.Op, c.Kind, c.Caller, c.Method, c.Path, c.Query, c.Header, c.CT, c.Body})
		per[c.Op]++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "# Contract fuzz plan (tests/fuzz_contract_test.go). Regenerate: FUZZ_CONTRACT_UPDATE=1 go test -run TestFuzzContract ./tests/\n")
	fmt.Fprintf(&b, "seed %d\nrequests %d\noperations %d\nsha256 %s\n", seed, len(plan), len(per), hex.EncodeToString(h.Sum(nil)))
	ops := make([]string, 0, len(per))
	for op := range per {
		ops = append(ops, op)
	}
	sort.Strings(ops)
	for _, op := range ops {
		fmt.Fprintf(&b, "%5d %s\n", per[op], op)
	}
	return b.String()
}
