// Package apierrtest holds test assertions on the API errors domain packages return.
package apierrtest

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/apierr"
)

// Require asserts that err is an *apierr.Error with this status, code and field ("" = none).
func Require(t testing.TB, err error, status int, code, field string) {
	t.Helper()
	var ae *apierr.Error
	require.True(t, errors.As(err, &ae), "want an *apierr.Error, got %v", err)
	require.Equal(t, status, ae.Status, ae.Message)
	require.Equal(t, code, ae.Code)
	require.Equal(t, field, ae.Field)
}
