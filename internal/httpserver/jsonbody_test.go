package httpserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"
)

// stdDecode is what the validator used to decode a body with: encoding/json with UseNumber,
// the whole input one value.
func stdDecode(b []byte) (any, bool) {
	if !json.Valid(b) {
		return nil, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	return v, dec.Decode(&v) == nil
}

var parseJSONSeeds = []string{
	`{}`, `[]`, `null`, ` true `, `false`, `0`, `-0.5e+10`, `1E2`, `"x"`, `{"a":[1,2,{"b":null}]}`,
	`{"a":"\u00e9\ud83d\ude00\n\t\"\\\/"}`, `"\ud800"`, `"\ud800\u0041"`, `"\udc00\ud800"`,
	`{"a":1,"a":2}`, `{"a":1,"\u0061":2}`, `[{"k":1},{"k":2}]`, `{"a":`, `[1,]`, `{"a":1,}`, `01`, `1.`,
	`.5`, `-`, `1e`, `"\x"`, "\"a\x01\"", `{"a" 1}`, `[1 2]`, `{} {}`, `nul`, `tru`, `"\u12"`, `{1:2}`,
	strings.Repeat("[", 70) + strings.Repeat("]", 70),
}

// TestParseJSONMatchesEncodingJSON: every seed parses to what encoding/json decodes, or is
// refused exactly when encoding/json refuses it (duplicates and depth aside: those are rules).
func TestParseJSONMatchesEncodingJSON(t *testing.T) {
	for _, s := range parseJSONSeeds {
		checkParseJSON(t, []byte(s))
	}
}

func FuzzParseJSON(f *testing.F) {
	for _, s := range parseJSONSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(checkParseJSON)
}

func checkParseJSON(t *testing.T, b []byte) {
	if !utf8.Valid(b) {
		return // refused before parsing
	}
	got, _, err := parseJSON(b)
	want, ok := stdDecode(b)
	switch {
	case errors.Is(err, errSyntax):
		if ok {
			t.Fatalf("%q: refused as syntax, encoding/json accepts it", b)
		}
	case errors.Is(err, errDuplicate), errors.Is(err, errDepth):
		// The first problem in document order wins: a duplicate key before a syntax error is
		// reported as the duplicate, as the token walk these rules replaced did.
	case err != nil:
		t.Fatalf("%q: unexpected error %v", b, err)
	case !ok:
		t.Fatalf("%q: accepted, encoding/json refuses it", b)
	case !reflect.DeepEqual(got, want):
		t.Fatalf("%q: got %#v, encoding/json %#v", b, got, want)
	}
}

func TestParseJSONPaths(t *testing.T) {
	for _, tc := range []struct{ body, field string }{
		{`{"a":1,"a":2}`, "a"},
		{`{"x":{"y":[1,{"k":1,"k":2}]}}`, "x.y.1.k"},
		{`[[1],[2,{"z":0,"z":1}]]`, "1.1.z"},
		{strings.Repeat(`{"d":`, 65) + `1` + strings.Repeat(`}`, 65), strings.TrimSuffix(strings.Repeat("d.", 64), ".")},
	} {
		if _, field, err := parseJSON([]byte(tc.body)); err == nil || field != tc.field {
			t.Errorf("%s: got %q (%v), want %q", tc.body, field, err, tc.field)
		}
	}
}
