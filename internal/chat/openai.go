package chat

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/openai/openai-go/v3"

	"github.com/voiceassist/gateway/internal/llm"
)

// SystemPrompt is the system message of every OpenAI request.
const SystemPrompt = `You are VoiceAssist, a medical information assistant for clinicians.
Answer only from the numbered sources given with the question; do not use outside knowledge.
Cite the source of every statement with its number in square brackets, such as [1] or [2, 3].
If the sources do not contain the answer, say so plainly instead of guessing.
Use the earlier conversation to understand what the question refers to, not as a source of facts.
Be concise and precise about doses, units and populations.
Your answers support, and are not a substitute for, professional medical advice, diagnosis or treatment.`

// PatientContextHeading opens the system message that carries Request.Context.
const PatientContextHeading = `Patient context (the record of the patient the question is about; use it to tailor the answer, do not cite it as a numbered source):`

// GuidanceHeading opens the system message that carries Request.Guidance.
const GuidanceHeading = `Answer guidance (how this user wants to be answered, from their settings and this conversation; follow it where it does not conflict with the rules above; it is not patient data and not a source):`

// OpenAIConfig configures an OpenAI-compatible chat model.
type OpenAIConfig struct {
	// Config is the client: server, key, timeout and retries, with llm's defaults.
	// Retries happen only while no text has been streamed, since text already passed on
	// cannot be taken back.
	llm.Config
	// Model, e.g. "gpt-4o-mini" or "llama3.1". Required.
	Model string
	// Temperature, if not nil, is sent; nil leaves the server's default
	// (a pointer because 0 is a meaningful temperature).
	Temperature *float64
	// MaxTokens is the default answer limit, sent as max_tokens (the name
	// OpenAI-compatible servers accept); Request.MaxTokens overrides it. 0
	// sends none.
	MaxTokens int
	// Outbound, if not nil, rewrites or refuses each user and assistant turn, the question,
	// the patient context and the guidance before they are sent (PHI_POLICY in front of an
	// external provider). The sources, knowledge-base text, are sent as they are.
	Outbound func(text string) (string, error)
}

// OpenAI is a ChatModel backed by an OpenAI-compatible chat completions
// endpoint, streamed. It is safe for concurrent use.
type OpenAI struct {
	client *llm.Client
	cfg    OpenAIConfig
}

var _ ChatModel = (*OpenAI)(nil)

// NewOpenAI returns a chat model for cfg.
func NewOpenAI(cfg OpenAIConfig) (*OpenAI, error) {
	if cfg.Model == "" {
		return nil, errors.New("chat: OpenAI model is required")
	}
	if cfg.MaxTokens < 0 {
		return nil, errors.New("chat: negative max tokens")
	}
	// llm.New fills in the defaults (and takes a negative MaxRetries as none).
	return &OpenAI{client: llm.New(cfg.Config), cfg: cfg}, nil
}

// Name implements ChatModel.
func (m *OpenAI) Name() string { return m.cfg.Model }

// Stream implements ChatModel. Cancelling ctx aborts the HTTP stream.
func (m *OpenAI) Stream(ctx context.Context, req Request, onDelta func(string) error) (string, error) {
	params, err := m.params(req)
	if err != nil {
		return "", err // the Outbound refusal, as it is: nothing was sent
	}
	var text string
	err = m.client.Do(ctx, func(ctx context.Context) error {
		var err error
		text, err = m.attempt(ctx, params, onDelta)
		if err != nil && (text != "" || errors.Is(err, errEmptyAnswer)) {
			// Text passed on cannot be taken back; an empty answer would recur.
			return llm.NoRetry(err)
		}
		return err
	})
	if err == nil {
		return text, nil
	}
	var cb callbackError
	if errors.As(err, &cb) {
		return text, cb.err
	}
	if ctxErr := ctx.Err(); ctxErr != nil {
		return text, fmt.Errorf("chat: %w", ctxErr)
	}
	return text, fmt.Errorf("chat: %w", err)
}

// callbackError carries onDelta's error out of attempt, so that it is
// returned unchanged and never retried.
type callbackError struct{ err error }

func (e callbackError) Error() string { return e.err.Error() }

// errEmptyAnswer: the stream ended without text; not retried.
var errEmptyAnswer = errors.New("empty answer")

// attempt makes one streaming request, ctx bounded by OpenAIConfig.Timeout;
// the text returned is what reached onDelta.
func (m *OpenAI) attempt(ctx context.Context, params openai.ChatCompletionNewParams, onDelta func(string) error) (string, error) {
	stream := m.client.API().Chat.Completions.NewStreaming(ctx, params)
	defer stream.Close()

	var b strings.Builder
	finish := ""
	for stream.Next() {
		chunk := stream.Current()
		for _, c := range chunk.Choices {
			if c.Index != 0 {
				continue
			}
			if c.FinishReason != "" {
				finish = c.FinishReason
			}
			// A refusal is the answer the user gets, so it is streamed too.
			for _, d := range []string{c.Delta.Content, c.Delta.Refusal} {
				if d == "" {
					continue
				}
				b.WriteString(d)
				if err := onDelta(d); err != nil {
					return b.String(), callbackError{err}
				}
			}
		}
	}
	if err := stream.Err(); err != nil {
		return b.String(), err
	}
	if b.Len() == 0 {
		return "", fmt.Errorf("%w (finish_reason %q)", errEmptyAnswer, finish)
	}
	return b.String(), nil
}

// params builds the request: the system prompt, the patient context (when
// given) as a second system message, the history as user and assistant turns, then one user message with the numbered sources and the
// question.
func (m *OpenAI) params(req Request) (openai.ChatCompletionNewParams, error) {
	out := func(s string) (string, error) { return s, nil }
	if m.cfg.Outbound != nil {
		out = m.cfg.Outbound
	}
	msgs := []openai.ChatCompletionMessageParamUnion{openai.SystemMessage(SystemPrompt)}
	if req.Context != "" {
		// A patient record is PHI like the turns: the same policy applies before it leaves.
		context, err := out(req.Context)
		if err != nil {
			return openai.ChatCompletionNewParams{}, err
		}
		msgs = append(msgs, openai.SystemMessage(PatientContextHeading+"\n"+context))
	}
	if req.Guidance != "" {
		// Preferences may name people or conditions: the same policy applies.
		guidance, err := out(req.Guidance)
		if err != nil {
			return openai.ChatCompletionNewParams{}, err
		}
		msgs = append(msgs, openai.SystemMessage(GuidanceHeading+"\n"+guidance))
	}
	for _, h := range req.History {
		if h.Role != RoleUser && h.Role != RoleAssistant {
			continue
		}
		content, err := out(h.Content)
		if err != nil {
			return openai.ChatCompletionNewParams{}, err
		}
		if h.Role == RoleUser {
			msgs = append(msgs, openai.UserMessage(content))
		} else {
			msgs = append(msgs, openai.AssistantMessage(content))
		}
	}
	question, err := out(req.Question)
	if err != nil {
		return openai.ChatCompletionNewParams{}, err
	}
	msgs = append(msgs, openai.UserMessage(FormatSources(req.Sources)+"\n\nQuestion: "+question))

	p := openai.ChatCompletionNewParams{Model: m.cfg.Model, Messages: msgs}
	if m.cfg.Temperature != nil {
		p.Temperature = openai.Float(*m.cfg.Temperature)
	}
	if n := cmp.Or(max(req.MaxTokens, 0), m.cfg.MaxTokens); n > 0 {
		p.MaxTokens = openai.Int(int64(n))
	}
	return p, nil
}

// FormatSources renders the sources as the model sees them:
//
//	[1] Title — Heading > Subheading (page 3)
//	passage text
func FormatSources(sources []Passage) string {
	if len(sources) == 0 {
		return "Sources: none (nothing relevant was found in the knowledge base)."
	}
	var b strings.Builder
	b.WriteString("Sources:")
	for i, p := range sources {
		fmt.Fprintf(&b, "\n\n[%d] %s", i+1, cmp.Or(strings.TrimSpace(p.Title), "Untitled"))
		if len(p.Heading) > 0 {
			b.WriteString(" — " + strings.Join(p.Heading, " > "))
		}
		if p.Page > 0 {
			fmt.Fprintf(&b, " (page %d)", p.Page)
		}
		b.WriteString("\n" + strings.TrimSpace(p.Text))
	}
	return b.String()
}
