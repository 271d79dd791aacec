package handlers

import (
	"context"
	"time"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/flageval"
	"github.com/voiceassist/gateway/internal/flagstore"
	"github.com/voiceassist/gateway/internal/ratelimit"
)

// visibilityOf is the highest flag visibility the caller may see.
func visibilityOf(ctx context.Context) flageval.Visibility {
	p, _ := auth.From(ctx)
	return flagstore.VisibilityFor(p)
}

// reservedAttributes are set by the server from the caller's account; a context cannot
// claim them (an anonymous caller claiming role=admin must not match a staff-only rule).
var reservedAttributes = [...]string{"user_id", "email", "role"}

// evalContext builds the evaluation context. For authenticated callers the targeting key
// defaults to the user id, and the attributes user_id, email and role come from the
// account (a caller cannot claim another role to match a rule); anonymous callers get
// none of them. Per-user overrides apply only to a targeting key the caller owns: its
// own user id for bearer callers, any key for API keys (service callers acting for their
// users), none for anonymous callers (docs/bucketing.md, "Who may use which targeting key").
func evalContext(ctx context.Context, c *api.EvaluationContext) flageval.EvalContext {
	var ec flageval.EvalContext // Attributes stay nil (read as empty) when there are none
	if c != nil {
		if len(c.AdditionalProperties) > 0 {
			ec.Attributes = make(map[string]any, len(c.AdditionalProperties)+len(reservedAttributes))
			for k, v := range c.AdditionalProperties {
				ec.Attributes[k] = v
			}
		}
		if c.TargetingKey != nil {
			ec.TargetingKey = *c.TargetingKey
		}
	}
	for _, k := range reservedAttributes {
		delete(ec.Attributes, k)
	}
	p, ok := auth.From(ctx)
	if !ok {
		ec.NoOverrides = true
		return ec
	}
	if ec.Attributes == nil {
		ec.Attributes = make(map[string]any, len(reservedAttributes))
	}
	if ec.TargetingKey == "" {
		ec.TargetingKey = p.UserID.String()
	}
	ec.NoOverrides = p.APIKeyID == nil && ec.TargetingKey != p.UserID.String()
	ec.Attributes["user_id"] = p.UserID.String()
	ec.Attributes["email"] = p.Email
	ec.Attributes["role"] = string(p.Role)
	return ec
}

// limitAnonymous counts an anonymous evaluation against its client IP (issue 21 #1): public
// evaluation needs no account, so the address is the only handle on a flood.
func (s *Server) limitAnonymous(ctx context.Context) error {
	if _, ok := auth.From(ctx); ok || !s.Config.RateLimitEnabled {
		return nil
	}
	rule := ratelimit.Rule{Name: "flag_eval_anon_ip", Limit: s.Config.FlagEvalAnonymousPerMinute, Window: time.Minute}
	// Fails open with Redis: evaluation keeps serving, admitted unlimited, logged and counted.
	return s.Limiter.CheckOpen(ctx, s.Log, rule, clientIP(ctx), "Too many anonymous flag evaluations from this address; retry later")
}

func (s *Server) EvaluateFlags(ctx context.Context, r api.EvaluateFlagsRequestObject) (api.EvaluateFlagsResponseObject, error) {
	if err := s.limitAnonymous(ctx); err != nil {
		return nil, err
	}
	ev := s.Flags.Evaluator(visibilityOf(ctx), s.FlagM)
	defer ev.Done()
	ec := evalContext(ctx, r.Body.Context)
	var results []flageval.Result
	if r.Body.Keys != nil {
		for _, k := range *r.Body.Keys {
			results = append(results, ev.Evaluate(k, ec))
		}
	} else {
		results = ev.All(ec)
	}
	out := make([]api.FlagEvaluation, len(results))
	for i, res := range results {
		v := api.AnyValue(res.Value)
		out[i] = api.FlagEvaluation{Key: res.Key, Value: &v, Variant: res.Variant, Reason: api.FlagEvaluationReason(res.Reason), Version: res.Version}
		if res.ErrorCode != "" {
			code := api.FlagEvaluationErrorCode(res.ErrorCode)
			out[i].ErrorCode = &code
		}
	}
	return api.EvaluateFlags200JSONResponse{Success: true, Metadata: meta(ctx), Timestamp: now(), Data: api.EvaluationResult{
		Revision: ev.Snapshot.Revision(), TargetingKey: ec.TargetingKey, Flags: out,
	}}, nil
}
