package httpserver

import (
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"os"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/routers"
	"github.com/labstack/echo/v4"

	"github.com/voiceassist/gateway/internal/apierr"
)

// Multipart bodies are validated here, not by kin-openapi: its decoder buffers the whole body
// and copies every file part into a string, so a 20 MiB upload cost hundreds of megabytes
// before the handler read it again (issue 21 #16). Here the body streams once into an
// unlinked temporary file while its small fields are read, checked for NUL and invalid UTF-8
// and validated against the operation's schema; file parts are only counted. The handler
// then reads the parts from the file.

// maxFieldBytes bounds a non-file multipart field (tags, language, prompt, ...): the same
// allowance the body limit grants the form around its files.
const maxFieldBytes = formAllowance

// uploadSlots bounds the uploads (operations with `x-body-limit: upload`) read at once:
// each may hold its file in memory while it is checked (KB_MAX_CONCURRENT_UPLOADS).
type uploadSlots chan struct{}

func newUploadSlots(n int) uploadSlots {
	if n < 1 {
		n = 1
	}
	return make(uploadSlots, n)
}

// multipartRoute reports whether the request is a multipart/form-data body for an operation
// that declares one, with the media type's boundary.
func multipartRoute(req *http.Request, route *routers.Route) (*openapi3.Schema, string, bool) {
	ct := req.Header.Get("Content-Type")
	if t := strings.TrimSpace(ct); len(t) < 10 || !strings.EqualFold(t[:10], "multipart/") {
		return nil, "", false // not multipart: spares the parse (and its allocation) of JSON requests
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "multipart/form-data" || params["boundary"] == "" {
		return nil, "", false // kin-openapi answers 415 or 400
	}
	rb := route.Operation.RequestBody
	if rb == nil || rb.Value == nil {
		return nil, "", false
	}
	mtype := rb.Value.Content.Get("multipart/form-data")
	if mtype == nil || mtype.Schema == nil || mtype.Schema.Value == nil {
		return nil, "", false
	}
	return mtype.Schema.Value, params["boundary"], true
}

// serveMultipart takes an upload slot when the operation is an upload, validates the
// multipart body while spooling it to a temporary file (credentials and parameters are
// already checked), and calls next with the body replayed from that file.
func serveMultipart(c echo.Context, next echo.HandlerFunc, route *routers.Route, schema *openapi3.Schema, boundary string, slots uploadSlots) error {
	req := c.Request()
	if route.Operation.Extensions["x-body-limit"] == "upload" {
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
		default:
			// Connection: close, or net/http would first try to drain the unread body
			// (up to 256 KiB, for as long as the client takes) before answering.
			return apierr.New(http.StatusServiceUnavailable, "UPLOADS_BUSY",
				"Too many uploads are being processed; retry shortly").WithHeader("Retry-After", "5").WithHeader("Connection", "close")
		}
	}
	f, err := os.CreateTemp("", "voiceassist-upload-*")
	if err != nil {
		return fmt.Errorf("httpserver: spool upload: %w", err)
	}
	_ = os.Remove(f.Name()) // unlinked at once: nothing is left behind, even after a crash
	defer f.Close()
	if err := checkForm(io.TeeReader(req.Body, f), boundary, schema); err != nil {
		return err
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("httpserver: spool upload: %w", err)
	}
	req.Body = f
	return next(c)
}

// checkForm reads the form once: every field is checked for NUL and UTF-8 and collected, file
// parts (format: binary) are read through and counted, and the collected form is validated
// against the schema as an object, as kin-openapi would.
func checkForm(body io.Reader, boundary string, schema *openapi3.Schema) error {
	mr := multipart.NewReader(body, boundary)
	values := map[string][]any{}
	for {
		p, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return formReadError(err)
		}
		name := p.FormName()
		for _, s := range []string{name, p.FileName(), p.Header.Get("Content-Type")} {
			if strings.IndexByte(s, 0) >= 0 {
				return nulError(orBody(name))
			}
			if !utf8.ValidString(s) {
				return badUTF8(orBody(name))
			}
		}
		prop := schema.Properties[name]
		if prop == nil || prop.Value == nil {
			return apierr.Invalid(orBody(name), "is not a known field")
		}
		item := prop.Value
		if item.Type.Is("array") && item.Items != nil && item.Items.Value != nil {
			item = item.Items.Value
		}
		if item.Type.Is("string") && item.Format == "binary" {
			if _, err := io.Copy(io.Discard, p); err != nil {
				return formReadError(err)
			}
			values[name] = append(values[name], "")
			continue
		}
		raw, err := io.ReadAll(io.LimitReader(p, maxFieldBytes+1))
		if err != nil {
			return formReadError(err)
		}
		if len(raw) > maxFieldBytes {
			return apierr.Invalid(name, fmt.Sprintf("must be at most %d bytes", maxFieldBytes))
		}
		if !utf8.Valid(raw) {
			return badUTF8(name)
		}
		s := string(raw)
		if strings.IndexByte(s, 0) >= 0 {
			return nulError(name)
		}
		v, err := primitive(s, item)
		if err != nil {
			return apierr.Invalid(name, err.Error())
		}
		values[name] = append(values[name], v)
	}
	obj := map[string]any{}
	for name, vs := range values {
		if schema.Properties[name].Value.Type.Is("array") {
			obj[name] = vs
		} else {
			obj[name] = vs[0] // as kin-openapi: the first of repeated single fields
		}
	}
	if err := schema.VisitJSON(obj, openapi3.MultiErrors()); err != nil {
		fields, dropped := schemaFieldErrors("body", false, err, maxFieldErrors, 0)
		if len(fields) == 0 {
			fields = []apierr.FieldError{{Field: "body", Message: err.Error()}}
		}
		return apierr.Validation(http.StatusUnprocessableEntity, capFields(fields, dropped)...)
	}
	return nil
}

// primitive reads a form field as the type its schema declares.
func primitive(s string, schema *openapi3.Schema) (any, error) {
	switch {
	case schema.Type.Is("integer"), schema.Type.Is("number"):
		f, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return nil, errors.New("must be a number")
		}
		return f, nil
	case schema.Type.Is("boolean"):
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if err != nil {
			return nil, errors.New("must be true or false")
		}
		return b, nil
	}
	return s, nil
}

func orBody(name string) string {
	if name == "" {
		return "body"
	}
	return name
}

func badUTF8(field string) error {
	return apierr.Validation(http.StatusBadRequest, apierr.FieldError{Field: field, Message: "is not valid UTF-8"})
}

// formReadError is the answer to a body that could not be read: too large (413), or not a
// multipart body (400). A read cut by the body deadline is turned into 408 by bodyDeadline.
func formReadError(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(mbe.Limit)
	}
	return apierr.Validation(http.StatusBadRequest, apierr.FieldError{Field: "body", Message: "is not a readable multipart/form-data body"})
}
