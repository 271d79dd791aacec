package voice

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func TestSentences(t *testing.T) {
	t.Parallel()
	cases := map[string][]string{
		"Hello there. How are you? Fine!":            {"Hello there.", "How are you?", "Fine!"},
		"Take 2.5 mg daily. Then stop.":              {"Take 2.5 mg daily.", "Then stop."},
		"Dr. Smith will see you. Mrs. Jones waits.":  {"Dr. Smith will see you.", "Mrs. Jones waits."},
		"Use a statin, e.g. atorvastatin. Done.":     {"Use a statin, e.g. atorvastatin.", "Done."},
		"Give 500 mg. daily for a week.":             {"Give 500 mg. daily for a week."},
		"Give 500 mg. Then reassess.":                {"Give 500 mg.", "Then reassess."},
		"Vitals are stable; pain is down":            {"Vitals are stable;", "pain is down"},
		"First line\nsecond line\n\nthird":           {"First line", "second line", "third"},
		"Really?! Yes... \"Quoted.\" Next":           {"Really?!", "Yes...", "\"Quoted.\"", "Next"},
		"Ask J. Smith about it. See example.com now": {"Ask J. Smith about it.", "See example.com now"},
		"So do I. Then we go.":                       {"So do I.", "Then we go."},
		"It is No. 5 on the list":                    {"It is No. 5 on the list"},
		"Take it b.i.d. with food.":                  {"Take it b.i.d. with food."},
		"   ":                                        nil,
		"":                                           nil,
		"No terminator":                              {"No terminator"},
		"Spaces   inside.   Collapse":                {"Spaces inside.", "Collapse"},
	}
	for in, want := range cases {
		require.Equal(t, want, Sentences(in), in)
	}
}

func TestSentencesCutLong(t *testing.T) {
	t.Parallel()
	clause := "the patient was seen in clinic today and reports feeling better"
	long := strings.Repeat(clause+", ", 6) + "end."
	parts := Sentences(long)
	require.Greater(t, len(parts), 1)
	for _, p := range parts {
		require.LessOrEqual(t, len(p), MaxSentenceChars)
		require.NotEmpty(t, p)
	}
	require.True(t, strings.HasSuffix(parts[0], ","), "cut after a comma: %q", parts[0])
	require.Equal(t, strings.Join(strings.Fields(long), " "), strings.Join(parts, " "), "nothing lost")

	// No commas: cut at spaces. No spaces: cut on a rune boundary.
	words := strings.Repeat("word ", 100)
	for _, p := range Sentences(words) {
		require.LessOrEqual(t, len(p), MaxSentenceChars)
		require.False(t, strings.HasSuffix(p, " "))
	}
	blob := strings.Repeat("é", 300)
	parts = Sentences(blob)
	require.Greater(t, len(parts), 1)
	for _, p := range parts {
		require.True(t, utf8.ValidString(p))
		require.LessOrEqual(t, len(p), MaxSentenceChars)
	}
	require.Equal(t, blob, strings.Join(parts, ""))
}

func TestSentenceStreamReleasesOnlyCompleteSentences(t *testing.T) {
	text := "Take 5 mg. daily with food. The dose is 2.5 mg. Dr. Smith agrees! Call if worse"
	want := Sentences(text)
	for _, step := range []int{1, 3, 7, 1000} {
		var ss SentenceStream
		var got []string
		for i := 0; i < len(text); i += step {
			got = append(got, ss.Push(text[i:min(i+step, len(text))])...)
		}
		if len(got) != len(want)-1 {
			t.Fatalf("step %d: released %q before the end, want all but the last of %q", step, got, want)
		}
		got = append(got, ss.Flush()...)
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Fatalf("step %d: got %q, want %q", step, got, want)
		}
	}
}
