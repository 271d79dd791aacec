package chat

import (
	"cmp"
	"context"
	"slices"
	"strconv"
	"strings"
)

// Texts of the extractive answer.
const (
	NotFoundAnswer = "I could not find this in the knowledge base. Try rephrasing the question, " +
		"or consult a qualified clinician or another trusted source."
	extractiveLead   = "From the knowledge base:"
	extractiveFooter = "(Quoted automatically from the sources, without interpretation; not medical advice.)"
)

// Extractive limits.
const (
	extractiveSentences  = 4
	extractiveSources    = 3
	sentencesPerSource   = 2
	minSentenceWords     = 3
	contextTermWeight    = 0.5
	extractiveModelLabel = "extractive"
)

// Extractive is the offline ChatModel: it quotes the sentences of the
// sources that share the most terms with the question, each followed by its
// [n] marker. It generates nothing, so it cannot hallucinate, but it cannot
// synthesise either. It is deterministic: the same Request gives the same
// text and the same deltas.
type Extractive struct{}

var _ ChatModel = Extractive{}

// Name implements ChatModel.
func (Extractive) Name() string { return extractiveModelLabel }

// Stream implements ChatModel, streaming the answer word by word.
func (Extractive) Stream(ctx context.Context, req Request, onDelta func(string) error) (string, error) {
	text := extract(req)
	var b strings.Builder
	for piece := range strings.SplitAfterSeq(text, " ") {
		if err := ctx.Err(); err != nil {
			return b.String(), err
		}
		if err := onDelta(piece); err != nil {
			return b.String(), err
		}
		b.WriteString(piece)
	}
	return b.String(), nil
}

type scored struct {
	src, pos int // source index, sentence position in it
	text     string
	score    float64
}

// extract composes the answer. Sentences are scored by the distinct question
// terms they contain; for a follow-up question ("what is its dose?") the
// previous user message's terms count for half. A sentence needs at least
// one question term (any term if the question has none) to be quoted.
func extract(req Request) string {
	primary := terms(req.Question)
	ctxTerms := map[string]bool{}
	if last := lastUserMessage(req.History); last != "" && isFollowUp(req.Question) {
		ctxTerms = terms(last)
	}

	var cands []scored
	for i, p := range req.Sources {
		for j, s := range sentences(p.Text) {
			if len(strings.Fields(s)) < minSentenceWords {
				continue
			}
			var hitPrimary bool
			var score float64
			for t := range terms(s) {
				switch {
				case primary[t]:
					hitPrimary = true
					score++
				case ctxTerms[t]:
					score += contextTermWeight
				}
			}
			if score > 0 && (hitPrimary || len(primary) == 0) {
				cands = append(cands, scored{src: i, pos: j, text: s, score: score})
			}
		}
	}
	slices.SortStableFunc(cands, func(a, b scored) int {
		return cmp.Or(cmp.Compare(b.score, a.score), a.src-b.src, a.pos-b.pos)
	})

	var picked []scored
	perSource := map[int]int{}
	seen := map[string]bool{}
	for _, c := range cands {
		key := strings.ToLower(c.text)
		if len(picked) == extractiveSentences || seen[key] ||
			perSource[c.src] == sentencesPerSource ||
			(perSource[c.src] == 0 && len(perSource) == extractiveSources) {
			continue
		}
		seen[key] = true
		perSource[c.src]++
		picked = append(picked, c)
	}
	if len(picked) == 0 {
		return NotFoundAnswer
	}

	// Sources are ranked, so quoting in source order keeps the best first
	// while keeping each source's sentences together and in reading order.
	slices.SortFunc(picked, func(a, b scored) int { return cmp.Or(a.src-b.src, a.pos-b.pos) })
	var b strings.Builder
	b.WriteString(extractiveLead)
	b.WriteString("\n")
	for _, c := range picked {
		b.WriteString("\n- ")
		b.WriteString(c.text)
		b.WriteString(" [" + strconv.Itoa(c.src+1) + "]")
	}
	b.WriteString("\n\n")
	b.WriteString(extractiveFooter)
	return b.String()
}
