package extract

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFormatOfExtension(t *testing.T) {
	t.Parallel()
	cases := map[string]Format{
		"notes.txt": Text, "NOTES.TEXT": Text,
		"guide.md": Markdown, "Guide.Markdown": Markdown,
		"page.html": HTML, "page.HTM": HTML,
		"paper.PDF": PDF, "dir/data.json": JSON,
	}
	for name, want := range cases {
		// The extension wins over a contradicting content type.
		got, err := FormatOf(name, "application/octet-stream")
		require.NoError(t, err, name)
		require.Equal(t, want, got, name)
	}
}

func TestFormatOfContentTypeFallback(t *testing.T) {
	t.Parallel()
	cases := map[string]Format{
		"text/plain; charset=utf-8":  Text,
		"text/markdown":              Markdown,
		"TEXT/HTML; charset=latin1":  HTML,
		"application/pdf":            PDF,
		"application/json; charset=": JSON,
	}
	for ct, want := range cases {
		got, err := FormatOf("upload", ct)
		require.NoError(t, err, ct)
		require.Equal(t, want, got, ct)
	}
	got, err := FormatOf("scan.v2", "application/pdf")
	require.NoError(t, err)
	require.Equal(t, PDF, got)
}

func TestFormatOfUnsupported(t *testing.T) {
	t.Parallel()
	for _, c := range [][2]string{
		{"setup.exe", "application/octet-stream"},
		{"letter.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"},
		{"image.png", "image/png"},
		{"noext", ""},
		{"noext", "not a media type"},
	} {
		_, err := FormatOf(c[0], c[1])
		require.ErrorIs(t, err, ErrUnsupported, c[0])
	}
	_, err := Extract(t.Context(), Format("docx"), []byte("x"), Limits{})
	require.ErrorIs(t, err, ErrUnsupported)
}

func TestExtractText(t *testing.T) {
	t.Parallel()
	in := "\uFEFFFirst  paragraph\tline one.\r\nline\x00 two.\n\n\n\n  Second\x07 paragraph.  \n"
	doc, err := Extract(t.Context(), Text, []byte(in), Limits{})
	require.NoError(t, err)
	require.Empty(t, doc.Title)
	require.Len(t, doc.Sections, 1)
	s := doc.Sections[0]
	require.Empty(t, s.Heading)
	require.Zero(t, s.Page)
	require.Equal(t, "First paragraph line one.\nline two.\n\nSecond paragraph.", s.Text)
}

func TestExtractTextInvalidUTF8(t *testing.T) {
	t.Parallel()
	_, err := Extract(t.Context(), Text, []byte("caf\xe9 au lait"), Limits{})
	require.ErrorIs(t, err, ErrMalformed)
	_, err = Extract(t.Context(), Markdown, []byte("# T\n\xff\xfe"), Limits{})
	require.ErrorIs(t, err, ErrMalformed)
}

func TestExtractEmpty(t *testing.T) {
	t.Parallel()
	inputs := map[Format][]string{
		Text:     {"", " \n\t\r\n ", "\x00\x00"},
		Markdown: {"", "   \n\n", "---\n***\n"},
		HTML:     {"", "<html><head><title>Only a title</title><script>var x = 1;</script></head><body> </body></html>"},
		JSON:     {"{}", "[]", `{"title": "T", "text": "   "}`, `{"n": 1, "ok": true}`},
	}
	for f, list := range inputs {
		for _, in := range list {
			_, err := Extract(t.Context(), f, []byte(in), Limits{})
			require.ErrorIs(t, err, ErrEmpty, "%s %q", f, in)
		}
	}
}

func TestCleanKeepsParagraphs(t *testing.T) {
	t.Parallel()
	require.Equal(t, "a b\nc\n\nd", clean("  a \u00a0  b \n c \n \n\t\n d \n"))
	require.Equal(t, "", clean(" \n \n"))
}
