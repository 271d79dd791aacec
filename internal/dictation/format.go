package dictation

import "strings"

// Policy is the abbreviation policy of a session.
type Policy string

// The abbreviation policies.
const (
	Clinical Policy = "clinical" // BID, PO, BP 140/90 mmHg
	Expanded Policy = "expanded" // twice daily, by mouth, blood pressure 140/90 mmHg
)

// Format turns one dictated chunk into written clinical text.
func Format(spoken string, p Policy) string {
	return strings.Join(strings.Fields(spoken), " ")
}
