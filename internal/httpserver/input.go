package httpserver

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	"github.com/voiceassist/gateway/internal/apierr"
)

// Input rules that hold for every operation at once, before the contract validator runs
// (docs/operations.md, "Input rules"). net/http itself refuses headers over MaxHeaderBytes
// with a plain-text 431; the server's limit is set far above these so that the answer comes
// from here, in the envelope.
const (
	maxURIBytes    = 8 << 10  // a request target longer than this is 414
	maxHeaderBytes = 64 << 10 // request headers (names and values) larger than this are 431
	maxJSONDepth   = 64       // JSON nested deeper than this is 400
)

// requestLimits answers an over-long request target with 414 and over-large headers with
// 431, in the error envelope, before anything else reads them.
func requestLimits(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if len(req.RequestURI) > maxURIBytes {
			return apierr.New(http.StatusRequestURITooLong, "URI_TOO_LONG", "The request target exceeds 8 KiB")
		}
		n := len(req.Host)
		for k, vs := range req.Header {
			for _, v := range vs {
				n += len(k) + len(v) + 4 // "k: v\r\n"
			}
		}
		if n > maxHeaderBytes {
			return apierr.New(http.StatusRequestHeaderFieldsTooLarge, "HEADERS_TOO_LARGE", "The request headers exceed 64 KiB")
		}
		return next(c)
	}
}

// readHeaders are the request headers the gateway interprets besides the operation's
// declared header parameters: their values must be valid UTF-8.
var readHeaders = []string{"Authorization", "X-API-Key", "Content-Type", "Sec-WebSocket-Protocol"}

// opInput is what the input rules need to know about one operation.
type opInput struct {
	query   map[string]bool // declared query parameters
	single  map[string]bool // declared query parameters that take one value
	headers []string        // header values that must be valid UTF-8
	body    bool            // the operation accepts a request body
}

func newOpInput(route *routers.Route) opInput {
	in := opInput{query: map[string]bool{}, single: map[string]bool{}, headers: readHeaders, body: route.Operation.RequestBody != nil}
	params := append(openapi3.Parameters{}, route.PathItem.Parameters...)
	params = append(params, route.Operation.Parameters...)
	for _, ref := range params {
		p := ref.Value
		if p == nil {
			continue
		}
		switch p.In {
		case openapi3.ParameterInQuery:
			in.query[p.Name] = true
			if p.Schema == nil || p.Schema.Value == nil || !p.Schema.Value.Type.Is(openapi3.TypeArray) {
				in.single[p.Name] = true
			}
		case openapi3.ParameterInHeader:
			in.headers = append(in.headers[:len(in.headers):len(in.headers)], p.Name)
		}
	}
	return in
}

// checkInput applies the input rules to one routed request: valid UTF-8 in path parameters,
// the query string and the headers read (400); a single-valued query parameter given once
// (400); no NUL in path or declared query parameters (422, naming the parameter); and for a JSON body valid
// UTF-8, no duplicate object keys, bounded nesting (400) and no NUL in any string (422).
func checkInput(c echo.Context, op opInput, params map[string]string) error {
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if !utf8.ValidString(params[name]) {
			return notUTF8(name)
		}
	}
	req := c.Request()
	for _, h := range op.headers {
		for _, v := range req.Header.Values(h) {
			if !utf8.ValidString(v) {
				return notUTF8(h)
			}
		}
	}
	q, err := url.ParseQuery(req.URL.RawQuery)
	if err != nil {
		return apierr.Validation(http.StatusBadRequest, apierr.FieldError{Field: "query", Message: "is not a valid query string"})
	}
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		if !utf8.ValidString(k) {
			return notUTF8("query")
		}
		for _, v := range q[k] {
			if !utf8.ValidString(v) {
				return notUTF8(k)
			}
		}
		if op.single[k] && len(q[k]) > 1 {
			return apierr.Validation(http.StatusBadRequest, apierr.FieldError{Field: k, Message: "must be given at most once"})
		}
	}
	// NUL only after every encoding rule: 400 (malformed) is reported before 422 (a rule).
	for _, name := range names {
		if strings.IndexByte(params[name], 0) >= 0 {
			return nulError(name)
		}
	}
	for _, k := range keys {
		if !op.query[k] {
			continue // never read: an unknown parameter cannot reach storage
		}
		for _, v := range q[k] {
			if strings.IndexByte(v, 0) >= 0 {
				return nulError(k)
			}
		}
	}
	if !op.body || req.Body == nil || req.Body == http.NoBody || !isJSON(req.Header.Get("Content-Type")) {
		return nil // a body the operation does not take is never read
	}
	body, err := io.ReadAll(req.Body)
	req.Body = io.NopCloser(bytes.NewReader(body)) // the validator and the handler read it again
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return tooLarge(mbe.Limit)
		}
		return nil // the validator reports what it cannot read
	}
	return checkJSON(body)
}

// checkJSON applies the body rules to a JSON document. Syntax errors are left to the
// validator, which names them.
func checkJSON(body []byte) error {
	if !utf8.Valid(body) {
		return notUTF8("body")
	}
	if field, err := scanJSON(body); err != nil {
		if errors.Is(err, errSyntax) {
			return nil
		}
		return apierr.Validation(http.StatusBadRequest, apierr.FieldError{Field: field, Message: err.Error()})
	}
	if !bytes.Contains(body, []byte(`\u0000`)) {
		return nil // the only way JSON carries U+0000
	}
	var v any
	if json.Unmarshal(body, &v) != nil {
		return nil
	}
	if field, ok := nulIn(v, ""); ok {
		if field == "" {
			field = "body"
		}
		return nulError(field)
	}
	return nil
}

var (
	errSyntax    = errors.New("is not valid JSON")
	errDuplicate = errors.New("is given more than once in its object")
	errDepth     = errors.New("is nested too deeply")
)

// scanJSON walks the document token by token (nothing is built) and reports the first
// duplicate object key or nesting deeper than maxJSONDepth, with its path.
func scanJSON(body []byte) (string, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	type frame struct {
		keys   map[string]bool // nil for arrays
		key    string          // objects: the current key
		index  int             // arrays: the current index
		expect bool            // objects: a key comes next
	}
	var stack []*frame
	// path names the current element of each of frames, then last.
	path := func(frames []*frame, last string) string {
		parts := make([]string, 0, len(frames)+1)
		for _, f := range frames {
			if f.keys == nil {
				parts = append(parts, strconv.Itoa(f.index))
			} else {
				parts = append(parts, f.key)
			}
		}
		if last != "" {
			parts = append(parts, last)
		}
		if len(parts) == 0 {
			return "body"
		}
		return strings.Join(parts, ".")
	}
	// done marks that a value of the innermost container is complete.
	done := func() {
		if len(stack) == 0 {
			return
		}
		if top := stack[len(stack)-1]; top.keys == nil {
			top.index++
		} else {
			top.expect = true
		}
	}
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			if len(stack) != 0 {
				return "", errSyntax
			}
			return "", nil
		}
		if err != nil {
			return "", errSyntax
		}
		switch t := tok.(type) {
		case json.Delim:
			switch t {
			case '{', '[':
				f := &frame{}
				if t == '{' {
					f.keys, f.expect = map[string]bool{}, true
				}
				stack = append(stack, f)
				if len(stack) > maxJSONDepth {
					return path(stack[:len(stack)-1], ""), errDepth
				}
			case '}', ']':
				stack = stack[:len(stack)-1]
				done()
			}
		case string:
			if len(stack) > 0 {
				if top := stack[len(stack)-1]; top.keys != nil && top.expect {
					if top.keys[t] {
						return path(stack[:len(stack)-1], t), errDuplicate
					}
					top.keys[t], top.key, top.expect = true, t, false
					continue
				}
			}
			done()
		default:
			done()
		}
	}
}

func notUTF8(field string) error {
	return apierr.Validation(http.StatusBadRequest, apierr.FieldError{Field: field, Message: "is not valid UTF-8"})
}
