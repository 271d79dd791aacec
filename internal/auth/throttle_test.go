package auth

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestLoginDelayGrowsToTheCeiling(t *testing.T) {
	ceiling := 10 * time.Second
	var got []time.Duration
	for _, excess := range []int{-3, 0, 1, 2, 3, 6, 7, delaySteps + 5} {
		got = append(got, loginDelay(excess, ceiling))
	}
	ms := time.Millisecond
	require.Equal(t, []time.Duration{0, 0, 250 * ms, 500 * ms, time.Second, 8 * time.Second, ceiling, ceiling}, got)
}
