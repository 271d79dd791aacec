package handlers

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"time"

	"github.com/google/uuid"

	"github.com/voiceassist/gateway/internal/apierr"
)

// timeCursor is the opaque keyset cursor of lists ordered by (time, id).
type timeCursor struct {
	At time.Time `json:"a"`
	ID uuid.UUID `json:"i"`
}

func encodeTimeCursor(at time.Time, id uuid.UUID) string {
	raw, _ := json.Marshal(timeCursor{At: at, ID: id})
	return base64.RawURLEncoding.EncodeToString(raw)
}

func badCursor() error {
	return apierr.Validation(http.StatusBadRequest, apierr.FieldError{Field: "cursor", Message: "is not a cursor returned by this endpoint"})
}

func decodeTimeCursor(s string) (time.Time, uuid.UUID, error) {
	var c timeCursor
	raw, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil || json.Unmarshal(raw, &c) != nil || c.ID == uuid.Nil {
		return time.Time{}, uuid.Nil, badCursor()
	}
	return c.At, c.ID, nil
}
