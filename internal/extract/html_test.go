package extract

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestHTMLStructure(t *testing.T) {
	t.Parallel()
	page := `<!DOCTYPE html>
<html><head>
  <title>Asthma &amp; COPD</title>
  <style>body { color: red }</style>
  <script>var secret = "do not index";</script>
</head>
<body>
  <nav><a href="/">Home</a> | <a href="/about">About</a></nav>
  <p>Lead   paragraph
     over two lines.</p>
  <h1>Asthma</h1>
  <p>Inhaled steroids &lt;ICS&gt; are first&nbsp;line.</p>
  <h2>Acute <em>attacks</em></h2>
  <ul><li>Salbutamol</li><li>Oxygen &#8211; if hypoxic</li></ul>
  <script>document.write("nope")</script>
  <h3>Children</h3>
  <div>Dose by<br>weight.</div>
  <h2>Follow-up</h2>
  <table><tr><th>Visit</th><th>Week</th></tr><tr><td>Review</td><td>4</td></tr></table>
  <noscript>Enable JavaScript</noscript>
  <footer>Copyright 2026</footer>
</body></html>`
	doc, err := Extract(t.Context(), HTML, []byte(page), Limits{})
	require.NoError(t, err)
	require.Equal(t, "Asthma & COPD", doc.Title)

	type sec struct {
		heading []string
		text    string
	}
	var got []sec
	for _, s := range doc.Sections {
		got = append(got, sec{s.Heading, s.Text})
	}
	require.Equal(t, []sec{
		{[]string{}, "Lead paragraph over two lines."},
		{[]string{"Asthma"}, "Inhaled steroids <ICS> are first line."},
		{[]string{"Asthma", "Acute attacks"}, "Salbutamol\nOxygen \u2013 if hypoxic"},
		{[]string{"Asthma", "Acute attacks", "Children"}, "Dose by\nweight."},
		{[]string{"Asthma", "Follow-up"}, "Visit Week\nReview 4"},
	}, got)
	for _, s := range doc.Sections {
		for _, banned := range []string{"secret", "nope", "color", "Home", "JavaScript", "Copyright"} {
			require.NotContains(t, s.Text, banned)
		}
	}
}

func TestHTMLTitleFallsBackToH1(t *testing.T) {
	t.Parallel()
	doc, err := Extract(t.Context(), HTML, []byte("<p>x</p><h1>Diabetes  <small>type 2</small></h1><p>Metformin.</p>"), Limits{})
	require.NoError(t, err)
	require.Equal(t, "Diabetes type 2", doc.Title)
	require.Equal(t, []string{"Diabetes type 2"}, doc.Sections[1].Heading)
}

func TestHTMLLegacyCharset(t *testing.T) {
	t.Parallel()
	// "Café" in windows-1252, declared by a meta tag.
	page := []byte("<html><head><meta charset=\"windows-1252\"></head><body><p>Caf\xe9 au lait</p></body></html>")
	doc, err := Extract(t.Context(), HTML, page, Limits{})
	require.NoError(t, err)
	require.Equal(t, "Café au lait", doc.Sections[0].Text)
}

func TestHTMLPreKeepsLines(t *testing.T) {
	t.Parallel()
	doc, err := Extract(t.Context(), HTML, []byte("<pre>line one\nline   two</pre><p>after</p>"), Limits{})
	require.NoError(t, err)
	require.Equal(t, "line one\nline two\n\nafter", doc.Sections[0].Text)
}
