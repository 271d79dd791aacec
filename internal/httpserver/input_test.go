package httpserver

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/voiceassist/gateway/internal/apierr"
)

func TestCheckJSON(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int // 0: accepted
		field      string
	}{
		{"plain", `{"a":1,"b":[{"a":1},{"a":2}]}`, 0, ""},
		{"same key in sibling objects", `[{"k":1},{"k":2}]`, 0, ""},
		{"duplicate", `{"a":1,"b":2,"a":3}`, 400, "a"},
		{"duplicate by escape", `{"a":1,"\u0061":2}`, 400, "a"},
		{"nested duplicate", `{"x":{"y":[1,{"k":1,"k":2}]}}`, 400, "x.y.1.k"},
		{"invalid UTF-8", "{\"a\":\"\xff\"}", 400, "body"},
		{"too deep", strings.Repeat("[", maxJSONDepth+1) + strings.Repeat("]", maxJSONDepth+1), 400, strings.TrimSuffix(strings.Repeat("0.", maxJSONDepth), ".")},
		{"deep enough", strings.Repeat("[", maxJSONDepth) + strings.Repeat("]", maxJSONDepth), 0, ""},
		{"NUL", `{"a":{"b":"x\u0000"}}`, 422, "a.b"},
		{"syntax left to the validator", `{"a":`, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := checkJSON([]byte(tc.body))
			if tc.status == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ae *apierr.Error
			if !errors.As(err, &ae) || ae.Status != tc.status || ae.Field != tc.field {
				t.Fatalf("got %#v, want %d on %q", err, tc.status, tc.field)
			}
		})
	}
}

func TestRequestLimits(t *testing.T) {
	e := echo.New()
	ok := func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }
	status := func(r *http.Request) int {
		err := requestLimits(ok)(e.NewContext(r, httptest.NewRecorder()))
		var ae *apierr.Error
		if errors.As(err, &ae) {
			return ae.Status
		}
		return 0
	}
	if s := status(httptest.NewRequest("GET", "/x?q="+strings.Repeat("a", maxURIBytes), nil)); s != http.StatusRequestURITooLong {
		t.Fatalf("long URL: %d", s)
	}
	r := httptest.NewRequest("GET", "/x", nil)
	r.Header.Set("X-Pad", strings.Repeat("h", maxHeaderBytes))
	if s := status(r); s != http.StatusRequestHeaderFieldsTooLarge {
		t.Fatalf("large headers: %d", s)
	}
	if s := status(httptest.NewRequest("GET", "/x?q="+strings.Repeat("a", 1000), nil)); s != 0 {
		t.Fatalf("ordinary request refused: %d", s)
	}
}

func TestHandlerDeadline(t *testing.T) {
	e := echo.New()
	run := func(streaming bool, h echo.HandlerFunc) error {
		c := e.NewContext(httptest.NewRequest("GET", "/slow", nil), httptest.NewRecorder())
		c.SetPath("/slow")
		return handlerDeadline(20*time.Millisecond, opTable[bool]{"GET": {"/slow": streaming}})(h)(c)
	}
	waits := func(c echo.Context) error {
		<-c.Request().Context().Done()
		return context.Cause(c.Request().Context())
	}
	var ae *apierr.Error
	if err := run(false, waits); !errors.As(err, &ae) || ae.Status != http.StatusGatewayTimeout || ae.Code != "TIMEOUT" {
		t.Fatalf("a handler past the deadline: %v", err)
	}
	// A stream is never given the deadline.
	err := run(true, func(c echo.Context) error {
		if _, ok := c.Request().Context().Deadline(); ok || c.Request().Context().Err() != nil {
			return errors.New("stream got a deadline")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	// An answer that has started is not cut.
	err = run(false, func(c echo.Context) error {
		c.Response().WriteHeader(http.StatusOK)
		time.Sleep(60 * time.Millisecond)
		return c.Request().Context().Err()
	})
	if err != nil {
		t.Fatalf("started answer cut: %v", err)
	}
}
