package chat

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Option defaults.
const (
	DefaultTopK          = 5
	DefaultHistoryTokens = 2000
	DefaultMaxSources    = 8
	DefaultWeakScore     = 0.5
	DefaultMaxHops       = 2
)

// rrfK is the Reciprocal Rank Fusion constant used to merge retrieval calls.
const rrfK = 60

// feedbackTerms and feedbackPassages size the pseudo-relevance-feedback hop.
const (
	feedbackTerms    = 5
	feedbackPassages = 3
)

// ErrEmptyQuestion is returned by Answer for a blank question.
var ErrEmptyQuestion = errors.New("chat: empty question")

// Options tunes a Pipeline. Zero values take the defaults.
type Options struct {
	// TopK is the number of passages asked of each retrieval call.
	TopK int
	// HistoryTokens is the budget for earlier turns, in EstimateTokens units
	// plus a small per-message overhead.
	HistoryTokens int
	// MaxSources caps the passages handed to the model.
	MaxSources int
	// WeakScore is the term coverage (0..1) under which the first pass counts
	// as weak and a follow-up hop is made: the fraction of the query's content
	// terms found in its top passages. Retriever scores are not used because
	// they are comparable only within one call (RRF, BM25 and cosine differ in
	// scale). An empty first pass is always weak; a negative value makes only
	// that case weak.
	WeakScore float64
	// MaxHops is the number of retrieval rounds, the first included; 1
	// disables follow-up hops.
	MaxHops int
	// MaxTokens is passed to the model as Request.MaxTokens.
	MaxTokens int
	// Stage, if set, is told when the "retrieval" and "model" stages of an answer began, as
	// they end successfully (latency metrics).
	Stage func(stage string, start time.Time)
	// Observe, if set, is told how each model call went: the time to its first text (to its
	// end when it wrote none) and its error, nil on success. Calls the client abandoned or
	// cancelled are not reported: they say nothing about the model (health, admin panel).
	Observe func(latency time.Duration, err error)
}

// RetrievalInfo records how the sources were found.
type RetrievalInfo struct {
	Queries    []string // every query sent to the retriever, in order
	Hops       int      // retrieval rounds; 2+ means a follow-up hop was made
	FollowUp   bool     // the previous user message was added to the query
	Coverage   float64  // term coverage of the last round (see Options.WeakScore)
	Considered int      // distinct passages seen before the MaxSources cap
}

// Answer is the result of Pipeline.Answer.
type Answer struct {
	Text      string
	Citations []Citation // sources referenced in Text, in order of first reference
	Sources   []Passage  // what the model was given, numbered [1..n]
	Model     string
	Retrieval RetrievalInfo
}

// Pipeline answers questions: retrieve, generate, cite.
type Pipeline struct {
	model ChatModel
	r     Retriever
	opt   Options
}

// NewPipeline returns a pipeline; zero Options fields take the defaults.
func NewPipeline(model ChatModel, r Retriever, opt Options) *Pipeline {
	if opt.TopK <= 0 {
		opt.TopK = DefaultTopK
	}
	if opt.HistoryTokens <= 0 {
		opt.HistoryTokens = DefaultHistoryTokens
	}
	if opt.MaxSources <= 0 {
		opt.MaxSources = DefaultMaxSources
	}
	if opt.WeakScore == 0 {
		opt.WeakScore = DefaultWeakScore
	}
	if opt.MaxHops <= 0 {
		opt.MaxHops = DefaultMaxHops
	}
	return &Pipeline{model: model, r: r, opt: opt}
}

// Answer answers question in the context of history (earlier turns, oldest
// first). emit, if not nil, receives the answer text as "delta" events while
// the model streams, then one "citation" event per cited source. An error
// from emit (the client has gone) stops the model call and is returned as is.
// On error the returned Answer holds what was generated so far.
func (p *Pipeline) Answer(ctx context.Context, history []Message, question string, emit func(Event) error) (Answer, error) {
	return p.AnswerWith(ctx, history, question, Grounding{}, emit)
}

// AnswerWith is Answer with extra grounding for the model (Request.Context and
// Request.Guidance). It does not take part in retrieval: the knowledge base is searched with
// the question only.
func (p *Pipeline) AnswerWith(ctx context.Context, history []Message, question string, g Grounding, emit func(Event) error) (Answer, error) {
	question = strings.TrimSpace(question)
	if question == "" {
		return Answer{}, ErrEmptyQuestion
	}
	if emit == nil {
		emit = func(Event) error { return nil }
	}
	ans := Answer{Model: p.model.Name()}
	var err error
	start := time.Now()
	mark(ctx, "retrieval", false)
	ans.Sources, ans.Retrieval, err = p.retrieve(ctx, history, question)
	if err != nil {
		return ans, err
	}
	mark(ctx, "retrieval", true)
	p.stage("retrieval", start)

	// A child context cancelled on an emit error, so that the upstream call
	// is aborted even by a model that is slow to honour onDelta's error.
	mctx, cancel := context.WithCancel(ctx)
	defer cancel()
	req := Request{
		History:   BudgetHistory(history, p.opt.HistoryTokens),
		Question:  question,
		Sources:   ans.Sources,
		MaxTokens: p.opt.MaxTokens,
		Context:   strings.TrimSpace(g.Patient),
		Guidance:  strings.TrimSpace(g.Guidance),
	}
	var emitErr error
	var first time.Duration
	start = time.Now()
	ans.Text, err = p.model.Stream(mctx, req, func(d string) error {
		if first == 0 {
			first = time.Since(start)
		}
		if emitErr = emit(Event{Type: EventDelta, Delta: d}); emitErr != nil {
			cancel()
		}
		return emitErr
	})
	if emitErr != nil {
		return ans, emitErr
	}
	if p.opt.Observe != nil && ctx.Err() == nil {
		if first == 0 {
			first = time.Since(start)
		}
		p.opt.Observe(first, err)
	}
	if err != nil {
		return ans, err
	}
	p.stage("model", start)

	ans.Citations = ParseCitations(ans.Text, ans.Sources)
	for i := range ans.Citations {
		if err := emit(Event{Type: EventCitation, Citation: &ans.Citations[i]}); err != nil {
			return ans, err
		}
	}
	return ans, nil
}

func (p *Pipeline) stage(name string, start time.Time) {
	if p.opt.Stage != nil {
		p.opt.Stage(name, start)
	}
}

// BudgetHistory keeps the most recent user and assistant messages whose
// estimated tokens (EstimateTokens plus a per-message overhead) fit budget.
// Messages are kept whole, and the walk stops at the first one that does not
// fit, so the kept history is a contiguous tail. Empty messages and other
// roles (a client-supplied "system" turn) are dropped.
func BudgetHistory(history []Message, budget int) []Message {
	var kept []Message
	used := 0
	for i := len(history) - 1; i >= 0; i-- {
		m := history[i]
		if (m.Role != RoleUser && m.Role != RoleAssistant) || strings.TrimSpace(m.Content) == "" {
			continue
		}
		cost := EstimateTokens(m.Content) + messageOverhead
		if used+cost > budget {
			break
		}
		used += cost
		kept = append(kept, m)
	}
	slices.Reverse(kept)
	return kept
}

// retrieve runs the first pass (the question, plus each part of a
// multi-part question), then up to MaxHops-1 follow-up hops while the result
// is weak. Calls are merged by Reciprocal Rank Fusion, because scores of
// different calls are not comparable; each chunk keeps the Passage of the
// call where it ranked best.
func (p *Pipeline) retrieve(ctx context.Context, history []Message, question string) ([]Passage, RetrievalInfo, error) {
	var info RetrievalInfo
	m := newMerger()
	run := func(q string) error {
		for _, done := range info.Queries {
			if strings.EqualFold(done, q) {
				return nil
			}
		}
		info.Queries = append(info.Queries, q)
		ps, err := p.r.Retrieve(ctx, q, p.opt.TopK)
		if err != nil {
			return fmt.Errorf("chat: retrieve %q: %w", q, err)
		}
		m.add(ps)
		return nil
	}

	query := question
	if last := lastUserMessage(history); last != "" && isFollowUp(question) {
		query = last + " " + question
		info.FollowUp = true
	}
	if err := run(query); err != nil {
		return nil, info, err
	}
	for _, part := range splitParts(question) {
		if err := run(part); err != nil {
			return nil, info, err
		}
	}
	info.Hops = 1

	want := terms(query)
	info.Coverage = coverage(want, m.top(feedbackPassages))
	for info.Hops < p.opt.MaxHops && (m.len() == 0 || info.Coverage < p.opt.WeakScore) {
		next := expandQuery(query, m.top(feedbackPassages))
		if next == "" {
			break
		}
		n := len(info.Queries)
		if err := run(next); err != nil {
			return nil, info, err
		}
		if len(info.Queries) == n { // already asked: another hop would repeat it
			break
		}
		info.Hops++
		info.Coverage = coverage(want, m.top(feedbackPassages))
		query = next
	}

	info.Considered = m.len()
	return m.top(p.opt.MaxSources), info, nil
}

func lastUserMessage(history []Message) string {
	for i := len(history) - 1; i >= 0; i-- {
		if history[i].Role == RoleUser && strings.TrimSpace(history[i].Content) != "" {
			return strings.TrimSpace(history[i].Content)
		}
	}
	return ""
}

// Coverage is the share of the question's content terms found in the passages (0 without
// passages): the pipeline's measure of how well a retrieval round answered.
func Coverage(question string, ps []Passage) float64 { return coverage(terms(question), ps) }

// coverage is the fraction of want found in the passages' text (1 when want
// is empty and there are passages, 0 when there are none).
func coverage(want map[string]bool, ps []Passage) float64 {
	if len(ps) == 0 {
		return 0
	}
	if len(want) == 0 {
		return 1
	}
	have := make(map[string]bool)
	for _, p := range ps {
		for t := range terms(p.Title + " " + p.Text) {
			have[t] = true
		}
	}
	n := 0
	for t := range want {
		if have[t] {
			n++
		}
	}
	return float64(n) / float64(len(want))
}

// expandQuery is pseudo-relevance feedback: the query plus the feedbackTerms
// content words (length ≥ 4, not in the query) found in the most top
// passages, then most often, then alphabetically. With no passages to learn
// from it falls back to the query's own content words, which helps
// retrievers that are thrown by question phrasing. "" means no new query.
func expandQuery(query string, top []Passage) string {
	if len(top) == 0 {
		kw := strings.Join(contentWords(query), " ")
		if kw == "" || strings.EqualFold(kw, query) {
			return ""
		}
		return kw
	}
	inQuery := terms(query)
	docs := make(map[string]int)  // passages containing the word
	count := make(map[string]int) // occurrences
	for _, p := range top {
		seen := make(map[string]bool)
		for _, w := range contentWords(p.Title + " " + p.Text) {
			if len(w) < 4 || inQuery[stem(w)] {
				continue
			}
			count[w]++
			if !seen[w] {
				seen[w] = true
				docs[w]++
			}
		}
	}
	cands := make([]string, 0, len(count))
	for w := range count {
		cands = append(cands, w)
	}
	slices.SortFunc(cands, func(a, b string) int {
		return cmp.Or(docs[b]-docs[a], count[b]-count[a], strings.Compare(a, b))
	})
	if len(cands) == 0 {
		return ""
	}
	return query + " " + strings.Join(cands[:min(len(cands), feedbackTerms)], " ")
}

// merger fuses retrieval calls by Reciprocal Rank Fusion, keyed by chunk.
type merger struct {
	order []string // keys in first-seen order, for stable ties
	best  map[string]Passage
	rank  map[string]int // best rank of the chunk in any call
	fused map[string]float64
}

func newMerger() *merger {
	return &merger{best: map[string]Passage{}, rank: map[string]int{}, fused: map[string]float64{}}
}

func (m *merger) add(ps []Passage) {
	for i, p := range ps {
		key := p.ChunkID
		if key == "" {
			key = p.DocumentID + "\x00" + p.Text
		}
		if _, ok := m.best[key]; !ok {
			m.order = append(m.order, key)
			m.rank[key] = i
			m.best[key] = p
		} else if i < m.rank[key] {
			m.rank[key] = i
			m.best[key] = p
		}
		m.fused[key] += 1 / float64(rrfK+i+1)
	}
}

func (m *merger) len() int { return len(m.order) }

// top returns the n best passages by fused score, ties in first-seen order.
func (m *merger) top(n int) []Passage {
	keys := slices.Clone(m.order)
	slices.SortStableFunc(keys, func(a, b string) int { return cmp.Compare(m.fused[b], m.fused[a]) })
	out := make([]Passage, 0, min(n, len(keys)))
	for _, k := range keys[:min(n, len(keys))] {
		out = append(out, m.best[k])
	}
	return out
}
