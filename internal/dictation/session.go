package dictation

import (
	"strings"
	"unicode/utf8"
)

// Session statuses.
const (
	StatusActive    = "active"
	StatusPaused    = "paused"
	StatusFinalized = "finalized"
)

// maxUndo bounds the undo history kept with a session.
const maxUndo = 50

// MaxNoteChars bounds the text of a whole note: appends that would pass it are refused.
const MaxNoteChars = 200_000

// undoStep is what one change replaced, kept small: the change kept the first At bytes of
// the section and replaced the rest, which was Old; Current is where dictation was. Steps undo
// in reverse order, so At always fits.
type undoStep struct {
	Section string `json:"s"`
	At      int    `json:"a"`
	Old     string `json:"o"`
	Current string `json:"c"`
}

// state is a session's mutable part, the unit the service loads, changes and stores.
type state struct {
	Status   string
	Current  string
	Sections map[string]string
	History  []undoStep
}

// AppliedCommand is a command that ran (or had nothing to act on).
type AppliedCommand struct {
	Command
	Applied bool
}

// Applied is what one append or command did.
type Applied struct {
	Text     string // the formatted text added, joined by spaces
	Commands []AppliedCommand
	ReadBack *string
	Ignored  int // pieces dropped while paused
}

// PausedAllows says which commands a paused session takes: the ones that change no text.
func PausedAllows(k CommandKind) bool {
	switch k {
	case Resume, Pause, Stop, ReadBack, Save:
		return true
	}
	return false
}

// apply runs pieces in order against the state. Text is formatted under policy and added to
// the current section; while paused (by a command of these pieces) text is dropped until a
// resume.
func (st *state) apply(pieces []Piece, t NoteTemplate, policy Policy) Applied {
	var out Applied
	var added []string
	for _, p := range pieces {
		if p.Command == nil {
			if st.Status != StatusActive {
				out.Ignored++
				continue
			}
			text := Format(p.Text, policy)
			if strings.TrimSpace(text) == "" {
				continue
			}
			st.appendText(text)
			added = append(added, text)
			continue
		}
		if st.Status == StatusPaused && !PausedAllows(p.Command.Kind) {
			out.Ignored++
			continue
		}
		ok := st.run(*p.Command, t)
		out.Commands = append(out.Commands, AppliedCommand{Command: *p.Command, Applied: ok})
		if p.Command.Kind == ReadBack {
			rb := strings.TrimSpace(st.Sections[st.Current])
			out.ReadBack = &rb
		}
	}
	out.Text = strings.Join(added, " ")
	return out
}

// run applies one command and reports whether it had something to act on.
func (st *state) run(c Command, t NoteTemplate) bool {
	switch c.Kind {
	case NewParagraph:
		return st.breakLine("\n\n")
	case NewLine:
		return st.breakLine("\n")
	case NextSection, PreviousSection:
		i := sectionIndex(t, st.Current)
		if c.Kind == NextSection {
			i++
		} else {
			i--
		}
		if i < 0 || i >= len(t.Sections) {
			return false
		}
		st.Current = t.Sections[i].ID
		return true
	case GoToSection:
		if sectionIndex(t, c.Arg) < 0 {
			return false
		}
		st.Current = c.Arg
		return true
	case DeleteLastSentence:
		text := st.Sections[st.Current]
		cut := withoutLastSentence(text)
		if cut == text {
			return false
		}
		st.change(cut)
		return true
	case Undo:
		n := len(st.History)
		if n == 0 {
			return false
		}
		step := st.History[n-1]
		st.History = st.History[:n-1]
		cur := st.Sections[step.Section]
		st.Sections[step.Section] = cur[:min(step.At, len(cur))] + step.Old
		st.Current = step.Current
		return true
	case ReadBack:
		return true
	case InsertTemplateCmd:
		in, ok := InsertFor(c.Arg)
		if !ok {
			return false
		}
		st.appendText(in.Text)
		return true
	case Pause, Stop:
		st.Status = StatusPaused
		return true
	case Resume:
		st.Status = StatusActive
		return true
	case Save:
		st.Status = StatusFinalized
		return true
	}
	return false
}

// appendText adds text to the current section, a space apart from what is there unless that
// ends a line.
func (st *state) appendText(text string) {
	cur := st.Sections[st.Current]
	if cur != "" && !strings.HasSuffix(cur, "\n") && !strings.HasSuffix(cur, " ") {
		cur += " "
	}
	st.change(cur + text)
}

// breakLine ends the current line or paragraph; nothing to do in an empty section or right
// after the same break.
func (st *state) breakLine(br string) bool {
	cur := strings.TrimRight(st.Sections[st.Current], " ")
	if cur == "" || strings.HasSuffix(cur, br) {
		return false
	}
	st.change(strings.TrimRight(cur, "\n") + br)
	return true
}

// change replaces the current section's text and records the old one for undo.
func (st *state) change(text string) {
	old := st.Sections[st.Current]
	at := 0
	for at < len(old) && at < len(text) && old[at] == text[at] {
		at++
	}
	for at > 0 && at < len(old) && !utf8.RuneStart(old[at]) {
		at-- // Old must stay valid UTF-8 to survive JSON
	}
	st.History = append(st.History, undoStep{Section: st.Current, At: at, Old: old[at:], Current: st.Current})
	if len(st.History) > maxUndo {
		st.History = st.History[len(st.History)-maxUndo:]
	}
	st.Sections[st.Current] = text
}

func (st *state) chars() int {
	n := 0
	for _, s := range st.Sections {
		n += len([]rune(s))
	}
	return n
}

func sectionIndex(t NoteTemplate, id string) int {
	for i, s := range t.Sections {
		if s.ID == id {
			return i
		}
	}
	return -1
}

// withoutLastSentence drops the last sentence (or the last line's unfinished text) of s. A
// sentence ends at a line break or at . ! ? followed by a space (so "2.5 mg" is one sentence).
func withoutLastSentence(s string) string {
	t := strings.TrimRight(s, " \n")
	if t == "" {
		return s
	}
	body := strings.TrimRight(t, ".!?")
	for i := len(body) - 1; i >= 0; i-- {
		switch body[i] {
		case '\n':
			return body[:i+1]
		case ' ':
			if i > 0 && strings.ContainsRune(".!?", rune(body[i-1])) {
				return body[:i] // keeps the previous sentence's end mark
			}
		}
	}
	return ""
}

// SectionText is one section of a note with its text.
type SectionText struct {
	ID, Title, Text string
}

// sectionsOf lists every section of the template in order with its text, trimmed.
func sectionsOf(t NoteTemplate, content map[string]string) []SectionText {
	out := make([]SectionText, len(t.Sections))
	for i, s := range t.Sections {
		out[i] = SectionText{ID: s.ID, Title: s.Title, Text: strings.TrimSpace(content[s.ID])}
	}
	return out
}

// Note is a finished note: Markdown and the sections it was made of.
type Note struct {
	Title    string
	Markdown string
	Sections []SectionText
}

// noteOf renders the note: a title, then a level-2 heading and the text of each section
// that has text.
func noteOf(t NoteTemplate, content map[string]string) Note {
	n := Note{Title: t.Title, Sections: sectionsOf(t, content)}
	var b strings.Builder
	b.WriteString("# " + t.Title + "\n")
	for _, s := range n.Sections {
		if s.Text == "" {
			continue
		}
		b.WriteString("\n## " + s.Title + "\n\n" + s.Text + "\n")
	}
	n.Markdown = b.String()
	return n
}
