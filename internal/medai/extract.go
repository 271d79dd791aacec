package medai

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/openai/openai-go/v3"

	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/ner"
)

// Entity sources.
const (
	SourceDictionary = "dictionary"
	SourceModel      = "model"
)

// Entity is an extracted entity and where it came from.
type Entity struct {
	ner.Entity
	Source string
}

// ExtractOptions are the request's options.
type ExtractOptions struct {
	Types          []string
	DetectNegation bool
	MinConfidence  float64 // 0: the extractor's default cut-off
}

// Extraction is extract-entities' answer.
type Extraction struct {
	Entities    []Entity
	Vocabulary  string
	ModelAssist bool   // the model pass ran
	Model       string // its model
	Took        time.Duration
}

// modelConfidence is the confidence given to entities only the model found: below any
// dictionary hit the training lexicon confirmed, above the default cut-off.
const modelConfidence = 0.6

// Extract finds the entities of text. The model-assisted pass (when enabled and a provider
// is configured) runs after the dictionary and may only add entities in the gaps between
// dictionary hits; a failing model pass leaves the dictionary answer as it is.
func (s *Service) Extract(ctx context.Context, text string, o ExtractOptions) (Extraction, error) {
	start := time.Now()
	if n := utf8.RuneCountInString(text); n == 0 || n > MaxExtractChars {
		return Extraction{}, apierr.Invalid("text", fmt.Sprintf("must be 1 to %d characters", MaxExtractChars))
	}
	if o.MinConfidence < 0 || o.MinConfidence > 1 {
		return Extraction{}, apierr.Invalid("min_confidence", "must be 0 to 1")
	}
	types := make([]ner.Type, 0, len(o.Types))
	for _, t := range o.Types {
		if !slices.Contains(ner.Types, ner.Type(t)) {
			return Extraction{}, apierr.Invalid("types", "unknown type "+t)
		}
		types = append(types, ner.Type(t))
	}
	if s.cfg.NER == nil {
		return Extraction{}, apierr.Unavailable("The entity extractor is not loaded", nil)
	}
	ents := s.cfg.NER.Extract(text, ner.Options{Types: types, DetectNegation: o.DetectNegation, MinConfidence: o.MinConfidence})
	out := Extraction{Vocabulary: s.cfg.VocabSource, Entities: make([]Entity, len(ents))}
	for i, e := range ents {
		out.Entities[i] = Entity{Entity: e, Source: SourceDictionary}
	}
	if s.cfg.ModelAssist && s.cfg.LLM != nil {
		// Any failure (the provider, an unreadable answer, PHI_POLICY=block keeping the text
		// local) leaves the dictionary answer, reported with model_assist false.
		if added, err := s.modelPass(ctx, text, ents, types, o); err == nil {
			out.ModelAssist, out.Model = true, s.cfg.ChatModel
			out.Entities = mergeEntities(out.Entities, added)
		}
	}
	out.Took = time.Since(start)
	return out, nil
}

// modelPrompt asks for JSON only, so the answer can be checked mechanically.
const modelPrompt = `List the clinical entities in the text below as a JSON array of objects {"text": exact substring, "type": one of disease, drug, procedure, anatomy, lab}. Use the exact spelling of the text. Answer with the JSON array only.

Text:
`

// modelPass asks the chat provider for entities and keeps those that occur verbatim in the
// text (PHI_POLICY applied to the text first) and overlap no dictionary hit.
func (s *Service) modelPass(ctx context.Context, text string, dict []ner.Entity, types []ner.Type, o ExtractOptions) ([]Entity, error) {
	sent := text
	if s.cfg.Outbound != nil {
		var err error
		if sent, err = s.cfg.Outbound(text); err != nil {
			return nil, err
		}
	}
	p := openai.ChatCompletionNewParams{
		Model:    s.cfg.ChatModel,
		Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(modelPrompt + sent)},
	}
	answer, err := s.complete(ctx, p)
	if err != nil {
		return nil, err
	}
	var got []struct{ Text, Type string }
	answer = strings.TrimSpace(answer)
	answer = strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(answer, "```json"), "```"), "```")
	if err := json.Unmarshal([]byte(strings.TrimSpace(answer)), &got); err != nil {
		return nil, fmt.Errorf("medai: model entities: %w", err)
	}
	runes := []rune(text)
	taken := make([]bool, len(runes)+1)
	for _, e := range dict {
		for i := e.Start; i < e.End; i++ {
			taken[i] = true
		}
	}
	var out []ner.Entity
	for _, g := range got {
		t := ner.Type(g.Type)
		if g.Text == "" || !slices.Contains(ner.Types, t) || (len(types) > 0 && !slices.Contains(types, t)) {
			continue
		}
		want := []rune(g.Text)
		// Every free occurrence of the text: the model names strings, the spans are ours.
		for i := 0; i+len(want) <= len(runes); i++ {
			if !slices.Equal(runes[i:i+len(want)], want) || !wordBounded(runes, i, i+len(want)) || anyTaken(taken, i, i+len(want)) {
				continue
			}
			out = append(out, ner.Entity{Text: g.Text, Type: t, Start: i, End: i + len(want), Confidence: modelConfidence})
			for k := i; k < i+len(want); k++ {
				taken[k] = true
			}
		}
	}
	if o.MinConfidence > modelConfidence {
		return nil, nil
	}
	if o.DetectNegation {
		s.cfg.NER.Annotate(text, out)
	}
	added := make([]Entity, len(out))
	for i, e := range out {
		added[i] = Entity{Entity: e, Source: SourceModel}
	}
	return added, nil
}

func anyTaken(taken []bool, s, e int) bool {
	return slices.Contains(taken[s:e], true)
}

// wordBounded says the span neither starts nor ends inside a word.
func wordBounded(r []rune, s, e int) bool {
	word := func(c rune) bool {
		return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || c > 127
	}
	return (s == 0 || !word(r[s-1]) || !word(r[s])) && (e == len(r) || !word(r[e]) || !word(r[e-1]))
}

// mergeEntities adds model entities to the dictionary ones, in text order; the dictionary
// entities are kept exactly as they were.
func mergeEntities(dict, added []Entity) []Entity {
	out := append(slices.Clone(dict), added...)
	slices.SortStableFunc(out, func(a, b Entity) int { return a.Start - b.Start })
	return out
}
