package handlers

import (
	"context"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/flageval"
	"github.com/voiceassist/gateway/internal/flagstore"
)

// visibilityOf is the highest flag visibility the caller may see.
func visibilityOf(ctx context.Context) flageval.Visibility {
	p, _ := auth.From(ctx)
	return flagstore.VisibilityFor(p)
}

// evalContext builds the evaluation context. For authenticated callers the targeting key
// defaults to the user id, and the attributes user_id, email and role come from the
// account (a caller cannot claim another role to match a rule).
func evalContext(ctx context.Context, c *api.EvaluationContext) flageval.EvalContext {
	ec := flageval.EvalContext{Attributes: map[string]any{}}
	if c != nil {
		for k, v := range c.AdditionalProperties {
			ec.Attributes[k] = v
		}
		if c.TargetingKey != nil {
			ec.TargetingKey = *c.TargetingKey
		}
	}
	if p, ok := auth.From(ctx); ok {
		if ec.TargetingKey == "" {
			ec.TargetingKey = p.UserID.String()
		}
		ec.Attributes["user_id"] = p.UserID.String()
		ec.Attributes["email"] = p.Email
		ec.Attributes["role"] = string(p.Role)
	}
	return ec
}

func (s *Server) EvaluateFlags(ctx context.Context, r api.EvaluateFlagsRequestObject) (api.EvaluateFlagsResponseObject, error) {
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
