package httpserver

import (
	"context"
	"errors"
	"io"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
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

// handlerDeadline enforces REQUEST_TIMEOUT_SECONDS on every operation that is not a stream:
// the request context gets a deadline, and a request that has not started its answer by then
// gets 504 TIMEOUT in the envelope (declared on every such operation as the shared Timeout
// response). Work that honours its context (database, Redis, providers) stops there. Once
// the answer has started (headers written) the deadline is lifted, so a long download is
// not cut. Streams are exempt: the operations whose contract declares a text/event-stream
// answer or a 101 (WebSocket) switch.
func handlerDeadline(timeout time.Duration, streaming opTable[bool]) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			if streaming[req.Method][c.Path()] {
				return next(c)
			}
			ctx, cancel := context.WithCancelCause(req.Context())
			defer cancel(nil)
			const running, answered, expired = 0, 1, 2
			var state atomic.Int32
			t := time.AfterFunc(timeout, func() {
				if state.CompareAndSwap(running, expired) {
					cancel(context.DeadlineExceeded)
				}
			})
			defer t.Stop()
			c.Response().Before(func() { state.CompareAndSwap(running, answered) })
			c.SetRequest(req.WithContext(ctx))
			err := next(c)
			if state.Load() == expired && !c.Response().Committed {
				return apierr.New(http.StatusGatewayTimeout, "TIMEOUT", "The request did not complete in time").
					WithHeader("Retry-After", "1")
			}
			return err
		}
	}
}

// streamingOperations lists the operations ("METHOD echo-route-template") the contract
// declares as streams: a text/event-stream answer or a 101 switch to WebSocket.
func streamingOperations(spec *openapi3.T) opTable[bool] {
	out := opTable[bool]{}
	for path, item := range spec.Paths.Map() {
		for method, op := range item.Operations() {
			for code, ref := range op.Responses.Map() {
				if ref.Value == nil {
					continue
				}
				if code == "101" || ref.Value.Content.Get("text/event-stream") != nil {
					out.set(method, specParam.ReplaceAllString(path, ":$1"), true)
				}
			}
		}
	}
	return out
}
