package medai

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/openai/openai-go/v3"

	"github.com/voiceassist/gateway/internal/apierr"
)

// GenerateSystemPrompt frames every /generate completion.
const GenerateSystemPrompt = `You are a careful medical writing assistant for clinicians.
Be concise and precise about doses, units and populations; say when you are unsure.
Your text supports, and is not a substitute for, professional medical advice, diagnosis or treatment.`

// Generation is a completion and how the prompt was guarded.
type Generation struct {
	Text      string
	Model     string
	PHIPolicy string
	Redacted  bool
}

// GenerateOptions bound a completion; zero values take the defaults.
type GenerateOptions struct {
	MaxTokens   int      // 1-2000; 0 = 256
	Temperature *float64 // 0-2; nil = the server's default
}

// ErrOffline explains what to configure for a provider-only operation.
func errOffline() error {
	return apierr.New(http.StatusServiceUnavailable, "PROVIDER_UNAVAILABLE",
		"No chat provider is configured: set OPENAI_API_KEY or OPENAI_BASE_URL (or CHAT_PROVIDER=openai) to enable text generation")
}

// Generate completes prompt through the chat provider, PHI_POLICY applied to the prompt first.
func (s *Service) Generate(ctx context.Context, prompt string, o GenerateOptions) (Generation, error) {
	if n := utf8.RuneCountInString(prompt); n == 0 || n > MaxPromptChars || strings.TrimSpace(prompt) == "" {
		return Generation{}, apierr.Invalid("prompt", fmt.Sprintf("must be 1 to %d characters, not only spaces", MaxPromptChars))
	}
	if o.MaxTokens == 0 {
		o.MaxTokens = 256
	}
	if o.MaxTokens < 1 || o.MaxTokens > 2000 {
		return Generation{}, apierr.Invalid("max_tokens", "must be 1 to 2000")
	}
	if t := o.Temperature; t != nil && (*t < 0 || *t > 2) {
		return Generation{}, apierr.Invalid("temperature", "must be 0 to 2")
	}
	if s.cfg.LLM == nil {
		return Generation{}, errOffline()
	}
	g := Generation{Model: s.cfg.ChatModel, PHIPolicy: "trusted"}
	sent := prompt
	if s.cfg.Outbound != nil {
		g.PHIPolicy = s.cfg.PHIPolicy
		var err error
		if sent, err = s.cfg.Outbound(prompt); err != nil {
			return Generation{}, err // PHI_BLOCKED: nothing was sent
		}
		g.Redacted = sent != prompt
	}
	p := openai.ChatCompletionNewParams{
		Model:     s.cfg.ChatModel,
		Messages:  []openai.ChatCompletionMessageParamUnion{openai.SystemMessage(GenerateSystemPrompt), openai.UserMessage(sent)},
		MaxTokens: openai.Int(int64(o.MaxTokens)),
	}
	if o.Temperature != nil {
		p.Temperature = openai.Float(*o.Temperature)
	}
	text, err := s.complete(ctx, p)
	if err != nil {
		return Generation{}, err
	}
	g.Text = text
	return g, nil
}

// complete runs one non-streamed completion with the client's retry policy; a provider
// failure is a 503 (the cause is logged, never shown).
func (s *Service) complete(ctx context.Context, p openai.ChatCompletionNewParams) (string, error) {
	var text string
	err := s.cfg.LLM.Do(ctx, func(ctx context.Context) error {
		res, err := s.cfg.LLM.API().Chat.Completions.New(ctx, p)
		if err != nil {
			return err
		}
		if len(res.Choices) == 0 {
			return errors.New("no choices in the answer")
		}
		text = res.Choices[0].Message.Content
		return nil
	})
	if err != nil {
		if ctx.Err() != nil {
			return "", ctx.Err()
		}
		return "", apierr.Unavailable("The chat provider did not answer; retry later", err)
	}
	return text, nil
}
