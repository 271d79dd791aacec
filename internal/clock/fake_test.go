package clock_test

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/clock"
)

func TestFakeAdvanceAndAfter(t *testing.T) {
	t.Parallel()
	start := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	c := clock.NewFake(start)
	require.Equal(t, start, c.Now())

	soon, later := c.After(time.Minute), c.After(time.Hour)
	select {
	case <-c.After(0):
	default:
		t.Fatal("After(0) must fire at once")
	}
	c.Advance(time.Minute - time.Nanosecond)
	require.Empty(t, soon, "not yet due")
	c.Advance(time.Nanosecond)
	require.Equal(t, start.Add(time.Minute), <-soon)
	require.Empty(t, later)
	c.Advance(2 * time.Hour)
	require.Equal(t, start.Add(2*time.Hour+time.Minute), <-later)
	require.Equal(t, start.Add(2*time.Hour+time.Minute), c.Now())
}

func TestFakeConcurrentUse(t *testing.T) {
	t.Parallel()
	c := clock.NewFake(time.Unix(0, 0))
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				c.Advance(time.Second)
				_ = c.Now()
			}
		}()
	}
	wg.Wait()
	require.Equal(t, time.Unix(800, 0), c.Now())
}
