package cache_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/cache"
	"github.com/voiceassist/gateway/internal/dbtest"
)

// Clear and Invalidate through Admin remove entries and leave one audit row each; a bad
// namespace is the caller's error (422 naming the field) and leaves none.
func TestAdminAuditsClearAndInvalidate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	c := cache.New(nil, cache.Config{}) // L1 only: the audit is what is tested
	adm := cache.NewAdmin(c, pool)
	actor := audit.Actor{Email: "ops@example.com", Role: "admin"}

	c.Set(ctx, "kb.search", "a", []byte("1"), time.Minute)
	c.Set(ctx, "kb.search", "b", []byte("2"), time.Minute)
	c.Set(ctx, "embed", "a", []byte("3"), time.Minute)

	n, err := adm.Invalidate(ctx, actor, "kb.search:a")
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
	n, err = adm.Clear(ctx, actor, "kb.search")
	require.NoError(t, err)
	require.Equal(t, int64(1), n)
	_, ok := c.Get(ctx, "embed", "a")
	require.True(t, ok)

	_, err = adm.Clear(ctx, actor, "Bad NS")
	ae := apierr.From(err)
	require.Equal(t, http.StatusUnprocessableEntity, ae.Status, "%v", err)

	rows, _, err := audit.List(ctx, pool, audit.Filter{ResourceType: "cache"})
	require.NoError(t, err)
	require.Len(t, rows, 2)
	require.Equal(t, "cache.cleared", rows[0].Action)
	require.Equal(t, "kb.search", rows[0].ResourceID)
	require.Equal(t, json.Number("1"), rows[0].Details["removed"])
	require.Equal(t, "cache.invalidated", rows[1].Action)
	require.Equal(t, "kb.search:a", rows[1].ResourceID)
	require.Equal(t, "ops@example.com", rows[1].Actor.Email)
}
