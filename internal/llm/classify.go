package llm

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/ssestream"

	"github.com/voiceassist/gateway/internal/backoff"
)

// Kind says what a failed request means for the caller.
type Kind int

// Kinds of errors. Unavailable, Transient and RateLimited are retried by Do.
const (
	// Other: not a failure of the server or the network but a malformed answer (an error
	// event in a stream, undecodable JSON) or the caller's own error; it would recur.
	Other Kind = iota
	// Unavailable: the server could not be reached or the connection broke (refused,
	// reset, DNS, TLS, unexpected EOF).
	Unavailable
	// Timeout: an attempt ran past Config.Timeout.
	Timeout
	// RateLimited: 429, the server asks to come back later (Retry-After).
	RateLimited
	// Transient: 408 or 5xx, the server failed this time.
	Transient
	// Invalid: any other 4xx, the request is at fault (bad input, unknown model or voice).
	Invalid
	// Auth: 401 or 403, the API key is missing, wrong or not allowed.
	Auth
	// Canceled: the caller's context ended.
	Canceled
)

var kindNames = [...]string{"other", "unavailable", "timeout", "rate limited", "transient", "invalid", "auth", "canceled"}

func (k Kind) String() string {
	if k >= 0 && int(k) < len(kindNames) {
		return kindNames[k]
	}
	return "unknown"
}

// Classify tells what err, returned by Do or by an openai-go call, means. Errors the
// classification does not recognise are taken for transport failures (Unavailable), since
// the many forms those take (net, TLS, HTTP/2 stream errors) cannot all be listed.
func Classify(err error) Kind {
	if err == nil {
		return Other
	}
	if errors.Is(err, ErrTimeout) {
		return Timeout
	}
	var apiErr *openai.Error
	if errors.As(err, &apiErr) {
		return statusKind(apiErr.StatusCode)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return Canceled
	}
	var streamErr *ssestream.StreamError
	var syntaxErr *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &streamErr) || errors.As(err, &syntaxErr) || errors.As(err, &typeErr) {
		return Other
	}
	return Unavailable
}

func statusKind(code int) Kind {
	switch {
	case code == http.StatusTooManyRequests:
		return RateLimited
	case code == http.StatusRequestTimeout || code >= 500:
		return Transient
	case code == http.StatusUnauthorized || code == http.StatusForbidden:
		return Auth
	case code >= 400:
		return Invalid
	}
	return Other
}

// Retryable reports whether err is worth another attempt and the delay the server asked
// for (-1 if none).
func Retryable(err error) (bool, time.Duration) {
	switch Classify(err) {
	case Unavailable, Transient, RateLimited:
	default:
		return false, -1
	}
	var apiErr *openai.Error
	if errors.As(err, &apiErr) && apiErr.Response != nil {
		return true, backoff.RetryAfter(apiErr.Response.Header, time.Now())
	}
	return true, -1
}

// StatusCode is the HTTP status of an error answer in err's chain, 0 if none.
func StatusCode(err error) int {
	var apiErr *openai.Error
	if errors.As(err, &apiErr) {
		return apiErr.StatusCode
	}
	return 0
}

// Message is what the server said about an error answer in err's chain (its
// error.message, else the status text), "" if there is none. openai.Error's own text
// leaves it out, since messages may echo secrets; callers decide where it may go.
func Message(err error) string {
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) {
		return ""
	}
	if apiErr.Message != "" {
		return apiErr.Message
	}
	return http.StatusText(apiErr.StatusCode)
}
