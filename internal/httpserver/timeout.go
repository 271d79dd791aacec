package httpserver

import (
	"errors"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/voiceassist/gateway/internal/apierr"
)

// bodyDeadline bounds how long a request body may take to arrive (REQUEST_TIMEOUT_SECONDS):
// a client that trickles its body is cut at the deadline instead of holding a handler and a
// connection for minutes. The deadline is lifted as soon as the body has been read to its end
// (and never set when there is none), so it never cuts what comes after: a slow model answer,
// an event stream or a WebSocket session. A body the handler leaves unread keeps the deadline,
// which then bounds the server's own draining of it.
func bodyDeadline(timeout time.Duration) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			rc := http.NewResponseController(c.Response().Writer)
			if req.Body == nil || req.Body == http.NoBody || req.ContentLength == 0 {
				// Nothing to wait for; the server sets no read deadline of its own, so
				// streams and upgraded connections stay open.
				return next(c)
			}
			if rc.SetReadDeadline(time.Now().Add(timeout)) != nil {
				return next(c) // not supported (e.g. a test recorder): nothing to bound
			}
			b := &deadlineBody{ReadCloser: req.Body, rc: rc}
			req.Body = b
			err := next(c)
			if b.timedOut.Load() {
				c.Response().Header().Set("Connection", "close")
				return apierr.New(http.StatusRequestTimeout, "REQUEST_TIMEOUT", "The request body did not arrive in time")
			}
			return err
		}
	}
}

// deadlineBody lifts the read deadline when the body ends and notes a timed-out read.
type deadlineBody struct {
	io.ReadCloser
	rc       *http.ResponseController
	lifted   atomic.Bool
	timedOut atomic.Bool
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	switch {
	case err == io.EOF:
		b.lift()
	case err != nil && errors.Is(err, os.ErrDeadlineExceeded):
		b.timedOut.Store(true)
	}
	return n, err
}

// lift clears the deadline once: after the body, the connection is read only to notice a
// client that leaves, and a deadline there would cancel the request.
func (b *deadlineBody) lift() {
	if b.lifted.CompareAndSwap(false, true) {
		_ = b.rc.SetReadDeadline(time.Time{})
	}
}
