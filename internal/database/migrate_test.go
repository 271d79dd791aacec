package database_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/database"
	"github.com/voiceassist/gateway/internal/dbtest"
)

// "up" on a current database returns at once (it asks before taking goose's lock), and still
// applies what is pending: the newest migration rolled back comes back.
func TestMigrateUpAppliesOnlyWhatIsPending(t *testing.T) {
	ctx := t.Context()
	pool := dbtest.New(t)
	newest, err := database.Version(ctx, pool)
	require.NoError(t, err)

	var out strings.Builder
	require.NoError(t, database.Migrate(ctx, pool, "up", &out))
	require.Empty(t, out.String(), "nothing is pending on a migrated database")

	require.NoError(t, database.Migrate(ctx, pool, "down", &out))
	v, err := database.Version(ctx, pool)
	require.NoError(t, err)
	require.Less(t, v, newest)

	out.Reset()
	require.NoError(t, database.Migrate(ctx, pool, "up", &out))
	require.Contains(t, out.String(), "applied ")
	v, err = database.Version(ctx, pool)
	require.NoError(t, err)
	require.Equal(t, newest, v)
}
