package dictation

import "strings"

// CommandKind names a voice command.
type CommandKind string

// The voice commands.
const (
	NewParagraph       CommandKind = "new_paragraph"
	NewLine            CommandKind = "new_line"
	NextSection        CommandKind = "next_section"
	PreviousSection    CommandKind = "previous_section"
	GoToSection        CommandKind = "go_to_section"
	DeleteLastSentence CommandKind = "delete_last_sentence"
	Undo               CommandKind = "undo"
	ReadBack           CommandKind = "read_back"
	InsertTemplateCmd  CommandKind = "insert_template"
	Pause              CommandKind = "pause"
	Resume             CommandKind = "resume"
	Stop               CommandKind = "stop"
	Save               CommandKind = "save"
)

// Command is one recognised voice command. Arg is the section id of go_to_section and the
// insert id of insert_template, empty otherwise.
type Command struct {
	Kind CommandKind
	Arg  string
}

// Piece is dictated text or a command; exactly one of the two is set.
type Piece struct {
	Text    string
	Command *Command
}

// Parse splits dictated text into text and commands in order.
func Parse(text string, t NoteTemplate) []Piece {
	if strings.TrimSpace(text) == "" {
		return nil
	}
	if c, ok := ParseCommand(text, t); ok {
		return []Piece{{Command: &c}}
	}
	return []Piece{{Text: strings.TrimSpace(text)}}
}

// ParseCommand reads a whole utterance as one command.
func ParseCommand(text string, t NoteTemplate) (Command, bool) {
	switch strings.ToLower(strings.TrimSpace(text)) {
	case "new paragraph":
		return Command{Kind: NewParagraph}, true
	case "new line":
		return Command{Kind: NewLine}, true
	case "next section":
		return Command{Kind: NextSection}, true
	}
	return Command{}, false
}

// CommandPhrases lists the phrases of the command grammar.
func CommandPhrases() []string {
	return []string{"new paragraph", "new line", "next section"}
}
