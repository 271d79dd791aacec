package emotion

import (
	"strings"
	"unicode"
)

// category is a family of wording cues.
type category int

const (
	catWorry category = iota
	catFrustration
	catSadness
	catPositive
	catCalm        // a negated negative cue: "not worried", "no longer scared"
	catDispleasure // a negated positive cue: "not happy", "not helpful"
	numCategories
)

type cue struct {
	cat    category
	weight float64
}

// lexicon maps a lower-case word to its cue. Words that are also names of conditions a user
// may simply ask about (anxiety, panic, stress) weigh half; words with a common clinical
// sense ("depression", "upset" stomach, "tense" muscles) are left out.
var lexicon = map[string]cue{}

// stems match any word they begin ("worr" matches worry, worried, worrying).
var stems = []struct {
	prefix string
	cue    cue
}{
	{"worr", cue{catWorry, 1}}, {"frighten", cue{catWorry, 1}}, {"terrif", cue{catWorry, 1}},
	{"nervous", cue{catWorry, 1}}, {"frustrat", cue{catFrustration, 1}}, {"annoy", cue{catFrustration, 1}},
	{"irritat", cue{catFrustration, 1}}, {"thank", cue{catPositive, 1}}, {"appreciat", cue{catPositive, 1}},
}

// phrases are two-word cues, matched before single words.
var phrases = map[[2]string]cue{
	{"what", "if"}: {catWorry, 0.5}, {"freaking", "out"}: {catWorry, 1}, {"fed", "up"}: {catFrustration, 1},
	{"sick", "of"}: {catFrustration, 1}, {"give", "up"}: {catSadness, 1}, {"no", "use"}: {catFrustration, 1},
}

func init() {
	add := func(c category, w float64, words string) {
		for _, x := range strings.Fields(words) {
			lexicon[x] = cue{c, w}
		}
	}
	add(catWorry, 1, "anxious afraid scared scary fear fearful feared dread dreading alarmed uneasy concerned "+
		"overwhelmed panicking panicked stressed")
	add(catWorry, 0.5, "anxiety panic stress")
	add(catFrustration, 1, "angry furious mad ridiculous useless pointless hate hated unacceptable outrageous "+
		"absurd stupid damn rubbish nonsense")
	add(catSadness, 1, "sad sadness unhappy depressed hopeless helpless lonely miserable heartbroken crying cried "+
		"tearful grief grieving devastated")
	add(catPositive, 1, "grateful glad happy relieved great wonderful excellent perfect awesome helpful brilliant "+
		"fantastic pleased reassured lovely")
}

// negators turn the cue after them (within three words of the same clause) around.
var negators = map[string]bool{"not": true, "no": true, "never": true, "nothing": true, "none": true,
	"nobody": true, "without": true, "hardly": true, "cannot": true}

// intensifiers weigh the next cue half as much again.
var intensifiers = map[string]bool{"very": true, "so": true, "really": true, "extremely": true, "terribly": true,
	"quite": true, "too": true, "incredibly": true}

// token is one word of the text; clause marks the first word after , ; : . ! ? or "but".
type token struct {
	word   string
	clause bool
	caps   bool // written in capitals, four letters or more (not an acronym like ACE): shouting
}

func tokenize(text string) []token {
	var out []token
	var b strings.Builder
	boundary := true
	upper, letters := true, 0
	flush := func() {
		if b.Len() == 0 {
			return
		}
		w := b.String()
		if w == "but" {
			boundary = true
		} else {
			out = append(out, token{word: w, clause: boundary, caps: upper && letters >= 4})
			boundary = false
		}
		b.Reset()
		upper, letters = true, 0
	}
	for _, r := range text {
		switch {
		case unicode.IsLetter(r):
			letters++
			if !unicode.IsUpper(r) {
				upper = false
			}
			b.WriteRune(unicode.ToLower(r))
		case r == '\'' || r == '\u2019':
			if b.Len() > 0 {
				b.WriteByte('\'')
			}
		default:
			flush()
			if strings.ContainsRune(",;:.!?", r) {
				boundary = true
			}
		}
	}
	flush()
	return out
}

func negator(w string) bool {
	return negators[w] || strings.HasSuffix(w, "n't")
}

// lookup finds the cue of one word.
func lookup(w string) (cue, bool) {
	if c, ok := lexicon[w]; ok {
		return c, true
	}
	for _, s := range stems {
		if strings.HasPrefix(w, s.prefix) {
			return s.cue, true
		}
	}
	return cue{}, false
}

// wording is what the words of a turn say.
type wording struct {
	score       [numCategories]float64
	cues        float64 // total weight of the cues found
	exclamation int     // '!' (at most 3 count)
	repetition  int     // a word said twice in a row, or a sentence said again
	caps        int     // words in capitals
}

// readWording applies the lexicon: a cue counts its weight (×1.5 after an intensifier); a
// negator up to three words before it in the same clause turns a negative cue into calm and
// a positive one into displeasure, except right after "stop" or "help" ("can't stop worrying").
func readWording(text string) wording {
	var w wording
	toks := tokenize(text)
	for i := 0; i < len(toks); i++ {
		c, ok, n := cue{}, false, 1
		if i+1 < len(toks) && !toks[i+1].clause {
			c, ok = phrases[[2]string{toks[i].word, toks[i+1].word}]
			if ok {
				n = 2
			}
		}
		if !ok {
			c, ok = lookup(toks[i].word)
		}
		if !ok {
			continue
		}
		weight := c.weight
		negated := false
		for j := i - 1; j >= 0 && j >= i-3; j-- {
			if j == i-1 && (toks[j].word == "stop" || toks[j].word == "help") {
				break
			}
			if intensifiers[toks[j].word] && j == i-1 {
				weight *= 1.5
			}
			if negator(toks[j].word) {
				negated = true
				break
			}
			if toks[j].clause {
				break
			}
		}
		cat := c.cat
		if negated {
			if cat == catPositive {
				cat = catDispleasure
			} else {
				cat = catCalm
			}
		}
		w.score[cat] += weight
		w.cues += weight
		i += n - 1
	}
	for i := 1; i < len(toks); i++ {
		if toks[i].word == toks[i-1].word && !toks[i].clause && len(toks[i].word) > 2 {
			w.repetition++
		}
	}
	seen := map[string]bool{}
	for _, s := range strings.FieldsFunc(strings.ToLower(text), func(r rune) bool { return strings.ContainsRune(".!?", r) }) {
		s = strings.Join(strings.Fields(s), " ")
		if len(strings.Fields(s)) >= 3 {
			if seen[s] {
				w.repetition++
			}
			seen[s] = true
		}
	}
	w.exclamation = min(3, strings.Count(text, "!"))
	for _, t := range toks {
		if t.caps && t.word != "i" {
			w.caps++
		}
	}
	return w
}
