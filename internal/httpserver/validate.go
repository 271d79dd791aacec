package httpserver

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	echomw "github.com/oapi-codegen/echo-middleware"

	"github.com/voiceassist/gateway/internal/apierr"
)

// Authenticator checks the credentials one security scheme of an operation asks for
// ("bearerAuth" or "apiKeyAuth") against the role scopes the operation declares. It returns
// the caller's principal, or an *apierr.Error (401 when credentials are missing or bad, 403
// when the role is too low, 503 when revocation cannot be checked).
type Authenticator func(ctx context.Context, scheme string, scopes []string, r *http.Request) (principal any, err error)

const (
	principalKey = "voiceassist.principal"
	rejectedKey  = "voiceassist.rejected-credential"
)

var formatsOnce sync.Once

// registerFormats makes kin-openapi check the formats our schemas use (it ignores them by default).
func registerFormats() {
	formatsOnce.Do(func() {
		openapi3.DefineStringFormatValidator("uuid", openapi3.NewCallbackValidator(func(s string) error {
			if _, err := uuid.Parse(s); err != nil || len(s) != 36 {
				return errors.New("must be a UUID like 123e4567-e89b-12d3-a456-426614174000")
			}
			return nil
		}))
		openapi3.DefineStringFormatValidator("email", openapi3.NewCallbackValidator(func(s string) error {
			a, err := mail.ParseAddress(s)
			if err != nil || a.Address != s || a.Name != "" || !strings.Contains(s[strings.LastIndexByte(s, '@'):], ".") {
				return errors.New("must be an email address like name@example.org")
			}
			return nil
		}))
		openapi3.DefineStringFormatValidator("uri", openapi3.NewCallbackValidator(func(s string) error {
			u, err := url.Parse(s)
			if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
				return errors.New("must be an absolute http(s) URL like https://example.org/page")
			}
			return nil
		}))
	})
}

// validator enforces the contract on every request: route, parameters, body, and the
// security requirement (with the role scope) of the matched operation. Echo has already
// matched the route, so the spec operation is found by Echo's route template instead of
// matching the path again (kin-openapi's gorillamux tries every route's regexp, about 7 %
// of a request's CPU); requests Echo did not route go to gorillamux for the 404/405 verdict.
func validator(spec *openapi3.T, auth Authenticator, slots uploadSlots) echo.MiddlewareFunc {
	registerFormats()
	// authenticate runs one security scheme of the matched operation for the request. A
	// credential that was presented but refused is remembered: an operation that also
	// allows anonymous callers must not silently treat it as anonymous.
	authenticate := func(ec echo.Context, scheme string, scopes []string) error {
		if auth == nil || ec == nil {
			return apierr.Unauthorized("UNAUTHORIZED", "Authentication required")
		}
		p, err := auth(ec.Request().Context(), scheme, scopes, ec.Request())
		if err != nil {
			var ae *apierr.Error
			if errors.As(err, &ae) && ae.Code != "UNAUTHORIZED" && ec.Get(rejectedKey) == nil {
				ec.Set(rejectedKey, err)
			}
			return err
		}
		ec.Set(principalKey, p)
		return nil
	}
	opts := &echomw.Options{
		SilenceServersWarning: true,
		Options: openapi3filter.Options{
			MultiError:         true,
			KeepValidatedValue: true,
			AuthenticationFunc: func(vctx context.Context, in *openapi3filter.AuthenticationInput) error {
				return authenticate(echomw.GetEchoContext(vctx), in.SecuritySchemeName, in.Scopes)
			},
		},
		MultiErrorHandler: func(me openapi3.MultiError) *echo.HTTPError {
			return &echo.HTTPError{Code: http.StatusBadRequest, Message: "invalid request", Internal: me}
		},
	}
	bodyless := opts.Options
	bodyless.ExcludeRequestBody = true
	fallback, err := gorillamux.NewRouter(spec)
	if err != nil {
		panic(fmt.Sprintf("httpserver: spec router: %v", err))
	}
	byTemplate := opTable[*routers.Route]{}
	inputs := map[*routers.Route]opInput{}
	unsecured := map[*routers.Route]*routers.Route{}
	anonLimit := opTable[int64]{} // x-anonymous-body-limit: the body limit when no credential is sent
	for path, item := range spec.Paths.Map() {
		template := specParam.ReplaceAllString(path, ":$1")
		for method, op := range item.Operations() {
			route := &routers.Route{Spec: spec, Path: path, PathItem: item, Method: method, Operation: op}
			byTemplate.set(method, template, route)
			// The validator checks security itself (checkSecurity); kin-openapi gets a copy of
			// the operation without requirements and checks the rest.
			bare := *op
			bare.Security = &openapi3.SecurityRequirements{}
			unsecured[route] = &routers.Route{Spec: spec, Path: path, PathItem: item, Method: method, Operation: &bare}
			inputs[route] = newOpInput(route)
			if v, ok := op.Extensions["x-anonymous-body-limit"].(float64); ok && v > 0 {
				anonLimit.set(method, template, int64(v))
			}
		}
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			route, _ := byTemplate.get(c.Request().Method, c.Path())
			if route == nil {
				if he := echomw.ValidateRequestFromContext(c, fallback, opts); he != nil {
					return he
				}
				return next(c)
			}
			// An anonymous body is bounded before it is decoded (issue 21 #1): public routes
			// must not let anyone make the validator decode a megabyte of attributes.
			if limit, _ := anonLimit.get(c.Request().Method, c.Path()); limit > 0 && anonymous(c.Request()) {
				req := c.Request()
				if req.ContentLength > limit {
					return tooLarge(limit)
				}
				limitBody(c, limit)
			}
			params := make(map[string]string, len(c.ParamNames()))
			for i, name := range c.ParamNames() {
				v := c.ParamValues()[i]
				if u, err := url.PathUnescape(v); err == nil {
					v = u
				}
				params[name] = v
			}
			body, err := checkInput(c, inputs[route], params)
			if err != nil {
				return err
			}
			// Security is checked here (checkSecurity), kin-openapi checks the parameters on a
			// copy of the operation without requirements, and the body: a JSON body from the
			// value the input rules parsed (validateJSONBody), a multipart body while it is
			// spooled (serveMultipart), any other by kin-openapi. All violations go into one
			// answer, authentication first (classifyInternal).
			req := c.Request()
			var me openapi3.MultiError
			if err := checkSecurity(c, route, authenticate); err != nil {
				me = append(me, err)
			}
			// kin-openapi gets no Echo context: on an operation without security requirements
			// it never calls AuthenticationFunc, the only reader of it.
			vctx := context.Background()
			in := &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: unsecured[route], Options: &opts.Options}
			schema, boundary, multipart := multipartRoute(req, route)
			if body != nil || multipart {
				in.Options = &bodyless
				unread := req.Body
				req.Body = http.NoBody // kin-openapi must not read it
				me = appendErrors(me, openapi3filter.ValidateRequest(vctx, in))
				req.Body = unread
			} else {
				me = appendErrors(me, openapi3filter.ValidateRequest(vctx, in))
			}
			if body != nil {
				if berr := validateJSONBody(in, route.Operation.RequestBody.Value, body); berr != nil {
					me = append(me, berr)
				}
				br := &bodyReader{value: body.value}
				br.Reset(body.raw)
				req.Body = br
				req.ContentLength = int64(len(body.raw))
			}
			if len(me) > 0 {
				return &echo.HTTPError{Code: http.StatusBadRequest, Message: "invalid request", Internal: me}
			}
			if multipart {
				return serveMultipart(c, next, route, schema, boundary, slots)
			}
			return next(c)
		}
	}
}

// appendErrors adds kin-openapi's error (a MultiError with Options.MultiError) to me.
func appendErrors(me openapi3.MultiError, err error) openapi3.MultiError {
	if err == nil {
		return me
	}
	var more openapi3.MultiError
	if errors.As(err, &more) {
		return append(me, more...)
	}
	return append(me, err)
}

// checkSecurity checks the operation's security requirements as kin-openapi would (the
// first requirement met wins; each scheme of a requirement must pass), with the same
// error, but lets a request without any credential through an operation that admits
// anonymous callers at once instead of trying every scheme first.
func checkSecurity(c echo.Context, route *routers.Route, authenticate func(echo.Context, string, []string) error) error {
	srs := route.Operation.Security
	if srs == nil {
		srs = &route.Spec.Security
	}
	if len(*srs) == 0 {
		return nil
	}
	if anonymous(c.Request()) {
		for _, sr := range *srs {
			if len(sr) == 0 {
				return nil
			}
		}
	}
	var errs []error
	for _, sr := range *srs {
		if err := checkRequirement(c, route, sr, authenticate); err != nil {
			errs = append(errs, err)
			continue
		}
		return nil
	}
	return &openapi3filter.SecurityRequirementsError{SecurityRequirements: *srs, Errors: errs}
}

func checkRequirement(c echo.Context, route *routers.Route, sr openapi3.SecurityRequirement, authenticate func(echo.Context, string, []string) error) error {
	names := make([]string, 0, len(sr))
	for name := range sr {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if route.Spec.Components == nil || route.Spec.Components.SecuritySchemes[name] == nil {
			return fmt.Errorf("security scheme %q is not declared", name)
		}
		if err := authenticate(c, name, sr[name]); err != nil {
			return err
		}
	}
	return nil
}

// validateJSONBody checks a parsed JSON body against the operation's request body, as
// kin-openapi's ValidateRequestBody would from the raw bytes, with the same error types, so
// the error envelope does not change. Defaults the schema sets are written back into the body.
func validateJSONBody(in *openapi3filter.RequestValidationInput, rb *openapi3.RequestBody, body *jsonBody) error {
	if len(body.raw) == 0 {
		if rb.Required {
			return &openapi3filter.RequestError{Input: in, RequestBody: rb, Err: openapi3filter.ErrInvalidRequired}
		}
		return nil
	}
	ct := headerValue(in.Request.Header, "Content-Type")
	mt := rb.Content.Get(ct)
	if mt == nil {
		return &openapi3filter.RequestError{Input: in, RequestBody: rb, Reason: fmt.Sprintf("header Content-Type has unexpected value %q", ct)}
	}
	if mt.Schema == nil {
		return nil
	}
	if body.syntax {
		return &openapi3filter.RequestError{Input: in, RequestBody: rb, Reason: "failed to decode request body",
			Err: &openapi3filter.ParseError{Kind: openapi3filter.KindInvalidFormat, Cause: errSyntax}}
	}
	defaults := false
	if err := mt.Schema.Value.VisitJSON(body.value, openapi3.VisitAsRequest(), openapi3.MultiErrors(),
		openapi3.DefaultsSet(func() { defaults = true })); err != nil {
		return &openapi3filter.RequestError{Input: in, RequestBody: rb, Reason: "doesn't match schema", Err: err}
	}
	if defaults {
		raw, err := json.Marshal(body.value)
		if err != nil {
			return &openapi3filter.RequestError{Input: in, RequestBody: rb, Reason: "rewriting failed", Err: err}
		}
		body.raw = raw
	}
	return nil
}

// bodyReader is a request body already read into memory, with the JSON value the validator
// checked.
type bodyReader struct {
	bytes.Reader
	value any
}

func (*bodyReader) Close() error { return nil }

// ValidatedJSON is the body as validated: map[string]any, []any, string, json.Number, bool or
// nil (what encoding/json gives with UseNumber), with the defaults the schema sets. A handler
// may read it instead of decoding the body again; it must not modify it.
func (b *bodyReader) ValidatedJSON() any { return b.value }

// anonymous reports whether the request carries no credential at all (no bearer token, no API key).
func anonymous(r *http.Request) bool {
	// Canonical keys looked up directly: Header.Get("X-API-Key") builds "X-Api-Key" on every call.
	return headerValue(r.Header, "Authorization") == "" && headerValue(r.Header, "X-Api-Key") == ""
}

var specParam = regexp.MustCompile(`\{([^}]+)\}`)

// classifyInternal turns kin-openapi's errors into an API error, or nil if it is none of them.
func classifyInternal(err error) *apierr.Error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(mbe.Limit)
	}
	var errs []error
	var me openapi3.MultiError
	if errors.As(err, &me) {
		errs = me
	} else {
		errs = []error{err}
	}
	// Authentication is judged before the input: an anonymous caller learns nothing about bodies.
	for _, e := range errs {
		var se *openapi3filter.SecurityRequirementsError
		if errors.As(e, &se) {
			return securityError(se)
		}
	}
	var fields []apierr.FieldError
	dropped := 0 // violations beyond maxFieldErrors, counted but not described
	status := http.StatusUnprocessableEntity
	for _, e := range errs {
		var re *openapi3filter.RequestError
		if !errors.As(e, &re) {
			continue
		}
		if errors.As(re.Err, &mbe) {
			return tooLarge(mbe.Limit)
		}
		if re.RequestBody != nil && strings.HasPrefix(re.Reason, "header Content-Type has unexpected value") {
			return apierr.New(http.StatusUnsupportedMediaType, "UNSUPPORTED_MEDIA_TYPE", "Content-Type must be one of the types this operation accepts").WithField("Content-Type")
		}
		where := "body"
		if re.Parameter != nil {
			where = re.Parameter.Name
		}
		var pe *openapi3filter.ParseError
		switch {
		case errors.Is(re.Err, openapi3filter.ErrInvalidRequired):
			status = http.StatusBadRequest
			fields = append(fields, apierr.FieldError{Field: where, Message: "is required"})
		case errors.As(re.Err, &pe):
			status = http.StatusBadRequest
			msg := "could not be parsed"
			if where == "body" {
				msg = "is not valid JSON"
			}
			fields = append(fields, apierr.FieldError{Field: where, Message: msg})
		default:
			var more []apierr.FieldError
			more, dropped = schemaFieldErrors(where, re.Parameter != nil, re.Err, maxFieldErrors-len(fields), dropped)
			fields = append(fields, more...)
			if len(fields) == 0 {
				fields = append(fields, apierr.FieldError{Field: where, Message: re.Reason})
			}
		}
	}
	if len(fields) == 0 {
		return nil
	}
	return apierr.Validation(status, capFields(fields, dropped)...)
}

// maxFieldErrors caps the violations one error response lists: a body with 60,000 unknown
// fields must not produce a 3 MB answer (issue 21 #1). The last entry says how many were left out.
const maxFieldErrors = 20

// capFields keeps the first maxFieldErrors-1 violations and replaces the rest by one entry
// counting them.
func capFields(fields []apierr.FieldError, dropped int) []apierr.FieldError {
	if len(fields)+dropped <= maxFieldErrors {
		return fields
	}
	dropped += len(fields) - (maxFieldErrors - 1)
	fields = append(fields[:maxFieldErrors-1:maxFieldErrors-1], apierr.FieldError{Field: "body", Message: fmt.Sprintf("and %d more violations not listed", dropped)})
	return fields
}

var quotedProperty = regexp.MustCompile(`^property "(.+)" is (unsupported|missing)$`)

// schemaFieldErrors names each schema violation by its path in the body ("items.0.name"),
// describing at most budget of them; the others are only counted into dropped.
func schemaFieldErrors(where string, isParam bool, err error, budget, dropped int) ([]apierr.FieldError, int) {
	var out []apierr.FieldError
	var me openapi3.MultiError
	if errors.As(err, &me) {
		for _, e := range me {
			if len(out) >= budget {
				dropped += countLeaves(e)
				continue
			}
			var more []apierr.FieldError
			more, dropped = schemaFieldErrors(where, isParam, e, budget-len(out), dropped)
			out = append(out, more...)
		}
		return out, dropped
	}
	if budget <= 0 {
		return nil, dropped + countLeaves(err)
	}
	var se *openapi3.SchemaError
	if !errors.As(err, &se) {
		return nil, dropped
	}
	path := se.JSONPointer()
	reason := se.Reason
	if m := quotedProperty.FindStringSubmatch(reason); m != nil {
		if len(path) == 0 || path[len(path)-1] != m[1] {
			path = append(path, m[1])
		}
		if m[2] == "unsupported" {
			reason = "is not a known field"
		} else {
			reason = "is required"
		}
	}
	field := strings.Join(path, ".")
	switch {
	case isParam || field == "":
		field = where
	}
	return []apierr.FieldError{{Field: field, Message: reason}}, dropped
}

// countLeaves counts the schema violations inside err (nested multi-errors flattened).
func countLeaves(err error) int {
	var me openapi3.MultiError
	if errors.As(err, &me) {
		n := 0
		for _, e := range me {
			n += countLeaves(e)
		}
		return n
	}
	var se *openapi3.SchemaError
	if errors.As(err, &se) {
		return 1
	}
	return 0
}

// securityError picks the most telling of the per-scheme failures: a present-but-rejected
// credential (expired, revoked, too low a role) beats "no credential" from another scheme.
func securityError(se *openapi3filter.SecurityRequirementsError) *apierr.Error {
	var best *apierr.Error
	for _, e := range se.Errors {
		var ae *apierr.Error
		if !errors.As(e, &ae) {
			continue
		}
		if best == nil || (best.Code == "UNAUTHORIZED" && ae.Code != "UNAUTHORIZED") {
			best = ae
		}
	}
	if best == nil {
		best = apierr.Unauthorized("UNAUTHORIZED", "Authentication required")
	}
	return best
}

func tooLarge(limit int64) *apierr.Error {
	return apierr.New(http.StatusRequestEntityTooLarge, "PAYLOAD_TOO_LARGE",
		fmt.Sprintf("The request body exceeds the limit of %d bytes", limit)).WithField("body")
}
