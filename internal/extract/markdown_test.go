package extract

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestMarkdownHeadingsAndTitle(t *testing.T) {
	t.Parallel()
	md := `---
layout: guideline
---
Intro before any heading.

# Hypertension

Overview text.

## Diagnosis ##
Measure twice.

### Home monitoring
Use a validated cuff.

## Treatment
First line drugs.

Second \*Setext\* Top
=================
Under setext.

Subsection
----------
Under subsection.
`
	doc, err := Extract(t.Context(), Markdown, []byte(md), Limits{})
	require.NoError(t, err)
	require.Equal(t, "Hypertension", doc.Title)

	type sec struct {
		heading []string
		text    string
	}
	var got []sec
	for _, s := range doc.Sections {
		require.Zero(t, s.Page)
		got = append(got, sec{s.Heading, s.Text})
	}
	require.Equal(t, []sec{
		{[]string{}, "Intro before any heading."},
		{[]string{"Hypertension"}, "Overview text."},
		{[]string{"Hypertension", "Diagnosis"}, "Measure twice."},
		{[]string{"Hypertension", "Diagnosis", "Home monitoring"}, "Use a validated cuff."},
		{[]string{"Hypertension", "Treatment"}, "First line drugs."},
		{[]string{"Second *Setext* Top"}, "Under setext."},
		{[]string{"Second *Setext* Top", "Subsection"}, "Under subsection."},
	}, got)
}

func TestMarkdownInlineSyntax(t *testing.T) {
	t.Parallel()
	md := "# Drugs\n" +
		"Use **ACE inhibitors** or *ARBs*, not __both__ ~~ever~~.\n" +
		"See [the guideline](https://example.org/g \"title\") and ![a chart](c.png).\n" +
		"Call `max_dose(x)` with snake_case_names and 2 * 3 * 4 tablets.\n" +
		"Target <140/90 mmHg, <b>bold</b> &amp; \\*literal\\* stars. <!-- hidden -->\n" +
		"Mail <https://example.org/x>.\n" +
		"\n" +
		"* bullet one\n" +
		"+ bullet two\n" +
		"1. numbered\n" +
		"\n" +
		"> quoted advice\n" +
		"\n" +
		"| Drug | Dose |\n" +
		"|------|-----:|\n" +
		"| Lisinopril | 10 mg |\n" +
		"\n" +
		"```go\n" +
		"if **x** { return }\n" +
		"```\n" +
		"[ref]: https://example.org/ref\n"
	doc, err := Extract(t.Context(), Markdown, []byte(md), Limits{})
	require.NoError(t, err)
	require.Len(t, doc.Sections, 1)
	require.Equal(t, []string{"Drugs"}, doc.Sections[0].Heading)
	require.Equal(t, "Use ACE inhibitors or ARBs, not both ever.\n"+
		"See the guideline and a chart.\n"+
		"Call max_dose(x) with snake_case_names and 2 * 3 * 4 tablets.\n"+
		"Target <140/90 mmHg, bold & *literal* stars.\n"+
		"Mail https://example.org/x.\n\n"+
		"- bullet one\n- bullet two\n1. numbered\n\n"+
		"quoted advice\n\n"+
		"Drug Dose\nLisinopril 10 mg\n\n"+
		"if **x** { return }", doc.Sections[0].Text)
}

func TestMarkdownFirstH1OnlyIsTitle(t *testing.T) {
	t.Parallel()
	doc, err := Extract(t.Context(), Markdown, []byte("text first\n\n# One\na\n\n# Two\nb\n"), Limits{})
	require.NoError(t, err)
	require.Equal(t, "One", doc.Title)
	require.Equal(t, []string{"Two"}, doc.Sections[2].Heading)

	doc, err = Extract(t.Context(), Markdown, []byte("## Only h2\ntext\n"), Limits{})
	require.NoError(t, err)
	require.Empty(t, doc.Title)
	require.Equal(t, []string{"Only h2"}, doc.Sections[0].Heading)
}
