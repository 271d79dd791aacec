package audit

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestCanonicalJSON(t *testing.T) {
	t.Parallel()
	cases := []struct{ name, in, want string }{
		{"keys sorted, whitespace dropped", `{ "b": 1, "a": {"d": [3, 2], "c": null} }`, `{"a":{"c":null,"d":[3,2]},"b":1}`},
		{"empty", `{}`, `{}`},
		{"html and control characters", `{"s": "<a>&\u0001\n\u2028é"}`, `{"s":"<a>&\u0001\n\u2028é"}`},
		{"big integer keeps precision", `{"n": 123456789012345678901234567890}`, `{"n":123456789012345678901234567890}`},
		{"negative zero", `{"n": -0, "f": -0.0}`, `{"f":0,"n":0}`},
		{"integral doubles are integers", `{"a": 1.0, "b": 1e21, "c": 2.5e3}`, `{"a":1,"b":1000000000000000000000,"c":2500}`},
		{"fractions are shortest doubles", `{"a": 0.1, "b": 1.50, "c": 1e-7, "d": 0.0000001}`, `{"a":0.1,"b":1.5,"c":1e-7,"d":1e-7}`},
		{"unicode keys sort by bytes", `{"é": 1, "z": 2, "Z": 3}`, `{"Z":3,"z":2,"é":1}`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := canonicalJSON([]byte(tc.in), false)
			require.NoError(t, err)
			require.Equal(t, tc.want, string(got))
			again, err := canonicalJSON(got, false)
			require.NoError(t, err)
			require.Equal(t, tc.want, string(again), "canonical form must be a fixed point")
		})
	}

	for _, bad := range []string{`[]`, `"x"`, `{"a":1} {}`, `{"a":1e400}`, `{`} {
		_, err := canonicalJSON([]byte(bad), false)
		require.Error(t, err, bad)
	}
}

// TestCanonicalJSONMatchesJSONBOutput feeds the text PostgreSQL prints for jsonb (keys ordered
// by length, ", " and ": " separators, numerics in plain notation) and expects the same canonical
// form as for what was written.
func TestCanonicalJSONMatchesJSONBOutput(t *testing.T) {
	t.Parallel()
	written, err := detailsJSON(map[string]any{
		"role": map[string]any{"before": "user", "after": "admin"},
		"tiny": 1e-7, "huge": 1e21, "max": uint64(18446744073709551615), "html": "<b>&",
	})
	require.NoError(t, err)
	require.Equal(t, `{"html":"<b>&","huge":1000000000000000000000,"max":18446744073709551615,"role":{"after":"admin","before":"user"},"tiny":1e-7}`, string(written))
	jsonbText := `{"max": 18446744073709551615, "html": "<b>&", "huge": 1000000000000000000000, "role": {"after": "admin", "before": "user"}, "tiny": 0.0000001}`
	got, err := canonicalJSON([]byte(jsonbText), false)
	require.NoError(t, err)
	require.Equal(t, string(written), string(got))
}

func TestDetailsJSONCleansNUL(t *testing.T) {
	t.Parallel()
	got, err := detailsJSON(map[string]any{"k\x00": "v\x00\xff"})
	require.NoError(t, err)
	require.Equal(t, `{"k`+"\uFFFD"+`":"v`+"\uFFFD\uFFFD"+`"}`, string(got))

	got, err = detailsJSON(nil)
	require.NoError(t, err)
	require.Equal(t, `{}`, string(got))

	_, err = detailsJSON(map[string]any{"c": make(chan int)})
	require.Error(t, err)
}

// TestHashVector pins the canonical form and hash of one row, so a change to the encoding is
// a deliberate, visible change (and an auditor has a vector to check a re-implementation with).
func TestHashVector(t *testing.T) {
	t.Parallel()
	actor := uuid.MustParse("6F9619FF-8B86-D011-B42D-00C04FC964FF")
	r := chainRow{
		ID:           7,
		OccurredAt:   time.Date(2025, 3, 4, 5, 6, 7, 120_000_000, time.FixedZone("CET", 3600)),
		ActorID:      &actor,
		ActorEmail:   "admin@example.com",
		ActorRole:    "admin",
		Action:       "users.role_changed",
		ResourceType: "user",
		ResourceID:   "42",
		Success:      true,
		RequestID:    "req-1",
		IP:           "203.0.113.9",
		UserAgent:    "curl/8.5",
		Details:      []byte(`{"after":"admin","before":"user"}`),
	}
	var want []byte
	for _, f := range []string{"7", "2025-03-04T04:06:07.12Z", "6f9619ff-8b86-d011-b42d-00c04fc964ff",
		"admin@example.com", "admin", "users.role_changed", "user", "42", "true", "req-1",
		"203.0.113.9", "curl/8.5", `{"after":"admin","before":"user"}`} {
		want = binary.BigEndian.AppendUint32(want, uint32(len(f)))
		want = append(want, f...)
	}
	require.Equal(t, want, r.canonical())

	zero := make([]byte, sha256.Size)
	sum := sha256.Sum256(append(append([]byte{}, zero...), want...))
	require.Equal(t, sum[:], chainHash(zero, r.canonical()))
	require.Equal(t, "cc77e9181dda990f09dbfdf6a8a2749549a0e2d7c309bd5dec8f0b4ede226d4e", hex.EncodeToString(sum[:]))

	r.ActorID = nil
	r.Success = false
	c := r.canonical()
	require.Equal(t, []byte{0, 0, 0, 0}, c[4+1+4+23:4+1+4+23+4], "NULL actor_id is an empty field")
}
