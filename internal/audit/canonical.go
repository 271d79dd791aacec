package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
)

// chainRow is every hashed column of an audit_log row; Details is canonical JSON.
type chainRow struct {
	ID           int64
	OccurredAt   time.Time
	ActorID      *uuid.UUID
	ActorEmail   string
	ActorRole    string
	Action       string
	ResourceType string
	ResourceID   string
	Success      bool
	RequestID    string
	IP           string
	UserAgent    string
	Details      []byte
}

// canonical is the byte encoding documented in the package comment.
func (r chainRow) canonical() []byte {
	actor := ""
	if r.ActorID != nil {
		actor = r.ActorID.String()
	}
	fields := [...]string{
		strconv.FormatInt(r.ID, 10),
		r.OccurredAt.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano),
		actor,
		r.ActorEmail,
		r.ActorRole,
		r.Action,
		r.ResourceType,
		r.ResourceID,
		strconv.FormatBool(r.Success),
		r.RequestID,
		r.IP,
		r.UserAgent,
		string(r.Details),
	}
	n := 0
	for _, f := range fields {
		n += 4 + len(f)
	}
	out := make([]byte, 0, n)
	for _, f := range fields {
		out = binary.BigEndian.AppendUint32(out, uint32(len(f)))
		out = append(out, f...)
	}
	return out
}

// chainHash is SHA-256(prev || canonical).
func chainHash(prev, canonical []byte) []byte {
	h := sha256.New()
	h.Write(prev)
	h.Write(canonical)
	return h.Sum(nil)
}

// detailsJSON encodes an entry's details as the canonical JSON object to store and hash.
func detailsJSON(d map[string]any) ([]byte, error) {
	if len(d) == 0 {
		return []byte("{}"), nil
	}
	raw, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	return canonicalJSON(raw, true)
}

// canonicalJSON rewrites a JSON object in the canonical form of the package comment. With
// clean, U+0000 in strings and keys becomes U+FFFD (write side; jsonb cannot hold it).
func canonicalJSON(raw []byte, clean bool) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("trailing data after JSON value")
	}
	if _, ok := v.(map[string]any); !ok {
		return nil, errors.New("details must be a JSON object")
	}
	v, err := normalize(v, clean)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

func normalize(v any, clean bool) (any, error) {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			n, err := normalize(e, clean)
			if err != nil {
				return nil, err
			}
			if clean {
				k = cleanText(k, 0)
			}
			out[k] = n
		}
		return out, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			n, err := normalize(e, clean)
			if err != nil {
				return nil, err
			}
			out[i] = n
		}
		return out, nil
	case string:
		if clean {
			return cleanText(x, 0), nil
		}
		return x, nil
	case json.Number:
		return canonicalNumber(string(x))
	default: // bool, nil
		return v, nil
	}
}

// canonicalNumber applies the number rule of the package comment to a JSON number literal.
func canonicalNumber(lit string) (json.Number, error) {
	if isIntegerLiteral(lit) {
		n, ok := new(big.Int).SetString(lit, 10)
		if !ok {
			return "", fmt.Errorf("invalid number %q", lit)
		}
		return json.Number(n.String()), nil
	}
	f, err := strconv.ParseFloat(lit, 64)
	if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
		return "", fmt.Errorf("number %q is out of range", lit)
	}
	if f == math.Trunc(f) {
		n, _ := big.NewFloat(f).Int(nil)
		return json.Number(n.String()), nil
	}
	b, err := json.Marshal(f)
	if err != nil {
		return "", err
	}
	return json.Number(b), nil
}

func isIntegerLiteral(s string) bool {
	s = strings.TrimPrefix(s, "-")
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
