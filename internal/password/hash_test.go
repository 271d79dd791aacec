package password

import (
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"golang.org/x/crypto/argon2"
)

// cheap keeps tests fast; Default is exercised in TestDefaultParams.
var cheap = Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

var phcRe = regexp.MustCompile(`^\$argon2id\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$`)

func TestHashVerifyRoundtrip(t *testing.T) {
	t.Parallel()
	h := Hasher{Params: cheap}
	for _, pw := range []string{"correct horse battery staple", "Grüne Äpfel schmecken süß", "", "x"} {
		enc, err := h.Hash(pw)
		require.NoError(t, err)
		m := phcRe.FindStringSubmatch(enc)
		require.NotNil(t, m, "not a PHC string: %s", enc)
		require.Equal(t, []string{"64", "1", "1"}, m[1:4])
		salt, err := base64.RawStdEncoding.DecodeString(m[4])
		require.NoError(t, err)
		require.Len(t, salt, 16)
		key, err := base64.RawStdEncoding.DecodeString(m[5])
		require.NoError(t, err)
		require.Len(t, key, 32)

		ok, err := h.Verify(pw, enc)
		require.NoError(t, err)
		require.True(t, ok, "password %q should verify", pw)
	}
}

func TestVerifyWrongPassword(t *testing.T) {
	t.Parallel()
	h := Hasher{Params: cheap}
	enc, err := h.Hash("correct horse battery staple")
	require.NoError(t, err)
	for _, pw := range []string{"correct horse battery stapl", "Correct horse battery staple", "", "correct horse battery staple "} {
		ok, err := h.Verify(pw, enc)
		require.NoError(t, err, "a wrong password is not an error")
		require.False(t, ok, "password %q must not verify", pw)
	}
}

func TestHashesAreSalted(t *testing.T) {
	t.Parallel()
	h := Hasher{Params: cheap}
	a, err := h.Hash("same password here")
	require.NoError(t, err)
	b, err := h.Hash("same password here")
	require.NoError(t, err)
	require.NotEqual(t, a, b)
	require.NotEqual(t, strings.Split(a, "$")[4], strings.Split(b, "$")[4], "salts must differ")
}

// A hand-written PHC string (independent of encode) verifies, and the
// params come from the string rather than from the Hasher.
func TestVerifyUsesParamsFromHash(t *testing.T) {
	t.Parallel()
	salt := []byte("somesaltsomesalt")
	key := argon2.IDKey([]byte("password"), salt, 3, 128, 2, 24)
	enc := fmt.Sprintf("$argon2id$v=19$m=128,t=3,p=2$%s$%s",
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key))

	for _, h := range []Hasher{{Params: cheap}, {}} {
		ok, err := h.Verify("password", enc)
		require.NoError(t, err)
		require.True(t, ok)
		ok, err = h.Verify("Password", enc)
		require.NoError(t, err)
		require.False(t, ok)
	}

	// Hash made with other params still verifies with a differently
	// configured hasher.
	old := Hasher{Params: Params{Memory: 32, Time: 2, Threads: 2, SaltLen: 8, KeyLen: 16}}
	enc, err := old.Hash("legacy password")
	require.NoError(t, err)
	require.Contains(t, enc, "$m=32,t=2,p=2$")
	ok, err := Hasher{Params: cheap}.Verify("legacy password", enc)
	require.NoError(t, err)
	require.True(t, ok)
}

func TestVerifyMalformed(t *testing.T) {
	t.Parallel()
	h := Hasher{Params: cheap}
	good, err := h.Hash("some password")
	require.NoError(t, err)
	parts := strings.Split(good, "$") // "", "argon2id", "v=19", "m=64,t=1,p=1", salt, key
	salt, key := parts[4], parts[5]
	with := func(params, s, k string) string {
		return "$argon2id$v=19$" + params + "$" + s + "$" + k
	}

	cases := map[string]string{
		"empty":             "",
		"argon2i prefix":    strings.Replace(good, "$argon2id$", "$argon2i$", 1),
		"argon2d prefix":    strings.Replace(good, "$argon2id$", "$argon2d$", 1),
		"bcrypt":            "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"no leading dollar": strings.TrimPrefix(good, "$"),
		"plaintext":         "hunter2",
		"version 16":        strings.Replace(good, "v=19", "v=16", 1),
		"version missing":   "$argon2id$m=64,t=1,p=1$" + salt + "$" + key,
		"version garbage":   strings.Replace(good, "v=19", "v=x", 1),
		"too few sections":  "$argon2id$v=19$m=64,t=1,p=1$" + salt,
		"too many sections": good + "$extra",
		"params not number": with("m=abc,t=1,p=1", salt, key),
		"params reordered":  with("t=1,m=64,p=1", salt, key),
		"params missing p":  with("m=64,t=1", salt, key),
		"params extra":      with("m=64,t=1,p=1,x=2", salt, key),
		"params negative":   with("m=-64,t=1,p=1", salt, key),
		"memory overflow":   with("m=4294967296,t=1,p=1", salt, key),
		"memory too large":  with("m=4194304,t=1,p=1", salt, key),
		"memory < 8*p":      with("m=8,t=1,p=2", salt, key),
		"time zero":         with("m=64,t=0,p=1", salt, key),
		"time too large":    with("m=64,t=1000,p=1", salt, key),
		"threads zero":      with("m=64,t=1,p=0", salt, key),
		"threads > 255":     with("m=4096,t=1,p=256", salt, key),
		"bad salt base64":   with("m=64,t=1,p=1", "!!!not-base64!!!", key),
		"padded salt":       with("m=64,t=1,p=1", base64.StdEncoding.EncodeToString([]byte("saltsaltsaltsalt")), key),
		"bad key base64":    with("m=64,t=1,p=1", salt, key[:len(key)-1]+"*"),
		"salt too short":    with("m=64,t=1,p=1", base64.RawStdEncoding.EncodeToString([]byte("short")), key),
		"key too short":     with("m=64,t=1,p=1", salt, base64.RawStdEncoding.EncodeToString([]byte("shortkey"))),
		"empty key":         with("m=64,t=1,p=1", salt, ""),
	}
	for name, enc := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ok, err := h.Verify("some password", enc)
			require.Error(t, err)
			require.True(t, errors.Is(err, ErrMalformedHash), "got %v", err)
			require.False(t, ok)
			require.True(t, h.NeedsRehash(enc), "a malformed hash needs rehashing")
		})
	}
}

func TestNeedsRehash(t *testing.T) {
	t.Parallel()
	h := Hasher{Params: cheap}
	enc, err := h.Hash("some password")
	require.NoError(t, err)
	require.False(t, h.NeedsRehash(enc))

	for name, p := range map[string]Params{
		"memory":  {Memory: 128, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		"time":    {Memory: 64, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32},
		"threads": {Memory: 64, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32},
		"salt":    {Memory: 64, Time: 1, Threads: 1, SaltLen: 32, KeyLen: 32},
		"key":     {Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 64},
	} {
		require.True(t, Hasher{Params: p}.NeedsRehash(enc), name)
	}
	// The zero Hasher means Default: a cheap hash must be upgraded.
	require.True(t, Hasher{}.NeedsRehash(enc))
}

func TestHashInvalidParams(t *testing.T) {
	t.Parallel()
	for name, p := range map[string]Params{
		"memory < 8*threads": {Memory: 8, Time: 1, Threads: 2, SaltLen: 16, KeyLen: 32},
		"memory too large":   {Memory: 1<<20 + 1, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32},
		"salt too short":     {Memory: 64, Time: 1, Threads: 1, SaltLen: 4, KeyLen: 32},
		"key too short":      {Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 8},
		"time too large":     {Memory: 64, Time: 65, Threads: 1, SaltLen: 16, KeyLen: 32},
	} {
		_, err := Hasher{Params: p}.Hash("whatever password")
		require.Error(t, err, name)
	}
}

func TestPartialParamsFilledFromDefault(t *testing.T) {
	t.Parallel()
	h := Hasher{Params: Params{Memory: 64, Time: 1}} // Threads, SaltLen, KeyLen from Default
	enc, err := h.Hash("some password")
	require.NoError(t, err)
	require.Contains(t, enc, "$m=64,t=1,p=1$")
	require.False(t, h.NeedsRehash(enc))
	require.False(t, Hasher{Params: cheap}.NeedsRehash(enc))
}

// The only test with the (slow) Default params.
func TestDefaultParams(t *testing.T) {
	t.Parallel()
	var h Hasher // zero value = Default
	enc, err := h.Hash("correct horse battery staple")
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(enc, "$argon2id$v=19$m=19456,t=2,p=1$"), enc)
	require.False(t, h.NeedsRehash(enc))
	require.False(t, Hasher{Params: Default}.NeedsRehash(enc))
	require.True(t, Hasher{Params: cheap}.NeedsRehash(enc))

	ok, err := h.Verify("correct horse battery staple", enc)
	require.NoError(t, err)
	require.True(t, ok)
	ok, err = h.Verify("correct horse battery stable", enc)
	require.NoError(t, err)
	require.False(t, ok)
}

func TestVerifyDummy(t *testing.T) {
	t.Parallel()
	h := Hasher{Params: cheap}
	require.NotPanics(t, func() {
		h.VerifyDummy("anything")
		h.VerifyDummy("") // second call reuses the cached dummy hash
	})
	v, ok := dummies.Load(cheap)
	require.True(t, ok)
	d := v.(*dummyHash)
	require.False(t, h.NeedsRehash(d.encoded), "dummy hash must use the hasher's params")

	// Invalid params: still no panic.
	bad := Hasher{Params: Params{Memory: 8, Time: 1, Threads: 4, SaltLen: 16, KeyLen: 32}}
	require.NotPanics(t, func() { bad.VerifyDummy("anything") })
}

func BenchmarkHashDefault(b *testing.B) {
	h := Hasher{Params: Default}
	for b.Loop() {
		if _, err := h.Hash("correct horse battery staple"); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkVerifyDefault(b *testing.B) {
	h := Hasher{Params: Default}
	enc, err := h.Hash("correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if ok, err := h.Verify("correct horse battery staple", enc); err != nil || !ok {
			b.Fatal(ok, err)
		}
	}
}
