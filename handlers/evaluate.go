package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/flageval"
)

// visibilityOf is the highest flag visibility the caller may see: public for anonymous
// callers, authenticated for users, admin for viewers and above, internal only for API keys
// of admins (service-to-service callers).
func visibilityOf(ctx context.Context) flageval.Visibility {
	p, ok := auth.From(ctx)
	switch {
	case !ok:
		return flageval.VisibilityPublic
	case p.APIKeyID != nil && p.Role.AtLeast(auth.RoleAdmin):
		return flageval.VisibilityInternal
	case p.Role.AtLeast(auth.RoleViewer):
		return flageval.VisibilityAdmin
	default:
		return flageval.VisibilityAuthenticated
	}
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

func ofrepMetadata(res flageval.Result) *api.OfrepMetadata {
	category, _, _ := strings.Cut(res.Key, ".")
	return &api.OfrepMetadata{"version": res.Version, "category": category}
}

func (s *Server) OfrepEvaluateFlag(ctx context.Context, r api.OfrepEvaluateFlagRequestObject) (api.OfrepEvaluateFlagResponseObject, error) {
	ev := s.Flags.Evaluator(visibilityOf(ctx), s.FlagM)
	defer ev.Done()
	var c *api.EvaluationContext
	if r.Body != nil {
		c = r.Body.Context
	}
	res := ev.Evaluate(r.Key, evalContext(ctx, c))
	switch res.ErrorCode {
	case "":
	case flageval.CodeFlagNotFound:
		return api.OfrepEvaluateFlag404JSONResponse{Key: r.Key, ErrorCode: api.OfrepFlagNotFoundErrorCodeFLAGNOTFOUND, ErrorDetails: ptrTo("flag " + r.Key + " was not found")}, nil
	default:
		code := api.OfrepEvaluationFailureErrorCode(res.ErrorCode)
		if !code.Valid() {
			code = api.OfrepEvaluationFailureErrorCodeGENERAL
		}
		return api.OfrepEvaluateFlag400JSONResponse{Key: r.Key, ErrorCode: code, ErrorDetails: ptrTo(res.ErrorMessage)}, nil
	}
	v := api.AnyValue(res.Value)
	out := api.OfrepEvaluateFlag200JSONResponse{Key: r.Key, Value: &v, Reason: string(res.Reason), Metadata: ofrepMetadata(res)}
	if res.Variant != "" {
		out.Variant = &res.Variant
	}
	return out, nil
}

// bulkETag covers everything the bulk answer depends on: the flag revision, the caller's
// visibility level and the evaluation context (including server-derived attributes).
func bulkETag(revision int64, level flageval.Visibility, ec flageval.EvalContext) string {
	h := sha256.New()
	h.Write([]byte(strconv.FormatInt(revision, 10) + "|" + string(level) + "|" + ec.TargetingKey + "|"))
	attrs, _ := json.Marshal(ec.Attributes) // map keys are sorted: deterministic
	h.Write(attrs)
	return `"` + hex.EncodeToString(h.Sum(nil)[:12]) + `"`
}

func (s *Server) OfrepEvaluateFlags(ctx context.Context, r api.OfrepEvaluateFlagsRequestObject) (api.OfrepEvaluateFlagsResponseObject, error) {
	level := visibilityOf(ctx)
	ev := s.Flags.Evaluator(level, s.FlagM)
	defer ev.Done()
	var c *api.EvaluationContext
	if r.Body != nil {
		c = r.Body.Context
	}
	ec := evalContext(ctx, c)
	etag := bulkETag(ev.Snapshot.Revision(), level, ec)
	if r.Params.IfNoneMatch != nil && *r.Params.IfNoneMatch == etag {
		return api.OfrepEvaluateFlags304Response{}, nil
	}
	results := ev.All(ec)
	items := make([]api.OfrepBulkItem, len(results))
	for i, res := range results {
		it := api.OfrepBulkItem{Key: res.Key, Metadata: ofrepMetadata(res)}
		if res.ErrorCode != "" {
			it.ErrorCode = ptrTo(string(res.ErrorCode))
			it.ErrorDetails = ptrTo(res.ErrorMessage)
		} else {
			v := api.AnyValue(res.Value)
			it.Value, it.Reason = &v, ptrTo(string(res.Reason))
			if res.Variant != "" {
				it.Variant = ptrTo(res.Variant)
			}
		}
		items[i] = it
	}
	streams := []api.OfrepEventStream{{Type: api.Sse, InactivityDelaySec: ptrTo(120),
		Endpoint: &struct {
			RequestUri string `json:"requestUri"`
		}{RequestUri: "/api/flags/stream?protocol=ofrep"}}}
	return api.OfrepEvaluateFlags200JSONResponse{
		Body:    api.OfrepBulkResponse{Flags: items, EventStreams: &streams},
		Headers: api.OfrepEvaluateFlags200ResponseHeaders{ETag: &etag},
	}, nil
}
