package voice

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParsePreferences(t *testing.T) {
	s := func(p *string) string {
		if p == nil {
			return ""
		}
		return *p
	}
	for _, c := range []struct{ text, units, lang, detail string }{
		{"Please use metric units.", "metric", "", ""},
		{"Give me my weight in pounds", "imperial", "", ""},
		{"Answer in Spanish please, and keep it short", "", "es", "brief"},
		{"I want more detail about dosing", "", "", "detailed"},
		{"What is the metric for success?", "", "", ""},
		{"Brief answers, imperial units, respond in German.", "imperial", "de", "brief"},
	} {
		p := ParsePreferences(c.text)
		require.Equal(t, c.units, s(p.Units), c.text)
		require.Equal(t, c.lang, s(p.Language), c.text)
		require.Equal(t, c.detail, s(p.DetailLevel), c.text)
	}
}
