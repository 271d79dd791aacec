package handlers

import (
	"context"
	"encoding/json"
	"time"

	"github.com/voiceassist/gateway/gen/api"
	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/auth"
	"github.com/voiceassist/gateway/internal/logging"
)

// Helpers every handler file uses to build envelopes and pass the caller on.

// now is the envelope timestamp (UTC).
func now() time.Time { return time.Now().UTC() }

// meta is the envelope metadata of the request in ctx.
func meta(ctx context.Context) api.ResponseMeta {
	return api.ResponseMeta{RequestId: logging.RequestID(ctx)}
}

// The API's flag shapes and flagstore.Doc share field names, so conversions go through JSON:
// one mapping to keep in step with the contract instead of two hand-written ones.
func convert(in, out any) error {
	raw, err := json.Marshal(in)
	if err != nil {
		return err
	}
	return json.Unmarshal(raw, out)
}

// actorOf is the caller as the audit log records it (empty when anonymous).
func actorOf(ctx context.Context) audit.Actor {
	p, ok := auth.From(ctx)
	if !ok {
		return audit.Actor{}
	}
	id := p.UserID
	return audit.Actor{ID: &id, Email: p.Email, Role: string(p.Role)}
}

func ptrTo[T any](v T) *T { return &v }

// valueOf is *p, or the zero value when an optional parameter is absent.
func valueOf[T any](p *T) T {
	if p == nil {
		var zero T
		return zero
	}
	return *p
}

// stringOf converts an optional enum parameter to the *string domain filters take.
func stringOf[T ~string](p *T) *string {
	if p == nil {
		return nil
	}
	s := string(*p)
	return &s
}

// mapAll maps domain items to their API shape (an empty list stays [], never null).
func mapAll[T, U any](in []T, f func(T) U) []U {
	out := make([]U, len(in))
	for i, v := range in {
		out[i] = f(v)
	}
	return out
}

// pageMeta is the envelope metadata of a list page; next is "" on the last page.
func pageMeta(ctx context.Context, limit int, next string) api.ResponseMeta {
	m := meta(ctx)
	m.Pagination = page(limit, next)
	return m
}
