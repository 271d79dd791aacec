package phi

import (
	"fmt"
	"testing"
)

func TestGuardMemoGivesTheSameAnswers(t *testing.T) {
	g := NewGuard(PolicyRedact)
	texts := []string{"Call John Smith at 617-555-0142.", "No identifiers here.", "SSN 123-45-6789"}
	for round := 0; round < 3; round++ {
		for _, text := range texts {
			got, err := g.Outbound(text)
			if err != nil {
				t.Fatal(err)
			}
			if want := Redact(text, Detect(text)); got != want {
				t.Fatalf("round %d: %q -> %q, want %q", round, text, got, want)
			}
		}
	}
	for i := 0; i < memoEntries+10; i++ { // eviction keeps the bound
		_, _ = g.Outbound(fmt.Sprintf("note %d", i))
	}
	if n := len(g.seen.found); n > memoEntries || len(g.seen.order) != n {
		t.Fatalf("memo holds %d entries (order %d), bound %d", n, len(g.seen.order), memoEntries)
	}
}
