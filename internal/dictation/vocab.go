package dictation

// Correction is one replaced span of the input: From (the recognised text, bytes Start:End of
// the input) became To.
type Correction struct {
	From, To   string
	Start, End int
}

// Corrector fixes near-miss spellings of known terms after recognition.
type Corrector struct {
	terms []string
}

// Specialties lists the built-in vocabularies.
func Specialties() []string { return nil }

// Terms returns the built-in terms of a specialty (nil for an unknown one).
func Terms(specialty string) []string { return nil }

// NewCorrector builds a corrector for these terms.
func NewCorrector(terms []string) *Corrector { return &Corrector{terms: terms} }

// Correct returns text with near-miss spellings of the terms replaced, and the replacements.
func (c *Corrector) Correct(text string) (string, []Correction) { return text, nil }
