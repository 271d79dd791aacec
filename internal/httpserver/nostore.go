package httpserver

import (
	"strings"

	"github.com/labstack/echo/v4"
)

// noStore marks JSON answers that may carry tokens or a user's data as not to be stored by
// browsers or shared caches (RFC 6749 §5.1, RFC 9111 §5.2.2.5): everything under /api/auth/
// (token pairs, API-key secrets) and every answer to a request that carries credentials. A
// handler that chose its own Cache-Control keeps it; streams and pages are not JSON.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if strings.HasPrefix(r.URL.Path, "/api/auth/") || r.Header.Get("Authorization") != "" || r.Header.Get("X-API-Key") != "" {
			res := c.Response()
			res.Before(func() {
				h := res.Header()
				if h.Get("Cache-Control") == "" && isJSON(h.Get("Content-Type")) {
					h.Set("Cache-Control", "no-store")
				}
			})
		}
		return next(c)
	}
}

func isJSON(ct string) bool {
	ct, _, _ = strings.Cut(ct, ";")
	ct = strings.TrimSpace(strings.ToLower(ct))
	return ct == echo.MIMEApplicationJSON || strings.HasSuffix(ct, "+json")
}
