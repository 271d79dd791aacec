package kb

import (
	"context"
	"errors"
	"testing"
)

// The readiness probe is down while the index fills and, for good, when filling failed.
func TestIndexReady(t *testing.T) {
	s := &Service{filled: make(chan struct{})}
	if err := s.IndexReady(context.Background()); err == nil {
		t.Fatal("ready while the index is being filled")
	}
	s.fillErr = errors.New("boom")
	close(s.filled)
	if err := s.IndexReady(context.Background()); err == nil || err.Error() != "boom" {
		t.Fatalf("a failed fill must keep the gateway unready, got %v", err)
	}
	s.fillErr = nil
	if err := s.IndexReady(context.Background()); err != nil {
		t.Fatalf("filled: %v", err)
	}
}
