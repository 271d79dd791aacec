package chunk

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCountTokens(t *testing.T) {
	t.Parallel()
	cases := map[string]int{
		"":                0,
		" \n\t ":          0,
		"the":             1,
		"dose":            1,
		"doses":           2, // 5 letters: two pieces of at most 4
		"hypertension":    3,
		"140":             1,
		"2024":            2,
		"BP 140/90 mmHg.": 1 + 1 + 1 + 1 + 1 + 1, // BP, 140, /, 90, mmHg, .
		"don't":           3,                     // don, ', t
		"高血压":             3,
		"café":            1,
	}
	for s, want := range cases {
		require.Equal(t, want, CountTokens(s), "%q", s)
	}
}

func TestCountTokensAddsUpOverSpaces(t *testing.T) {
	t.Parallel()
	parts := []string{"Lisinopril 10 mg,", "once daily;", "(max 40mg).", "高血压"}
	sum := 0
	for _, p := range parts {
		sum += CountTokens(p)
	}
	require.Equal(t, sum, CountTokens(strings.Join(parts, " ")))
	require.Equal(t, sum, CountTokens(strings.Join(parts, "\n\n")))
}

func TestScanSpansCoverText(t *testing.T) {
	t.Parallel()
	s := "Pharmacokinetics: t½ ≈ 12h, ×3 — über-long!"
	var b strings.Builder
	prev := 0
	scan(s, func(a, e int) {
		require.Less(t, a, e)
		require.Empty(t, strings.TrimSpace(s[prev:a]), "only whitespace between tokens")
		b.WriteString(s[a:e])
		prev = e
	})
	require.Equal(t, strings.Join(strings.Fields(s), ""), b.String())
}
