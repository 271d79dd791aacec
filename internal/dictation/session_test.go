package dictation

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

func soap(t *testing.T) NoteTemplate {
	t.Helper()
	tm, ok := TemplateFor("soap")
	require.True(t, ok)
	return tm
}

func newState() *state {
	return &state{Status: StatusActive, Current: "subjective", Sections: map[string]string{}}
}

func cmd(k CommandKind, arg string) Piece { return Piece{Command: &Command{Kind: k, Arg: arg}} }

func TestWithoutLastSentence(t *testing.T) {
	for in, want := range map[string]string{
		"":                        "",
		"One sentence.":           "",
		"One. Two.":               "One.",
		"One. Two":                "One.",
		"One! Two? ":              "One!",
		"Line one.\nLine two.":    "Line one.\n",
		"Para.\n\nNext para.\n":   "Para.\n\n",
		"Dose 2.5 mg. Then stop.": "Dose 2.5 mg.",
		"Stop. Dose 2.5 mg.":      "Stop.",
	} {
		require.Equal(t, want, withoutLastSentence(in), "%q", in)
	}
}

func TestApplyTextAndBreaks(t *testing.T) {
	tm := soap(t)
	st := newState()
	a := st.apply([]Piece{{Text: "first"}, cmd(NewLine, ""), cmd(NewLine, ""), {Text: "second"}, cmd(NewParagraph, ""), {Text: "third"}}, tm, Clinical)
	require.Equal(t, "First\nSecond\n\nThird", st.Sections["subjective"])
	require.Equal(t, "First Second Third", a.Text)
	require.Len(t, a.Commands, 3)
	require.False(t, a.Commands[1].Applied, "a second new line right after one has nothing to do")
	require.True(t, a.Commands[2].Applied)
}

func TestApplyNavigation(t *testing.T) {
	tm := soap(t)
	st := newState()
	a := st.apply([]Piece{cmd(PreviousSection, ""), cmd(GoToSection, "plan"), cmd(NextSection, ""), cmd(GoToSection, "nowhere"), cmd(PreviousSection, "")}, tm, Clinical)
	require.Equal(t, []bool{false, true, false, false, true}, []bool{a.Commands[0].Applied, a.Commands[1].Applied, a.Commands[2].Applied, a.Commands[3].Applied, a.Commands[4].Applied})
	require.Equal(t, "assessment", st.Current)
	require.Empty(t, st.History, "navigation is not an undo step")
}

// Undo puts back the text of the last change and the section it was in; the history is
// bounded.
func TestApplyUndo(t *testing.T) {
	tm := soap(t)
	st := newState()
	st.apply([]Piece{{Text: "cough"}, cmd(NextSection, ""), {Text: "clear lungs"}, cmd(GoToSection, "plan")}, tm, Clinical)
	st.apply([]Piece{cmd(Undo, "")}, tm, Clinical)
	require.Equal(t, "objective", st.Current)
	require.Empty(t, st.Sections["objective"])
	require.Equal(t, "Cough", st.Sections["subjective"])
	st.apply([]Piece{cmd(Undo, "")}, tm, Clinical)
	require.Equal(t, "subjective", st.Current)
	require.Empty(t, st.Sections["subjective"])
	a := st.apply([]Piece{cmd(Undo, "")}, tm, Clinical)
	require.False(t, a.Commands[0].Applied)

	for i := 0; i < maxUndo+10; i++ {
		st.apply([]Piece{{Text: "word"}}, tm, Clinical)
	}
	require.Len(t, st.History, maxUndo)
}

func TestApplyDeleteInsertReadBack(t *testing.T) {
	tm := soap(t)
	st := newState()
	a := st.apply([]Piece{{Text: "alpha."}, {Text: "beta."}, cmd(DeleteLastSentence, ""), cmd(InsertTemplateCmd, "ros_negative"),
		cmd(InsertTemplateCmd, "no_such_insert"), cmd(ReadBack, "")}, tm, Clinical)
	in, _ := InsertFor("ros_negative")
	require.Equal(t, "Alpha. "+in.Text, st.Sections["subjective"])
	require.False(t, a.Commands[2].Applied)
	require.NotNil(t, a.ReadBack)
	require.Equal(t, st.Sections["subjective"], *a.ReadBack)
}

// While paused, text and editing commands are dropped (counted) until a resume.
func TestApplyPaused(t *testing.T) {
	tm := soap(t)
	st := newState()
	a := st.apply([]Piece{{Text: "kept"}, cmd(Pause, ""), {Text: "dropped"}, cmd(NextSection, ""), cmd(ReadBack, ""), cmd(Resume, ""), {Text: "also kept"}}, tm, Clinical)
	require.Equal(t, "Kept Also kept", st.Sections["subjective"])
	require.Equal(t, 2, a.Ignored)
	require.Equal(t, "subjective", st.Current)
	st.apply([]Piece{cmd(Stop, "")}, tm, Clinical)
	require.Equal(t, StatusPaused, st.Status)
	st.apply([]Piece{cmd(Save, "")}, tm, Clinical)
	require.Equal(t, StatusFinalized, st.Status)
}

func TestNoteMarkdown(t *testing.T) {
	tm := soap(t)
	n := noteOf(tm, map[string]string{"subjective": " Cough.\n", "plan": "Rest."})
	require.Equal(t, "# SOAP Note\n\n## Subjective\n\nCough.\n\n## Plan\n\nRest.\n", n.Markdown)
	require.Len(t, n.Sections, 4)
	require.Equal(t, "", n.Sections[1].Text)
	require.False(t, strings.Contains(n.Markdown, "Objective"), "empty sections are left out of the Markdown")
}

// Undo steps hold only what a change replaced (an append replaces nothing), and survive
// JSON with multi-byte text.
func TestUndoStepsAreSmall(t *testing.T) {
	tm := soap(t)
	st := newState()
	st.apply([]Piece{{Text: strings.Repeat("long sentence here. ", 500)}}, tm, Clinical)
	st.apply([]Piece{{Text: "more."}}, tm, Clinical)
	require.Empty(t, st.History[1].Old)
	st.Sections["subjective"] = "Café. Crème brûlée."
	st.History = nil
	st.apply([]Piece{cmd(DeleteLastSentence, "")}, tm, Clinical)
	raw, err := json.Marshal(st.History)
	require.NoError(t, err)
	var back []undoStep
	require.NoError(t, json.Unmarshal(raw, &back))
	st.History = back
	st.apply([]Piece{cmd(Undo, "")}, tm, Clinical)
	require.Equal(t, "Café. Crème brûlée.", st.Sections["subjective"])
	st.Sections["subjective"] = "Xé"
	st.History = nil
	st.change("Xè")
	require.True(t, utf8.ValidString(st.History[0].Old))
	st.apply([]Piece{cmd(Undo, "")}, tm, Clinical)
	require.Equal(t, "Xé", st.Sections["subjective"])
}
