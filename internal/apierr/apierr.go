// Package apierr is the one error type that crosses from domain code to the HTTP layer.
// Domain packages return *Error (or wrap one); the HTTP layer turns it into the envelope
// with the status it carries. Any other error becomes a logged, generic 500.
package apierr

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// Error is an expected failure with its HTTP status and stable code.
type Error struct {
	Status  int
	Code    string
	Message string
	Field   string         // the request field at fault, if any
	Details map[string]any // extra machine-readable context
	Headers map[string]string
	Err     error // cause, for logs only; never sent to the client
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// WithField names the request field at fault.
func (e *Error) WithField(field string) *Error { e.Field = field; return e }

// WithHeader adds a response header (Retry-After, WWW-Authenticate, ...).
func (e *Error) WithHeader(k, v string) *Error {
	if e.Headers == nil {
		e.Headers = map[string]string{}
	}
	e.Headers[k] = v
	return e
}

// New builds an error with a status and code.
func New(status int, code, message string) *Error {
	return &Error{Status: status, Code: code, Message: message}
}

// FieldError is one entry of a validation error's details.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Validation reports one or more invalid fields as 422 (rule violations) or 400 (malformed input).
func Validation(status int, errs ...FieldError) *Error {
	e := &Error{Status: status, Code: "VALIDATION_ERROR", Message: "The request is invalid."}
	if len(errs) > 0 {
		e.Field = errs[0].Field
		e.Message = errs[0].Field + ": " + errs[0].Message
		if errs[0].Field == "" {
			e.Message = errs[0].Message
		}
		e.Details = map[string]any{"errors": errs}
	}
	return e
}

// Invalid is a 422 for one field breaking a rule.
func Invalid(field, message string) *Error {
	return Validation(http.StatusUnprocessableEntity, FieldError{Field: field, Message: message})
}

func NotFound(what string) *Error {
	return New(http.StatusNotFound, "NOT_FOUND", what+" not found")
}

func Conflict(code, message string) *Error { return New(http.StatusConflict, code, message) }

func Unauthorized(code, message string) *Error {
	return New(http.StatusUnauthorized, code, message).WithHeader("WWW-Authenticate", `Bearer`)
}

func Forbidden(message string) *Error {
	return New(http.StatusForbidden, "INSUFFICIENT_PERMISSIONS", message)
}

func Unavailable(message string, cause error) *Error {
	return &Error{Status: http.StatusServiceUnavailable, Code: "SERVICE_UNAVAILABLE", Message: message, Err: cause}
}

// From classifies any error: *Error passes through; well-known storage errors get their
// status (no rows -> 404, unique violation -> 409); everything else is a 500 whose cause
// is kept for the log only.
func From(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	if errors.Is(err, pgx.ErrNoRows) {
		return &Error{Status: http.StatusNotFound, Code: "NOT_FOUND", Message: "Resource not found", Err: err}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		switch pgErr.Code {
		case "23505":
			return &Error{Status: http.StatusConflict, Code: "CONFLICT", Message: "The resource already exists", Err: err}
		case "40001", "40P01":
			return &Error{Status: http.StatusConflict, Code: "CONFLICT", Message: "Concurrent update; retry", Err: err}
		case "23502", "23514": // not-null or check violation: a value the input rules let through
			e := &Error{Status: http.StatusUnprocessableEntity, Code: "VALIDATION_ERROR", Message: "A value breaks a rule of the stored data", Err: err}
			if pgErr.ColumnName != "" {
				e.Field = pgErr.ColumnName
			}
			return e
		case "57P01", "57P02", "57P03": // the server is shutting down, crashed, or not yet accepting
			return Unavailable("The database is unavailable; try again shortly", err)
		}
		if strings.HasPrefix(pgErr.Code, "22") { // data exception: a value the database cannot store
			return &Error{Status: http.StatusUnprocessableEntity, Code: "VALIDATION_ERROR", Message: "A value cannot be stored", Err: err}
		}
		if strings.HasPrefix(pgErr.Code, "08") { // connection exception
			return Unavailable("The database is unavailable; try again shortly", err)
		}
	}
	// A connection to a dependency lost or refused (PostgreSQL restarting) is not the
	// request's fault nor a bug: 503, retry.
	var opErr *net.OpError
	if errors.As(err, &opErr) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, pgconn.ErrConnClosed) || pgconn.SafeToRetry(err) {
		return Unavailable("A backing service is unavailable; try again shortly", err)
	}
	return &Error{Status: http.StatusInternalServerError, Code: "INTERNAL_ERROR", Message: "An internal error occurred", Err: err}
}
