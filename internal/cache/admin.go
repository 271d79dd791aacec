package cache

import (
	"context"
	"errors"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/audit"
)

// Admin is the operators' side of the cache: clears and invalidations, each recorded in
// the audit log after it took effect.
type Admin struct {
	cache *Cache
	pool  *pgxpool.Pool // of the audit log
}

// NewAdmin audits c's administrative operations in the audit log on pool.
func NewAdmin(c *Cache, pool *pgxpool.Pool) *Admin { return &Admin{cache: c, pool: pool} }

// Clear removes every entry of namespace ns ("" for all) and records "cache.cleared".
func (a *Admin) Clear(ctx context.Context, actor audit.Actor, ns string) (int64, error) {
	return a.audited(ctx, actor, "cache.cleared", "namespace", ns, a.cache.Clear)
}

// Invalidate removes the entries matching pattern and records "cache.invalidated".
func (a *Admin) Invalidate(ctx context.Context, actor audit.Actor, pattern string) (int64, error) {
	return a.audited(ctx, actor, "cache.invalidated", "pattern", pattern, a.cache.Invalidate)
}

// audited runs op on arg and records action with arg (under argName) and the count removed.
func (a *Admin) audited(ctx context.Context, actor audit.Actor, action, argName, arg string,
	op func(context.Context, string) (int64, error)) (int64, error) {
	n, err := op(ctx, arg)
	if err != nil {
		return 0, adminError(err)
	}
	return n, audit.RecordNow(ctx, a.pool, audit.Entry{Actor: actor, Action: action, ResourceType: "cache",
		ResourceID: arg, Success: true, Details: map[string]any{argName: arg, "removed": n}})
}

// adminError classifies a failed clear or invalidation: a bad namespace is the caller's,
// anything else is Redis being unavailable.
func adminError(err error) error {
	if errors.Is(err, ErrInvalidNamespace) {
		return apierr.Invalid("namespace", err.Error())
	}
	return apierr.Unavailable("The cache could not be cleared: Redis is unavailable", err)
}
