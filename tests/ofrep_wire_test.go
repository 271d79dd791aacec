package tests

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/client"
	"github.com/voiceassist/gateway/internal/auth"
)

// canonical is json.Encoder's rendering of a decoded answer: the bytes the strict layer
// wrote before OFREP answers were appended by hand (issue 17).
func canonical(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, json.NewEncoder(&buf).Encode(v))
	return buf.Bytes()
}

// OFREP answers on the fast path: attributes of every JSON type reach the rules as the typed
// decode gave them (numbers compare as numbers, nested objects pass), values of every shape
// come back as json.Encoder writes them (HTML-escaped, keys sorted, final newline), and what
// the fast path does not take (a number beyond float64) is still a 4xx.
func TestOFREPFastPathWire(t *testing.T) {
	t.Parallel()
	s := startServer(t, nil)
	admin := s.token(t, s.account(t, auth.RoleAdmin))
	pub := client.FlagVisibilityPublic
	s.createFlag(t, admin, client.FlagInput{Key: "integration.payload", Type: client.FlagTypeJson, Enabled: ptr(true), Visibility: &pub,
		Value: anyv(map[string]any{"b": "<x>&\u2028", "a": []any{1, 2.5, nil, "caf\u00e9"}, "n": map[string]any{}}), DefaultValue: anyv(map[string]any{}),
		Rules: &[]client.FlagRule{{Id: "senior", Priority: ptr(1), Value: anyv(map[string]any{"tier": "senior"}),
			Conditions: []client.FlagCondition{{Attribute: "age", Operator: client.Gt, Value: anyv(65)}}}}})
	s.createFlag(t, admin, client.FlagInput{Key: "backend.ratio", Type: client.FlagTypeNumber, Enabled: ptr(true), Visibility: &pub,
		Value: anyv(1e-7), DefaultValue: anyv(0)})

	post := func(path, body string) []byte {
		t.Helper()
		res, b := s.raw(t, http.MethodPost, path, body, nil)
		require.Equal(t, http.StatusOK, res.StatusCode, "%s", b)
		require.Equal(t, "application/json", res.Header.Get("Content-Type"))
		// The headers every API answer keeps (issue 17).
		require.NotEmpty(t, res.Header.Get("X-Request-ID"))
		require.NotEmpty(t, res.Header.Get("Traceparent"))
		require.Equal(t, "nosniff", res.Header.Get("X-Content-Type-Options"))
		require.Equal(t, "no-cache", res.Header.Get("Cache-Control"))
		if path == "/ofrep/v1/evaluate/flags" {
			require.NotEmpty(t, res.Header.Get("ETag"))
		}
		return b
	}
	single := func(key, body string) client.OfrepEvaluationSuccess {
		t.Helper()
		b := post("/ofrep/v1/evaluate/flags/"+key, body)
		var out client.OfrepEvaluationSuccess
		require.NoError(t, json.Unmarshal(b, &out))
		require.Equal(t, string(canonical(t, out)), string(b))
		return out
	}

	young := single("integration.payload", `{"context":{"targetingKey":"u1","age":60.5,"address":{"zip":"75001","floor":-2},"tags":["a",1e3,null],"beta":true,"none":null}}`)
	require.Equal(t, "STATIC", young.Reason)
	require.Equal(t, map[string]any{"b": "<x>&\u2028", "a": []any{1.0, 2.5, nil, "caf\u00e9"}, "n": map[string]any{}}, *young.Value)
	old := single("integration.payload", `{"context":{"targetingKey":"u1","age":66}}`)
	require.Equal(t, "TARGETING_MATCH", old.Reason)
	require.Equal(t, map[string]any{"tier": "senior"}, *old.Value)
	require.Equal(t, 1e-7, *single("backend.ratio", `{}`).Value)
	require.Equal(t, 1e-7, *single("backend.ratio", `{"context":{}}`).Value)

	b := post("/ofrep/v1/evaluate/flags", `{"context":{"targetingKey":"u2","age":70}}`)
	var bulk client.OfrepBulkResponse
	require.NoError(t, json.Unmarshal(b, &bulk))
	require.Equal(t, string(canonical(t, bulk)), string(b))
	require.Len(t, bulk.Flags, 2)
	require.Equal(t, "TARGETING_MATCH", *bulk.Flags[1].Reason)

	// encoding/json refuses 1e999 for the typed request: the fast path steps aside, and the
	// answer is still a 400 in the OFREP shape, never a 5xx.
	res, body := s.raw(t, http.MethodPost, "/ofrep/v1/evaluate/flags/backend.ratio", `{"context":{"big":1e999}}`, nil)
	require.Equal(t, http.StatusBadRequest, res.StatusCode, "%s", body)
	require.Contains(t, string(body), `"key":"backend.ratio"`)
}
