package page

import (
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/apierr"
)

func TestLimitAndTrim(t *testing.T) {
	require.Equal(t, int32(3), Limit(2))

	rows, more := Trim([]int{1, 2, 3}, 2)
	require.Equal(t, []int{1, 2}, rows)
	require.True(t, more)

	rows, more = Trim([]int{1, 2}, 2)
	require.Equal(t, []int{1, 2}, rows)
	require.False(t, more)

	rows, more = Trim([]int{}, 2)
	require.Empty(t, rows)
	require.False(t, more)
}

func TestKeysetRoundTrip(t *testing.T) {
	k := Keyset{At: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC), ID: uuid.MustParse("0190f3a0-0000-7000-8000-000000000001")}

	got, err := DecodeKeyset(k.Encode())
	require.NoError(t, err)
	require.True(t, k.At.Equal(got.At))
	require.Equal(t, k.ID, got.ID)

	got, err = DecodeCreated(k.EncodeCreated())
	require.NoError(t, err)
	require.True(t, k.At.Equal(got.At))
	require.Equal(t, k.ID, got.ID)
}

// The wire format is what clients already hold: it must not change.
func TestKeysetWireFormat(t *testing.T) {
	k := Keyset{At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), ID: uuid.MustParse("0190f3a0-0000-7000-8000-000000000001")}
	// base64url of {"a":"2026-01-02T03:04:05Z","i":"0190f3a0-0000-7000-8000-000000000001"}
	require.Equal(t, "eyJhIjoiMjAyNi0wMS0wMlQwMzowNDowNVoiLCJpIjoiMDE5MGYzYTAtMDAwMC03MDAwLTgwMDAtMDAwMDAwMDAwMDAxIn0", k.Encode())
	// base64url of {"c":"2026-01-02T03:04:05Z","i":"0190f3a0-0000-7000-8000-000000000001"}
	require.Equal(t, "eyJjIjoiMjAyNi0wMS0wMlQwMzowNDowNVoiLCJpIjoiMDE5MGYzYTAtMDAwMC03MDAwLTgwMDAtMDAwMDAwMDAwMDAxIn0", k.EncodeCreated())
}

func TestBadCursors(t *testing.T) {
	for _, s := range []string{"garbage!", "not-a-cursor", "", "bnVsbA" /* null */, "e30" /* {} */, "W10" /* [] */} {
		_, err := DecodeKeyset(s)
		requireBadCursor(t, err)
		_, err = DecodeCreated(s)
		requireBadCursor(t, err)
	}
	for _, s := range []string{"", "x", "-1", "1.5", "99999999999999999999"} {
		_, err := DecodeSeq(s)
		requireBadCursor(t, err)
	}
	n, err := DecodeSeq(EncodeSeq(42))
	require.NoError(t, err)
	require.Equal(t, int64(42), n)
}

func requireBadCursor(t *testing.T, err error) {
	t.Helper()
	var ae *apierr.Error
	require.True(t, errors.As(err, &ae), "want an *apierr.Error, got %v", err)
	require.Equal(t, http.StatusBadRequest, ae.Status)
	require.Equal(t, "VALIDATION_ERROR", ae.Code)
	require.Equal(t, "cursor", ae.Field)
}

func TestMap(t *testing.T) {
	itoa := func(n int) string { return strconv.Itoa(n) }
	items, next := Map([]int{1, 2, 3}, 2, func(n int) int { return n * 10 }, itoa)
	require.Equal(t, []int{10, 20}, items)
	require.Equal(t, "20", next, "the cursor is made from the page's last item")

	items, next = Map([]int{1, 2}, 2, func(n int) int { return n * 10 }, itoa)
	require.Equal(t, []int{10, 20}, items)
	require.Empty(t, next, "no cursor on the last page")
}

func TestKeysetList(t *testing.T) {
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ids := []uuid.UUID{uuid.New(), uuid.New(), uuid.New()}
	key := func(id uuid.UUID) Keyset { return Keyset{At: at, ID: id} }
	var got *Keyset
	fetch := func(after *Keyset) ([]uuid.UUID, error) { got = after; return ids, nil }
	self := func(id uuid.UUID) uuid.UUID { return id }

	for _, l := range []Layout{LayoutAt, LayoutCreated} {
		items, next, err := KeysetList(l, "", 2, fetch, self, key)
		require.NoError(t, err)
		require.Nil(t, got, "the first page starts nowhere")
		require.Equal(t, ids[:2], items)

		_, _, err = KeysetList(l, next, 2, fetch, self, key)
		require.NoError(t, err)
		require.Equal(t, &Keyset{At: at, ID: ids[1]}, got, "the next page starts after the last item")
	}

	got = nil
	_, _, err := KeysetList(LayoutAt, "not-a-cursor", 2, fetch, self, key)
	requireBadCursor(t, err)
	require.Nil(t, got, "a bad cursor reads nothing")

	fetchErr := errors.New("down")
	_, _, err = KeysetList(LayoutAt, "", 2, func(*Keyset) ([]uuid.UUID, error) { return nil, fetchErr }, self, key)
	require.ErrorIs(t, err, fetchErr)
}

// A cursor of one layout is refused by the other, not read as time zero.
func TestLayoutsDoNotMix(t *testing.T) {
	t.Parallel()
	k := Keyset{At: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC), ID: uuid.New()}
	_, err := DecodeCreated(k.Encode())
	require.Error(t, err)
	_, err = DecodeKeyset(k.EncodeCreated())
	require.Error(t, err)
	got, err := DecodeKeyset(k.Encode())
	require.NoError(t, err)
	require.True(t, k.At.Equal(got.At))
}
