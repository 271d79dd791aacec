package auth

import (
	"context"
	"runtime"

	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/password"
)

// hashers bounds concurrent argon2id work: each check holds about 19 MiB and a core for tens
// of milliseconds, so a login flood queues here instead of exhausting memory.
type hashers struct {
	h     password.Hasher
	slots chan struct{}
}

func newHashers() hashers {
	return hashers{slots: make(chan struct{}, 2*runtime.GOMAXPROCS(0))}
}

func (b hashers) do(ctx context.Context, f func()) error {
	select {
	case b.slots <- struct{}{}:
	case <-ctx.Done():
		return apierr.Unavailable("The server is busy; try again shortly", ctx.Err())
	}
	defer func() { <-b.slots }()
	f()
	return nil
}

func (b hashers) Hash(ctx context.Context, pw string) (hash string, err error) {
	if werr := b.do(ctx, func() { hash, err = b.h.Hash(pw) }); werr != nil {
		return "", werr
	}
	return hash, err
}

func (b hashers) Verify(ctx context.Context, pw, encoded string) (ok bool, err error) {
	if werr := b.do(ctx, func() { ok, err = b.h.Verify(pw, encoded) }); werr != nil {
		return false, werr
	}
	return ok, err
}

func (b hashers) VerifyDummy(ctx context.Context, pw string) {
	_ = b.do(ctx, func() { b.h.VerifyDummy(pw) })
}

func (b hashers) NeedsRehash(encoded string) bool { return b.h.NeedsRehash(encoded) }
