package tests

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/auth"
)

// TestInputRules pins the input rules every operation shares (docs/operations.md, "Input
// rules") on concrete requests; the contract fuzz driver walks them over every operation.
func TestInputRules(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	tok := s.token(t, s.account(t, auth.RoleUser))
	auth := map[string]string{"Authorization": "Bearer " + tok}

	check := func(name string, res *http.Response, status int, code, field string) {
		t.Helper()
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		require.Equal(t, status, res.StatusCode, "%s: %s", name, b)
		e := errorOf(t, b)
		require.Equal(t, code, e.Error.Code, name)
		if field != "" {
			require.NotNil(t, e.Error.Field, name)
			require.Equal(t, field, *e.Error.Field, name)
		}
	}
	// net/http's own limit would answer a plain-text 431; ours answer first, in the envelope.
	check("100,000-character query", s.send(t, "GET", "/conversations?q="+strings.Repeat("a", 100000), "", auth), 414, "URI_TOO_LONG", "")
	big := map[string]string{"Authorization": auth["Authorization"], "X-Pad": strings.Repeat("h", 70<<10)}
	check("70 KiB header", s.send(t, "GET", "/api/users/me", "", big), 431, "HEADERS_TOO_LARGE", "")
	check("parameter twice", s.send(t, "GET", "/conversations?limit=5&limit=6", "", auth), 400, "VALIDATION_ERROR", "limit")
	check("invalid UTF-8 in the query", s.send(t, "GET", "/conversations?q=%FF%FE", "", auth), 400, "VALIDATION_ERROR", "q")
	check("invalid UTF-8 in a path parameter", s.send(t, "GET", "/api/admin/feature-flags/ui.%FF", "", auth), 400, "VALIDATION_ERROR", "flag")
	bad := map[string]string{"Authorization": "Bearer \xff\xfe"}
	check("invalid UTF-8 in Authorization", s.send(t, "GET", "/api/users/me", "", bad), 400, "VALIDATION_ERROR", "Authorization")
	// Header names as clients spell them, whatever net/http's canonical form is.
	check("invalid UTF-8 in X-API-Key", s.send(t, "GET", "/api/users/me", "", map[string]string{"X-API-Key": "va_\xff"}),
		400, "VALIDATION_ERROR", "X-Api-Key")
	check("invalid UTF-8 in a JSON string", s.send(t, "POST", "/conversations", "{\"title\":\"a\xffb\"}", auth), 400, "VALIDATION_ERROR", "body")
	check("duplicate JSON key", s.send(t, "POST", "/conversations", `{"title":"a","title":"b"}`, auth), 400, "VALIDATION_ERROR", "title")
	check("NUL in a JSON string", s.send(t, "POST", "/conversations", `{"title":"a\u0000b"}`, auth), 422, "VALIDATION_ERROR", "title")
	check("NUL in the query", s.send(t, "GET", "/conversations?folder=a%00b", "", auth), 422, "VALIDATION_ERROR", "folder")
	deep := `{"title":"a","folder":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`
	check("deep JSON", s.send(t, "POST", "/conversations", deep, auth), 400, "VALIDATION_ERROR", "folder."+strings.TrimSuffix(strings.Repeat("0.", 63), "."))
	// A single-valued parameter may still be given once, and repeated array parameters are fine.
	res := s.send(t, "GET", "/conversations?limit=5", "", auth)
	res.Body.Close()
	require.Equal(t, http.StatusOK, res.StatusCode)
}

// TestRequestDeadline holds the conversations table locked so that listing conversations
// cannot finish: the handler's context ends at REQUEST_TIMEOUT_SECONDS and the client gets
// 504 TIMEOUT in the envelope, not a hang or a 500.
func TestRequestDeadline(t *testing.T) {
	t.Parallel()
	s := startServer(t, map[string]string{"REQUEST_TIMEOUT_SECONDS": "1"})
	tok := s.token(t, s.account(t, auth.RoleUser))

	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.Env["DATABASE_URL"])
	require.NoError(t, err)
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	require.NoError(t, err)
	defer tx.Rollback(ctx) //nolint:errcheck // the lock ends with the test
	_, err = tx.Exec(ctx, "LOCK TABLE conversations IN ACCESS EXCLUSIVE MODE")
	require.NoError(t, err)

	start := time.Now()
	res := s.send(t, "GET", "/conversations", "", map[string]string{"Authorization": "Bearer " + tok})
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	require.Equal(t, http.StatusGatewayTimeout, res.StatusCode, "%s", b)
	require.Equal(t, "TIMEOUT", errorOf(t, b).Error.Code)
	require.Equal(t, "1", res.Header.Get("Retry-After"))
	require.Less(t, time.Since(start), 15*time.Second, "answered at the deadline, not after the client gave up")

	// Streams are exempt: the flag stream is still open well past the deadline (the reader
	// ends by its own context, not by the server closing the stream).
	sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(sctx, "GET", s.URL+"/api/flags/stream", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+tok)
	sres, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer sres.Body.Close()
	require.Equal(t, http.StatusOK, sres.StatusCode)
	_, err = io.Copy(io.Discard, sres.Body)
	require.ErrorIs(t, err, context.DeadlineExceeded, "the stream was cut by the server")
}
