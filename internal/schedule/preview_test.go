package schedule

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/flageval"
)

func vs(ws ...float64) []flageval.Variant {
	out := make([]flageval.Variant, len(ws))
	for i, w := range ws {
		out[i] = flageval.Variant{ID: fmt.Sprintf("v%d", i), Weight: w}
	}
	return out
}

func TestMovedBuckets(t *testing.T) {
	t.Parallel()
	require.Equal(t, int64(10000), MovedBuckets(vs(50, 50), vs(40, 60)))
	require.Equal(t, int64(0), MovedBuckets(vs(20, 40, 40), vs(20, 40, 40)))
	require.Equal(t, int64(20000), MovedBuckets(vs(20, 40, 40), vs(20, 20, 60)))
	require.Equal(t, int64(20000), MovedBuckets(vs(20, 40, 40), vs(40, 20, 40)), "[20000,40000) moves from B to A")
	require.Equal(t, int64(1), MovedBuckets(vs(33.333, 33.333, 33.334), vs(33.334, 33.332, 33.334)))

	// The count agrees with bucketing real units: the share of 20,000 units that change.
	before, after := vs(20, 40, 40), vs(30, 30, 40)
	moved := 0
	variantOf := func(layout []flageval.Variant, b uint32) string {
		var pos int64
		for _, v := range layout {
			w, _ := flageval.Thousandths(v.Weight)
			if int64(b) < pos+w {
				return v.ID
			}
			pos += w
		}
		return ""
	}
	for i := 0; i < 20000; i++ {
		b := flageval.Bucket(flageval.PurposeVariant, "k", "k", fmt.Sprint("u", i))
		if variantOf(before, b) != variantOf(after, b) {
			moved++
		}
	}
	require.InDelta(t, float64(MovedBuckets(before, after))/flageval.Buckets, float64(moved)/20000, 0.01)
}
