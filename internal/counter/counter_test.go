package counter

import (
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"
)

func TestSetDrainRestore(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 1, 23, 59, 0, 0, time.UTC)
	s := New(func() time.Time { return now })
	u := uuid.New()
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 1000 {
				s.Add(FlagEvaluations, 1)
				s.Active(u)
			}
		}()
	}
	wg.Wait()
	now = now.Add(2 * time.Minute) // the next day
	s.Add(Errors, 2)

	d := s.Drain()
	day1 := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	day2 := day1.AddDate(0, 0, 1)
	require.Equal(t, int64(8000), d.Counts[Key{day1, FlagEvaluations}])
	require.Equal(t, int64(2), d.Counts[Key{day2, Errors}])
	require.Equal(t, []uuid.UUID{u}, d.Users[day1])
	require.True(t, s.Drain().Empty())

	s.Add(Errors, 1)
	s.Restore(d)
	d2 := s.Drain()
	require.Equal(t, int64(3), d2.Counts[Key{day2, Errors}])
	require.Equal(t, int64(8000), d2.Counts[Key{day1, FlagEvaluations}])
}

func TestNilSet(t *testing.T) {
	t.Parallel()
	var s *Set
	s.Add(Requests, 1)
	s.Active(uuid.New())
	s.Restore(Drained{})
	require.True(t, s.Drain().Empty())
}
