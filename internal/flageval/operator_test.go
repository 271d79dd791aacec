package flageval

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOperators(t *testing.T) {
	t.Parallel()
	attrs := map[string]any{
		"s":       "Hello World",
		"email":   "ana@example.com",
		"n":       3,   // a Go int: numbers compare by value
		"f":       2.5, // float64, as decoded from JSON
		"jn":      json.Number("7"),
		"numstr":  "3",
		"b":       true,
		"null":    nil,
		"obj":     map[string]any{"a": 1.0},
		"arr":     []any{"a"},
		"version": "1.0.0-beta",
		"vv":      "v2.1.0+build.9",
		"badver":  "1.0",
	}
	tests := []struct {
		name string
		attr string
		op   string
		val  any
		tk   string
		want bool
	}{
		// equals / not_equals
		{"equals string", "s", OpEquals, "Hello World", "", true},
		{"equals case-sensitive", "s", OpEquals, "hello world", "", false},
		{"equals int attr vs float cond", "n", OpEquals, 3.0, "", true},
		{"equals json.Number attr", "jn", OpEquals, 7.0, "", true},
		{"equals numeric string vs number", "numstr", OpEquals, 3.0, "", false},
		{"equals number vs numeric string", "n", OpEquals, "3", "", false},
		{"equals bool", "b", OpEquals, true, "", true},
		{"equals bool vs string", "b", OpEquals, "true", "", false},
		{"equals null attr", "null", OpEquals, "x", "", false},
		{"equals object attr", "obj", OpEquals, "x", "", false},
		{"equals missing", "nope", OpEquals, "x", "", false},
		{"not_equals differs", "s", OpNotEquals, "x", "", true},
		{"not_equals same", "s", OpNotEquals, "Hello World", "", false},
		{"not_equals number by value", "n", OpNotEquals, 3.0, "", false},
		{"not_equals type mismatch", "numstr", OpNotEquals, 3.0, "", true},
		{"not_equals missing", "nope", OpNotEquals, "x", "", true},
		{"not_equals null attr", "null", OpNotEquals, "x", "", true},
		// in / not_in
		{"in string", "s", OpIn, []any{"a", "Hello World"}, "", true},
		{"in absent", "s", OpIn, []any{"a", "b"}, "", false},
		{"in case-sensitive", "s", OpIn, []any{"hello world"}, "", false},
		{"in number by value", "n", OpIn, []any{1.0, 3.0}, "", true},
		{"in number vs numeric string", "numstr", OpIn, []any{3.0}, "", false},
		{"in bool", "b", OpIn, []any{false, true}, "", true},
		{"in bool absent", "b", OpIn, []any{false, "true"}, "", false},
		{"in []string", "s", OpIn, []string{"Hello World"}, "", true},
		{"in missing", "nope", OpIn, []any{"x"}, "", false},
		{"in array attr", "arr", OpIn, []any{"a"}, "", false},
		{"not_in absent", "s", OpNotIn, []any{"a"}, "", true},
		{"not_in present", "n", OpNotIn, []any{3.0}, "", false},
		{"not_in missing", "nope", OpNotIn, []any{"x"}, "", true},
		// string operators
		{"contains", "s", OpContains, "lo Wo", "", true},
		{"contains case-sensitive", "s", OpContains, "lo wo", "", false},
		{"contains non-string attr", "n", OpContains, "3", "", false},
		{"contains missing", "nope", OpContains, "x", "", false},
		{"starts_with", "s", OpStartsWith, "Hello", "", true},
		{"starts_with no", "s", OpStartsWith, "World", "", false},
		{"starts_with bool attr", "b", OpStartsWith, "t", "", false},
		{"ends_with", "email", OpEndsWith, "@example.com", "", true},
		{"ends_with no", "email", OpEndsWith, "@example.org", "", false},
		{"ends_with missing", "nope", OpEndsWith, "x", "", false},
		// regex
		{"regex match", "email", OpRegex, `^[a-z]+@example\.(com|org)$`, "", true},
		{"regex unanchored", "s", OpRegex, `o W`, "", true},
		{"regex no match", "email", OpRegex, `^bob@`, "", false},
		{"regex case-sensitive", "s", OpRegex, `^hello`, "", false},
		{"regex case flag", "s", OpRegex, `(?i)^hello`, "", true},
		{"regex non-string attr", "n", OpRegex, `3`, "", false},
		{"regex missing", "nope", OpRegex, `.*`, "", false},
		// numeric comparisons
		{"gt", "n", OpGT, 2.0, "", true},
		{"gt equal", "n", OpGT, 3.0, "", false},
		{"gte equal", "n", OpGTE, 3.0, "", true},
		{"lt float", "f", OpLT, 3.0, "", true},
		{"lt no", "f", OpLT, 2.5, "", false},
		{"lte equal", "f", OpLTE, 2.5, "", true},
		{"gt json.Number attr", "jn", OpGT, 6, "", true},
		{"gt numeric string not converted", "numstr", OpGT, 1.0, "", false},
		{"lt numeric string not converted", "numstr", OpLT, 10.0, "", false},
		{"gt bool", "b", OpGT, 0.0, "", false},
		{"gt missing", "nope", OpGT, 0.0, "", false},
		{"lte null", "null", OpLTE, 100.0, "", false},
		// semver
		{"semver_eq", "version", OpSemVerEQ, "1.0.0-beta", "", true},
		{"semver_eq v prefix and build", "vv", OpSemVerEQ, "2.1.0", "", true},
		{"semver_gt pre-release below release", "version", OpSemVerGT, "1.0.0", "", false},
		{"semver_lt pre-release below release", "version", OpSemVerLT, "1.0.0", "", true},
		{"semver_gt beta > alpha.1", "version", OpSemVerGT, "1.0.0-alpha.1", "", true},
		{"semver_gte equal", "version", OpSemVerGTE, "v1.0.0-beta", "", true},
		{"semver_lte", "version", OpSemVerLTE, "1.0.0-beta.1", "", true},
		{"semver_gt numeric not lexical", "vv", OpSemVerGT, "2.0.10", "", true},
		{"semver unparsable attr", "badver", OpSemVerLT, "2.0.0", "", false},
		{"semver unparsable attr gte", "badver", OpSemVerGTE, "0.0.0", "", false},
		{"semver non-string attr", "n", OpSemVerEQ, "3.0.0", "", false},
		{"semver missing", "nope", OpSemVerLT, "9.0.0", "", false},
		// targetingKey attribute
		{"targetingKey equals", "targetingKey", OpEquals, "user-1", "user-1", true},
		{"targetingKey in", "targetingKey", OpIn, []any{"user-2", "user-1"}, "user-1", true},
		{"targetingKey empty is missing", "targetingKey", OpEquals, "", "", false},
		{"targetingKey empty not_equals", "targetingKey", OpNotEquals, "user-1", "", true},
		{"targetingKey starts_with", "targetingKey", OpStartsWith, "user-", "user-9", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cc, err := compileCondition(Condition{Attribute: tc.attr, Operator: tc.op, Value: tc.val})
			require.NoError(t, err)
			ctx := EvalContext{TargetingKey: tc.tk, Attributes: attrs}
			require.Equal(t, tc.want, cc.match(&ctx))
		})
	}
}

func TestMissingAttributeMatchesOnlyNegations(t *testing.T) {
	t.Parallel()
	values := map[string]any{
		OpEquals: "x", OpNotEquals: "x", OpIn: []any{"x"}, OpNotIn: []any{"x"}, OpContains: "x",
		OpStartsWith: "x", OpEndsWith: "x", OpRegex: ".*", OpGT: 0.0, OpGTE: 0.0, OpLT: 0.0, OpLTE: 0.0,
		OpSemVerEQ: "1.0.0", OpSemVerGT: "1.0.0", OpSemVerGTE: "1.0.0", OpSemVerLT: "1.0.0", OpSemVerLTE: "1.0.0",
	}
	require.Len(t, values, len(Operators()))
	for _, op := range Operators() {
		cc, err := compileCondition(Condition{Attribute: "missing", Operator: op, Value: values[op]})
		require.NoError(t, err, op)
		for _, ctx := range []EvalContext{{}, {TargetingKey: "u", Attributes: map[string]any{"other": "x"}}} {
			require.Equal(t, op == OpNotEquals || op == OpNotIn, cc.match(&ctx), op)
		}
	}
}

func TestCompileConditionRejectsInvalid(t *testing.T) {
	t.Parallel()
	for _, c := range []Condition{
		{Attribute: "a", Operator: "bogus", Value: "x"},
		{Attribute: "a", Operator: OpRegex, Value: "("},
		{Attribute: "a", Operator: OpIn, Value: []any{}},
		{Attribute: "a", Operator: OpSemVerGT, Value: "1"},
		{Attribute: "a", Operator: OpGT, Value: "1"},
	} {
		_, err := compileCondition(c)
		require.Error(t, err, "%+v", c)
	}
	require.True(t, ValidOperator(OpSemVerLTE))
	require.False(t, ValidOperator("in_list"))
}

// Not parallel: testing.AllocsPerRun refuses to run in a parallel test.
func TestConditionMatchDoesNotAllocate(t *testing.T) {
	conds := []Condition{
		{Attribute: "country", Operator: OpIn, Value: []any{"FR", "DE", "US"}},
		{Attribute: "version", Operator: OpSemVerGTE, Value: "1.2.0-rc.1"},
		{Attribute: "email", Operator: OpRegex, Value: `@example\.com$`},
		{Attribute: "age", Operator: OpGT, Value: 18.0},
		{Attribute: "targetingKey", Operator: OpEquals, Value: "u1"},
	}
	ctx := EvalContext{TargetingKey: "u1", Attributes: map[string]any{
		"country": "FR", "version": "1.2.0", "email": "a@example.com", "age": 30.0,
	}}
	compiled := make([]compiledCondition, len(conds))
	for i, c := range conds {
		cc, err := compileCondition(c)
		require.NoError(t, err)
		compiled[i] = cc
	}
	allocs := testing.AllocsPerRun(100, func() {
		for i := range compiled {
			if !compiled[i].match(&ctx) {
				panic("no match")
			}
		}
	})
	require.Zero(t, allocs)
}
