package httpserver

import (
	"bytes"
	"errors"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"

	"github.com/voiceassist/gateway/internal/apierr"
)

// formSchema is shaped like the contract's upload forms: files, a tag list, a URL, a number
// and a flag.
func formSchema(t testing.TB) *openapi3.Schema {
	t.Helper()
	doc := []byte(`{"type":"object","required":["files"],"properties":{
		"files":{"type":"array","minItems":1,"maxItems":2,"items":{"type":"string","format":"binary"}},
		"tags":{"type":"array","maxItems":3,"items":{"type":"string","pattern":"^[a-z]+$"}},
		"source_url":{"type":"string","maxLength":20},
		"version":{"type":"integer","minimum":1},
		"timestamps":{"type":"boolean"}}}`)
	var s openapi3.Schema
	if err := s.UnmarshalJSON(doc); err != nil {
		t.Fatal(err)
	}
	return &s
}

type formPart struct{ name, filename, value string }

func buildForm(parts []formPart) ([]byte, string) {
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for _, p := range parts {
		if p.filename != "" {
			w, _ := mw.CreateFormFile(p.name, p.filename)
			_, _ = w.Write([]byte(p.value))
		} else {
			_ = mw.WriteField(p.name, p.value)
		}
	}
	_ = mw.Close()
	return b.Bytes(), mw.Boundary()
}

func TestCheckForm(t *testing.T) {
	schema := formSchema(t)
	file := formPart{"files", "a.txt", "hello \x00 world"} // a file's bytes are not checked here
	for _, tc := range []struct {
		name   string
		parts  []formPart
		status int
		field  string
	}{
		{"valid", []formPart{file, {"tags", "", "a"}, {"tags", "", "b"}, {"version", "", "2"}, {"timestamps", "", "true"}}, 0, ""},
		{"no file", []formPart{{"tags", "", "a"}}, 422, "files"},
		{"too many files", []formPart{file, file, file}, 422, "files"},
		{"NUL in a field", []formPart{file, {"source_url", "", "x\x00"}}, 422, "source_url"},
		{"NUL in a file name", []formPart{{"files", "a\x00.txt", "x"}}, 0, ""}, // quoted raw: refused by the header parser (400), see below
		{"invalid UTF-8", []formPart{file, {"tags", "", "\xff"}}, 400, "tags"},
		{"unknown field", []formPart{file, {"folder", "", "x"}}, 422, "folder"},
		{"pattern", []formPart{file, {"tags", "", "A B"}}, 422, "tags.0"},
		{"not a number", []formPart{file, {"version", "", "two"}}, 422, "version"},
		{"below minimum", []formPart{file, {"version", "", "0"}}, 422, "version"},
		{"not a boolean", []formPart{file, {"timestamps", "", "maybe"}}, 422, "timestamps"},
		{"field too long", []formPart{file, {"source_url", "", strings.Repeat("x", maxFieldBytes+1)}}, 422, "source_url"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body, boundary := buildForm(tc.parts)
			err := checkForm(bytes.NewReader(body), boundary, schema)
			if tc.name == "NUL in a file name" {
				tc.status, tc.field = statusOf(err)
				if tc.status != 400 && tc.status != 422 {
					t.Fatalf("NUL in a file name: %v", err)
				}
				return
			}
			if tc.status == 0 {
				if err != nil {
					t.Fatalf("valid form refused: %v", err)
				}
				return
			}
			status, field := statusOf(err)
			if status != tc.status || field != tc.field {
				t.Fatalf("got %d %q (%v), want %d %q", status, field, err, tc.status, tc.field)
			}
		})
	}
}

// statusOf returns the status and first named field of an API error (0 for other errors).
func statusOf(err error) (int, string) {
	var ae *apierr.Error
	if !errors.As(err, &ae) {
		return 0, ""
	}
	field := ae.Field
	if fe, ok := ae.Details["errors"].([]apierr.FieldError); ok && len(fe) > 0 {
		field = fe[0].Field
	}
	return ae.Status, field
}

// Multipart bodies come from anyone with an upload role. Whatever the bytes, checking the
// form never panics, and a refusal is always a client error (400, 413 or 422) in the API's
// own error type, never a bare error that would become a 500.
func FuzzCheckForm(f *testing.F) {
	schema := formSchema(f)
	for _, parts := range [][]formPart{
		{{"files", "a.txt", "x"}, {"tags", "", "a"}},
		{{"files", "a.txt", "x"}, {"version", "", "1e400"}},
		{{"tags", "", "\x00"}},
	} {
		body, boundary := buildForm(parts)
		f.Add(body, boundary)
	}
	f.Add([]byte("--b\r\nContent-Disposition: form-data; name=\"files\"; filename*=UTF-8''%00\r\n\r\nx\r\n--b--\r\n"), "b")
	f.Add([]byte("--b\r\n\r\n--b--"), "b")
	f.Fuzz(func(t *testing.T, body []byte, boundary string) {
		if boundary == "" {
			return // refused before checkForm (the route test falls back to kin-openapi)
		}
		err := checkForm(bytes.NewReader(body), boundary, schema)
		if err == nil {
			return
		}
		status, _ := statusOf(err)
		if status != 400 && status != 413 && status != 422 {
			t.Fatalf("refusal is not a client error: %d %v", status, err)
		}
	})
}
