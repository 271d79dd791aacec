package phi

import (
	"regexp"
	"testing"
)

// Patterns compile on first use: a broken one must fail here, not on a user's first request.
func TestPatternsCompile(t *testing.T) {
	if len(patterns) < 50 {
		t.Fatalf("%d patterns registered, want every detector expression", len(patterns))
	}
	for _, p := range patterns {
		src := p.src
		if p.build != nil {
			src = p.build()
		}
		if _, err := regexp.Compile(src); err != nil {
			t.Errorf("pattern %.60q: %v", src, err)
		}
	}
}
