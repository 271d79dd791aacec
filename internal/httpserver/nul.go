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

	"github.com/labstack/echo/v4"

	"github.com/voiceassist/gateway/internal/apierr"
)

// PostgreSQL cannot store U+0000 in text: refused here, for every operation at once, as 422
// naming the field, instead of a 500 from the database (issue 21 #7). Path parameters, query
// parameters and JSON bodies are checked here; multipart fields and file names in
// multipart.go (with the same nulError); a file's text is content, and the extractor drops
// its control characters.
func refuseNUL(c echo.Context, params map[string]string) error {
	names := make([]string, 0, len(params))
	for name := range params {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if strings.IndexByte(params[name], 0) >= 0 {
			return nulError(name)
		}
	}
	req := c.Request()
	if q, err := url.ParseQuery(req.URL.RawQuery); err == nil {
		keys := make([]string, 0, len(q))
		for k := range q {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if strings.IndexByte(k, 0) >= 0 {
				return nulError(k)
			}
			for _, v := range q[k] {
				if strings.IndexByte(v, 0) >= 0 {
					return nulError(k)
				}
			}
		}
	}
	if req.Body == nil || req.Body == http.NoBody || !isJSON(req.Header.Get("Content-Type")) {
		return nil
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

// nulIn finds the first string (key or value) holding U+0000 and returns its path.
func nulIn(v any, path string) (string, bool) {
	switch x := v.(type) {
	case string:
		return path, strings.IndexByte(x, 0) >= 0
	case []any:
		for i, e := range x {
			p := strconv.Itoa(i) // the validator's style: rules.0.attribute
			if path != "" {
				p = path + "." + p
			}
			if p, ok := nulIn(e, p); ok {
				return p, true
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			p := k
			if path != "" {
				p = path + "." + k
			}
			if strings.IndexByte(k, 0) >= 0 {
				return p, true
			}
			if p, ok := nulIn(x[k], p); ok {
				return p, true
			}
		}
	}
	return "", false
}

func nulError(field string) error {
	return apierr.Invalid(strings.ReplaceAll(field, "\x00", `\u0000`), "must not contain the NUL character (U+0000)")
}
