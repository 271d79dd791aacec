package schedule

import (
	"github.com/voiceassist/gateway/internal/flag"
)

// MovedBuckets counts the buckets (of flag.Buckets) whose variant differs between two
// weight layouts. Variants take consecutive ranges in their stored order, so this is exact:
// the share of users (within the rollout) whose variant changes.
func MovedBuckets(before, after []flag.Variant) int64 {
	type rng struct {
		id         string
		start, end int64
	}
	layout := func(vs []flag.Variant) []rng {
		var out []rng
		var pos int64
		for _, v := range vs {
			w, _ := flag.Thousandths(v.Weight)
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
	return flag.Buckets - same
}

// Apply returns variants with the weights of changes (variant id -> weight) applied.
func Apply(vs []flag.Variant, changes map[string]float64) []flag.Variant {
	out := make([]flag.Variant, len(vs))
	for i, v := range vs {
		out[i] = v
		if w, ok := changes[v.ID]; ok {
			out[i].Weight = w
		}
	}
	return out
}
