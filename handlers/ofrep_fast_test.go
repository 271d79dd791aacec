package handlers

import (
	"bytes"
	"encoding/json"
	"math"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/flageval"
)

// encoded is what the generated Visit methods write: json.Encoder's output.
func encoded(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// The hand-written OFREP answers are byte for byte what the strict layer's encoder writes
// for the same results.
func TestOFREPWireMatchesEncoder(t *testing.T) {
	values := []any{nil, true, false, "", "control", "Welcome back", `<b>&"quoted"\</b>`, "tab\tnew\nline\x01\x7f",
		"caf\u00e9 \u2028 \u2029 \U0001F600", "bad \xff utf-8", 0.0, math.Copysign(0, -1), 25.0, -3.5, 123.456, 1e-6, 1e-7,
		-1.5e-9, 1e20, 1e21, 12345678901234567890.0, math.MaxFloat64, math.SmallestNonzeroFloat64, 7, int64(-9),
		map[string]any{"provider": "fhir", "batch": 50.0, "resources": []any{"Patient", "Encounter"}, "html": "<&>"},
		[]any{1.0, "two", nil, false}, map[string]any{}, map[string]any(nil), []any(nil), []any{},
		map[string]any{"b": 1.0, "a": map[string]any{"zé": []any{map[string]any{"<k>": nil}}, "Z": 1e-9}, "": "empty", "a b": 2.5},
		map[string]any{"k01": 1.0, "k02": 2.0, "k03": 3.0, "k04": 4.0, "k05": 5.0, "k06": 6.0, "k07": 7.0, "k08": 8.0, "k09": 9.0,
			"k10": 10.0, "k11": 11.0, "k12": 12.0, "k13": 13.0, "k14": 14.0, "k15": 15.0, "k16": 16.0, "k17": 17.0, "k18": 18.0},
		[]string{"typed", "slice"}, map[string]int{"typed": 1}}
	r := rand.New(rand.NewPCG(17, 2))
	for range 2000 {
		values = append(values, math.Float64frombits(r.Uint64()), r.NormFloat64()*math.Pow(10, float64(r.IntN(60)-30)))
	}
	var results []flageval.Result
	for i, v := range values {
		if f, ok := v.(float64); ok && (math.IsNaN(f) || math.IsInf(f, 0)) {
			continue
		}
		res := flageval.Result{Key: "ui.flag_" + strings.Repeat("x", i%3), Value: v, Reason: flageval.ReasonStatic, Version: int64(i)}
		switch i % 4 {
		case 1:
			res.Variant, res.Reason = "variant_<a>", flageval.ReasonSplit
		case 2:
			res.Key = "experiment.odd\u00e9key"
		}
		got, ok := appendOfrepSuccess(nil, res.Key, res)
		if !ok {
			t.Fatalf("%#v: not encoded", v)
		}
		if want := encoded(t, ofrepSuccess(res.Key, res)); !bytes.Equal(got, want) {
			t.Fatalf("single %#v:\n got %s\nwant %s", v, got, want)
		}
		results = append(results, res)
	}
	results = append(results,
		flageval.Result{Key: "ui.gone", Reason: flageval.ReasonError, ErrorCode: flageval.CodeFlagNotFound, ErrorMessage: "flag not found"},
		flageval.Result{Key: "ui.typed", Reason: flageval.ReasonError, ErrorCode: "TYPE_MISMATCH", ErrorMessage: `value "x" <is> not a number`, Version: 4},
		flageval.Result{Key: "ui.empty", Reason: flageval.ReasonError, ErrorCode: "GENERAL"})
	for _, rs := range [][]flageval.Result{nil, {}, results[:1], results} {
		got, ok := appendOfrepBulk(nil, rs)
		if !ok {
			t.Fatal("bulk not encoded")
		}
		if want := encoded(t, ofrepBulkAnswer(rs, `"etag"`).Body); !bytes.Equal(got, want) {
			t.Fatalf("bulk of %d:\n got %s\nwant %s", len(rs), got, want)
		}
	}
	// A value encoding/json refuses is left to the generated encoder (which reports it).
	for _, v := range []any{math.NaN(), math.Inf(1), map[string]any{"f": math.Inf(-1)}} {
		if _, ok := appendOfrepSuccess(nil, "ui.x", flageval.Result{Key: "ui.x", Value: v}); ok {
			t.Fatalf("%v encoded", v)
		}
	}
}

// validatedBody is a request body as the contract validator leaves it.
type validatedBody struct {
	*strings.Reader
	value any
}

func (validatedBody) Close() error         { return nil }
func (b validatedBody) ValidatedJSON() any { return b.value }

// The evaluation context built from the validated value is the one the strict layer decodes
// from the same body; where it could differ, the fast path steps aside.
func TestOFREPContextMatchesDecoder(t *testing.T) {
	e := echo.New()
	r := &routes{fast: true}
	for _, body := range []string{`{}`, `{"context":null}`, `{"context":{}}`, `{"context":{"targetingKey":"u1"}}`,
		`{"context":{"targetingKey":null,"plan":"pro"}}`,
		`{"context":{"targetingKey":"u-2","age":66,"ratio":0.25,"big":12345678901234567890,"beta":true,"none":null,` +
			`"country":["FR",1e3,null],"address":{"zip":"75001","floor":-2.5e-3}}}`} {
		var want api.OfrepEvaluationRequest
		if err := json.Unmarshal([]byte(body), &want); err != nil {
			t.Fatal(err)
		}
		dec := json.NewDecoder(strings.NewReader(body))
		dec.UseNumber()
		var value any
		if err := dec.Decode(&value); err != nil {
			t.Fatal(err)
		}
		req := httptest.NewRequest(http.MethodPost, "/ofrep/v1/evaluate/flags", nil)
		req.Body = validatedBody{strings.NewReader(body), value}
		got, ok := r.ofrepContext(e.NewContext(req, httptest.NewRecorder()))
		if !ok {
			t.Fatalf("%s: fast path refused", body)
		}
		if !reflect.DeepEqual(got, want.Context) {
			t.Fatalf("%s:\n got %#v\nwant %#v", body, got, want.Context)
		}
	}
	// json.Unmarshal refuses a number beyond float64: the strict layer answers that.
	req := httptest.NewRequest(http.MethodPost, "/ofrep/v1/evaluate/flags", nil)
	req.Body = validatedBody{strings.NewReader(""), map[string]any{"context": map[string]any{"n": json.Number("1e999")}}}
	if _, ok := r.ofrepContext(e.NewContext(req, httptest.NewRecorder())); ok {
		t.Fatal("1e999 taken by the fast path")
	}
	// A body the validator did not leave behind, or a strict middleware, also steps aside.
	req = httptest.NewRequest(http.MethodPost, "/ofrep/v1/evaluate/flags", strings.NewReader(`{}`))
	if _, ok := r.ofrepContext(e.NewContext(req, httptest.NewRecorder())); ok {
		t.Fatal("raw body taken by the fast path")
	}
	req.Body = validatedBody{strings.NewReader(`{}`), map[string]any{}}
	if _, ok := (&routes{}).ofrepContext(e.NewContext(req, httptest.NewRecorder())); ok {
		t.Fatal("fast path taken with strict middleware")
	}
}
