package flageval

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"strings"
)

// Condition operators.
const (
	OpEquals     = "equals"
	OpNotEquals  = "not_equals"
	OpIn         = "in"
	OpNotIn      = "not_in"
	OpContains   = "contains"
	OpStartsWith = "starts_with"
	OpEndsWith   = "ends_with"
	OpRegex      = "regex"
	OpGT         = "gt"
	OpGTE        = "gte"
	OpLT         = "lt"
	OpLTE        = "lte"
	OpSemVerEQ   = "semver_eq"
	OpSemVerGT   = "semver_gt"
	OpSemVerGTE  = "semver_gte"
	OpSemVerLT   = "semver_lt"
	OpSemVerLTE  = "semver_lte"
)

// AttrTargetingKey is the attribute name that refers to EvalContext.TargetingKey.
const AttrTargetingKey = "targetingKey"

// Limits on condition values.
const (
	MaxInItems     = 1000
	MaxRegexLength = 256
)

type opCode uint8

const (
	opInvalid opCode = iota
	opEquals
	opNotEquals
	opIn
	opNotIn
	opContains
	opStartsWith
	opEndsWith
	opRegex
	opGT
	opGTE
	opLT
	opLTE
	opSemVerEQ
	opSemVerGT
	opSemVerGTE
	opSemVerLT
	opSemVerLTE
)

var opCodes = map[string]opCode{
	OpEquals: opEquals, OpNotEquals: opNotEquals, OpIn: opIn, OpNotIn: opNotIn,
	OpContains: opContains, OpStartsWith: opStartsWith, OpEndsWith: opEndsWith, OpRegex: opRegex,
	OpGT: opGT, OpGTE: opGTE, OpLT: opLT, OpLTE: opLTE,
	OpSemVerEQ: opSemVerEQ, OpSemVerGT: opSemVerGT, OpSemVerGTE: opSemVerGTE,
	OpSemVerLT: opSemVerLT, OpSemVerLTE: opSemVerLTE,
}

// Operators lists every operator, in documentation order.
func Operators() []string {
	return []string{
		OpEquals, OpNotEquals, OpIn, OpNotIn, OpContains, OpStartsWith, OpEndsWith, OpRegex,
		OpGT, OpGTE, OpLT, OpLTE, OpSemVerEQ, OpSemVerGT, OpSemVerGTE, OpSemVerLT, OpSemVerLTE,
	}
}

// ValidOperator reports whether op is a known operator.
func ValidOperator(op string) bool { return opCodes[op] != opInvalid }

// scalar is a JSON scalar in comparable form; building one never allocates.
type scalarKind uint8

const (
	kindOther scalarKind = iota // null, object, array, or a non-JSON Go value
	kindString
	kindNumber
	kindBool
)

type scalar struct {
	kind scalarKind
	s    string
	n    float64
	b    bool
}

func toScalar(v any) scalar {
	switch x := v.(type) {
	case string:
		return scalar{kind: kindString, s: x}
	case bool:
		return scalar{kind: kindBool, b: x}
	}
	if f, ok := toFloat(v); ok {
		return scalar{kind: kindNumber, n: f}
	}
	return scalar{}
}

func (a scalar) equal(b scalar) bool {
	if a.kind != b.kind {
		return false
	}
	switch a.kind {
	case kindString:
		return a.s == b.s
	case kindNumber:
		return a.n == b.n
	case kindBool:
		return a.b == b.b
	}
	return false
}

// toFloat converts any Go number (and json.Number) to a finite float64.
func toFloat(v any) (float64, bool) {
	var f float64
	switch x := v.(type) {
	case float64:
		f = x
	case float32:
		f = float64(x)
	case int:
		f = float64(x)
	case int8:
		f = float64(x)
	case int16:
		f = float64(x)
	case int32:
		f = float64(x)
	case int64:
		f = float64(x)
	case uint:
		f = float64(x)
	case uint8:
		f = float64(x)
	case uint16:
		f = float64(x)
	case uint32:
		f = float64(x)
	case uint64:
		f = float64(x)
	case json.Number:
		var err error
		if f, err = x.Float64(); err != nil {
			return 0, false
		}
	default:
		return 0, false
	}
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, false
	}
	return f, true
}

func isScalar(v any) bool { return toScalar(v).kind != kindOther }

// sliceItems returns the elements of any Go slice or array (for in / not_in values).
func sliceItems(v any) ([]any, bool) {
	if items, ok := v.([]any); ok {
		return items, true
	}
	if v == nil {
		return nil, false
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Slice && rv.Kind() != reflect.Array {
		return nil, false
	}
	items := make([]any, rv.Len())
	for i := range items {
		items[i] = rv.Index(i).Interface()
	}
	return items, true
}

// compiledCondition is a validated condition ready for allocation-free matching.
type compiledCondition struct {
	attr   string
	tk     bool // the attribute is the targeting key
	op     opCode
	val    scalar // equals / not_equals / contains / starts_with / ends_with / gt..lte
	set    scalarSet
	re     *regexp.Regexp
	semver SemVer
}

type scalarSet struct {
	strs              map[string]struct{}
	nums              map[float64]struct{}
	hasTrue, hasFalse bool
}

func (s *scalarSet) contains(v scalar) bool {
	switch v.kind {
	case kindString:
		_, ok := s.strs[v.s]
		return ok
	case kindNumber:
		_, ok := s.nums[v.n]
		return ok
	case kindBool:
		if v.b {
			return s.hasTrue
		}
		return s.hasFalse
	}
	return false
}

// checkConditionValue reports why value does not fit op ("" when it does).
func checkConditionValue(op string, value any) string {
	switch opCodes[op] {
	case opInvalid:
		return "unknown operator"
	case opEquals, opNotEquals:
		if !isScalar(value) {
			return "must be a string, number or boolean"
		}
	case opIn, opNotIn:
		items, ok := sliceItems(value)
		if !ok || len(items) == 0 {
			return "must be a non-empty array"
		}
		if len(items) > MaxInItems {
			return fmt.Sprintf("must have at most %d items", MaxInItems)
		}
		for _, it := range items {
			if !isScalar(it) {
				return "items must be strings, numbers or booleans"
			}
		}
	case opContains, opStartsWith, opEndsWith:
		if _, ok := value.(string); !ok {
			return "must be a string"
		}
	case opRegex:
		s, ok := value.(string)
		if !ok {
			return "must be a string"
		}
		if len(s) > MaxRegexLength {
			return fmt.Sprintf("must be at most %d characters", MaxRegexLength)
		}
		if _, err := regexp.Compile(s); err != nil {
			return "invalid regular expression: " + err.Error()
		}
	case opGT, opGTE, opLT, opLTE:
		if _, ok := toFloat(value); !ok {
			return "must be a number"
		}
	case opSemVerEQ, opSemVerGT, opSemVerGTE, opSemVerLT, opSemVerLTE:
		s, ok := value.(string)
		if !ok || !ValidSemVer(s) {
			return "must be a semantic version string"
		}
	}
	return ""
}

// compileCondition prepares c for matching; regexes are compiled here, once.
func compileCondition(c Condition) (compiledCondition, error) {
	if msg := checkConditionValue(c.Operator, c.Value); msg != "" {
		return compiledCondition{}, fmt.Errorf("condition %s %s: %s", c.Attribute, c.Operator, msg)
	}
	cc := compiledCondition{attr: c.Attribute, tk: c.Attribute == AttrTargetingKey, op: opCodes[c.Operator]}
	switch cc.op {
	case opIn, opNotIn:
		items, _ := sliceItems(c.Value)
		for _, it := range items {
			sv := toScalar(it)
			switch sv.kind {
			case kindString:
				if cc.set.strs == nil {
					cc.set.strs = map[string]struct{}{}
				}
				cc.set.strs[sv.s] = struct{}{}
			case kindNumber:
				if cc.set.nums == nil {
					cc.set.nums = map[float64]struct{}{}
				}
				cc.set.nums[sv.n] = struct{}{}
			case kindBool:
				if sv.b {
					cc.set.hasTrue = true
				} else {
					cc.set.hasFalse = true
				}
			}
		}
	case opRegex:
		cc.re = regexp.MustCompile(c.Value.(string)) // checked above
	case opSemVerEQ, opSemVerGT, opSemVerGTE, opSemVerLT, opSemVerLTE:
		cc.semver, _ = parseSemVer(c.Value.(string)) // checked above
	default:
		cc.val = toScalar(c.Value)
	}
	return cc, nil
}

// lookup returns the attribute in comparable form; ok is false when it is missing.
func (c *compiledCondition) lookup(ctx *EvalContext) (scalar, bool) {
	if c.tk {
		if ctx.TargetingKey == "" {
			return scalar{}, false
		}
		return scalar{kind: kindString, s: ctx.TargetingKey}, true
	}
	v, ok := ctx.Attributes[c.attr]
	if !ok {
		return scalar{}, false
	}
	return toScalar(v), true
}

// match evaluates the condition against ctx. A missing attribute matches only
// not_equals and not_in; a value of the wrong type never matches (and so always
// matches the negated operators).
func (c *compiledCondition) match(ctx *EvalContext) bool {
	v, ok := c.lookup(ctx)
	if !ok {
		return c.op == opNotEquals || c.op == opNotIn
	}
	switch c.op {
	case opEquals:
		return v.equal(c.val)
	case opNotEquals:
		return !v.equal(c.val)
	case opIn:
		return c.set.contains(v)
	case opNotIn:
		return !c.set.contains(v)
	case opContains:
		return v.kind == kindString && strings.Contains(v.s, c.val.s)
	case opStartsWith:
		return v.kind == kindString && strings.HasPrefix(v.s, c.val.s)
	case opEndsWith:
		return v.kind == kindString && strings.HasSuffix(v.s, c.val.s)
	case opRegex:
		return v.kind == kindString && c.re.MatchString(v.s)
	case opGT:
		return v.kind == kindNumber && v.n > c.val.n
	case opGTE:
		return v.kind == kindNumber && v.n >= c.val.n
	case opLT:
		return v.kind == kindNumber && v.n < c.val.n
	case opLTE:
		return v.kind == kindNumber && v.n <= c.val.n
	case opSemVerEQ, opSemVerGT, opSemVerGTE, opSemVerLT, opSemVerLTE:
		if v.kind != kindString {
			return false
		}
		av, ok := parseSemVer(v.s)
		if !ok {
			return false
		}
		cmp := av.Compare(c.semver)
		switch c.op {
		case opSemVerEQ:
			return cmp == 0
		case opSemVerGT:
			return cmp > 0
		case opSemVerGTE:
			return cmp >= 0
		case opSemVerLT:
			return cmp < 0
		default:
			return cmp <= 0
		}
	}
	return false
}
