package medai

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/chat"
	"github.com/voiceassist/gateway/internal/ner"
)

// Reasoning strategies.
const (
	Direct      = "direct"
	MultiHop    = "multi_hop"
	Comparative = "comparative"
	Causal      = "causal"
	Temporal    = "temporal"
)

// Strategies lists the strategies in the contract's order.
var Strategies = []string{Direct, MultiHop, Comparative, Causal, Temporal}

// evidencePerStep is how many passages each sub-question retrieves.
const evidencePerStep = 5

// Step is one sub-question with its evidence (numbered [1..n]) and answer.
type Step struct {
	SubQuestion string
	Evidence    []chat.Citation
	Answer      string
	Confidence  float64
}

// Reasoning is a chain of steps and the final answer; Citations are numbered as the final
// answer's [n] markers.
type Reasoning struct {
	Query, Strategy string
	Steps           []Step
	Final           string
	Citations       []chat.Citation
	Confidence      float64
	Model           string
}

// Reason answers query step by step. Sub-questions come from the strategy's rules
// (docs/medical-ai.md, "API: reasoning"); each retrieves its own evidence through the chat
// pipeline's retriever and is answered from it by the chat model (extractive offline).
func (s *Service) Reason(ctx context.Context, query string, maxHops int, strategy string) (Reasoning, error) {
	query = strings.TrimSpace(query)
	if n := utf8.RuneCountInString(query); n < 5 || n > 2000 {
		return Reasoning{}, apierr.Invalid("query", "must be 5 to 2000 characters")
	}
	if maxHops == 0 {
		maxHops = 3
	}
	if maxHops < 1 || maxHops > MaxHops {
		return Reasoning{}, apierr.Invalid("max_hops", fmt.Sprintf("must be 1 to %d", MaxHops))
	}
	if strategy == "" {
		strategy = MultiHop
	}
	if !slices.Contains(Strategies, strategy) {
		return Reasoning{}, apierr.Invalid("strategy", "unknown strategy "+strategy)
	}
	r := Reasoning{Query: query, Strategy: strategy, Model: s.cfg.Model.Name()}
	var subs []string
	switch strategy {
	case Direct:
		subs = []string{query}
	case Comparative:
		subs = s.comparative(query)
	case Causal:
		subs = causal(query, s.focus(query))
	case Temporal:
		subs = temporal(query, s.focus(query))
	case MultiHop:
		subs = []string{query} // later hops are found from the evidence, below
	}
	seen := map[string]bool{}
	for _, e := range s.entities(query) {
		seen[key(e)] = true
	}
	for i := 0; i < len(subs) && len(r.Steps) < maxHops; i++ {
		st, ps, err := s.step(ctx, subs[i])
		if err != nil {
			return r, err
		}
		r.Steps = append(r.Steps, st)
		if strategy == MultiHop && i == len(subs)-1 {
			if next := s.nextHop(query, ps, seen); next != "" {
				subs = append(subs, next)
			}
		}
	}
	r.Final, r.Citations = combine(r.Steps)
	for _, st := range r.Steps {
		r.Confidence += st.Confidence
	}
	r.Confidence /= float64(len(r.Steps))
	return r, nil
}

// step retrieves evidence for one sub-question and answers it.
func (s *Service) step(ctx context.Context, q string) (Step, []chat.Passage, error) {
	ps, err := s.cfg.Retriever.Retrieve(ctx, q, evidencePerStep)
	if err != nil {
		return Step{}, nil, err
	}
	st := Step{SubQuestion: q, Evidence: make([]chat.Citation, len(ps)), Confidence: chat.Coverage(q, ps)}
	for i := range ps {
		st.Evidence[i] = chat.ParseCitations("["+strconv.Itoa(i+1)+"]", ps)[0]
	}
	if len(ps) == 0 {
		st.Answer = chat.NotFoundAnswer
		return st, ps, nil
	}
	st.Answer, err = s.cfg.Model.Stream(ctx, chat.Request{Question: q, Sources: ps}, func(string) error { return nil })
	if err != nil {
		if e := apierr.From(err); e.Status < 500 {
			return Step{}, nil, err // a refusal with its own status (PHI_BLOCKED)
		}
		return Step{}, nil, apierr.Unavailable("The chat model did not answer; retry later", err)
	}
	return st, ps, nil
}

// combine joins the step answers into the final answer, renumbering each step's [n] to the
// final citation list (the cited evidence of every step, first citation first).
func combine(steps []Step) (string, []chat.Citation) {
	var cites []chat.Citation
	byChunk := map[string]int{}
	var b strings.Builder
	for _, st := range steps {
		if len(st.Evidence) == 0 {
			continue
		}
		ans := markerRe.ReplaceAllStringFunc(st.Answer, func(m string) string {
			var nums []string
			for f := range strings.SplitSeq(strings.Trim(m, "[]"), ",") {
				n, err := strconv.Atoi(strings.TrimSpace(f))
				if err != nil || n < 1 || n > len(st.Evidence) {
					continue
				}
				c := st.Evidence[n-1]
				g, ok := byChunk[c.ChunkID]
				if !ok {
					g = len(cites) + 1
					byChunk[c.ChunkID] = g
					c.N = g
					cites = append(cites, c)
				}
				nums = append(nums, strconv.Itoa(g))
			}
			if len(nums) == 0 {
				return m
			}
			return "[" + strings.Join(nums, ", ") + "]"
		})
		if b.Len() > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString(ans)
	}
	if b.Len() == 0 {
		return chat.NotFoundAnswer, []chat.Citation{}
	}
	if cites == nil {
		cites = []chat.Citation{}
	}
	return b.String(), cites
}

var markerRe = regexp.MustCompile(`\[(\d{1,4}(?:\s*,\s*\d{1,4})*)\]`)

// entities are the query's or a passage's normalized mentions (affirmed or not).
func (s *Service) entities(text string) []ner.Entity {
	if s.cfg.NER == nil {
		return nil
	}
	var out []ner.Entity
	for _, e := range s.cfg.NER.Extract(text, ner.Options{}) {
		if e.Normalized != nil {
			out = append(out, e)
		}
	}
	return out
}

func key(e ner.Entity) string { return e.Normalized.Vocabulary + ":" + e.Normalized.ID }

// focus is what causal and temporal questions are about: the query's first disease, else its
// first entity, else the query without its question words.
func (s *Service) focus(query string) string {
	es := s.entities(query)
	for _, e := range es {
		if e.Type == ner.Disease {
			return e.Text
		}
	}
	if len(es) > 0 {
		return es[0].Text
	}
	return strings.TrimSpace(questionWords.ReplaceAllString(strings.TrimRight(query, "?.! "), ""))
}

var questionWords = regexp.MustCompile(`(?i)^\s*(what|why|how|when|which|who|does|do|is|are|can|could|should|will)\b(\s+(is|are|does|do|causes?|the|of))*\s*`)

// nextHop follows the evidence: the normalized entity mentioned in the most passages of the
// last hop (ties: earliest in the best passage) that neither the query nor an earlier hop
// named becomes the next sub-question, "<entity> in <focus>". "" ends the chain.
func (s *Service) nextHop(query string, ps []chat.Passage, seen map[string]bool) string {
	type cand struct {
		name       string
		docs, rank int
	}
	cands := map[string]*cand{}
	var order []string
	for pi, p := range ps {
		inPassage := map[string]bool{}
		for _, e := range s.entities(p.Text) {
			k := key(e)
			if seen[k] || inPassage[k] || e.Negated {
				continue
			}
			inPassage[k] = true
			c, ok := cands[k]
			if !ok {
				c = &cand{name: e.Normalized.Name, rank: pi*100000 + e.Start}
				cands[k] = c
				order = append(order, k)
			}
			c.docs++
		}
	}
	if len(order) == 0 {
		return ""
	}
	slices.SortStableFunc(order, func(a, b string) int {
		if cands[a].docs != cands[b].docs {
			return cands[b].docs - cands[a].docs
		}
		return cands[a].rank - cands[b].rank
	})
	best := order[0]
	seen[best] = true
	return cands[best].name + " in " + s.focus(query)
}

// comparativeSep splits compared items.
var comparativeSep = regexp.MustCompile(`(?i)\s*(?:,|\bversus\b|\bvs\.?(?:\s|$)|\bcompared (?:with|to)\b|\bor\b|\band\b)\s*`)

var compareLead = regexp.MustCompile(`(?i)^\s*(compare|what is the difference between|what are the differences between|difference between|differences between)\s+`)

// comparative: when the query names two or more entities of one type (the most frequent
// type), one sub-question per entity: the query with the other compared entities (and the
// separators between them) removed; else the query split at the comparative separators,
// one part each. Fewer than two items: the query alone.
func (s *Service) comparative(query string) []string {
	byType := map[ner.Type][]ner.Entity{}
	var best ner.Type
	for _, e := range s.entities(query) {
		if slices.ContainsFunc(byType[e.Type], func(o ner.Entity) bool { return key(o) == key(e) }) {
			continue
		}
		byType[e.Type] = append(byType[e.Type], e)
		if len(byType[e.Type]) > len(byType[best]) {
			best = e.Type
		}
	}
	if items := byType[best]; len(items) >= 2 {
		runes := []rune(query)
		first, last := items[0].Start, items[len(items)-1].End
		between := ""
		for i := range len(items) - 1 {
			between += string(runes[items[i].End:items[i+1].Start])
		}
		subs := make([]string, 0, len(items))
		for _, it := range items {
			if strings.TrimSpace(comparativeSep.ReplaceAllString(between, "")) == "" {
				// "A, B or C" in one place: that place names one item at a time.
				subs = append(subs, collapse(string(runes[:first])+it.Text+string(runes[last:])))
				continue
			}
			subs = append(subs, collapse(it.Text+" "+strings.TrimSpace(compareLead.ReplaceAllString(removeSpans(runes, items), ""))))
		}
		return subs
	}
	body := compareLead.ReplaceAllString(strings.TrimRight(query, "?.! "), "")
	var parts []string
	for _, p := range comparativeSep.Split(body, -1) {
		if p = strings.TrimSpace(p); p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) < 2 {
		return []string{query}
	}
	return parts
}

func removeSpans(runes []rune, items []ner.Entity) string {
	var b strings.Builder
	at := 0
	for _, it := range items {
		b.WriteString(string(runes[at:it.Start]))
		at = it.End
	}
	b.WriteString(string(runes[at:]))
	return strings.TrimSpace(comparativeSep.ReplaceAllString(b.String(), " "))
}

func collapse(s string) string { return strings.Join(strings.Fields(s), " ") }

// causal: the question, then the mechanism and then the consequences of its focus.
func causal(query, focus string) []string {
	return []string{query, "causes and mechanism of " + focus, "effects and complications of " + focus}
}

// temporalSep splits a query at temporal connectives.
var temporalSep = regexp.MustCompile(`(?i)\s*\b(?:before|after|then|followed by|during|while|until|since)\b\s*`)

// temporal: the question, then the parts it has between temporal connectives ("before",
// "after", ...), each a sub-question; without a connective, the question, then the onset and
// then the course over time of its focus.
func temporal(query, focus string) []string {
	parts := []string{query}
	for _, p := range temporalSep.Split(strings.TrimRight(query, "?.! "), -1) {
		if p = strings.TrimSpace(p); utf8.RuneCountInString(p) >= 3 {
			parts = append(parts, p)
		}
	}
	if len(parts) >= 3 {
		return parts
	}
	return []string{query, "onset and early signs of " + focus, "course and long-term outcome of " + focus}
}
