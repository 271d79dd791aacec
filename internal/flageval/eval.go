package flageval

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"reflect"
	"slices"
	"time"
)

// Error messages of evaluation results.
const (
	msgFlagNotFound        = "flag not found"
	msgTargetingKeyMissing = "a targeting key is required to evaluate this flag"
)

// ValueType is the JSON type of r.Value: "boolean", "string", "number", "object",
// "array" or "null" (OFREP type checks).
func (r Result) ValueType() string {
	switch r.Value.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case json.Number:
		return "number"
	}
	if _, ok := toFloat(r.Value); ok {
		return "number"
	}
	switch reflect.ValueOf(r.Value).Kind() {
	case reflect.Map, reflect.Struct:
		return "object"
	case reflect.Slice, reflect.Array:
		return "array"
	case reflect.Float32, reflect.Float64: // NaN / Inf: not JSON, but still a number
		return "number"
	}
	return "object"
}

// compiledFlag is a validated flag with everything evaluation needs precomputed.
type compiledFlag struct {
	flag    Flag
	rollout uint32 // rollout percentage in thousandths (buckets); Buckets = everyone
	rules   []compiledRule
	// variantEnds[i] is the exclusive upper bucket of variant i's range; ranges are
	// consecutive in stored order.
	variantEnds []uint32
	variantIdx  map[string]int
	// Bucketing-input prefixes "v1␟purpose␟salt␟key␟" for the rollout and variant purposes.
	rolloutPrefix, variantPrefix []byte
	overrides                    map[string]compiledOverride
}

type compiledRule struct {
	conds   []compiledCondition
	value   any
	variant string
}

type compiledOverride struct {
	value     any
	variant   string
	expiresAt time.Time
	expires   bool
}

func bucketPrefix(purpose, salt, key string) []byte {
	b := make([]byte, 0, len(purpose)+len(salt)+len(key)+6)
	b = append(b, "v1\x1f"...)
	b = append(b, purpose...)
	b = append(b, 0x1F)
	b = append(b, salt...)
	b = append(b, 0x1F)
	b = append(b, key...)
	b = append(b, 0x1F)
	return b
}

// fastBucket equals Bucket(purpose, salt, key, unitID) for the prefix built by
// bucketPrefix, hashing from a stack buffer so it does not allocate for ordinary ids.
func fastBucket(prefix []byte, unitID string) uint32 {
	var buf [512]byte
	var sum [sha256.Size]byte
	if len(prefix)+len(unitID) <= len(buf) {
		n := copy(buf[:], prefix)
		n += copy(buf[n:], unitID)
		sum = sha256.Sum256(buf[:n])
	} else {
		sum = sha256.Sum256(append(prefix[:len(prefix):len(prefix)], unitID...))
	}
	return uint32(binary.BigEndian.Uint64(sum[:8]) % Buckets)
}

// compileFlag precomputes f (which must validate) for evaluation.
func compileFlag(f Flag) (*compiledFlag, error) {
	cf := &compiledFlag{flag: f}
	pct, _ := Thousandths(f.RolloutPercentage)
	cf.rollout = uint32(pct)
	salt := f.EffectiveSalt()
	cf.rolloutPrefix = bucketPrefix(PurposeRollout, salt, f.Key)
	cf.variantPrefix = bucketPrefix(PurposeVariant, salt, f.Key)
	if f.Type == TypeMultivariate {
		cf.variantEnds = make([]uint32, len(f.Variants))
		cf.variantIdx = make(map[string]int, len(f.Variants))
		var end int64
		for i, v := range f.Variants {
			w, _ := Thousandths(v.Weight)
			end += w
			cf.variantEnds[i] = uint32(end)
			cf.variantIdx[v.ID] = i
		}
	}
	order := make([]int, len(f.Rules))
	for i := range order {
		order[i] = i
	}
	// Stable: equal priorities keep their stored order.
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(f.Rules[a].Priority, f.Rules[b].Priority) })
	cf.rules = make([]compiledRule, 0, len(f.Rules))
	for _, i := range order {
		r := f.Rules[i]
		cr := compiledRule{value: r.Value, variant: r.Variant}
		if f.Type == TypeMultivariate {
			cr.value = f.Variants[cf.variantIdx[r.Variant]].Value
		}
		cr.conds = make([]compiledCondition, len(r.Conditions))
		for j, c := range r.Conditions {
			cc, err := compileCondition(c)
			if err != nil {
				return nil, err
			}
			cr.conds[j] = cc
		}
		cf.rules = append(cf.rules, cr)
	}
	return cf, nil
}

func (cf *compiledFlag) result(v any, variant string, reason Reason) Result {
	return Result{Key: cf.flag.Key, Value: v, Variant: variant, Reason: reason,
		Version: cf.flag.Version, Type: cf.flag.Type}
}

func (cf *compiledFlag) errorResult(code ErrorCode, msg string) Result {
	r := cf.result(cf.flag.DefaultValue, "", ReasonError)
	r.ErrorCode, r.ErrorMessage = code, msg
	return r
}

// evaluate runs DESIGN §6 steps 2-7 (the caller handles a missing or archived flag).
func (cf *compiledFlag) evaluate(ctx *EvalContext, now func() time.Time) Result {
	f := &cf.flag
	// 2. Disabled.
	if !f.Enabled {
		return cf.result(f.DefaultValue, "", ReasonDisabled)
	}
	// 3. Per-user override.
	if ctx.TargetingKey != "" && !ctx.NoOverrides && cf.overrides != nil {
		if o, ok := cf.overrides[ctx.TargetingKey]; ok && (!o.expires || now().Before(o.expiresAt)) {
			return cf.result(o.value, o.variant, ReasonTargetingMatch)
		}
	}
	// 4. First matching rule (sorted by priority, then position).
rules:
	for i := range cf.rules {
		r := &cf.rules[i]
		for j := range r.conds {
			if !r.conds[j].match(ctx) {
				continue rules
			}
		}
		return cf.result(r.value, r.variant, ReasonTargetingMatch)
	}
	// 5. Rollout.
	split := false
	if cf.rollout < Buckets {
		if ctx.TargetingKey == "" {
			return cf.errorResult(CodeTargetingKeyMissing, msgTargetingKeyMissing)
		}
		if fastBucket(cf.rolloutPrefix, ctx.TargetingKey) >= cf.rollout {
			return cf.result(f.DefaultValue, "", ReasonDefault)
		}
		split = true
	}
	// 6. Variant split.
	if f.Type == TypeMultivariate {
		if ctx.TargetingKey == "" {
			return cf.errorResult(CodeTargetingKeyMissing, msgTargetingKeyMissing)
		}
		b := fastBucket(cf.variantPrefix, ctx.TargetingKey)
		for i, end := range cf.variantEnds {
			if b < end {
				v := &f.Variants[i]
				return cf.result(v.Value, v.ID, ReasonSplit)
			}
		}
		// Unreachable for a validated flag (the ranges cover all buckets).
		return cf.errorResult(CodeGeneral, "variant weights do not cover the bucket space")
	}
	// 7. Static value.
	if split {
		return cf.result(f.Value, "", ReasonSplit)
	}
	return cf.result(f.Value, "", ReasonStatic)
}
