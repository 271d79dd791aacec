package realtime

import (
	"errors"
	"net/http"

	"github.com/gorilla/websocket"

	"github.com/voiceassist/gateway/internal/apierr"
)

// Unavailable reports whether a failed token re-check means the credentials could not be
// checked (Redis or PostgreSQL down: 503) rather than that they are no longer valid.
func Unavailable(err error) bool {
	var ae *apierr.Error
	return errors.As(err, &ae) && ae.Status == http.StatusServiceUnavailable
}

// RecheckClose is the close frame for a socket whose token failed its re-check: 1008 when
// the token expired or was revoked (reconnect only with a new one), 1013 when it could not be
// checked, so that clients keep their valid token and reconnect with backoff (issue 21 #21,
// as flag streams do).
func RecheckClose(err error) (int, string) {
	if Unavailable(err) {
		return websocket.CloseTryAgainLater, "authentication temporarily unavailable; reconnect shortly"
	}
	return websocket.ClosePolicyViolation, "token expired or revoked"
}
