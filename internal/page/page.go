// Package page holds the paging toolkit of every list: the limit+1 query trick and opaque
// cursors (keyset time+id, or a plain sequence number).
package page

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/voiceassist/gateway/internal/apierr"
)

// Limit is the row count to ask the database for: one more than the page, so that Trim can
// tell whether another page follows.
func Limit(limit int) int32 { return int32(limit + 1) }

// Trim cuts rows fetched with Limit(limit) to the page and reports whether more follow.
func Trim[T any](rows []T, limit int) ([]T, bool) {
	if len(rows) > limit {
		return rows[:limit], true
	}
	return rows, false
}

// BadCursor is the answer to a cursor this service did not issue: 400, field "cursor".
func BadCursor() error {
	return apierr.Validation(http.StatusBadRequest, apierr.FieldError{Field: "cursor", Message: "is not a cursor returned by this endpoint"})
}

// Keyset is a position in a list ordered by (time, id).
type Keyset struct {
	At time.Time
	ID uuid.UUID
}

// The JSON layouts of keyset cursors. They differ only in the time's key: user lists have
// always issued "c", the others "a"; both stay as issued so cursors in clients' hands work.
type (
	keysetA struct {
		At time.Time `json:"a"`
		ID uuid.UUID `json:"i"`
	}
	keysetC struct {
		At time.Time `json:"c"`
		ID uuid.UUID `json:"i"`
	}
)

// Encode returns the opaque cursor: base64url(JSON {"a": time, "i": id}).
func (k Keyset) Encode() string { return encode(keysetA(k)) }

// EncodeCreated is Encode with the time under "c" (the user list's layout).
func (k Keyset) EncodeCreated() string { return encode(keysetC(k)) }

// DecodeKeyset parses a cursor made by Encode; anything else is BadCursor.
func DecodeKeyset(s string) (Keyset, error) {
	var c keysetA
	if err := decode(s, &c); err != nil || c.ID == uuid.Nil || c.At.IsZero() {
		return Keyset{}, BadCursor()
	}
	return Keyset(c), nil
}

// DecodeCreated parses a cursor made by EncodeCreated; anything else is BadCursor.
func DecodeCreated(s string) (Keyset, error) {
	var c keysetC
	if err := decode(s, &c); err != nil || c.ID == uuid.Nil || c.At.IsZero() {
		return Keyset{}, BadCursor()
	}
	return Keyset(c), nil
}

func encode(v any) string {
	raw, _ := json.Marshal(v) // a time and a uuid always marshal
	return base64.RawURLEncoding.EncodeToString(raw)
}

func decode(s string, v any) error {
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return err
	}
	// Unknown keys refused: a cursor of the other layout must not read as time zero.
	d := json.NewDecoder(bytes.NewReader(raw))
	d.DisallowUnknownFields()
	return d.Decode(v)
}

// EncodeSeq returns the cursor of a list ordered by a number (an id or sequence).
func EncodeSeq(n int64) string { return strconv.FormatInt(n, 10) }

// DecodeSeq parses a cursor made by EncodeSeq; a negative or non-numeric one is BadCursor.
func DecodeSeq(s string) (int64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, BadCursor()
	}
	return n, nil
}

// Map trims rows fetched with Limit(limit) to the page and maps them with conv. next is the
// cursor of the following page, made by cursor from the page's last item, or "" at the end.
func Map[R, T any](rows []R, limit int, conv func(R) T, cursor func(T) string) (items []T, next string) {
	rows, more := Trim(rows, limit)
	items = make([]T, len(rows))
	for i, r := range rows {
		items[i] = conv(r)
	}
	if more && len(items) > 0 {
		next = cursor(items[len(items)-1])
	}
	return items, next
}

// Layout is how a Keyset is written into a cursor and read back.
type Layout struct {
	encode func(Keyset) string
	decode func(string) (Keyset, error)
}

var (
	// LayoutAt is the layout of most lists (Encode, DecodeKeyset).
	LayoutAt = Layout{Keyset.Encode, DecodeKeyset}
	// LayoutCreated is the user list's layout (EncodeCreated, DecodeCreated).
	LayoutCreated = Layout{Keyset.EncodeCreated, DecodeCreated}
)

// KeysetList reads one page of a list ordered by (time, id) and returns its items and the
// cursor of the next page ("" at the end). fetch reads up to Limit(limit) rows past after,
// which is nil on the first page; key is an item's position. A cursor l cannot read is
// BadCursor.
func KeysetList[R, T any](l Layout, cursor string, limit int, fetch func(after *Keyset) ([]R, error),
	conv func(R) T, key func(T) Keyset) ([]T, string, error) {
	var after *Keyset
	if cursor != "" {
		k, err := l.decode(cursor)
		if err != nil {
			return nil, "", err
		}
		after = &k
	}
	rows, err := fetch(after)
	if err != nil {
		return nil, "", err
	}
	items, next := Map(rows, limit, conv, func(t T) string { return l.encode(key(t)) })
	return items, next, nil
}
