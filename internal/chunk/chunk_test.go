package chunk

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/extract"
)

// numbered returns n distinct sentences "Sentence k reports ..." of 13 to
// 19 tokens; sentenceNo reads k back from a chunk.
func numbered(first, n int) []string {
	out := make([]string, n)
	for i := range out {
		k := first + i
		out[i] = fmt.Sprintf("Sentence %d reports%s that the dose was adjusted.", k, strings.Repeat(" again", k%4))
	}
	return out
}

var sentenceNo = regexp.MustCompile(`Sentence (\d+) `)

func indices(t *testing.T, text string) []int {
	var out []int
	for _, m := range sentenceNo.FindAllStringSubmatch(text, -1) {
		k, err := strconv.Atoi(m[1])
		require.NoError(t, err)
		out = append(out, k)
	}
	return out
}

func TestSplitEmpty(t *testing.T) {
	t.Parallel()
	require.Empty(t, Split(extract.Document{}, Options{}))
	require.Empty(t, Split(extract.Document{Sections: []extract.Section{{Text: " \n\n "}}}, Options{}))
}

func TestSplitShortSectionsKeepCitation(t *testing.T) {
	t.Parallel()
	doc := extract.Document{Sections: []extract.Section{
		{Heading: []string{"Asthma"}, Page: 1, Text: "Use inhalers."},
		{Heading: []string{"Asthma", "Children"}, Page: 1, Text: "Use spacers.\n\nCheck technique."},
		{Page: 2, Text: "Follow up in four weeks."},
	}}
	got := Split(doc, Options{})
	require.Equal(t, []Chunk{
		{Ord: 0, Text: "Use inhalers.", Heading: []string{"Asthma"}, Page: 1, Tokens: CountTokens("Use inhalers.")},
		{Ord: 1, Text: "Use spacers.\n\nCheck technique.", Heading: []string{"Asthma", "Children"}, Page: 1,
			Tokens: CountTokens("Use spacers.") + CountTokens("Check technique.")},
		{Ord: 2, Text: "Follow up in four weeks.", Page: 2, Tokens: CountTokens("Follow up in four weeks.")},
	}, got)

	// Chunks own their heading slices.
	got[0].Heading[0] = "changed"
	require.Equal(t, "Asthma", doc.Sections[0].Heading[0])
}

func TestSplitLongDocument(t *testing.T) {
	t.Parallel()
	var doc extract.Document
	var all [][]string
	for s := range 3 {
		sents := numbered(s*1000, 60)
		all = append(all, sents)
		doc.Sections = append(doc.Sections, extract.Section{
			Heading: []string{"Guide", fmt.Sprintf("Part %d", s)},
			Page:    s + 1,
			Text:    strings.Join(sents[:30], " ") + "\n\n" + strings.Join(sents[30:], "\n"),
		})
	}
	const size, overlap = 60, 20
	chunks := Split(doc, Options{Size: size, Overlap: overlap})
	require.Greater(t, len(chunks), 3*10)

	for i, c := range chunks {
		require.Equal(t, i, c.Ord)
		require.Equal(t, CountTokens(c.Text), c.Tokens)
		require.LessOrEqual(t, c.Tokens, size)
		require.Positive(t, c.Tokens)
		// No sentence here exceeds size, so every chunk is whole sentences.
		require.True(t, strings.HasSuffix(c.Text, "adjusted."), c.Text)
		require.True(t, strings.HasPrefix(c.Text, "Sentence "), c.Text)

		part := c.Page - 1
		require.Equal(t, []string{"Guide", fmt.Sprintf("Part %d", part)}, c.Heading)
		for _, k := range indices(t, c.Text) {
			require.Equal(t, part, k/1000, "chunk stays in its section")
		}
	}

	// Coverage: every sentence is in a chunk of its own section.
	for s, sents := range all {
		for _, sent := range sents {
			found := false
			for _, c := range chunks {
				if c.Page == s+1 && strings.Contains(c.Text, sent) {
					found = true
					break
				}
			}
			require.True(t, found, sent)
		}
	}

	// Overlap: within a section each chunk starts with the last whole
	// sentences of the previous chunk, at most overlap tokens of them, and
	// always adds new sentences.
	for i := 1; i < len(chunks); i++ {
		prev, cur := indices(t, chunks[i-1].Text), indices(t, chunks[i].Text)
		if chunks[i].Page != chunks[i-1].Page {
			require.Equal(t, (chunks[i].Page-1)*1000, cur[0], "a section starts without overlap")
			continue
		}
		require.Greater(t, cur[len(cur)-1], prev[len(prev)-1], "progress")
		repeated := 0
		for _, k := range cur {
			if k <= prev[len(prev)-1] {
				repeated++
			}
		}
		require.Positive(t, repeated, "overlap present")
		require.Equal(t, prev[len(prev)-repeated:], cur[:repeated], "overlap is the previous chunk's tail")
		first := all[chunks[i].Page-1]
		tokens := 0
		for _, k := range cur[:repeated] {
			tokens += CountTokens(first[k%1000])
		}
		require.LessOrEqual(t, tokens, overlap)
	}
}

func TestSplitNoOverlap(t *testing.T) {
	t.Parallel()
	sents := numbered(0, 40)
	doc := extract.Document{Sections: []extract.Section{{Text: strings.Join(sents, " ")}}}
	var seen []int
	for _, c := range Split(doc, Options{Size: 50, Overlap: 0}) {
		seen = append(seen, indices(t, c.Text)...)
	}
	want := make([]int, len(sents))
	for i := range want {
		want[i] = i
	}
	require.Equal(t, want, seen, "each sentence exactly once, in order")
}

func TestSplitPrefersSentenceBoundaries(t *testing.T) {
	t.Parallel()
	// Two sentences fit in a chunk but a third does not, so a chunk must
	// end after two sentences rather than fill up with part of the third.
	s := "Give the first dose now and then wait."
	n := CountTokens(s)
	doc := extract.Document{Sections: []extract.Section{{Text: strings.Repeat(s+" ", 5)}}}
	chunks := Split(doc, Options{Size: 2*n + n/2, Overlap: 0})
	require.Len(t, chunks, 3)
	for _, c := range chunks {
		require.True(t, strings.HasSuffix(c.Text, "wait."), c.Text)
		require.Zero(t, c.Tokens%n)
	}
}

func TestSplitSentenceLongerThanSize(t *testing.T) {
	t.Parallel()
	long := strings.TrimSpace(strings.Repeat("word ", 95)) + "."
	doc := extract.Document{Sections: []extract.Section{{Text: "Short one. " + long + " Short two."}}}
	chunks := Split(doc, Options{Size: 30, Overlap: 10})
	var words int
	for _, c := range chunks {
		require.LessOrEqual(t, c.Tokens, 30)
		words += strings.Count(c.Text, "word")
	}
	require.GreaterOrEqual(t, words, 95, "every word of the long sentence is kept")
	require.True(t, strings.HasPrefix(chunks[0].Text, "Short one."))
	require.True(t, strings.HasSuffix(chunks[len(chunks)-1].Text, "Short two."))

	// A single unbroken token run is cut between tokens.
	blob := strings.Repeat("x", 1000)
	chunks = Split(extract.Document{Sections: []extract.Section{{Text: blob}}}, Options{Size: 16})
	var joined strings.Builder
	for _, c := range chunks {
		require.LessOrEqual(t, c.Tokens, 16)
		joined.WriteString(c.Text)
	}
	require.Equal(t, blob, joined.String())
}

func TestSplitSentenceRules(t *testing.T) {
	t.Parallel()
	p := `Dr. Smith gave 2.5 mg, e.g. at night. J. Doe agreed! Was it enough? "Yes," she said. (See Fig. 2.) Next step: review.`
	require.Equal(t, []string{
		"Dr. Smith gave 2.5 mg, e.g. at night.",
		"J. Doe agreed!",
		"Was it enough?",
		`"Yes," she said.`,
		"(See Fig. 2.)",
		"Next step: review.",
	}, splitSentences(p))
}

func TestSplitOptionDefaultsAndClamp(t *testing.T) {
	t.Parallel()
	doc := extract.Document{Sections: []extract.Section{{Text: strings.Join(numbered(0, 200), " ")}}}
	def := Split(doc, Options{})
	require.Equal(t, def, Split(doc, Options{Size: DefaultSize, Overlap: 0}), "zero Options: default size, no overlap")
	neg := Split(doc, Options{Size: -1, Overlap: -1})
	require.Equal(t, neg, Split(doc, Options{Size: DefaultSize, Overlap: DefaultOverlap}))
	require.Greater(t, len(neg), len(def), "overlap repeats text")

	// Overlap >= Size is clamped; chunks still progress and fit.
	clamped := Split(doc, Options{Size: 40, Overlap: 1000})
	last := -1
	for _, c := range clamped {
		require.LessOrEqual(t, c.Tokens, 40)
		idx := indices(t, c.Text)
		require.Greater(t, idx[len(idx)-1], last)
		last = idx[len(idx)-1]
	}
	require.Equal(t, 199, last)
}

func TestSplitDeterministic(t *testing.T) {
	t.Parallel()
	doc := extract.Document{Sections: []extract.Section{{Heading: []string{"A"}, Text: strings.Join(numbered(0, 50), " ")}}}
	require.Equal(t, Split(doc, Options{Size: 45, Overlap: 15}), Split(doc, Options{Size: 45, Overlap: 15}))
}

func TestSplitExtractedMarkdown(t *testing.T) {
	t.Parallel()
	md := "# Hypertension\n\nOverview sentence one. Overview sentence two.\n\n## Treatment\n\n" +
		strings.Join(numbered(0, 12), " ") + "\n"
	doc, err := extract.Extract(t.Context(), extract.Markdown, []byte(md), extract.Limits{})
	require.NoError(t, err)
	chunks := Split(doc, Options{Size: 50, Overlap: 15})
	require.Equal(t, "Overview sentence one. Overview sentence two.", chunks[0].Text)
	require.Equal(t, []string{"Hypertension"}, chunks[0].Heading)
	require.Greater(t, len(chunks), 2)
	for _, c := range chunks[1:] {
		require.Equal(t, []string{"Hypertension", "Treatment"}, c.Heading)
		require.Zero(t, c.Page)
	}
}
