// Package chat answers questions from the knowledge base: it retrieves
// passages (with a follow-up hop when the first pass is weak), hands them with
// the conversation history to a ChatModel, streams the answer and maps its
// [n] markers to citations.
//
// Two models are provided: OpenAI (any OpenAI-compatible chat completions
// server, streamed) and Extractive, the offline default, which quotes the best
// sentences of the retrieved passages.
package chat

import (
	"context"
	"regexp"
	"strconv"
	"strings"
)

// Passage is one retrieved knowledge-base chunk.
type Passage struct {
	ChunkID    string
	DocumentID string
	Title      string
	Heading    []string // section heading path, outermost first
	Page       int      // 1-based; 0 if unknown
	Text       string
	Score      float64  // higher is better; comparable only within one Retrieve call
	Entities   []Entity `json:",omitempty"` // normalized entities the chunk mentions
}

// Entity is a normalized concept a cited chunk mentions, in the citation wire form.
type Entity struct {
	Vocabulary string `json:"vocabulary"`
	ID         string `json:"id"`
	Name       string `json:"name"`
	Type       string `json:"type"`
	Negated    bool   `json:"negated,omitempty"`
}

// Retriever finds the k best passages for a query.
type Retriever interface {
	Retrieve(ctx context.Context, query string, k int) ([]Passage, error)
}

// Message roles.
const (
	RoleUser      = "user"
	RoleAssistant = "assistant"
)

// Message is one earlier turn of the conversation.
type Message struct {
	Role    string // RoleUser or RoleAssistant; other roles are dropped
	Content string
}

// Citation ties an [N] marker of the answer to its source passage.
type Citation struct {
	N          int // the source number used in the text, 1-based
	DocumentID string
	ChunkID    string
	Title      string
	Heading    []string
	Page       int
	Snippet    string // start of the passage text, about SnippetLen characters
	Entities   []Entity
}

// CitationJSON is a citation as the API, the WebSocket and stored messages carry it: page is
// null when the source has no pages.
type CitationJSON struct {
	N          int      `json:"n"`
	DocumentID string   `json:"document_id"`
	ChunkID    string   `json:"chunk_id"`
	Title      string   `json:"title"`
	Heading    []string `json:"heading"`
	Page       *int     `json:"page"`
	Snippet    string   `json:"snippet"`
	Entities   []Entity `json:"entities,omitempty"`
}

// JSON returns the citation's wire form.
func (c Citation) JSON() CitationJSON {
	h := c.Heading
	if h == nil {
		h = []string{}
	}
	out := CitationJSON{N: c.N, DocumentID: c.DocumentID, ChunkID: c.ChunkID, Title: c.Title, Heading: h, Snippet: c.Snippet, Entities: c.Entities}
	if c.Page > 0 {
		p := c.Page
		out.Page = &p
	}
	return out
}

// Citation returns the citation a wire form describes.
func (c CitationJSON) Citation() Citation {
	out := Citation{N: c.N, DocumentID: c.DocumentID, ChunkID: c.ChunkID, Title: c.Title, Heading: c.Heading, Snippet: c.Snippet, Entities: c.Entities}
	if c.Page != nil {
		out.Page = *c.Page
	}
	return out
}

// Request is what a ChatModel gets.
type Request struct {
	History   []Message // earlier turns, oldest first, already budgeted
	Question  string
	Sources   []Passage // numbered [1..n] in order
	MaxTokens int       // answer length limit; 0 = the model's default
	// Context is extra grounding the caller vouches for (a patient record rendered by
	// internal/patient), given to the model as a system-level "Patient context" block; ""
	// for none. It is not a numbered source and is never stored with the messages.
	Context string
	// Guidance is how this user is to be answered (stated preferences, a tone, a repair
	// instruction of a voice session), given to the model as its own system-level block:
	// instructions, not facts about a patient, so never under the patient heading. "" for
	// none; never stored.
	Guidance string
}

// Grounding is what an answer gets besides the question, the history and the sources
// (Request.Context and Request.Guidance). Neither takes part in retrieval.
type Grounding struct {
	Patient  string
	Guidance string
}

// ChatModel generates an answer from a Request.
type ChatModel interface {
	// Stream generates the answer, calling onDelta for each piece of text in
	// order; returns the full text. If onDelta returns an error, Stream stops
	// and returns that error.
	Stream(ctx context.Context, req Request, onDelta func(string) error) (string, error)
	Name() string
}

// Event types.
const (
	EventDelta    = "delta"
	EventCitation = "citation"
)

// Event is one item streamed to the client: answer text as it is generated,
// then one citation per cited source.
type Event struct {
	Type     string // EventDelta or EventCitation
	Delta    string
	Citation *Citation
}

// SnippetLen is the approximate length of Citation.Snippet in characters.
const SnippetLen = 200

// markerRe matches [1], [1, 3] and [1,3]; [1][3] is two matches.
var markerRe = regexp.MustCompile(`\[(\d{1,4}(?:\s*,\s*\d{1,4})*)\]`)

// ParseCitations returns one citation per source referenced by an [n] marker
// in text, in order of first reference. Citations keep the source numbers, so
// they match the text as streamed. Numbers outside 1..len(sources) are
// ignored but left in the text: the text has already reached the client, and
// the stored answer must equal what the user saw.
func ParseCitations(text string, sources []Passage) []Citation {
	var out []Citation
	seen := make(map[int]bool)
	for _, m := range markerRe.FindAllStringSubmatch(text, -1) {
		for f := range strings.SplitSeq(m[1], ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil || n < 1 || n > len(sources) || seen[n] {
				continue
			}
			seen[n] = true
			p := sources[n-1]
			out = append(out, Citation{
				N: n, DocumentID: p.DocumentID, ChunkID: p.ChunkID, Title: p.Title,
				Heading: p.Heading, Page: p.Page, Snippet: snippet(p.Text, SnippetLen), Entities: p.Entities,
			})
		}
	}
	return out
}

// snippet returns the start of text with whitespace collapsed, cut at a word
// boundary near n characters.
func snippet(text string, n int) string {
	s := strings.Join(strings.Fields(text), " ")
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	cut := string(r[:n])
	if i := strings.LastIndexByte(cut, ' '); i > n/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,;:") + "…"
}
