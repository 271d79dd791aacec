package schedule

import (
	"github.com/voiceassist/gateway/internal/flageval"
)

// MovedBuckets counts the buckets (of flageval.Buckets) whose variant differs between two
// weight layouts. Variants take consecutive ranges in their stored order, so this is exact:
// the share of users (within the rollout) whose variant changes.
func MovedBuckets(before, after []flageval.Variant) int64 {
	type rng struct {
		id         string
		start, end int64
	}
	layout := func(vs []flageval.Variant) []rng {
		var out []rng
		var pos int64
		for _, v := range vs {
			w, _ := flageval.Thousandths(v.Weight)
			out = append(out, rng{v.ID, pos, pos + w})
			pos += w
		}
		return out
	}
	a, b := layout(before), layout(after)
	var same int64
	for _, x := range a {
		for _, y := range b {
			if x.id != y.id {
				continue
			}
			lo, hi := max(x.start, y.start), min(x.end, y.end)
			if hi > lo {
				same += hi - lo
			}
		}
	}
	return flageval.Buckets - same
}

// Apply returns variants with the weights of changes (variant id -> weight) applied.
func Apply(vs []flageval.Variant, changes map[string]float64) []flageval.Variant {
	out := make([]flageval.Variant, len(vs))
	for i, v := range vs {
		out[i] = v
		if w, ok := changes[v.ID]; ok {
			out[i].Weight = w
		}
	}
	return out
}
