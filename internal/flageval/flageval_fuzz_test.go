package flageval

import (
	"encoding/json"
	"regexp"
	"testing"
)

// Versions come from flag rules and from callers' evaluation contexts. Whatever the strings:
// parsing never panics, ValidSemVer agrees with ParseSemVer, a parsed version prints in a
// canonical form that parses back to itself, and Compare is a total preorder: reflexive,
// antisymmetric and transitive on the three samples.
func FuzzSemVer(f *testing.F) {
	f.Add("1.2.3", "v1.2.3-alpha.1+build.5", "1.2.3-alpha.beta")
	f.Add("1.0.0-rc.1", "1.0.0-rc.10", "1.0.0-rc.2")
	f.Add("0.0.0", "18446744073709551615.0.0", "18446744073709551616.0.0")
	f.Add("1.0.0-0A", "1.0.0-00", "1.0.0--")
	f.Add("V2.0.0+", "2.0.0-", "2.0.0-a..b")
	f.Add("1.0.0-alpha", "1.0.0-alpha.1", "1.0.0")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		var vs []SemVer
		for _, s := range []string{a, b, c} {
			v, err := ParseSemVer(s)
			if (err == nil) != ValidSemVer(s) {
				t.Fatalf("ParseSemVer and ValidSemVer disagree on %q", s)
			}
			if err != nil {
				continue
			}
			back, err := ParseSemVer(v.String())
			if err != nil || back != v {
				t.Fatalf("%q parses to %+v, printed %q, parsed back to %+v, %v", s, v, v.String(), back, err)
			}
			if v.Compare(v) != 0 {
				t.Fatalf("%q is not equal to itself", s)
			}
			vs = append(vs, v)
		}
		for i, x := range vs {
			for j, y := range vs {
				if xy, yx := x.Compare(y), y.Compare(x); xy != -yx || xy < -1 || xy > 1 {
					t.Fatalf("Compare not antisymmetric: %v vs %v = %d, reverse %d", x, y, xy, yx)
				}
				for k, z := range vs {
					if i == j || j == k {
						continue
					}
					if x.Compare(y) <= 0 && y.Compare(z) <= 0 && x.Compare(z) > 0 {
						t.Fatalf("Compare not transitive: %v <= %v <= %v but %v > %v", x, y, z, x, z)
					}
				}
			}
		}
	})
}

// Rule conditions are written by admins and matched against callers' contexts. For any
// operator, condition value and attribute value (as JSON): compiling never panics and
// refuses what checkConditionValue refuses; a compiled condition and its negation never
// both match; the ordering operators agree with each other (gte = gt or eq on versions,
// gte = not lt on numbers) and match only values of their kind.
func FuzzCondition(f *testing.F) {
	f.Add(uint8(0), `"a"`, `"a"`)
	f.Add(uint8(2), `["a", 1, true]`, `1`)
	f.Add(uint8(7), `"^(a+)+$"`, `"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!"`)
	f.Add(uint8(7), `"["`, `"x"`)
	f.Add(uint8(8), `1e308`, `-0`)
	f.Add(uint8(12), `"1.2.3-rc.1"`, `"1.2.3"`)
	f.Add(uint8(14), `"v1.0.0"`, `null`)
	f.Add(uint8(4), `""`, `{"x":1}`)
	f.Fuzz(func(t *testing.T, which uint8, valueJSON, attrJSON string) {
		ops := Operators()
		op := ops[int(which)%len(ops)]
		var value, attr any
		if json.Unmarshal([]byte(valueJSON), &value) != nil || json.Unmarshal([]byte(attrJSON), &attr) != nil {
			return
		}
		cond := Condition{Attribute: "x", Operator: op, Value: value}
		cc, err := compileCondition(cond)
		if (err == nil) != (checkConditionValue(op, value) == "") {
			t.Fatalf("%s %s: compile error %v disagrees with the check", op, valueJSON, err)
		}
		if err != nil {
			return
		}
		present := &EvalContext{Attributes: map[string]any{"x": attr}}
		absent := &EvalContext{Attributes: map[string]any{}}
		matches := func(op string, ctx *EvalContext) bool {
			c, err := compileCondition(Condition{Attribute: "x", Operator: op, Value: value})
			if err != nil {
				t.Fatalf("%s %s: %v, though %s compiled", op, valueJSON, err, cond.Operator)
			}
			return c.match(ctx)
		}
		got := cc.match(present)
		switch op {
		case OpEquals, OpIn:
			neg := map[string]string{OpEquals: OpNotEquals, OpIn: OpNotIn}[op]
			if got == matches(neg, present) {
				t.Fatalf("%s and %s agree (%v) on %s vs %s", op, neg, got, valueJSON, attrJSON)
			}
			if cc.match(absent) || !matches(neg, absent) {
				t.Fatalf("%s: a missing attribute must match only the negation", op)
			}
		case OpGT, OpLT:
			if _, num := attr.(float64); !num && (got || matches(OpGTE, present) || matches(OpLTE, present)) {
				t.Fatalf("%s matched a non-number %s", op, attrJSON)
			}
			if _, num := attr.(float64); num {
				if matches(OpGTE, present) == matches(OpLT, present) || matches(OpLTE, present) == matches(OpGT, present) {
					t.Fatalf("number order inconsistent for %s vs %s", attrJSON, valueJSON)
				}
			}
		case OpSemVerGT, OpSemVerLT:
			eq, gt, lt := matches(OpSemVerEQ, present), matches(OpSemVerGT, present), matches(OpSemVerLT, present)
			if s, ok := attr.(string); ok && ValidSemVer(s) {
				if n := btoi(eq) + btoi(gt) + btoi(lt); n != 1 {
					t.Fatalf("%s vs %s: eq %v gt %v lt %v", attrJSON, valueJSON, eq, gt, lt)
				}
			} else if eq || gt || lt {
				t.Fatalf("a version operator matched %s", attrJSON)
			}
			if matches(OpSemVerGTE, present) != (gt || eq) || matches(OpSemVerLTE, present) != (lt || eq) {
				t.Fatalf("gte/lte disagree with gt/lt/eq for %s vs %s", attrJSON, valueJSON)
			}
		case OpRegex:
			if s, ok := attr.(string); ok && got != regexp.MustCompile(value.(string)).MatchString(s) {
				t.Fatalf("regex %s on %s: %v", valueJSON, attrJSON, got)
			}
		}
	})
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
