package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"
	"strings"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/flageval"
)

// OpenFeature Remote Evaluation Protocol: its own wire format (no envelope), error codes and
// reasons, so any OpenFeature SDK with an OFREP provider works unmodified.

func ofrepMetadata(res flageval.Result) *api.OfrepMetadata {
	category, _, _ := strings.Cut(res.Key, ".")
	return &api.OfrepMetadata{"version": res.Version, "category": category}
}

func (s *Server) OfrepEvaluateFlag(ctx context.Context, r api.OfrepEvaluateFlagRequestObject) (api.OfrepEvaluateFlagResponseObject, error) {
	if err := s.limitAnonymous(ctx); err != nil {
		return nil, err
	}
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
	h.Write([]byte(strconv.FormatInt(revision, 10) + "|" + string(level) + "|" + strconv.FormatBool(ec.NoOverrides) + "|" + ec.TargetingKey + "|"))
	attrs, _ := json.Marshal(ec.Attributes) // map keys are sorted: deterministic
	h.Write(attrs)
	return `"` + hex.EncodeToString(h.Sum(nil)[:12]) + `"`
}

func (s *Server) OfrepEvaluateFlags(ctx context.Context, r api.OfrepEvaluateFlagsRequestObject) (api.OfrepEvaluateFlagsResponseObject, error) {
	if err := s.limitAnonymous(ctx); err != nil {
		return nil, err
	}
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
