package auth

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCleanEmail(t *testing.T) {
	for in, want := range map[string]string{
		" Ada@Example.ORG ":         "ada@example.org",
		"ada@BÜCHER.example":        "ada@xn--bcher-kva.example",
		"ada@xn--bcher-kva.example": "ada@xn--bcher-kva.example",
		"ada@пример.рф":             "ada@xn--e1afmkfd.xn--p1ai", // one script per label
		"ada@日本語.jp":                "ada@xn--wgv71a119e.jp",
	} {
		got, err := CleanEmail(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{
		"ad\u200ba@example.org", // zero-width space
		"ada@exa\u200dmple.org", // zero-width joiner
		"ada\u202e@example.org", // right-to-left override
		"ada\x00@example.org",   // control
		"ada@p\u0430ypal.com",   // Cyrillic а among Latin letters
		"ada@\u03bfpenai.com",   // Greek ο
		"ada@exa mple.org",      // not a domain name
		"no-at-sign",
	} {
		_, err := CleanEmail(bad)
		require.Error(t, err, "%q", bad)
	}
	require.Equal(t, "ad\u200ba@example.org", NormalizeEmail(" AD\u200bA@example.org"), "refused emails only trimmed and lower-cased")
}

func TestCleanName(t *testing.T) {
	n, err := CleanName("full_name", "  Zoë Ångström-李 ")
	require.NoError(t, err)
	require.Equal(t, "Zoë Ångström-李", n)
	for _, bad := range []string{"Ad\u200ba", "Eve\u202e", "tab\there", "soft\u00adhyphen"} {
		_, err := CleanName("full_name", bad)
		require.Error(t, err, "%q", bad)
	}
}
