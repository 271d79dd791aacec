package voice

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestChooseStrategyTable(t *testing.T) {
	for _, c := range []struct {
		name string
		f    RepairFacts
		want RepairStrategy
	}{
		{"no trigger", RepairFacts{Confidence: 0.1, Streak: 5}, ""},
		{"low confidence", RepairFacts{Trigger: TriggerLowConfidence, Confidence: 0.4}, StrategyEchoCheck},
		{"low confidence at the very-low bound", RepairFacts{Trigger: TriggerLowConfidence, Confidence: VeryLowConfidence}, StrategyEchoCheck},
		{"very low confidence", RepairFacts{Trigger: TriggerLowConfidence, Confidence: 0.2}, StrategyEscalate},
		{"explicit with an answer", RepairFacts{Trigger: TriggerExplicit, Confidence: -1, HasAnswer: true}, StrategyRephrase},
		{"explicit before any answer", RepairFacts{Trigger: TriggerExplicit, Confidence: -1}, StrategyClarify},
		{"repeated with an answer", RepairFacts{Trigger: TriggerRepeated, Confidence: 0.9, HasAnswer: true}, StrategyRephrase},
		{"repeated without an answer", RepairFacts{Trigger: TriggerRepeated, Confidence: 0.9}, StrategyClarify},
		{"correction with words", RepairFacts{Trigger: TriggerCorrection, Confidence: 0.9, Corrected: true}, StrategyEchoCheck},
		{"bare correction", RepairFacts{Trigger: TriggerCorrection, Confidence: 0.9}, StrategyClarify},
		{"one repair before", RepairFacts{Trigger: TriggerExplicit, Confidence: 0.9, Streak: 1, HasAnswer: true}, StrategyRephrase},
		{"two repairs in a row", RepairFacts{Trigger: TriggerExplicit, Confidence: 0.9, Streak: 2, HasAnswer: true}, StrategyEscalate},
		{"two repairs in a row, correction", RepairFacts{Trigger: TriggerCorrection, Confidence: 0.9, Streak: 3, Corrected: true}, StrategyEscalate},
		{"typed never escalates on a streak", RepairFacts{Trigger: TriggerExplicit, Confidence: -1, Streak: 4, Typed: true, HasAnswer: true}, StrategyRephrase},
	} {
		require.Equal(t, c.want, ChooseStrategy(c.f), c.name)
	}
}

func TestIsRepeatRequest(t *testing.T) {
	for _, yes := range []string{"What?", "what", "Huh?", "Pardon?", "Pardon me?", "Sorry?", "Excuse me?",
		"Sorry, what?", "Come again?", "What was that?", "What did you say?", "Say that again, please.",
		"Could you say that again?", "Can you repeat that?", "Sorry, I didn't catch that.", "I didn’t catch that",
		"I didn't understand that.", "I didn't understand", "I don't understand", "Um, sorry, I missed that.",
		"One more time please"} {
		require.True(t, IsRepeatRequest(yes), yes)
	}
	for _, no := range []string{"", "What is metformin?", "What causes hypertension?", "I didn't understand that the dose changed",
		"I don't understand why my blood pressure is high", "Say, what is the dose of ibuprofen?", "What about children?",
		"Sorry to bother you, what is the dose of aspirin?", "Please repeat the dose of metformin for adults with kidney disease and diabetes",
		"I have no idea what causes it", "No, I said metformin"} {
		require.False(t, IsRepeatRequest(no), no)
	}
}

func TestDetectCorrection(t *testing.T) {
	for _, c := range []struct{ text, meant string }{
		{"No, I said nothing about it yesterday", "nothing about it yesterday"},
		{"no I said metformin", "metformin"},
		{"Nope, I asked about metoprolol.", "metoprolol"},
		{"Actually I asked about the dose for children", "the dose for children"},
		{"I meant ibuprofen", "ibuprofen"},
		{"Sorry, I meant to ask about the dose of metformin", "the dose of metformin"},
		{"I meant to say lisinopril", "lisinopril"},
		{"Um, I meant the dose of ibuprofen?", "the dose of ibuprofen?"},
		{"What I said was hypertension", "hypertension"},
		{"Not metoprolol, metformin", "metformin"},
		{"not the tablets but the syrup", "the syrup"},
		{"No, not Tuesday; Thursday", "Thursday"},
		{"That's not what I said", ""},
		{"That’s not what I said. I said metformin", "metformin"},
		{"You misheard me", ""},
		{"I didn't say that", ""},
	} {
		meant, ok := DetectCorrection(c.text)
		require.True(t, ok, c.text)
		require.Equal(t, c.meant, meant, c.text)
	}
	for _, no := range []string{"I have no idea what causes it", "No, I don't take it", "No thanks", "Not sure what causes it",
		"Not sure, maybe", "Not really, but thanks", "I said to my doctor that I was dizzy", "What is metformin?",
		"Is it not safe, or is it?", "I mean it is painful", "Nothing I said matters", "Know what I mean?", ""} {
		_, ok := DetectCorrection(no)
		require.False(t, ok, no)
	}
}

func TestTranscriptConfidence(t *testing.T) {
	s := time.Second
	require.Equal(t, -1.0, TranscriptConfidence(Transcript{Text: "hello"}), "no segments: unknown")
	require.Equal(t, -1.0, TranscriptConfidence(Transcript{Segments: []Segment{{Confidence: -1, Words: []Word{{Word: "a", Confidence: -1}}}}}))
	// Words win over segments.
	words := Transcript{Segments: []Segment{{Confidence: 0.9, Words: []Word{{Confidence: 0.2}, {Confidence: 0.4}, {Confidence: -1}}}}}
	require.InDelta(t, 0.3, TranscriptConfidence(words), 1e-9)
	// Segments weighted by duration.
	segs := Transcript{Segments: []Segment{{Start: 0, End: 3 * s, Confidence: 0.9}, {Start: 3 * s, End: 4 * s, Confidence: 0.1},
		{Start: 4 * s, End: 9 * s, Confidence: -1}}}
	require.InDelta(t, 0.7, TranscriptConfidence(segs), 1e-9)
}

func TestRepairStateRepeatsAndStreak(t *testing.T) {
	var st RepairState
	first := "What is the dose of metformin?"
	require.Empty(t, st.Assess(first, 0.9, false).Strategy)
	st.Record(first, Repair{}, "Metformin starts at 500 mg [1].")

	// Near-duplicates repeat; a different or a short question does not.
	for _, q := range []string{"what's the dose of metformin", "Um, what is the dose for metformin again?", "What is the metformin dose"} {
		r := st.Assess(q, 0.9, false)
		require.Equal(t, TriggerRepeated, r.Trigger, q)
		require.Equal(t, StrategyRephrase, r.Strategy, q)
		require.Contains(t, r.Instruction, "Metformin starts at 500 mg [1].")
		require.Empty(t, r.Reply)
	}
	for _, q := range []string{"What is the dose of metformin for children?", "How is metformin taken?", "What is it?", "yes"} {
		require.Empty(t, st.Assess(q, 0.9, false).Trigger, q)
	}
	require.Greater(t, Jaccard(contentTokens(first), contentTokens("What's the dose of metformin")), RepeatSimilarity-1e-9)

	// Low confidence first: echo-check of the words heard.
	r := st.Assess("what is the doze of met for men", 0.4, false)
	require.Equal(t, TriggerLowConfidence, r.Trigger)
	require.Equal(t, StrategyEchoCheck, r.Strategy)
	require.Equal(t, `Did you say: "what is the doze of met for men"?`, r.Reply)
	st.Record("what is the doze of met for men", r, r.Reply)
	// A repair reply is not the answer to rephrase.
	r = st.Assess("What?", -1, false)
	require.Equal(t, StrategyRephrase, r.Strategy)
	require.Contains(t, r.Instruction, "500 mg")
	st.Record("What?", r, "Start with 500 mg.")
	// Two repairs in a row: the third escalates, spoken; typed it does not.
	r = st.Assess("No, I said metformin", 0.9, false)
	require.Equal(t, TriggerCorrection, r.Trigger)
	require.Equal(t, StrategyEscalate, r.Strategy)
	require.Contains(t, r.Reply, "type your question")
	require.Equal(t, StrategyEchoCheck, st.Assess("No, I said metformin", -1, true).Strategy)
	require.Equal(t, `Sorry about that. Did you say: "metformin"?`, st.Assess("No, I said metformin", -1, true).Reply)
	// An ordinary turn resets the streak.
	st.Record("Thanks", Repair{}, "You are welcome.")
	require.Equal(t, StrategyEchoCheck, st.Assess("No, I said metformin", 0.9, false).Strategy)

	// Recent questions are bounded.
	for i := range RecentQuestions + 2 {
		q := "question number " + strings.Repeat("x", i+2) + " about aspirin"
		st.Record(q, Repair{}, "ok")
	}
	require.Len(t, st.recent, RecentQuestions)
	require.Empty(t, st.Assess(first, 0.9, false).Trigger, "the first question fell out of the window")
}

func TestRepairExplicitBeforeAnyAnswer(t *testing.T) {
	var st RepairState
	r := st.Assess("Pardon?", 0.95, false)
	require.Equal(t, TriggerExplicit, r.Trigger)
	require.Equal(t, StrategyClarify, r.Strategy)
	require.NotEmpty(t, r.Reply)
	require.InDelta(t, 0.95, r.Confidence, 1e-9)
	// The threshold is strict: an utterance at it is not repaired.
	require.Empty(t, st.Assess("start lisinopril ten milligrams once a day", LowConfidence, false).Trigger)
	// A provider without confidences never triggers the low-confidence repair.
	require.Empty(t, st.Assess("what is the doze of met for men", -1, false).Trigger)
	long := strings.Repeat("word ", 100)
	r = st.Assess(long, 0.1, false)
	require.Equal(t, StrategyEscalate, r.Strategy)
	r = st.Assess(long, 0.4, false)
	require.LessOrEqual(t, len([]rune(r.Reply)), maxEcho+20)
}

func TestRepairEchoAnswered(t *testing.T) {
	for _, yes := range []string{"Yes", "yes.", "Yeah, that's right", "Correct!", "Um, yes please", "That's right", "yep"} {
		require.True(t, IsAffirmation(yes), yes)
	}
	for _, no := range []string{"", "Yes, but what about children?", "no", "Yesterday", "Right after breakfast, is that fine?"} {
		require.False(t, IsAffirmation(no), no)
	}
	for _, no := range []string{"No", "Nope.", "No, that's wrong", "Not quite"} {
		require.True(t, IsNegation(no), no)
	}
	for _, x := range []string{"No, I said metformin", "Nothing", "No idea what causes it", "yes"} {
		require.False(t, IsNegation(x), x)
	}

	var st RepairState
	st.Record("What is the dose of metformin?", Repair{}, "500 mg.")
	// A request to repeat asks the model the previous question again.
	r := st.Assess("Pardon?", 0.9, false)
	require.Equal(t, StrategyRephrase, r.Strategy)
	require.Equal(t, "What is the dose of metformin?", r.Ask)
	st.Record("Pardon?", r, "Start with 500 mg.")
	// An echo-check answered "yes": the confirmed words are asked, no repair.
	r = st.Assess("what is the target blood pressure", 0.4, false)
	require.Equal(t, StrategyEchoCheck, r.Strategy)
	st.Record("what is the target blood pressure", r, r.Reply)
	r = st.Assess("Yes", 0.4, false)
	require.Empty(t, r.Strategy)
	require.Equal(t, "what is the target blood pressure", r.Ask)
	st.Record("Yes", r, "Below 130/80.")
	require.Zero(t, st.streak)
	require.Equal(t, TriggerRepeated, st.Assess("What's the target blood pressure?", 0.9, false).Trigger, "the confirmed question counts")
	// "Yes" without an echo-check before is an ordinary turn; "No" after one is a bare correction.
	require.Empty(t, st.Assess("Yes", 0.9, false).Ask)
	r = st.Assess("the dose of made for men", 0.4, false)
	st.Record("the dose of made for men", r, r.Reply)
	r = st.Assess("No", 0.9, false)
	require.Equal(t, TriggerCorrection, r.Trigger)
	require.Equal(t, StrategyClarify, r.Strategy)
}

// Utterances are untrusted: the check never panics, a strategy always comes with its
// trigger, and a gateway reply stays short whatever was said.
func FuzzRepairAssess(f *testing.F) {
	for _, s := range []string{"What?", "No, I said metformin", "not a, b", "That's not what I said. I said x", "’", "Yes", ""} {
		f.Add(s, 0.4, false)
	}
	f.Fuzz(func(t *testing.T, text string, conf float64, typed bool) {
		var st RepairState
		st.Record("what is the dose of metformin", Repair{}, "500 mg")
		r := st.Assess(text, conf, typed)
		if (r.Trigger == "") != (r.Strategy == "") {
			t.Fatalf("trigger %q with strategy %q", r.Trigger, r.Strategy)
		}
		if len([]rune(r.Reply)) > maxEcho+60 {
			t.Fatalf("reply of %d runes", len([]rune(r.Reply)))
		}
		if r.Strategy == StrategyEscalate && typed && r.Trigger != TriggerLowConfidence {
			t.Fatalf("typed turn escalated on %q", r.Trigger)
		}
		st.Record(text, r, "answer")
	})
}

// A state stored (as JSON, as the session stores it in Redis) and restored elsewhere decides
// as the original would: the pending echo-check, the streak, the window of questions, the
// answer to rephrase.
func TestRepairSnapshotRestores(t *testing.T) {
	var st RepairState
	st.Record("What is the dose of metformin?", Repair{}, "Metformin starts at 500 mg [1].")
	for i := range RecentQuestions + 1 {
		st.Record("question number "+strings.Repeat("y", i+2)+" about aspirin", Repair{}, "ok")
	}
	st.Record("What is the dose of metformin?", Repair{}, "Metformin starts at 500 mg [1].")
	r := st.Assess("what is the target blood pressure", 0.4, false)
	require.Equal(t, StrategyEchoCheck, r.Strategy)
	st.Record("what is the target blood pressure", r, r.Reply)

	b, err := json.Marshal(st.Snapshot())
	require.NoError(t, err)
	var snap RepairSnapshot
	require.NoError(t, json.Unmarshal(b, &snap))
	var got RepairState
	got.Restore(snap)
	require.Equal(t, st, got)

	for _, c := range []struct {
		text string
		conf float64
	}{{"Yes", 0.9}, {"No", 0.9}, {"What's the dose of metformin", 0.9}, {"Pardon?", 0.9}, {"question number yyy about aspirin", 0.9}} {
		require.Equal(t, st.Assess(c.text, c.conf, false), got.Assess(c.text, c.conf, false), c.text)
	}
	r = got.Assess("Yes", 0.9, false)
	require.Equal(t, "what is the target blood pressure", r.Ask, "the confirmation survives the move")

	var empty RepairState
	empty.Restore(RepairSnapshot{})
	require.Equal(t, RepairState{}, empty)
}
