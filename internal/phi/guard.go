package phi

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"sync"

	"github.com/voiceassist/gateway/internal/apierr"
)

// PHI_POLICY values: what happens to text bound for an external provider.
const (
	PolicyRedact = "redact"
	PolicyBlock  = "block"
	PolicyAllow  = "allow"
)

// Guard applies PHI_POLICY to text leaving the deployment. It is wired only in front of
// external providers (not a PROVIDERS_TRUSTED endpoint), and never sees knowledge-base text.
type Guard struct {
	policy string
	seen   memo
}

// NewGuard returns the guard for a policy; an unknown policy redacts.
func NewGuard(policy string) *Guard {
	switch policy {
	case PolicyBlock, PolicyAllow:
	default:
		policy = PolicyRedact
	}
	return &Guard{policy: policy}
}

// Outbound returns the text to send: redacted under redact, unchanged under allow. Under
// block, text with any identifier is refused with 422 PHI_BLOCKED naming the types found
// (never the text).
func (g *Guard) Outbound(text string) (string, error) {
	if g == nil || g.policy == PolicyAllow || text == "" {
		return text, nil
	}
	fs := g.seen.detect(text)
	if len(fs) == 0 {
		return text, nil
	}
	if g.policy == PolicyBlock {
		counts := Counts(fs)
		types := make([]string, 0, len(counts))
		for t := range counts {
			types = append(types, t)
		}
		sort.Strings(types)
		e := apierr.New(http.StatusUnprocessableEntity, "PHI_BLOCKED",
			fmt.Sprintf("The text contains protected health information (%s) and PHI_POLICY=block keeps it from the external provider.", strings.Join(types, ", ")))
		e.Details = map[string]any{"types": types}
		return "", e
	}
	return Redact(text, fs), nil
}

// memo remembers the findings of recent texts: a conversation's history goes out again with
// every turn, and detection costs milliseconds per message. Bounded in entries and in the
// length of the texts kept.
type memo struct {
	mu    sync.Mutex
	found map[string][]Finding
	order []string // insertion order, for eviction
}

const (
	memoEntries = 4096
	memoMaxText = 4096 // bytes; longer texts are detected every time
)

func (m *memo) detect(text string) []Finding {
	if len(text) > memoMaxText {
		return Detect(text)
	}
	m.mu.Lock()
	fs, ok := m.found[text]
	m.mu.Unlock()
	if ok {
		return fs
	}
	fs = Detect(text)
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.found == nil {
		m.found = make(map[string][]Finding, memoEntries)
	}
	if _, ok := m.found[text]; !ok {
		if len(m.order) >= memoEntries {
			delete(m.found, m.order[0])
			m.order = m.order[1:]
		}
		m.found[text] = fs
		m.order = append(m.order, text)
	}
	return fs
}
