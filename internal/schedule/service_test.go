package schedule_test

import (
	"context"
	"log/slog"
	"net/http"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/apierr/apierrtest"
	"github.com/voiceassist/gateway/internal/dbtest"
	"github.com/voiceassist/gateway/internal/flagstore"
	"github.com/voiceassist/gateway/internal/schedule"
)

func newService(t *testing.T) (*schedule.Service, *pgxpool.Pool) {
	t.Helper()
	pool := dbtest.New(t)
	log := slog.New(slog.DiscardHandler)
	flags, err := flagstore.New(context.Background(), pool, log, time.Hour, nil)
	require.NoError(t, err)
	return schedule.New(pool, flags, log, prometheus.NewRegistry(), time.Hour, nil), pool
}

// newChange inserts a pending change of key at at, moving variant "b" to 60%. Rows need no
// flag (there is no foreign key), which is all listing looks at.
func newChange(t *testing.T, pool *pgxpool.Pool, key string, at time.Time) db.ScheduledChange {
	t.Helper()
	c, err := db.New(pool).InsertScheduledChange(context.Background(), db.InsertScheduledChangeParams{
		FlagKey: key, ScheduledAt: at, TimezoneID: "UTC", Changes: []byte(`{"b":60}`), CreatedByEmail: "test@example.org",
	})
	require.NoError(t, err)
	return c
}

func TestListPagesInTimeOrder(t *testing.T) {
	t.Parallel()
	s, pool := newService(t)
	ctx := context.Background()
	base := time.Now().Add(24 * time.Hour).UTC().Truncate(time.Second)
	var want []uuid.UUID
	for i := range 5 {
		want = append(want, newChange(t, pool, "experiment.checkout", base.Add(time.Duration(i)*time.Minute)).ID)
	}
	newChange(t, pool, "experiment.other", base)

	key := "experiment.checkout"
	var got []uuid.UUID
	cursor, pages := "", 0
	for {
		cs, next, err := s.List(ctx, schedule.Filter{FlagKey: &key, Limit: 2, Cursor: cursor})
		require.NoError(t, err)
		for _, c := range cs {
			require.Equal(t, key, c.FlagKey)
			require.Equal(t, map[string]float64{"b": 60}, c.Weights)
			got = append(got, c.ID)
		}
		pages++
		if next == "" {
			break
		}
		cursor = next
	}
	require.Equal(t, want, got)
	require.Equal(t, 3, pages)

	_, _, err := s.List(ctx, schedule.Filter{Limit: 2, Cursor: "not-a-cursor"})
	apierrtest.Require(t, err, http.StatusBadRequest, "VALIDATION_ERROR", "cursor")
}

func TestGet(t *testing.T) {
	t.Parallel()
	s, pool := newService(t)
	ctx := context.Background()
	row := newChange(t, pool, "experiment.checkout", time.Now().Add(time.Hour))

	c, err := s.Get(ctx, "experiment.checkout", row.ID)
	require.NoError(t, err)
	require.Equal(t, row.ID, c.ID)
	require.Equal(t, "pending", c.Status)
	require.Equal(t, map[string]float64{"b": 60}, c.Weights)
	require.Nil(t, c.AppliedAt)
	require.Nil(t, c.AppliedVersion)

	_, err = s.Get(ctx, "experiment.other", row.ID)
	apierrtest.Require(t, err, http.StatusNotFound, "NOT_FOUND", "")
}
