package dictation

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

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

// How a command phrase may appear inside dictated text. The grammar never needs a model: it is
// a list of phrases with alternatives, optional words and two slots (a section of the note's
// template, an insert template), matched with a small edit-distance tolerance.
type reach uint8

const (
	// strong phrases fire anywhere: nobody says "new paragraph" or "delete the last sentence"
	// in a note.
	strong reach = iota
	// boundary phrases fire only where an utterance could start: at the start of the text,
	// after a sentence end (written, or spoken "period") or after another command, so that
	// "told not to scratch that area" or "he will go to the plan" stay text.
	boundary
	// closing phrases also need the text to end (or a sentence to end) right after them:
	// "read back", "save the note".
	closing
	// whole phrases are commands only as a whole utterance (ParseCommand): "pause", "save",
	// "assessment".
	whole
)

type rule struct {
	kind   CommandKind
	reach  reach
	phrase []elem
	// notBefore: words that, right after the phrase, make it text ("new line was placed").
	notBefore map[string]bool
}

type elem struct {
	alts     []string
	optional bool
	slot     string // "section" or "insert"
}

// rules, written in a small notation: "a|b" alternatives, "x?" optional, {section} and {insert}
// slots. "section|session" because recognisers confuse the two.
var rules = compile([]struct {
	kind   CommandKind
	reach  reach
	phrase string
}{
	{NewParagraph, strong, "new|next paragraph"},
	{NewParagraph, whole, "paragraph"},
	{NewLine, boundary, "new|next line"},
	{NewLine, boundary, "line break"},
	{NextSection, strong, "next section|session"},
	{NextSection, strong, "go|move|skip|jump to|too|two|on the? next section|session"},
	{NextSection, whole, "next|forward"},
	{NextSection, whole, "move|go on"},
	{PreviousSection, strong, "previous|prior section|session"},
	{PreviousSection, boundary, "last section|session"},
	{PreviousSection, strong, "go|move|skip|jump back? to|too|two the? previous|prior|last section|session"},
	{PreviousSection, strong, "go|move|jump back a|one section|session"},
	{PreviousSection, boundary, "back one section|session"},
	{PreviousSection, whole, "previous|back"},
	{PreviousSection, whole, "go back"},
	{GoToSection, strong, "go|jump|skip|move|switch|navigate|return|back to|too|two the? {section} section|session"},
	{GoToSection, boundary, "go|jump|skip|move|switch|navigate|return|back to|too|two the? {section}"},
	{GoToSection, whole, "the? {section} section|session?"},
	{GoToSection, whole, "section|session {section}"},
	{DeleteLastSentence, strong, "delete|erase|remove|clear|scratch|strike the? last|previous sentence"},
	{DeleteLastSentence, boundary, "scratch|strike|delete|erase that|this|it"},
	{DeleteLastSentence, whole, "scratch|delete|erase"},
	{Undo, boundary, "undo|undue that|this|it|last?"},
	{Undo, boundary, "undo|undue the? last change|edit|action|command"},
	{ReadBack, closing, "read|reed it|that|this back"},
	{ReadBack, closing, "read|reed the? note|section|sentence back"},
	{ReadBack, closing, "read|reed back the? note|section|sentence|last?"},
	{ReadBack, closing, "read|reed back the? last sentence"},
	{InsertTemplateCmd, strong, "insert|paste|use the? template|macro {insert}"},
	{InsertTemplateCmd, strong, "insert|paste the? {insert} template|macro"},
	{InsertTemplateCmd, boundary, "insert|paste the? {insert}"},
	{Pause, strong, "pause the? dictation|dictating"},
	{Pause, closing, "pause the? recording|listening"},
	{Pause, whole, "pause|hold"},
	{Resume, strong, "resume|unpause the? dictation|recording|dictating|listening"},
	{Resume, closing, "continue|restart|start the? dictation|recording|dictating|listening"},
	{Resume, whole, "resume|continue|unpause"},
	{Stop, strong, "stop|end|finish the? dictation|dictating"},
	{Stop, closing, "stop|end|finish the? recording"},
	{Stop, whole, "stop|end|done"},
	{Stop, whole, "i'm|i|im am? done"},
	{Save, closing, "save the? note|draft|document|dictation|report"},
	{Save, closing, "save and close|finish|exit"},
	{Save, whole, "save it|this|that?"},
})

func compile(src []struct {
	kind   CommandKind
	reach  reach
	phrase string
}) []rule {
	out := make([]rule, 0, len(src))
	for _, s := range src {
		r := rule{kind: s.kind, reach: s.reach}
		for _, w := range strings.Fields(s.phrase) {
			var e elem
			if strings.HasSuffix(w, "?") {
				e.optional = true
				w = strings.TrimSuffix(w, "?")
			}
			if strings.HasPrefix(w, "{") {
				e.slot = strings.Trim(w, "{}")
			} else {
				e.alts = strings.Split(w, "|")
			}
			r.phrase = append(r.phrase, e)
		}
		if s.kind == NewLine {
			r.notBefore = lineWordAfter
		}
		out = append(out, r)
	}
	return out
}

// ---- tokens ----

type ctok struct {
	key         string // lower case, apostrophes kept
	start, end  int    // bytes in the text
	punctBefore bool   // sentence or clause punctuation between this token and the previous one
}

func ctokens(text string) []ctok {
	var out []ctok
	punct := false
	for i := 0; i < len(text); {
		r, n := utf8.DecodeRuneInString(text[i:])
		if !isWordRune(r) {
			if strings.ContainsRune(".?!;:,\n", r) {
				punct = true
			}
			i += n
			continue
		}
		j := i
		for j < len(text) {
			r, n := utf8.DecodeRuneInString(text[j:])
			if !isWordRune(r) {
				break
			}
			j += n
		}
		out = append(out, ctok{key: strings.ToLower(text[i:j]), start: i, end: j, punctBefore: punct})
		punct = false
		i = j
	}
	return out
}

func isWordRune(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) || r == '\'' }

// Lead-ins a speaker puts before a command ("okay next section"), and politeness after one.
var (
	leadIns  = set("okay", "ok", "alright", "now", "um", "uh", "umm", "uhh", "hmm", "so", "and", "then", "please")
	trailers = set("please", "thanks", "now")
)

// ---- matching ----

type parser struct {
	toks                  []ctok
	sections, insertNames []named
}

type named struct {
	id    string
	words []string
}

func newParser(text string, t NoteTemplate) *parser {
	return &parser{toks: ctokens(text), sections: sectionNames(t), insertNames: insertNames()}
}

// match tries a rule at token i and returns the end of the longest match (0 if none) and the
// slot's id.
func (p *parser) match(r rule, i int) (int, string) {
	best, arg := 0, ""
	var walk func(e, j int, arg0 string)
	walk = func(e, j int, arg0 string) {
		if e == len(r.phrase) {
			if j > best {
				best, arg = j, arg0
			}
			return
		}
		el := r.phrase[e]
		if el.optional {
			walk(e+1, j, arg0)
		}
		if j >= len(p.toks) {
			return
		}
		switch {
		case el.slot != "":
			names := p.sections
			if el.slot == "insert" {
				names = p.insertNames
			}
			if n, id := matchName(p.toks[j:], names); n > 0 {
				walk(e+1, j+n, id)
			}
		default:
			for _, a := range el.alts {
				if wordsMatch(p.toks[j].key, a) {
					walk(e+1, j+1, arg0)
					break
				}
			}
		}
	}
	walk(0, i, "")
	return best, arg
}

// wordsMatch allows one edit in longer command words ("paragrah", "sectoin").
func wordsMatch(got, want string) bool {
	if got == want {
		return true
	}
	return len(want) >= 6 && len(got) >= 5 && levenshtein(got, want) <= 1
}

// matchName finds the section or insert whose name the tokens start with: the longest name, then
// the closest, then the first in template order. Names are compared word by word with an edit
// distance that grows with the word ("assesment", "subjektive"), and exact small words.
func matchName(toks []ctok, names []named) (int, string) {
	bestLen, bestCost, bestID := 0, 0, ""
	for _, nm := range names {
		if len(nm.words) > len(toks) {
			continue
		}
		cost := 0
		ok := true
		for k, w := range nm.words {
			d := wordDistance(toks[k].key, w)
			if d < 0 {
				ok = false
				break
			}
			cost += d
		}
		if !ok {
			continue
		}
		if n := len(nm.words); n > bestLen || n == bestLen && cost < bestCost {
			bestLen, bestCost, bestID = n, cost, nm.id
		}
	}
	return bestLen, bestID
}

// wordDistance is the edit distance between a heard word and a name word when it is small
// enough to be a mishearing, else -1.
func wordDistance(got, want string) int {
	if got == want || got == want+"s" || got+"s" == want {
		return 0
	}
	limit := 0
	switch n := len([]rune(want)); {
	case n >= 8:
		limit = 2
	case n >= 5:
		limit = 1
	}
	if limit == 0 {
		return -1
	}
	if d := levenshtein(got, want); d <= limit {
		return d
	}
	return -1
}

// levenshtein is the edit distance with adjacent transpositions counted as one edit
// ("sectoin"), the optimal string alignment distance.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	rows := make([][]int, 3)
	for k := range rows {
		rows[k] = make([]int, len(rb)+1)
	}
	pp, prev, cur := rows[0], rows[1], rows[2]
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			c := prev[j-1]
			if ra[i-1] != rb[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], pp[j-2]+1)
			}
		}
		pp, prev, cur = prev, cur, pp
	}
	return prev[len(rb)]
}

// Extra spoken names of the built-in sections and inserts (the title and the id are names too).
var sectionAliases = map[string][]string{
	"assessment":                 {"impression", "assessment and plan", "a and p"},
	"chief_complaint":            {"cc", "complaint"},
	"history_of_present_illness": {"hpi", "h p i", "present illness"},
	"past_medical_history":       {"pmh", "medical history", "past history"},
	"medications":                {"meds", "medication list", "medication"},
	"allergies":                  {"allergy"},
	"social_history":             {"social"},
	"family_history":             {"family"},
	"review_of_systems":          {"ros", "r o s", "systems review", "systems"},
	"physical_exam":              {"exam", "examination", "physical examination", "pe"},
	"results":                    {"labs", "data", "lab results"},
	"interval_history":           {"subjective", "interval"},
	"description":                {"procedure description", "technique"},
	"estimated_blood_loss":       {"ebl", "blood loss"},
	"indication":                 {"indications"},
	"specimens":                  {"specimen"},
}

var insertAliases = map[string][]string{
	"normal_exam":         {"normal physical exam", "normal physical", "normal examination"},
	"ros_negative":        {"negative ros", "negative review of systems", "review of systems negative", "r o s negative"},
	"normal_cardiac_exam": {"normal heart exam", "normal cardiac", "normal cardiovascular exam"},
	"normal_lung_exam":    {"normal lungs", "normal lung", "normal pulmonary exam", "normal respiratory exam"},
	"normal_neuro_exam":   {"normal neurologic exam", "normal neurological exam", "normal neuro"},
	"procedure_consent":   {"consent", "consent statement"},
	"return_precautions":  {"precautions"},
}

func sectionNames(t NoteTemplate) []named {
	var out []named
	for _, s := range t.Sections {
		out = appendNames(out, s.ID, s.Title, sectionAliases[s.ID])
	}
	return out
}

var builtinInsertNames = func() []named {
	var out []named
	for _, in := range inserts {
		out = appendNames(out, in.ID, in.Title, insertAliases[in.ID])
	}
	return out
}()

func insertNames() []named { return builtinInsertNames }

func appendNames(out []named, id, title string, aliases []string) []named {
	for _, n := range append([]string{strings.ReplaceAll(id, "_", " "), title}, aliases...) {
		words := strings.Fields(strings.ToLower(n))
		if len(words) > 0 {
			out = append(out, named{id: id, words: words})
		}
	}
	return out
}

// ---- Parse and ParseCommand ----

// Parse splits dictated text into text and commands in order ("... period next section the
// patient ..."). Text pieces are the original text between commands (trimmed; the punctuation
// that closed a command is dropped); format them with Format. Inside longer text only phrases
// that cannot be ordinary dictation are commands (see the reach of each rule); single words
// such as "pause" or a bare section name are commands only when they are the whole text, as
// when a speaker says "Pause." or "Assessment." as an utterance of its own.
func Parse(text string, t NoteTemplate) []Piece {
	if c, ok := ParseCommand(text, t); ok {
		return []Piece{{Command: &c}}
	}
	p := newParser(text, t)
	var out []Piece
	cut := 0 // start of the text not yet emitted
	afterCommand := false
	for i := 0; i < len(p.toks); {
		at := p.isBoundary(i) || afterCommand
		end, cmd, ok := p.commandAt(i, at)
		if !ok {
			afterCommand = false
			i++
			continue
		}
		if s := strings.TrimRight(strings.TrimSpace(text[cut:p.toks[i].start]), ", "); s != "" {
			out = append(out, Piece{Text: s})
		}
		c := cmd
		out = append(out, Piece{Command: &c})
		// the command's own closing punctuation, written or spoken, goes with it
		for end < len(p.toks) && (p.toks[end].key == "period" || p.toks[end].key == "comma") && !p.toks[end].punctBefore {
			end++
		}
		cut = p.toks[end-1].end
		for cut < len(text) && strings.ContainsRune(" \t\r\n.,;:!?", rune(text[cut])) {
			cut++
		}
		i = end
		afterCommand = true
	}
	if s := strings.TrimSpace(text[cut:]); s != "" {
		out = append(out, Piece{Text: s})
	}
	return out
}

// commandAt matches a command at token i (after optional lead-ins when at a boundary) and returns
// the end of what it consumed.
func (p *parser) commandAt(i int, atBoundary bool) (int, Command, bool) {
	starts := []int{i}
	if atBoundary {
		for j := i; j < len(p.toks) && leadIns[p.toks[j].key]; j++ {
			starts = append(starts, j+1)
		}
	}
	for _, s := range starts {
		bestEnd, best := 0, Command{}
		for _, r := range rules {
			if r.reach == whole || r.reach != strong && !atBoundary {
				continue
			}
			end, arg := p.match(r, s)
			if end == 0 || end <= bestEnd {
				continue
			}
			if end < len(p.toks) && r.notBefore[p.toks[end].key] {
				continue
			}
			end = p.skipTrailers(end)
			if r.reach == closing && !p.closes(end) {
				continue
			}
			bestEnd, best = end, Command{Kind: r.kind, Arg: arg}
		}
		if bestEnd > 0 {
			return bestEnd, best, true
		}
	}
	return 0, Command{}, false
}

func (p *parser) skipTrailers(end int) int {
	for end < len(p.toks) && trailers[p.toks[end].key] && !p.toks[end].punctBefore {
		end++
	}
	if end+1 < len(p.toks) && p.toks[end].key == "thank" && p.toks[end+1].key == "you" {
		end += 2
	}
	return end
}

// closes reports whether the text ends, or a sentence ends, at token i.
func (p *parser) closes(i int) bool {
	return i >= len(p.toks) || p.toks[i].punctBefore || p.toks[i].key == "period"
}

// isBoundary reports whether an utterance could start at token i.
func (p *parser) isBoundary(i int) bool {
	if i == 0 || p.toks[i].punctBefore {
		return true
	}
	prev := func(k int) string {
		if i-k < 0 {
			return ""
		}
		return p.toks[i-k].key
	}
	switch prev(1) {
	case "period", "semicolon":
		return true
	case "stop":
		return prev(2) == "full"
	case "mark", "point":
		return prev(2) == "question" || prev(2) == "exclamation"
	}
	return false
}

// ParseCommand reads a whole utterance as one command (the /commands endpoint, and the offline
// command grammar): lead-ins, politeness and punctuation are ignored, single words such as
// "pause" or a section name alone are commands, and anything left over means it is not one.
func ParseCommand(text string, t NoteTemplate) (Command, bool) {
	p := newParser(text, t)
	i, n := 0, len(p.toks)
	for i < n && leadIns[p.toks[i].key] {
		i++
	}
	for n > i && (trailers[p.toks[n-1].key] || p.toks[n-1].key == "period") {
		n--
	}
	if n-i >= 2 && p.toks[n-2].key == "thank" && p.toks[n-1].key == "you" {
		n -= 2
	}
	if i >= n {
		return Command{}, false
	}
	p.toks = p.toks[:n]
	best, bestLen := Command{}, 0
	for _, r := range rules {
		end, arg := p.match(r, i)
		if end == n && end > bestLen {
			best, bestLen = Command{Kind: r.kind, Arg: arg}, end
		}
	}
	return best, bestLen > 0
}

// CommandPhrases lists the command phrases in their plain form, for an STT command grammar or
// as recognition hints: the fixed phrases, "go to <section>" for the sections of every
// built-in template and "insert <insert>" for every insert template.
func CommandPhrases() []string {
	out := []string{
		"new paragraph", "new line", "next section", "previous section", "go back",
		"scratch that", "delete last sentence", "delete that", "undo", "undo that", "read back",
		"read that back", "pause dictation", "pause", "resume dictation", "resume",
		"stop dictation", "stop", "save note", "save",
	}
	seen := map[string]bool{}
	for _, t := range templates {
		for _, s := range t.Sections {
			ph := "go to " + strings.ToLower(s.Title)
			if !seen[ph] {
				seen[ph] = true
				out = append(out, ph)
			}
		}
	}
	for _, in := range inserts {
		out = append(out, "insert "+strings.ReplaceAll(in.ID, "_", " "))
	}
	return out
}
