package httpserver

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/logging"
)

// errorHandler is Echo's HTTPErrorHandler: every error from routing, middleware, validation
// and handlers ends here and leaves as one envelope with its real status.
func errorHandler(log *slog.Logger, routes routeSet) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		if c.Response().Committed {
			return
		}
		e := classify(err)
		if e.Status == http.StatusNotFound && routes.of(c) == "unmatched" {
			e = apierr.New(http.StatusNotFound, "NOT_FOUND", "No endpoint "+c.Request().Method+" "+c.Request().URL.Path)
		}
		if e.Status == http.StatusMethodNotAllowed {
			e.Message = "Method " + c.Request().Method + " is not allowed on " + c.Request().URL.Path
		}
		ctx := c.Request().Context()
		if e.Status >= 500 {
			// Logged once, here; the client gets a generic message.
			// As what it is (status, code, cause), not as the validator wrapper around it
			// ("code=400, message=invalid request" for an authentication 503).
			log.ErrorContext(ctx, "request failed", "status", e.Status, "code", e.Code, "error", e.Error(), "method", c.Request().Method, "route", routes.of(c))
		}
		for k, v := range e.Headers {
			c.Response().Header().Set(k, v)
		}
		if c.Request().Method == http.MethodHead {
			_ = c.NoContent(e.Status)
			return
		}
		if strings.HasPrefix(c.Request().URL.Path, "/ofrep/") {
			status, body := ofrepError(c, e)
			_ = c.JSON(status, body)
			return
		}
		_ = c.JSON(e.Status, Envelope(ctx, e))
	}
}

// Envelope renders an API error as the shared error envelope.
func Envelope(ctx context.Context, e *apierr.Error) api.ErrorEnvelope {
	body := api.ErrorEnvelope{
		Success: false,
		Error: api.ErrorBody{
			Code:    e.Code,
			Message: e.Message,
		},
		Metadata:  api.ResponseMeta{RequestId: logging.RequestID(ctx)},
		Timestamp: time.Now().UTC(),
	}
	if e.Field != "" {
		body.Error.Field = &e.Field
	}
	if e.Details != nil {
		// Round-trip through JSON so typed details (e.g. []apierr.FieldError) match the schema.
		if raw, err := json.Marshal(e.Details); err == nil {
			var m map[string]any
			if json.Unmarshal(raw, &m) == nil {
				body.Error.Details = &m
			}
		}
	}
	return body
}

// classify maps any error to an *apierr.Error.
func classify(err error) *apierr.Error {
	// Validator errors first: errors.As would otherwise pick the first *apierr.Error inside
	// a MultiError (say "no bearer token") over the more telling one (a bad API key).
	var he *echo.HTTPError
	if errors.As(err, &he) && he.Internal != nil {
		if inner := classifyInternal(he.Internal); inner != nil {
			return inner
		}
	}
	var ae *apierr.Error
	if errors.As(err, &ae) {
		return ae
	}
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return tooLarge(mbe.Limit)
	}
	if errors.As(err, &he) {
		msg := http.StatusText(he.Code)
		if s, ok := he.Message.(string); ok && s != "" && he.Code < 500 {
			msg = s
		}
		switch he.Code {
		case http.StatusNotFound:
			return apierr.New(he.Code, "NOT_FOUND", msg)
		case http.StatusMethodNotAllowed:
			return apierr.New(he.Code, "METHOD_NOT_ALLOWED", "Method not allowed for this path")
		case http.StatusRequestEntityTooLarge:
			return apierr.New(he.Code, "PAYLOAD_TOO_LARGE", "The request body is too large")
		case http.StatusUnsupportedMediaType:
			return apierr.New(he.Code, "UNSUPPORTED_MEDIA_TYPE", msg)
		case http.StatusUnauthorized:
			return apierr.Unauthorized("UNAUTHORIZED", "Authentication required")
		case http.StatusForbidden:
			return apierr.Forbidden("Insufficient permissions")
		case http.StatusTooManyRequests:
			return apierr.New(he.Code, "RATE_LIMIT_EXCEEDED", "Too many requests")
		case http.StatusServiceUnavailable:
			return apierr.New(he.Code, "SERVICE_UNAVAILABLE", "Service unavailable")
		}
		if he.Code >= 400 && he.Code < 500 {
			return apierr.New(he.Code, "BAD_REQUEST", msg)
		}
		return &apierr.Error{Status: http.StatusInternalServerError, Code: "INTERNAL_ERROR", Message: "An internal error occurred", Err: err}
	}
	return apierr.From(err)
}

// ofrepError renders an error in the OpenFeature Remote Evaluation Protocol's shapes, which
// OFREP providers parse: invalid input is a 400 with an errorCode (and the flag key on the
// single-flag route); other failures carry errorDetails only.
func ofrepError(c echo.Context, e *apierr.Error) (int, map[string]any) {
	details := e.Message
	if e.Field != "" && !strings.Contains(details, e.Field) {
		details = e.Field + ": " + details
	}
	if e.Status != http.StatusBadRequest && e.Status != http.StatusUnprocessableEntity {
		return e.Status, map[string]any{"errorDetails": details}
	}
	code := "INVALID_CONTEXT"
	if e.Status == http.StatusBadRequest {
		code = "PARSE_ERROR"
	}
	body := map[string]any{"errorCode": code, "errorDetails": details}
	if key := c.Param("key"); key != "" {
		body["key"] = key
	}
	return http.StatusBadRequest, body
}
