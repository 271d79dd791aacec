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
