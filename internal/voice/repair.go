package voice

import (
	"maps"
	"regexp"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Conversational repair (issue 20, backend.voice_repair): a voice turn in which the user
// was probably misheard, corrects the assistant, asks the same thing again or asks to hear
// the answer again gets a repair strategy instead of (or as the instruction for) the
// ordinary answer. docs/voice.md § Repair documents the rules; this file is all of them.

// RepairTrigger is what showed that the conversation needs repair.
type RepairTrigger string

// The triggers, in the order they are checked.
const (
	TriggerLowConfidence RepairTrigger = "low_confidence"
	TriggerExplicit      RepairTrigger = "explicit_request"
	TriggerCorrection    RepairTrigger = "correction"
	TriggerRepeated      RepairTrigger = "repeated_question"
)

// RepairStrategy is how the turn is answered.
type RepairStrategy string

// The strategies.
const (
	StrategyEchoCheck RepairStrategy = "echo_check"       // "Did you say …?" (the gateway answers)
	StrategyClarify   RepairStrategy = "clarification"    // a clarification question (the gateway answers)
	StrategyRephrase  RepairStrategy = "rephrase"         // the model answers again, simpler
	StrategyEscalate  RepairStrategy = "escalate_to_text" // suggest typing (the gateway answers)
)

// Repair thresholds.
const (
	// LowConfidence: an utterance whose confidence is below it is echo-checked.
	LowConfidence = 0.5
	// VeryLowConfidence: below it the user is asked to type instead.
	VeryLowConfidence = 0.3
	// RepeatSimilarity is the Jaccard similarity of content tokens from which a question
	// repeats an earlier one.
	RepeatSimilarity = 0.8
	// repeatMinTokens content tokens both questions need (short follow-ups never repeat).
	repeatMinTokens = 2
	// RecentQuestions is how many of the session's questions a repeat is compared with.
	RecentQuestions = 5
	// EscalateAfter repairs in a row: a further one escalates to text.
	EscalateAfter = 2
	// maxEcho characters of the transcript repeated by an echo-check.
	maxEcho = 200
	// maxPrevious characters of the previous answer given to the model for a rephrase.
	maxPrevious = 2000
	// maxExplicitTokens: a longer utterance is a question, not a request to repeat.
	maxExplicitTokens = 10
)

// Repair is the repair of one turn; the zero Repair is none.
type Repair struct {
	Trigger    RepairTrigger
	Strategy   RepairStrategy
	Confidence float64 // the utterance's STT confidence, -1 when unknown (typed, or none given)
	// Reply is what the gateway says itself (echo-check, clarification, escalation): the
	// model is not called. Empty when the model answers.
	Reply string
	// Instruction is added to the model prompt (rephrase).
	Instruction string
	// Ask is the question the model answers when it is not the utterance: the previous
	// question for a request to repeat, the echo-checked words after a "yes".
	Ask string

	heard string // the echo-checked words
}

// RepairState is a session's repair memory: its recent questions, its last answer and how
// many turns in a row needed repair. Not safe for concurrent use (the session guards it).
type RepairState struct {
	recent   []map[string]bool // content tokens of the newest questions, oldest first
	question string            // the last question the model answered
	last     string            // its answer
	echo     string            // the words the previous turn echo-checked ("" none)
	streak   int               // turns in a row with a repair
}

// Assess looks for a trigger in one turn (text as heard, confidence as TranscriptConfidence
// gives it, typed for a typed message) and chooses the strategy.
func (st *RepairState) Assess(text string, confidence float64, typed bool) Repair {
	r := Repair{Confidence: confidence}
	var corrected string
	switch {
	case st.echo != "" && IsAffirmation(text):
		r.Ask = st.echo // "Did you say …?" "Yes.": the confirmed words are the question
		return r
	case st.echo != "" && IsNegation(text):
		r.Trigger = TriggerCorrection // "Did you say …?" "No.": a correction that does not say
	case confidence >= 0 && confidence < LowConfidence:
		r.Trigger = TriggerLowConfidence
	case IsRepeatRequest(text):
		r.Trigger = TriggerExplicit
	default:
		if c, ok := DetectCorrection(text); ok {
			r.Trigger, corrected = TriggerCorrection, c
		} else if st.repeats(text) {
			r.Trigger = TriggerRepeated
		}
	}
	if r.Trigger == "" {
		return r
	}
	r.Strategy = ChooseStrategy(RepairFacts{Trigger: r.Trigger, Confidence: confidence, Streak: st.streak,
		Typed: typed, HasAnswer: st.last != "", Corrected: corrected != ""})
	switch r.Strategy {
	case StrategyEchoCheck:
		r.heard = shorten(text, maxEcho)
		if r.Trigger == TriggerCorrection {
			r.heard = shorten(corrected, maxEcho)
		}
		r.Reply = `Did you say: "` + r.heard + `"?`
		if r.Trigger == TriggerCorrection {
			r.Reply = "Sorry about that. " + r.Reply
		}
	case StrategyClarify:
		switch r.Trigger {
		case TriggerExplicit:
			r.Reply = "I have not answered anything yet. What would you like to know?"
		case TriggerRepeated:
			r.Reply = "I answered that a moment ago. Which part should I explain differently?"
		default:
			r.Reply = "Sorry, I misunderstood. Could you say your question again in other words?"
		}
	case StrategyEscalate:
		r.Reply = "I am having trouble understanding the audio. Could you type your question instead?"
	case StrategyRephrase:
		why := "The user did not catch or understand your previous answer."
		if r.Trigger == TriggerRepeated {
			why = "The user asked the same question again, so your previous answer did not help."
		}
		r.Instruction = "Conversation repair: " + why + " Answer again more simply: plain words, short " +
			"sentences, at most three sentences, the key point first. Your previous answer was:\n" + shorten(st.last, maxPrevious)
		if r.Trigger == TriggerExplicit {
			r.Ask = st.question
		}
	}
	return r
}

// Record updates the state after a turn: question is what the user said, r the turn's
// repair, answer what the user got ("" when the turn failed).
func (st *RepairState) Record(question string, r Repair, answer string) {
	st.echo = ""
	if r.Strategy == StrategyEchoCheck {
		st.echo = r.heard
	}
	if r.Ask != "" {
		question = r.Ask
	}
	if r.Strategy != "" {
		st.streak++
	} else {
		st.streak = 0
		// Only ordinary questions are compared with later ones: a repeat of a repair
		// request is the explicit trigger's business.
		if toks := contentTokens(question); len(toks) >= repeatMinTokens {
			st.recent = append(st.recent, toks)
			if len(st.recent) > RecentQuestions {
				st.recent = st.recent[1:]
			}
		}
	}
	if answer != "" && r.Reply == "" {
		// A templated repair reply is not the answer to rephrase.
		st.question, st.last = question, answer
	}
}

// RepairSnapshot is a RepairState in a form that can be stored: a session resumed on another
// replica goes on with it ("Did you say …?" answered "yes" after a reconnection is still a
// confirmation).
type RepairSnapshot struct {
	Recent   [][]string `json:"recent,omitempty"` // content tokens of the newest questions, sorted
	Question string     `json:"question,omitempty"`
	Last     string     `json:"last,omitempty"`
	Echo     string     `json:"echo,omitempty"`
	Streak   int        `json:"streak,omitempty"`
}

// Snapshot copies the state out.
func (st *RepairState) Snapshot() RepairSnapshot {
	out := RepairSnapshot{Question: st.question, Last: st.last, Echo: st.echo, Streak: st.streak}
	for _, toks := range st.recent {
		out.Recent = append(out.Recent, slices.Sorted(maps.Keys(toks)))
	}
	return out
}

// Restore replaces the state with a snapshot's.
func (st *RepairState) Restore(s RepairSnapshot) {
	*st = RepairState{question: s.Question, last: s.Last, echo: s.Echo, streak: s.Streak}
	for _, toks := range s.Recent[max(0, len(s.Recent)-RecentQuestions):] {
		set := make(map[string]bool, len(toks))
		for _, t := range toks {
			set[t] = true
		}
		st.recent = append(st.recent, set)
	}
}

// RepairFacts is what ChooseStrategy decides on.
type RepairFacts struct {
	Trigger    RepairTrigger
	Confidence float64 // -1 unknown
	Streak     int     // repairs in a row before this turn
	Typed      bool    // a typed message (escalating to text makes no sense)
	HasAnswer  bool    // the session has an answer to rephrase
	Corrected  bool    // a correction that says what was meant
}

// ChooseStrategy is the rule table: the first matching row wins.
//
//  1. spoken, Streak ≥ EscalateAfter                  → escalate_to_text
//  2. low_confidence, confidence < VeryLowConfidence   → escalate_to_text
//  3. low_confidence                                   → echo_check
//  4. explicit_request or repeated_question, an answer → rephrase
//  5. explicit_request or repeated_question            → clarification
//  6. correction saying what was meant                 → echo_check (of the corrected words)
//  7. correction                                       → clarification
func ChooseStrategy(f RepairFacts) RepairStrategy {
	switch {
	case f.Trigger == "":
		return ""
	case !f.Typed && f.Streak >= EscalateAfter:
		return StrategyEscalate
	case f.Trigger == TriggerLowConfidence && f.Confidence < VeryLowConfidence:
		return StrategyEscalate
	case f.Trigger == TriggerLowConfidence:
		return StrategyEchoCheck
	case (f.Trigger == TriggerExplicit || f.Trigger == TriggerRepeated) && f.HasAnswer:
		return StrategyRephrase
	case f.Trigger == TriggerExplicit || f.Trigger == TriggerRepeated:
		return StrategyClarify
	case f.Corrected:
		return StrategyEchoCheck
	default:
		return StrategyClarify
	}
}

// TranscriptConfidence is an utterance's confidence: the mean of its words' confidences
// when the provider gave any, else the mean of its segments' weighted by duration, else -1
// (unknown: such a provider never triggers a low-confidence repair).
func TranscriptConfidence(tr Transcript) float64 {
	var sum float64
	n := 0
	for _, sg := range tr.Segments {
		for _, w := range sg.Words {
			if w.Confidence >= 0 {
				sum += w.Confidence
				n++
			}
		}
	}
	if n > 0 {
		return sum / float64(n)
	}
	var weight float64
	for _, sg := range tr.Segments {
		if sg.Confidence < 0 {
			continue
		}
		w := max((sg.End - sg.Start).Seconds(), 1e-3)
		sum += sg.Confidence * w
		weight += w
	}
	if weight == 0 {
		return -1
	}
	return sum / weight
}

// yesWords and noWords answer an echo-check ("Did you say …?").
var (
	yesWords = []string{"yes", "yeah", "yep", "yup", "correct", "right", "exactly", "sure", "affirmative", "uh huh",
		"i did", "that is right", "thats right", "that is correct", "thats correct", "thats it", "yes please"}
	noWords = []string{"no", "nope", "wrong", "not quite", "thats wrong", "that is wrong", "no thats wrong",
		"no i didnt", "i didnt", "thats not right", "no thats not right", "not really"}
)

// IsAffirmation reports a short yes ("Yes.", "Yeah, that's right", "Correct").
func IsAffirmation(text string) bool { return shortAnswer(text, yesWords) }

// IsNegation reports a short no ("No.", "Nope, that's wrong").
func IsNegation(text string) bool { return shortAnswer(text, noWords) }

// shortAnswer: the utterance, fillers aside, is one of words, or starts with one of its
// one-word entries followed by another entry ("yes, that's right").
func shortAnswer(text string, words []string) bool {
	var core []string
	for _, t := range normTokens(text) {
		if !fillers[t] {
			core = append(core, t)
		}
	}
	if len(core) == 0 || len(core) > 5 {
		return false
	}
	joined := strings.Join(core, " ")
	if slices.Contains(words, joined) {
		return true
	}
	return slices.Contains(words, core[0]) && slices.Contains(words, strings.Join(core[1:], " "))
}

// fillers are dropped around a request to repeat ("sorry, what?", "say that again please").
var fillers = toSet(`sorry please um uh er oh ah hmm well excuse me`)

// repeatWhole are whole utterances that ask to hear the answer again.
var repeatWhole = []string{"what", "huh", "eh", "pardon", "sorry", "excuse me", "come again", "what was that",
	"what did you say", "what did you just say", "once more", "one more time"}

// repeatEnd are endings of a short utterance that ask to hear it again.
var repeatEnd = []string{"say that again", "say it again", "repeat that", "repeat it", "repeat yourself",
	"repeat the answer", "repeat that again", "didnt catch that", "didnt catch it", "didnt catch what you said",
	"didnt hear that", "didnt hear you", "didnt understand that", "didnt understand you", "didnt understand",
	"dont understand", "dont understand you", "didnt get that", "missed that", "what did you say",
	"come again", "one more time"}

// IsRepeatRequest reports an explicit request to hear the answer again: "what?",
// "pardon?", "say that again", "I didn't catch that". It is the whole utterance (fillers
// such as "sorry" and "please" aside) or the end of one of at most maxExplicitTokens words,
// so "what is metformin?" and "I didn't understand that the dose changed" are questions.
func IsRepeatRequest(text string) bool {
	if len(text) > 40*maxExplicitTokens { // surely more words than a request to repeat
		return false
	}
	toks := normTokens(text)
	if len(toks) == 0 || len(toks) > maxExplicitTokens {
		return false
	}
	core := slices.Clone(toks)
	for len(core) > 0 && fillers[core[0]] {
		core = core[1:]
	}
	for len(core) > 0 && fillers[core[len(core)-1]] {
		core = core[:len(core)-1]
	}
	if len(core) == 0 { // "sorry?", "excuse me?", "pardon me"
		return slices.Contains(toks, "sorry") || strings.Join(toks, " ") == "excuse me"
	}
	joined := strings.Join(core, " ")
	if slices.Contains(repeatWhole, joined) || joined == "pardon me" {
		return true
	}
	for _, e := range repeatEnd {
		if joined == e || strings.HasSuffix(joined, " "+e) {
			return true
		}
	}
	return false
}

var (
	// "no, I said …", "actually I asked about …", "I meant …", "what I said was …".
	correctionSaid  = regexp.MustCompile(`(?i)^(?:(?:oh|um|uh|er|well)\W+)*(?:(?:no|nope|actually|sorry)\W+)+(?:i\s+(?:said|asked(?:\s+about)?|meant(?:\s+to\s+(?:say|ask)(?:\s+about)?)?|was\s+asking\s+about)|what\s+i\s+(?:said|meant|asked)\s+was)\b\W*(.*)$`)
	correctionMeant = regexp.MustCompile(`(?i)^(?:(?:oh|um|uh|er|well)\W+)*(?:i\s+meant(?:\s+to\s+(?:say|ask)(?:\s+about)?)?|what\s+i\s+(?:said|meant|asked)\s+was)\b\W*(.*)$`)
	// "I said" after "that's not what I said": what follows is what was meant.
	saidPrefix = regexp.MustCompile(`(?i)^i\s+(?:said|asked(?:\s+about)?|meant)\b\W*`)
	// "not X, Y" and "not X but Y".
	correctionNot = regexp.MustCompile(`(?i)^(?:(?:no|oh|um|uh)\W+)*not\s+([^,;]+?)\s*(?:[,;]\s*(?:but\s+)?|\s+but\s+)(\S.*)$`)
	// "that's not what I said", "you misheard me", "I didn't say that".
	correctionBare = regexp.MustCompile(`(?i)^(?:(?:no|nope|oh|um|uh|sorry)\W+)*(?:that'?s\s+not\s+what\s+i\s+(?:said|meant|asked)|that\s+is\s+not\s+what\s+i\s+(?:said|meant|asked)|you\s+mis(?:heard|understood)(?:\s+me)?|i\s+didn'?t\s+say\s+that|i\s+did\s+not\s+say\s+that)\b\W*(.*)$`)
)

// notWords after "not" that make an ordinary answer, not a correction ("not sure, …").
var notWords = toSet(`sure really now yet quite exactly today always necessarily much that`)

// DetectCorrection reports a correction of what the assistant understood, and what the
// user says they meant ("" when the correction does not say). Only openings count: "no, I
// said …", "actually I asked about …", "I meant …", "what I said was …", "not X, Y" / "not
// X but Y", "that's not what I said", "you misheard me", "I didn't say that". So "I have
// no idea what causes it" and "no, I don't take it" are not corrections.
func DetectCorrection(text string) (string, bool) {
	text = strings.TrimSpace(strings.ReplaceAll(shorten(text, maxEcho*2), "’", "'")) // an opening, and what an echo repeats
	if m := correctionBare.FindStringSubmatch(text); m != nil {
		rest := m[1]
		if c, ok := DetectCorrection(rest); ok {
			return c, true
		}
		return trimWords(saidPrefix.ReplaceAllString(rest, "")), true
	}
	for _, re := range []*regexp.Regexp{correctionSaid, correctionMeant} {
		if m := re.FindStringSubmatch(text); m != nil {
			return trimWords(m[1]), true
		}
	}
	if m := correctionNot.FindStringSubmatch(text); m != nil {
		if first := normTokens(m[1]); len(first) > 0 && len(first) <= 4 && !notWords[first[0]] {
			return trimWords(m[2]), true
		}
	}
	return "", false
}

// repeats reports whether text is a near-duplicate of one of the recent questions: both
// have at least repeatMinTokens content tokens and their Jaccard similarity is at least
// RepeatSimilarity.
func (st *RepairState) repeats(text string) bool {
	a := contentTokens(text)
	if len(a) < repeatMinTokens {
		return false
	}
	for _, b := range st.recent {
		if Jaccard(a, b) >= RepeatSimilarity {
			return true
		}
	}
	return false
}

// Jaccard is |a∩b| / |a∪b| (0 for two empty sets).
func Jaccard(a, b map[string]bool) float64 {
	inter := 0
	for t := range a {
		if b[t] {
			inter++
		}
	}
	union := len(a) + len(b) - inter
	if union == 0 {
		return 0
	}
	return float64(inter) / float64(union)
}

// repeatStop are dropped before questions are compared: function words and fillers, not
// question words ("what" and "how" ask different things).
var repeatStop = toSet(`a an the is are was were be am do does did of to for in on at by with and or
it its i me my you your we our can could would should will please um uh so well ok okay oh again just
tell about there that this`)

// contentTokens are a text's normalised tokens (lower case, letters and digits, apostrophes
// removed, a naive plural fold) without repeatStop words and single letters.
func contentTokens(text string) map[string]bool {
	out := map[string]bool{}
	for _, t := range normTokens(text) {
		if utf8.RuneCountInString(t) < 2 || repeatStop[t] {
			continue
		}
		if len(t) > 4 && strings.HasSuffix(t, "s") && !strings.HasSuffix(t, "ss") && !strings.HasSuffix(t, "us") {
			t = t[:len(t)-1]
		}
		out[t] = true
	}
	return out
}

var apostrophes = strings.NewReplacer("'", "", "’", "")

// normTokens lower-cases text, drops apostrophes ("didn't" → "didnt") and splits it into
// runs of letters and digits.
func normTokens(text string) []string {
	text = apostrophes.Replace(strings.ToLower(text))
	return strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
}

// trimWords trims spaces and the punctuation around the words of a correction.
func trimWords(s string) string {
	return strings.TrimFunc(s, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) && r != '?' })
}

// shorten shortens s to at most n runes, on a word boundary when one is near.
func shorten(s string, n int) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := string([]rune(s)[:n])
	if i := strings.LastIndexByte(r, ' '); i > n/2 {
		r = r[:i]
	}
	return r + "…"
}

func toSet(words string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(words) {
		m[w] = true
	}
	return m
}
