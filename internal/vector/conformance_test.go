package vector_test

import (
	"testing"

	"github.com/voiceassist/gateway/internal/vector"
	"github.com/voiceassist/gateway/internal/vector/vectortest"
)

// The suite lives in an external test package: vectortest imports vector, so
// vector_test.go (package vector) cannot import it without a cycle.

func TestExactConformance(t *testing.T) {
	t.Parallel()
	vectortest.Run(t, func(t *testing.T, dim int) vector.Store { return vector.NewExact(dim) })
}
