package tests

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/auth"
)

// TestRequestValidation sends malformed requests to a real operation and checks the 4xx
// envelope names the field at fault. Rule: what cannot be read is 400, what breaks the
// schema is 422, a wrong media type 415, an oversized body 413.
func TestRequestValidation(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"MAX_BODY_BYTES": "4096"})
	cases := []struct {
		name, body, ctype string
		status            int
		field, contains   string
	}{
		{"unknown field", `{"email":"a@b.org","password":"x","admin":true}`, "", 422, "admin", "not a known field"},
		{"wrong type", `{"email":"a@b.org","password":12345}`, "", 422, "password", "string"},
		{"missing required field", `{"email":"a@b.org"}`, "", 422, "password", "required"},
		{"missing body", ``, "", 400, "body", "required"},
		{"invalid JSON", `{"email":`, "", 400, "body", "JSON"},
		{"empty string", `{"email":"","password":"x"}`, "", 422, "email", "length"},
		{"wrong content type", `email=a@b.org`, "application/x-www-form-urlencoded", 415, "Content-Type", ""},
		{"case-variant duplicate key", `{"email":"a@b.org","password":"x","Password":"y"}`, "", 422, "Password", "not a known field"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			hdr := map[string]string{}
			if tc.ctype != "" {
				hdr["Content-Type"] = tc.ctype
			}
			var res *http.Response
			var body []byte
			if tc.body == "" {
				res, body = s.raw(t, http.MethodPost, "/api/auth/login", "", map[string]string{"Content-Type": "application/json"})
			} else {
				res, body = s.raw(t, http.MethodPost, "/api/auth/login", tc.body, hdr)
			}
			require.Equal(t, tc.status, res.StatusCode, "%s", body)
			e := errorOf(t, body)
			require.NotNil(t, e.Error.Field, "%s", body)
			require.Equal(t, tc.field, *e.Error.Field)
			require.Contains(t, e.Error.Message, tc.contains)
			require.Equal(t, res.Header.Get("X-Request-ID"), e.Metadata.RequestId)
		})
	}

	// Several problems are all listed.
	res, body := s.raw(t, http.MethodPost, "/api/auth/register", `{"email":"nope","password":7,"extra":1}`, nil)
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	errs := (*errorOf(t, body).Error.Details)["errors"].([]any)
	require.GreaterOrEqual(t, len(errs), 3, "%s", body)

	// Oversized: declared length and chunked (no length) alike.
	big := `{"email":"a@b.org","password":"` + strings.Repeat("x", 5000) + `"}`
	res, body = s.raw(t, http.MethodPost, "/api/auth/login", big, nil)
	require.Equal(t, http.StatusRequestEntityTooLarge, res.StatusCode)
	require.Equal(t, "PAYLOAD_TOO_LARGE", errorOf(t, body).Error.Code)

	req, err := http.NewRequest(http.MethodPost, s.URL+"/api/auth/login", io.MultiReader(bytes.NewReader([]byte(big))))
	require.NoError(t, err)
	req.ContentLength = -1 // chunked
	req.Header.Set("Content-Type", "application/json")
	r2, err := (&http.Client{Transport: &validatingTransport{t: t}}).Do(req)
	require.NoError(t, err)
	b2, _ := io.ReadAll(r2.Body)
	r2.Body.Close()
	require.Equal(t, http.StatusRequestEntityTooLarge, r2.StatusCode, "%s", b2)

	// Bad query parameters.
	admin := s.account(t, "admin")
	h := map[string]string{"Authorization": "Bearer " + s.token(t, admin)}
	res, body = s.raw(t, http.MethodGet, "/api/users?limit=abc", "", h)
	require.Equal(t, http.StatusBadRequest, res.StatusCode)
	require.Equal(t, "limit", *errorOf(t, body).Error.Field)
	res, body = s.raw(t, http.MethodGet, "/api/users?limit=1000", "", h)
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	require.Equal(t, "limit", *errorOf(t, body).Error.Field)
	res, body = s.raw(t, http.MethodGet, "/api/users?role=emperor", "", h)
	require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode)
	require.Equal(t, "role", *errorOf(t, body).Error.Field)
}

// Text PostgreSQL cannot store (U+0000) is refused up front as 422 naming the field, in a path
// parameter, a query parameter or anywhere in a JSON body, for every operation (one rule in
// the validator), never a 500 from the database.
func TestNULRefusedWithTheField(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	auth := map[string]string{"Authorization": "Bearer " + admin}
	for _, c := range []struct {
		name, method, path, body, field string
	}{
		{"register email", "POST", "/api/auth/register", `{"email":"a\u0000@example.org","password":"Correct-Horse-9","full_name":"A"}`, "email"},
		{"register name", "POST", "/api/auth/register", `{"email":"nul@example.org","password":"Correct-Horse-9","full_name":"A\u0000B"}`, "full_name"},
		{"nested", "POST", "/api/admin/feature-flags", `{"key":"ui.nul","type":"boolean","rules":[{"attribute":"a\u0000","operator":"eq","value":"x"}]}`, "rules.0.attribute"},
		{"conversation folder", "POST", "/conversations", `{"title":"t","folder":"f\u0000"}`, "folder"},
		{"path parameter", "GET", "/api/admin/feature-flags/ui.%00x", "", "flag"},
		{"query parameter", "GET", "/conversations?folder=a%00b", "", "folder"},
	} {
		t.Run(c.name, func(t *testing.T) {
			res := s.send(t, c.method, c.path, c.body, auth)
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			require.Equal(t, http.StatusUnprocessableEntity, res.StatusCode, "%s", b)
			require.Equal(t, c.field, errField(t, b), "%s", b)
		})
	}
	// An escaped backslash before u0000 is no NUL: the request goes through.
	res := s.send(t, "POST", "/conversations", `{"title":"a\\u0000b"}`, auth)
	defer res.Body.Close()
	require.Equal(t, http.StatusCreated, res.StatusCode)
}
