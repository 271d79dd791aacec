package handlers

import (
	"encoding/json"
	"math"
	"net/http"
	"slices"
	"strconv"
	"sync"

	"github.com/labstack/echo/v4"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/flageval"
)

// The OFREP fast path (issue 17): OfrepEvaluateFlag and OfrepEvaluateFlags on the raw Echo
// context. The strict layer would decode the body a second time (the validator has already
// parsed and checked it) and encode the answer by reflection through a map per flag; here
// the typed evaluation context is built from the validated value and the 200 answer is
// appended by hand, with the bytes json.Encoder writes (TestOFREPWireMatchesEncoder). Error
// answers, and any request or value this path does not handle itself, go through the
// generated code as before.

// validatedJSON is the request body the contract validator leaves behind
// (internal/httpserver's bodyReader).
type validatedJSON interface{ ValidatedJSON() any }

func (r *routes) OfrepEvaluateFlag(c echo.Context, key string) error {
	ec, ok := r.ofrepContext(c)
	if !ok {
		return r.ServerInterface.OfrepEvaluateFlag(c, key)
	}
	res, failed, err := r.s.ofrepEvaluate(c.Request().Context(), key, ec)
	switch {
	case err != nil:
		return err
	case failed != nil:
		return failed.VisitOfrepEvaluateFlagResponse(c.Response())
	}
	buf := wireBufs.Get().(*[]byte)
	defer putWireBuf(buf)
	b, ok := appendOfrepSuccess((*buf)[:0], key, res)
	*buf = b
	if !ok {
		return ofrepSuccess(key, res).VisitOfrepEvaluateFlagResponse(c.Response())
	}
	return writeOfrep(c.Response(), b, "")
}

func (r *routes) OfrepEvaluateFlags(c echo.Context, params api.OfrepEvaluateFlagsParams) error {
	ec, ok := r.ofrepContext(c)
	if !ok {
		return r.ServerInterface.OfrepEvaluateFlags(c, params)
	}
	results, etag, notModified, err := r.s.ofrepBulk(c.Request().Context(), params.IfNoneMatch, ec)
	switch {
	case err != nil:
		return err
	case notModified:
		return api.OfrepEvaluateFlags304Response{}.VisitOfrepEvaluateFlagsResponse(c.Response())
	}
	buf := wireBufs.Get().(*[]byte)
	defer putWireBuf(buf)
	b, ok := appendOfrepBulk((*buf)[:0], results)
	*buf = b
	if !ok {
		return ofrepBulkAnswer(results, etag).VisitOfrepEvaluateFlagsResponse(c.Response())
	}
	return writeOfrep(c.Response(), b, etag)
}

// ofrepContext is the request's evaluation context, built from the value the validator
// checked as encoding/json would decode it into the typed request (numbers as float64, an
// absent or null context as nil). ok is false when the fast path does not apply: a strict
// middleware is installed, or there is no validated JSON object (an empty body, a number
// beyond float64).
func (r *routes) ofrepContext(c echo.Context) (ec *api.EvaluationContext, ok bool) {
	if !r.fast {
		return nil, false
	}
	vb, isValidated := c.Request().Body.(validatedJSON)
	if !isValidated {
		return nil, false
	}
	body, isObject := vb.ValidatedJSON().(map[string]any)
	if !isObject {
		return nil, false
	}
	v := body["context"]
	if v == nil {
		return nil, true
	}
	m, isObject := v.(map[string]any)
	if !isObject {
		return nil, false
	}
	ec = &api.EvaluationContext{}
	for k, x := range m {
		if k == "targetingKey" {
			switch t := x.(type) {
			case nil:
			case string:
				ec.TargetingKey = &t
			default:
				return nil, false
			}
			continue
		}
		y, ok := decodedJSON(x)
		if !ok {
			return nil, false
		}
		if ec.AdditionalProperties == nil {
			ec.AdditionalProperties = make(map[string]api.EvaluationAttribute, len(m))
		}
		ec.AdditionalProperties[k] = y
	}
	return ec, true
}

// decodedJSON converts a validated value (numbers as json.Number) into what json.Unmarshal
// into an any gives (numbers as float64). ok is false for a number float64 cannot hold, which
// json.Unmarshal refuses.
func decodedJSON(v any) (any, bool) {
	switch t := v.(type) {
	case json.Number:
		f, err := strconv.ParseFloat(string(t), 64)
		return f, err == nil
	case map[string]any:
		out := make(map[string]any, len(t))
		for k, x := range t {
			y, ok := decodedJSON(x)
			if !ok {
				return nil, false
			}
			out[k] = y
		}
		return out, true
	case []any:
		out := make([]any, len(t))
		for i, x := range t {
			y, ok := decodedJSON(x)
			if !ok {
				return nil, false
			}
			out[i] = y
		}
		return out, true
	}
	return v, true
}

var hJSON = []string{"application/json"}

// writeOfrep sends a 200 JSON answer (with its ETag when etag is set), as the generated
// Visit methods do.
func writeOfrep(res *echo.Response, body []byte, etag string) error {
	h := res.Header()
	h["Content-Type"] = hJSON
	if etag != "" {
		h["Etag"] = []string{etag}
	}
	res.WriteHeader(http.StatusOK)
	_, err := res.Write(body)
	return err
}

// wireBufs holds answer buffers; net/http copies what is written, so a buffer is reused
// once the answer is written.
var wireBufs = sync.Pool{New: func() any { b := make([]byte, 0, 1024); return &b }}

func putWireBuf(b *[]byte) {
	if cap(*b) <= 64<<10 { // a huge answer does not pin its memory in the pool
		wireBufs.Put(b)
	}
}

// appendOfrepSuccess appends the 200 answer of a single evaluation as json.Encoder writes
// api.OfrepEvaluationSuccess: fields in the struct's order, metadata keys sorted, HTML-safe
// strings, a final newline. ok is false when the value cannot be encoded (the generated
// encoder then reports the error).
func appendOfrepSuccess(b []byte, key string, res flageval.Result) ([]byte, bool) {
	b = append(b, `{"key":`...)
	b = appendJSONString(b, key)
	b = append(b, `,"metadata":`...)
	b = appendOfrepMetadata(b, res)
	b = append(b, `,"reason":`...)
	b = appendJSONString(b, string(res.Reason))
	b = append(b, `,"value":`...)
	b, ok := appendJSONValue(b, res.Value)
	if !ok {
		return b, false
	}
	if res.Variant != "" {
		b = append(b, `,"variant":`...)
		b = appendJSONString(b, res.Variant)
	}
	return append(b, '}', '\n'), true
}

// bulkHead opens a bulk answer: api.OfrepBulkResponse's eventStreams come before its flags.
var bulkHead = func() []byte {
	streams, err := json.Marshal(ofrepEventStreams())
	if err != nil {
		panic(err)
	}
	return append(append([]byte(`{"eventStreams":`), streams...), `,"flags":[`...)
}()

// appendOfrepBulk appends the 200 answer of a bulk evaluation as json.Encoder writes
// api.OfrepBulkResponse (ofrepBulkAnswer); ok as for appendOfrepSuccess.
func appendOfrepBulk(b []byte, results []flageval.Result) ([]byte, bool) {
	b = append(b, bulkHead...)
	for i, res := range results {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		if res.ErrorCode != "" {
			b = append(b, `"errorCode":`...)
			b = appendJSONString(b, string(res.ErrorCode))
			b = append(b, `,"errorDetails":`...)
			b = appendJSONString(b, res.ErrorMessage)
			b = append(b, ',')
		}
		b = append(b, `"key":`...)
		b = appendJSONString(b, res.Key)
		b = append(b, `,"metadata":`...)
		b = appendOfrepMetadata(b, res)
		if res.ErrorCode == "" {
			b = append(b, `,"reason":`...)
			b = appendJSONString(b, string(res.Reason))
			b = append(b, `,"value":`...)
			var ok bool
			if b, ok = appendJSONValue(b, res.Value); !ok {
				return b, false
			}
			if res.Variant != "" {
				b = append(b, `,"variant":`...)
				b = appendJSONString(b, res.Variant)
			}
		}
		b = append(b, '}')
	}
	return append(b, ']', '}', '\n'), true
}

// appendOfrepMetadata appends ofrepMetadata's map, its keys sorted as encoding/json sorts them.
func appendOfrepMetadata(b []byte, res flageval.Result) []byte {
	b = append(b, `{"category":`...)
	b = appendJSONString(b, flagCategory(res.Key))
	b = append(b, `,"version":`...)
	b = strconv.AppendInt(b, res.Version, 10)
	return append(b, '}')
}

// appendJSONValue appends v as encoding/json encodes it; what flag values hold (the JSON
// types as decoded) is written here, anything else by json.Marshal (the same encoder, so
// the same bytes).
func appendJSONValue(b []byte, v any) ([]byte, bool) {
	switch t := v.(type) {
	case nil:
		return append(b, "null"...), true
	case bool:
		return strconv.AppendBool(b, t), true
	case string:
		return appendJSONString(b, t), true
	case float64:
		return appendJSONFloat(b, t)
	case map[string]any:
		if t == nil {
			return append(b, "null"...), true
		}
		var small [16]string
		keys := small[:0]
		for k := range t {
			keys = append(keys, k)
		}
		slices.Sort(keys) // encoding/json's order: by the keys' bytes
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendJSONString(b, k)
			b = append(b, ':')
			var ok bool
			if b, ok = appendJSONValue(b, t[k]); !ok {
				return b, false
			}
		}
		return append(b, '}'), true
	case []any:
		if t == nil {
			return append(b, "null"...), true
		}
		b = append(b, '[')
		for i, x := range t {
			if i > 0 {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = appendJSONValue(b, x); !ok {
				return b, false
			}
		}
		return append(b, ']'), true
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return b, false
	}
	return append(b, raw...), true
}

// appendJSONFloat writes a float64 as encoding/json does: the shortest representation, in
// exponent form below 1e-6 and from 1e21, with a one-digit negative exponent ("1e-7", not
// "1e-07"). NaN and infinities are not JSON.
func appendJSONFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return b, false
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

// appendJSONString writes s quoted. A string of printable ASCII that needs no escape (keys,
// reasons, most values) is copied as is; any other goes through json.Marshal, so escapes
// (HTML-safe <, >, &; U+2028; invalid UTF-8) are exactly encoding/json's.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			raw, _ := json.Marshal(s) // a string always encodes
			return append(b, raw...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
