package dictation

import (
	"fmt"
	"strings"
	"testing"
)

func mustTemplate(t *testing.T, typ string) NoteTemplate {
	t.Helper()
	tpl, ok := TemplateFor(typ)
	if !ok {
		t.Fatalf("no template %q", typ)
	}
	return tpl
}

// describe writes pieces compactly: text as "t:…", commands as "kind" or "kind=arg".
func describe(ps []Piece) string {
	var parts []string
	for _, p := range ps {
		switch {
		case p.Command != nil && p.Text != "":
			parts = append(parts, "BOTH")
		case p.Command != nil && p.Command.Arg != "":
			parts = append(parts, fmt.Sprintf("%s=%s", p.Command.Kind, p.Command.Arg))
		case p.Command != nil:
			parts = append(parts, string(p.Command.Kind))
		default:
			parts = append(parts, "t:"+p.Text)
		}
	}
	return strings.Join(parts, " | ")
}

func TestParse(t *testing.T) {
	soap := mustTemplate(t, "soap")
	hp := mustTemplate(t, "hp")
	cases := []struct {
		tpl        NoteTemplate
		text, want string
	}{
		{soap, "the patient reports chest pain period next section the patient is afebrile",
			"t:the patient reports chest pain period | next_section | t:the patient is afebrile"},
		{soap, "The patient reports chest pain. Next section please. Afebrile.",
			"t:The patient reports chest pain. | next_section | t:Afebrile."},
		{soap, "no distress period go to the assessment community acquired pneumonia",
			"t:no distress period | go_to_section=assessment | t:community acquired pneumonia"},
		{soap, "go to assesment section", "go_to_section=assessment"},
		{soap, "okay go to the plan section period continue antibiotics",
			"go_to_section=plan | t:continue antibiotics"},
		{soap, "stable period scratch that unstable period", "t:stable period | delete_last_sentence | t:unstable period"},
		{soap, "denies fever delete last sentence denies chills", "t:denies fever | delete_last_sentence | t:denies chills"},
		{soap, "lungs clear new paragraph heart regular", "t:lungs clear | new_paragraph | t:heart regular"},
		{soap, "lungs clear period new line heart regular", "t:lungs clear period | new_line | t:heart regular"},
		{soap, "abdomen soft period undo", "t:abdomen soft period | undo"},
		{soap, "abdomen soft period read that back", "t:abdomen soft period | read_back"},
		{hp, "go to physical exam insert normal exam", "go_to_section=physical_exam | insert_template=normal_exam"},
		{hp, "go to the review of systems period insert the ros negative template",
			"go_to_section=review_of_systems | insert_template=ros_negative"},
		{hp, "go to h p i", "go_to_section=history_of_present_illness"},
		{soap, "pause dictation", "pause"},
		{soap, "resume dictation the patient returns", "resume | t:the patient returns"},
		{soap, "continue antibiotics period stop dictation", "t:continue antibiotics period | stop"},
		{soap, "plan reviewed period save the note", "t:plan reviewed period | save"},
		{soap, "previous section", "previous_section"},
		{soap, "next sectoin", "next_section"},
		{soap, "next session", "next_section"},
		{soap, "new paragrah the patient", "new_paragraph | t:the patient"},
		{soap, "", ""},
		// a whole utterance of one command word is that command
		{soap, "Pause.", "pause"},
		{soap, "assessment", "go_to_section=assessment"},
		{soap, "okay, save it.", "save"},
		{soap, "pause the patient", "t:pause the patient"},
	}
	for _, c := range cases {
		if got := describe(Parse(c.text, c.tpl)); got != c.want {
			t.Errorf("Parse(%q)\n got  %s\n want %s", c.text, got, c.want)
		}
	}
}

// Ordinary clinical sentences must never fire a command.
func TestParseNegatives(t *testing.T) {
	hp := mustTemplate(t, "hp")
	for _, text := range []string{
		"the patient was told not to scratch that area",
		"he will go to physical therapy twice a week",
		"she plans to go to the emergency room if worse",
		"a new line was placed in the right internal jugular vein",
		"the patient read back the instructions correctly",
		"we will insert a central line",
		"continue recording daily weights",
		"advised to stop smoking",
		"the pain does not stop",
		"will save the results for the next visit",
		"pause in the conversation noted",
		"she wants to continue her medications",
		"review of systems is otherwise negative",
		"the next visit is in two weeks",
		"undoubtedly improved",
		"strike out the second dose",
		"go to physical therapy",
		"the last section of the colon was normal",
		"plan to insert a foley catheter",
		"delete the old allergy entry from the chart",
	} {
		for _, p := range Parse(text, hp) {
			if p.Command != nil {
				t.Errorf("Parse(%q) fired %v", text, *p.Command)
			}
		}
		if ps := Parse(text, hp); len(ps) != 1 || ps[0].Text != text {
			t.Errorf("Parse(%q) = %s, want the text unchanged", text, describe(ps))
		}
	}
}

func TestParseCommand(t *testing.T) {
	soap := mustTemplate(t, "soap")
	hp := mustTemplate(t, "hp")
	cases := []struct {
		tpl  NoteTemplate
		text string
		want Command
	}{
		{soap, "Next section, please.", Command{Kind: NextSection}},
		{soap, "next", Command{Kind: NextSection}},
		{soap, "go back", Command{Kind: PreviousSection}},
		{soap, "previous section", Command{Kind: PreviousSection}},
		{soap, "assessment", Command{Kind: GoToSection, Arg: "assessment"}},
		{soap, "go to the objektive", Command{Kind: GoToSection, Arg: "objective"}},
		{soap, "go too plan", Command{Kind: GoToSection, Arg: "plan"}},
		{soap, "um go to subjective section", Command{Kind: GoToSection, Arg: "subjective"}},
		{hp, "go to exam", Command{Kind: GoToSection, Arg: "physical_exam"}},
		{hp, "section allergies", Command{Kind: GoToSection, Arg: "allergies"}},
		{hp, "go to family history", Command{Kind: GoToSection, Arg: "family_history"}},
		{hp, "go to social", Command{Kind: GoToSection, Arg: "social_history"}},
		{soap, "scratch that", Command{Kind: DeleteLastSentence}},
		{soap, "delete the last sentence", Command{Kind: DeleteLastSentence}},
		{soap, "undo", Command{Kind: Undo}},
		{soap, "read back", Command{Kind: ReadBack}},
		{soap, "read it back please", Command{Kind: ReadBack}},
		{soap, "insert normal cardiac exam", Command{Kind: InsertTemplateCmd, Arg: "normal_cardiac_exam"}},
		{soap, "insert template return precautions", Command{Kind: InsertTemplateCmd, Arg: "return_precautions"}},
		{soap, "pause", Command{Kind: Pause}},
		{soap, "resume", Command{Kind: Resume}},
		{soap, "continue dictation", Command{Kind: Resume}},
		{soap, "stop", Command{Kind: Stop}},
		{soap, "I'm done", Command{Kind: Stop}},
		{soap, "save", Command{Kind: Save}},
		{soap, "Save the note.", Command{Kind: Save}},
		{soap, "new paragraph", Command{Kind: NewParagraph}},
		{soap, "new line", Command{Kind: NewLine}},
	}
	for _, c := range cases {
		got, ok := ParseCommand(c.text, c.tpl)
		if !ok || got != c.want {
			t.Errorf("ParseCommand(%q) = %v, %v; want %v", c.text, got, ok, c.want)
		}
	}
	for _, text := range []string{
		"", "please", "the patient is stable", "go to the cafeteria", "next week", "insert a foley",
		"go to physical therapy", "save the date", "stop the metformin", "chest pain",
		"history", // ambiguous in an H&P: no section wins by name alone
	} {
		if got, ok := ParseCommand(text, hp); ok {
			t.Errorf("ParseCommand(%q) = %v, want no command", text, got)
		}
	}
}

func TestParseCommandSectionNamesOfEveryTemplate(t *testing.T) {
	for _, tpl := range Templates() {
		for _, s := range tpl.Sections {
			for _, text := range []string{"go to " + s.Title, strings.ToLower(s.Title), "go to the " + s.Title + " section"} {
				got, ok := ParseCommand(text, tpl)
				if !ok || got.Kind != GoToSection || got.Arg != s.ID {
					t.Errorf("%s: ParseCommand(%q) = %v, %v; want go_to_section=%s", tpl.Type, text, got, ok, s.ID)
				}
			}
		}
	}
}

func TestCommandPhrasesParse(t *testing.T) {
	hp := mustTemplate(t, "hp")
	for _, ph := range CommandPhrases() {
		if _, ok := ParseCommand(ph, hp); !ok && !strings.HasPrefix(ph, "go to ") {
			t.Errorf("CommandPhrases() has %q, which ParseCommand does not read", ph)
		}
	}
}

// FuzzParse checks that any text parses without a panic, that pieces are either text or a
// command, and that ParseCommand agrees with itself. go test -fuzz FuzzParse ./internal/dictation/
func FuzzParse(f *testing.F) {
	for _, s := range []string{"next section please", "period go to the assessment, scratch that.",
		"insert normal exam template", "read it back", "go to", "insert", "", " ,. ", "thank you", "new"} {
		f.Add(s)
	}
	hp, _ := TemplateFor("hp")
	f.Fuzz(func(t *testing.T, s string) {
		for _, p := range Parse(s, hp) {
			if (p.Command == nil) == (p.Text == "") {
				t.Fatalf("Parse(%q): piece %+v is neither or both", s, p)
			}
		}
		c1, ok1 := ParseCommand(s, hp)
		c2, ok2 := ParseCommand(s, hp)
		if c1 != c2 || ok1 != ok2 {
			t.Fatalf("ParseCommand(%q) is not deterministic", s)
		}
	})
}
