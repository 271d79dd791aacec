// Package password hashes passwords with Argon2id and enforces the password
// policy of the platform (NIST SP 800-63B style: length and blocklist, no
// composition rules).
package password

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"golang.org/x/crypto/argon2"
)

// Params of argon2id. Default follows OWASP's recommendation
// (m=19 MiB, t=2, p=1).
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // iterations
	Threads uint8  // parallelism
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// Default is the OWASP-recommended argon2id configuration.
var Default = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Sanity bounds applied to params, both when hashing and when parsing a
// stored hash, so that a corrupted or tampered hash cannot make Verify
// allocate gigabytes or spin for minutes.
const (
	minSaltLen = 8
	maxSaltLen = 1024
	minKeyLen  = 16
	maxKeyLen  = 1024
	maxMemory  = 1 << 20 // KiB = 1 GiB
	maxTime    = 64
)

// ErrMalformedHash is returned (wrapped) by Verify when the encoded hash
// cannot be parsed or has unacceptable parameters.
var ErrMalformedHash = errors.New("password: malformed argon2id hash")

const prefix = "$argon2id$"

// Hasher hashes and verifies passwords. Its zero value uses Default; any
// zero field of Params is likewise taken from Default.
type Hasher struct {
	Params Params
}

// params returns the effective params (zero fields filled from Default).
func (h Hasher) params() Params {
	p := h.Params
	if p.Memory == 0 {
		p.Memory = Default.Memory
	}
	if p.Time == 0 {
		p.Time = Default.Time
	}
	if p.Threads == 0 {
		p.Threads = Default.Threads
	}
	if p.SaltLen == 0 {
		p.SaltLen = Default.SaltLen
	}
	if p.KeyLen == 0 {
		p.KeyLen = Default.KeyLen
	}
	return p
}

func (p Params) validate() error {
	switch {
	case p.Time < 1 || p.Time > maxTime:
		return fmt.Errorf("time %d out of range [1, %d]", p.Time, maxTime)
	case p.Threads < 1:
		return errors.New("threads must be >= 1")
	case p.Memory < 8*uint32(p.Threads) || p.Memory > maxMemory:
		// argon2 requires m >= 8*p; the x/crypto implementation would
		// silently raise it, which would make the encoded m a lie.
		return fmt.Errorf("memory %d KiB out of range [%d, %d]", p.Memory, 8*uint32(p.Threads), maxMemory)
	case p.SaltLen < minSaltLen || p.SaltLen > maxSaltLen:
		return fmt.Errorf("salt length %d out of range [%d, %d]", p.SaltLen, minSaltLen, maxSaltLen)
	case p.KeyLen < minKeyLen || p.KeyLen > maxKeyLen:
		return fmt.Errorf("key length %d out of range [%d, %d]", p.KeyLen, minKeyLen, maxKeyLen)
	}
	return nil
}

// Hash returns the PHC string of pw with a fresh random salt:
//
//	$argon2id$v=19$m=19456,t=2,p=1$<b64 salt>$<b64 key>
//
// (base64 without padding, standard alphabet).
func (h Hasher) Hash(pw string) (string, error) {
	p := h.params()
	if err := p.validate(); err != nil {
		return "", fmt.Errorf("password: invalid params: %w", err)
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("password: generating salt: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return encode(p, salt, key), nil
}

func encode(p Params, salt, key []byte) string {
	return fmt.Sprintf("%sv=%d$m=%d,t=%d,p=%d$%s$%s",
		prefix, argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt),
		base64.RawStdEncoding.EncodeToString(key))
}

// Verify reports whether pw matches encoded. The argon2 parameters are read
// from encoded (not from h), so hashes made with older params keep
// verifying; use NeedsRehash to upgrade them after a successful login.
// The key comparison is constant-time. An error is returned only when
// encoded is malformed (it wraps ErrMalformedHash); a wrong password is
// (false, nil).
func (h Hasher) Verify(pw, encoded string) (bool, error) {
	p, salt, key, err := decode(encoded)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// NeedsRehash reports whether encoded was made with params different from
// h's effective params (or cannot be parsed at all). Call it after a
// successful Verify and, if true, store a fresh Hash of the password.
func (h Hasher) NeedsRehash(encoded string) bool {
	p, _, _, err := decode(encoded)
	if err != nil {
		return true
	}
	return p != h.params()
}

type dummyHash struct {
	once    sync.Once
	encoded string
}

// dummies holds one lazily computed dummy hash per Params.
var dummies sync.Map // Params -> *dummyHash

// VerifyDummy spends the same time as a Verify against a hash made with h's
// params, and discards the result. Call it when the account does not exist
// so that response timing does not reveal which emails are registered.
// The dummy hash is computed once per Params, on first use.
func (h Hasher) VerifyDummy(pw string) {
	p := h.params()
	v, _ := dummies.LoadOrStore(p, new(dummyHash))
	d := v.(*dummyHash)
	d.once.Do(func() {
		secret := make([]byte, 32)
		_, _ = rand.Read(secret)
		// On error (invalid params) encoded stays "" and Verify below
		// fails fast, exactly like a real Verify would with these params.
		d.encoded, _ = Hasher{Params: p}.Hash(base64.RawStdEncoding.EncodeToString(secret))
	})
	_, _ = h.Verify(pw, d.encoded)
}

// decode parses a PHC argon2id string. Params.SaltLen and Params.KeyLen are
// set from the decoded lengths.
func decode(encoded string) (Params, []byte, []byte, error) {
	fail := func(format string, args ...any) (Params, []byte, []byte, error) {
		return Params{}, nil, nil, fmt.Errorf("%w: %s", ErrMalformedHash, fmt.Sprintf(format, args...))
	}
	rest, ok := strings.CutPrefix(encoded, prefix)
	if !ok {
		return fail("not an argon2id hash")
	}
	parts := strings.Split(rest, "$")
	if len(parts) != 4 {
		return fail("want 4 sections after the algorithm, got %d", len(parts))
	}
	verStr, ok := strings.CutPrefix(parts[0], "v=")
	if !ok {
		return fail("missing version")
	}
	if ver, err := strconv.ParseUint(verStr, 10, 32); err != nil || ver != argon2.Version {
		return fail("unsupported version %q", verStr)
	}

	var p Params
	kv := strings.Split(parts[1], ",")
	if len(kv) != 3 {
		return fail("want params m,t,p, got %q", parts[1])
	}
	for i, name := range []string{"m", "t", "p"} {
		val, ok := strings.CutPrefix(kv[i], name+"=")
		if !ok {
			return fail("want param %q at position %d, got %q", name, i+1, kv[i])
		}
		bits := 32
		if name == "p" {
			bits = 8
		}
		n, err := strconv.ParseUint(val, 10, bits)
		if err != nil {
			return fail("bad value for param %q: %q", name, val)
		}
		switch name {
		case "m":
			p.Memory = uint32(n)
		case "t":
			p.Time = uint32(n)
		case "p":
			p.Threads = uint8(n)
		}
	}

	b64 := base64.RawStdEncoding.Strict()
	salt, err := b64.DecodeString(parts[2])
	if err != nil {
		return fail("bad salt encoding: %v", err)
	}
	key, err := b64.DecodeString(parts[3])
	if err != nil {
		return fail("bad key encoding: %v", err)
	}
	p.SaltLen = uint32(len(salt))
	p.KeyLen = uint32(len(key))
	if err := p.validate(); err != nil {
		return fail("%v", err)
	}
	return p, salt, key, nil
}
