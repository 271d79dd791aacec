package httpserver

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sort"
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
// Kept in canonical form: they are looked up in http.Header directly.
var readHeaders = []string{"Authorization", http.CanonicalHeaderKey("X-API-Key"), "Content-Type",
	http.CanonicalHeaderKey("Sec-WebSocket-Protocol")}

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
			in.headers = append(in.headers[:len(in.headers):len(in.headers)], http.CanonicalHeaderKey(p.Name))
		}
	}
	return in
}

// jsonBody is a JSON request body read and parsed once by the input rules, for the
// validator and then the handler.
type jsonBody struct {
	raw    []byte
	value  any  // what the contract validator checks
	syntax bool // the body is not JSON: the validator reports it after authentication
}

// checkInput applies the input rules to one routed request: valid UTF-8 in path parameters,
// the query string and the headers read (400); a single-valued query parameter given once
// (400); no NUL in path or declared query parameters (422, naming the parameter); and for a JSON body valid
// UTF-8, no duplicate object keys, bounded nesting (400) and no NUL in any string (422).
// It returns the JSON body it read (nil when the operation takes none or it is not JSON).
func checkInput(c echo.Context, op opInput, params map[string]string) (*jsonBody, error) {
	var names []string
	if len(params) > 0 {
		names = make([]string, 0, len(params))
		for name := range params {
			names = append(names, name)
		}
		sort.Strings(names)
	}
	for _, name := range names {
		if !utf8.ValidString(params[name]) {
			return nil, notUTF8(name)
		}
	}
	req := c.Request()
	for _, h := range op.headers {
		for _, v := range req.Header[h] {
			if !utf8.ValidString(v) {
				return nil, notUTF8(h)
			}
		}
	}
	var keys []string
	var q url.Values
	if req.URL.RawQuery != "" {
		var err error
		q, err = url.ParseQuery(req.URL.RawQuery)
		if err != nil {
			return nil, apierr.Validation(http.StatusBadRequest, apierr.FieldError{Field: "query", Message: "is not a valid query string"})
		}
		keys = make([]string, 0, len(q))
		for k := range q {
			keys = append(keys, k)
		}
		sort.Strings(keys)
	}
	for _, k := range keys {
		if !utf8.ValidString(k) {
			return nil, notUTF8("query")
		}
		for _, v := range q[k] {
			if !utf8.ValidString(v) {
				return nil, notUTF8(k)
			}
		}
		if op.single[k] && len(q[k]) > 1 {
			return nil, apierr.Validation(http.StatusBadRequest, apierr.FieldError{Field: k, Message: "must be given at most once"})
		}
	}
	// NUL only after every encoding rule: 400 (malformed) is reported before 422 (a rule).
	for _, name := range names {
		if strings.IndexByte(params[name], 0) >= 0 {
			return nil, nulError(name)
		}
	}
	for _, k := range keys {
		if !op.query[k] {
			continue // never read: an unknown parameter cannot reach storage
		}
		for _, v := range q[k] {
			if strings.IndexByte(v, 0) >= 0 {
				return nil, nulError(k)
			}
		}
	}
	if !op.body || req.Body == nil || req.Body == http.NoBody || !isJSON(headerValue(req.Header, "Content-Type")) {
		return nil, nil // a body the operation does not take is never read
	}
	raw, err := readBody(req)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, tooLarge(mbe.Limit)
		}
		return nil, apierr.Validation(http.StatusBadRequest, apierr.FieldError{Field: "body", Message: "could not be read"})
	}
	body, err := checkJSON(raw)
	if err != nil {
		return nil, err
	}
	return body, nil
}

// readBody reads the whole request body, in one allocation when its length is declared.
func readBody(req *http.Request) ([]byte, error) {
	if n := req.ContentLength; n > 0 && n <= 64<<20 {
		buf := make([]byte, n+1) // one byte more: a body longer than declared is an error of its own
		m, err := io.ReadFull(req.Body, buf)
		switch {
		case err == io.ErrUnexpectedEOF || err == io.EOF:
			return buf[:m], nil
		case err != nil:
			return nil, err
		}
		rest, err := io.ReadAll(req.Body)
		return append(buf, rest...), err
	}
	return io.ReadAll(req.Body)
}

// checkJSON applies the body rules to a JSON document and parses it. Syntax errors are left
// to the validator, which names them after authentication.
func checkJSON(raw []byte) (*jsonBody, error) {
	body := &jsonBody{raw: raw}
	if len(raw) == 0 {
		return body, nil
	}
	if !utf8.Valid(raw) {
		return nil, notUTF8("body")
	}
	v, field, err := parseJSON(raw)
	switch {
	case errors.Is(err, errSyntax):
		body.syntax = true
		return body, nil
	case err != nil:
		return nil, apierr.Validation(http.StatusBadRequest, apierr.FieldError{Field: field, Message: err.Error()})
	}
	body.value = v
	if !bytes.Contains(raw, []byte(`\u0000`)) {
		return body, nil // the only way JSON carries U+0000
	}
	if field, ok := nulIn(v, ""); ok {
		if field == "" {
			field = "body"
		}
		return nil, nulError(field)
	}
	return body, nil
}

var (
	errSyntax    = errors.New("is not valid JSON")
	errDuplicate = errors.New("is given more than once in its object")
	errDepth     = errors.New("is nested too deeply")
)

func notUTF8(field string) error {
	return apierr.Validation(http.StatusBadRequest, apierr.FieldError{Field: field, Message: "is not valid UTF-8"})
}
