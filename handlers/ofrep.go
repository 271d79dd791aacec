package handlers

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strconv"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/flageval"
)

// OpenFeature Remote Evaluation Protocol: its own wire format (no envelope), error codes and
// reasons, so any OpenFeature SDK with an OFREP provider works unmodified.
//
// These are the busiest operations of the gateway. The strict methods below serve them when
// the fast path of ofrep_fast.go cannot (a strict middleware installed, a body it does not
// read); both share the evaluation (ofrepEvaluate, ofrepBulk) and answer the same bytes
// (TestOFREPWireMatchesEncoder).

func ofrepMetadata(res flageval.Result) *api.OfrepMetadata {
	return &api.OfrepMetadata{"version": res.Version, "category": flagCategory(res.Key)}
}

// flagCategory is the key's part before the first dot ("ui" of "ui.dark_mode").
func flagCategory(key string) string {
	for i := 0; i < len(key); i++ {
		if key[i] == '.' {
			return key[:i]
		}
	}
	return key
}

// ofrepEvaluate evaluates one flag for the caller: the result, or the answer when it is an
// OFREP error (404 FLAG_NOT_FOUND, 400 with the evaluation's error code).
func (s *Server) ofrepEvaluate(ctx context.Context, key string, c *api.EvaluationContext) (flageval.Result, api.OfrepEvaluateFlagResponseObject, error) {
	if err := s.limitAnonymous(ctx); err != nil {
		return flageval.Result{}, nil, err
	}
	ev := s.Flags.Evaluator(visibilityOf(ctx), s.FlagM)
	defer ev.Done()
	res := ev.Evaluate(key, evalContext(ctx, c))
	switch res.ErrorCode {
	case "":
		return res, nil, nil
	case flageval.CodeFlagNotFound:
		return res, api.OfrepEvaluateFlag404JSONResponse{Key: key, ErrorCode: api.OfrepFlagNotFoundErrorCodeFLAGNOTFOUND, ErrorDetails: ptrTo("flag " + key + " was not found")}, nil
	default:
		code := api.OfrepEvaluationFailureErrorCode(res.ErrorCode)
		if !code.Valid() {
			code = api.OfrepEvaluationFailureErrorCodeGENERAL
		}
		return res, api.OfrepEvaluateFlag400JSONResponse{Key: key, ErrorCode: code, ErrorDetails: ptrTo(res.ErrorMessage)}, nil
	}
}

func (s *Server) OfrepEvaluateFlag(ctx context.Context, r api.OfrepEvaluateFlagRequestObject) (api.OfrepEvaluateFlagResponseObject, error) {
	var c *api.EvaluationContext
	if r.Body != nil {
		c = r.Body.Context
	}
	res, failed, err := s.ofrepEvaluate(ctx, r.Key, c)
	if err != nil || failed != nil {
		return failed, err
	}
	return ofrepSuccess(r.Key, res), nil
}

// ofrepSuccess is the 200 answer of a single evaluation.
func ofrepSuccess(key string, res flageval.Result) api.OfrepEvaluateFlag200JSONResponse {
	v := api.AnyValue(res.Value)
	out := api.OfrepEvaluateFlag200JSONResponse{Key: key, Value: &v, Reason: string(res.Reason), Metadata: ofrepMetadata(res)}
	if res.Variant != "" {
		out.Variant = &res.Variant
	}
	return out
}

// bulkETag covers everything the bulk answer depends on: the flag revision, the caller's
// visibility level and the evaluation context (including server-derived attributes).
func bulkETag(revision int64, level flageval.Visibility, ec flageval.EvalContext) string {
	var buf [256]byte
	b := strconv.AppendInt(buf[:0], revision, 10)
	b = append(b, '|')
	b = append(b, level...)
	b = append(b, '|')
	b = strconv.AppendBool(b, ec.NoOverrides)
	b = append(b, '|')
	b = append(b, ec.TargetingKey...)
	b = append(b, '|')
	if len(ec.Attributes) == 0 {
		b = append(b, "{}"...) // what json.Marshal wrote for the (then never nil) empty map
	} else {
		attrs, _ := json.Marshal(ec.Attributes) // map keys are sorted: deterministic
		b = append(b, attrs...)
	}
	sum := sha256.Sum256(b)
	var out [26]byte
	out[0], out[25] = '"', '"'
	hex.Encode(out[1:25], sum[:12])
	return string(out[:])
}

// ofrepBulk evaluates every flag visible to the caller. notModified: the caller's
// If-None-Match already names this answer (304).
func (s *Server) ofrepBulk(ctx context.Context, ifNoneMatch *string, c *api.EvaluationContext) (results []flageval.Result, etag string, notModified bool, err error) {
	if err := s.limitAnonymous(ctx); err != nil {
		return nil, "", false, err
	}
	level := visibilityOf(ctx)
	ev := s.Flags.Evaluator(level, s.FlagM)
	defer ev.Done()
	ec := evalContext(ctx, c)
	etag = bulkETag(ev.Snapshot.Revision(), level, ec)
	if ifNoneMatch != nil && *ifNoneMatch == etag {
		return nil, etag, true, nil
	}
	return ev.All(ec), etag, false, nil
}

func (s *Server) OfrepEvaluateFlags(ctx context.Context, r api.OfrepEvaluateFlagsRequestObject) (api.OfrepEvaluateFlagsResponseObject, error) {
	var c *api.EvaluationContext
	if r.Body != nil {
		c = r.Body.Context
	}
	results, etag, notModified, err := s.ofrepBulk(ctx, r.Params.IfNoneMatch, c)
	switch {
	case err != nil:
		return nil, err
	case notModified:
		return api.OfrepEvaluateFlags304Response{}, nil
	}
	return ofrepBulkAnswer(results, etag), nil
}

// ofrepBulkAnswer is the 200 answer of a bulk evaluation.
func ofrepBulkAnswer(results []flageval.Result, etag string) api.OfrepEvaluateFlags200JSONResponse {
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
	return api.OfrepEvaluateFlags200JSONResponse{
		Body:    api.OfrepBulkResponse{Flags: items, EventStreams: ofrepEventStreams()},
		Headers: api.OfrepEvaluateFlags200ResponseHeaders{ETag: &etag},
	}
}

// ofrepEventStreams is where OFREP providers get change notifications instead of polling.
func ofrepEventStreams() *[]api.OfrepEventStream {
	return &[]api.OfrepEventStream{{Type: api.Sse, InactivityDelaySec: ptrTo(120),
		Endpoint: &struct {
			RequestUri string `json:"requestUri"`
		}{RequestUri: "/api/flags/stream?protocol=ofrep"}}}
}
