package flageval

import (
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func validBoolean() *Flag {
	return &Flag{
		Key: "ui.dark_mode", Type: TypeBoolean, Enabled: true, Value: true, DefaultValue: false,
		RolloutPercentage: 100, Visibility: VisibilityPublic, Tags: []string{"ui", "theme"},
		Rules: []Rule{{ID: "r1", Priority: 1, Value: false, Conditions: []Condition{
			{Attribute: "plan", Operator: OpEquals, Value: "free"},
			{Attribute: "country", Operator: OpIn, Value: []any{"FR", "DE"}},
		}}},
	}
}

func validMulti() *Flag {
	return &Flag{
		Key: "experiment.checkout", Type: TypeMultivariate, Enabled: true, DefaultValue: "control",
		RolloutPercentage: 100, Visibility: VisibilityAuthenticated,
		Variants: []Variant{
			{ID: "control", Value: "control", Weight: 33.333},
			{ID: "b", Value: map[string]any{"x": 1.0}, Weight: 33.333},
			{ID: "c-2", Value: nil, Weight: 33.334},
		},
		Rules: []Rule{{ID: "beta", Priority: 0, Variant: "b", Conditions: []Condition{
			{Attribute: "app_version", Operator: OpSemVerGTE, Value: "2.0.0-beta.1"},
		}}},
	}
}

func fieldNames(f *Flag) []string {
	var out []string
	for _, e := range Validate(f) {
		out = append(out, e.Field)
	}
	return out
}

func nRules(n int) []Rule {
	rules := make([]Rule, n)
	for i := range rules {
		rules[i] = Rule{ID: "r" + strings.Repeat("x", i%5) + string(rune('a'+i%26)) + uitoa(uint64(i)), Value: true}
	}
	return rules
}

func TestValidate(t *testing.T) {
	t.Parallel()
	cond := func(op string, v any) func(f *Flag) {
		return func(f *Flag) { f.Rules[0].Conditions[1] = Condition{Attribute: "a", Operator: op, Value: v} }
	}
	manyItems := make([]any, MaxInItems+1)
	for i := range manyItems {
		manyItems[i] = float64(i)
	}
	maxItems := manyItems[:MaxInItems]
	tests := []struct {
		name  string
		multi bool
		mut   func(f *Flag)
		want  []string // exact field names; nil = valid
	}{
		{name: "valid boolean", mut: func(*Flag) {}},
		{name: "valid multivariate", multi: true, mut: func(*Flag) {}},
		{name: "key bad category", mut: func(f *Flag) { f.Key = "web.dark_mode" }, want: []string{"key"}},
		{name: "key uppercase", mut: func(f *Flag) { f.Key = "ui.Dark" }, want: []string{"key"}},
		{name: "key no dot", mut: func(f *Flag) { f.Key = "dark_mode" }, want: []string{"key"}},
		{name: "key starts with digit", mut: func(f *Flag) { f.Key = "ui.1x" }, want: []string{"key"}},
		{name: "key max length", mut: func(f *Flag) { f.Key = "ops.a" + strings.Repeat("b", 99) }},
		{name: "key too long", mut: func(f *Flag) { f.Key = "ops.a" + strings.Repeat("b", 100) }, want: []string{"key"}},
		{name: "description too long", mut: func(f *Flag) { f.Description = strings.Repeat("é", 1001) }, want: []string{"description"}},
		{name: "description max", mut: func(f *Flag) { f.Description = strings.Repeat("é", 1000) }},
		{name: "owner too long", mut: func(f *Flag) { f.Owner = strings.Repeat("o", 201) }, want: []string{"owner"}},
		{name: "type unknown", mut: func(f *Flag) { f.Type = "bool" }, want: []string{"type"}},
		{name: "visibility unknown", mut: func(f *Flag) { f.Visibility = "secret" }, want: []string{"visibility"}},
		{name: "visibility empty", mut: func(f *Flag) { f.Visibility = "" }, want: []string{"visibility"}},
		{name: "boolean value string", mut: func(f *Flag) { f.Value = "true" }, want: []string{"value"}},
		{name: "boolean value nil", mut: func(f *Flag) { f.Value = nil }, want: []string{"value"}},
		{name: "boolean default number", mut: func(f *Flag) { f.DefaultValue = 0.0 }, want: []string{"default_value"}},
		{name: "string value bool", mut: func(f *Flag) {
			f.Type, f.Value, f.DefaultValue, f.Rules = TypeString, true, "b", nil
		}, want: []string{"value"}},
		{name: "string ok", mut: func(f *Flag) { f.Type, f.Value, f.DefaultValue, f.Rules = TypeString, "a", "", nil }},
		{name: "number NaN", mut: func(f *Flag) {
			f.Type, f.Value, f.DefaultValue, f.Rules = TypeNumber, math.NaN(), 1.0, nil
		}, want: []string{"value"}},
		{name: "number Inf default", mut: func(f *Flag) {
			f.Type, f.Value, f.DefaultValue, f.Rules = TypeNumber, 1.5, math.Inf(1), nil
		}, want: []string{"default_value"}},
		{name: "number string", mut: func(f *Flag) {
			f.Type, f.Value, f.DefaultValue, f.Rules = TypeNumber, "1", 1.0, nil
		}, want: []string{"value"}},
		{name: "json scalar", mut: func(f *Flag) {
			f.Type, f.Value, f.DefaultValue, f.Rules = TypeJSON, "x", map[string]any{}, nil
		}, want: []string{"value"}},
		{name: "json nested NaN", mut: func(f *Flag) {
			f.Type, f.Value, f.DefaultValue, f.Rules = TypeJSON, []any{map[string]any{"n": math.NaN()}}, []any{}, nil
		}, want: []string{"value"}},
		{name: "json null default", mut: func(f *Flag) {
			f.Type, f.Value, f.DefaultValue, f.Rules = TypeJSON, []any{1.0}, nil, nil
		}, want: []string{"default_value"}},
		{name: "json ok", mut: func(f *Flag) {
			f.Type, f.Value, f.DefaultValue, f.Rules = TypeJSON, map[string]any{"a": []any{1.0, "x", nil, true}}, []any{}, nil
		}},
		{name: "multivariate value set", multi: true, mut: func(f *Flag) { f.Value = "x" }, want: []string{"value"}},
		{name: "multivariate default null", multi: true, mut: func(f *Flag) { f.DefaultValue = nil }},
		{name: "multivariate default object", multi: true, mut: func(f *Flag) { f.DefaultValue = map[string]any{"a": 1.0} }},
		{name: "multivariate default not JSON", multi: true, mut: func(f *Flag) { f.DefaultValue = math.Inf(-1) }, want: []string{"default_value"}},
		{name: "variants on boolean", mut: func(f *Flag) { f.Variants = validMulti().Variants }, want: []string{"variants"}},
		{name: "one variant", multi: true, mut: func(f *Flag) {
			f.Variants = []Variant{{ID: "a", Weight: 100}}
			f.Rules = nil
		}, want: []string{"variants"}},
		{name: "no variants", multi: true, mut: func(f *Flag) { f.Variants, f.Rules = nil, nil }, want: []string{"variants"}},
		{name: "51 variants", multi: true, mut: func(f *Flag) {
			f.Variants = make([]Variant, 51)
			for i := range f.Variants {
				f.Variants[i] = Variant{ID: "v" + uitoa(uint64(i)), Weight: 2}
			}
			f.Variants[50].Weight = 0
			f.Rules = nil
		}, want: []string{"variants"}},
		{name: "50 variants", multi: true, mut: func(f *Flag) {
			f.Variants = make([]Variant, 50)
			for i := range f.Variants {
				f.Variants[i] = Variant{ID: "v" + uitoa(uint64(i)), Weight: 2}
			}
			f.Rules = nil
		}},
		{name: "variant id empty", multi: true, mut: func(f *Flag) { f.Variants[1].ID = "" }, want: []string{"variants[1].id", "rules[0].variant"}},
		{name: "variant id pattern", multi: true, mut: func(f *Flag) { f.Variants[1].ID = "B" }, want: []string{"variants[1].id", "rules[0].variant"}},
		{name: "variant id duplicate", multi: true, mut: func(f *Flag) { f.Variants[2].ID = "b" }, want: []string{"variants[2].id"}},
		{name: "variant id too long", multi: true, mut: func(f *Flag) { f.Variants[2].ID = strings.Repeat("a", 65) }, want: []string{"variants[2].id"}},
		{name: "variant name too long", multi: true, mut: func(f *Flag) { f.Variants[0].Name = strings.Repeat("n", 201) }, want: []string{"variants[0].name"}},
		{name: "variant description too long", multi: true, mut: func(f *Flag) { f.Variants[0].Description = strings.Repeat("n", 1001) }, want: []string{"variants[0].description"}},
		{name: "variant value not JSON", multi: true, mut: func(f *Flag) { f.Variants[0].Value = math.NaN() }, want: []string{"variants[0].value"}},
		{name: "variant weight negative", multi: true, mut: func(f *Flag) { f.Variants[2].Weight = -1 }, want: []string{"variants[2].weight"}},
		{name: "variant weight 4 decimals", multi: true, mut: func(f *Flag) {
			f.Variants[1].Weight, f.Variants[2].Weight = 33.3335, 33.3335
		}, want: []string{"variants[1].weight", "variants[2].weight"}},
		{name: "variant weight NaN", multi: true, mut: func(f *Flag) { f.Variants[2].Weight = math.NaN() }, want: []string{"variants[2].weight"}},
		{name: "weights sum 99.999", multi: true, mut: func(f *Flag) { f.Variants[2].Weight = 33.333 }, want: []string{"variants"}},
		{name: "weights sum 100.001", multi: true, mut: func(f *Flag) { f.Variants[2].Weight = 33.335 }, want: []string{"variants"}},
		{name: "weights 0/100", multi: true, mut: func(f *Flag) {
			f.Variants[0].Weight, f.Variants[1].Weight, f.Variants[2].Weight = 0, 100, 0
		}},
		{name: "rollout negative", mut: func(f *Flag) { f.RolloutPercentage = -0.001 }, want: []string{"rollout_percentage"}},
		{name: "rollout over 100", mut: func(f *Flag) { f.RolloutPercentage = 100.001 }, want: []string{"rollout_percentage"}},
		{name: "rollout 4 decimals", mut: func(f *Flag) { f.RolloutPercentage = 50.0001 }, want: []string{"rollout_percentage"}},
		{name: "rollout NaN", mut: func(f *Flag) { f.RolloutPercentage = math.NaN() }, want: []string{"rollout_percentage"}},
		{name: "rollout 3 decimals", mut: func(f *Flag) { f.RolloutPercentage = 12.345 }},
		{name: "rollout 0", mut: func(f *Flag) { f.RolloutPercentage = 0 }},
		{name: "101 rules", mut: func(f *Flag) { f.Rules = nRules(101) }, want: []string{"rules"}},
		{name: "100 rules", mut: func(f *Flag) { f.Rules = nRules(100) }},
		{name: "rule id empty", mut: func(f *Flag) { f.Rules = append(f.Rules, Rule{Value: true}) }, want: []string{"rules[1].id"}},
		{name: "rule id duplicate", mut: func(f *Flag) { f.Rules = append(f.Rules, Rule{ID: "r1", Value: true}) }, want: []string{"rules[1].id"}},
		{name: "rule id too long", mut: func(f *Flag) { f.Rules[0].ID = strings.Repeat("r", 101) }, want: []string{"rules[0].id"}},
		{name: "rule name too long", mut: func(f *Flag) { f.Rules[0].Name = strings.Repeat("r", 201) }, want: []string{"rules[0].name"}},
		{name: "21 conditions", mut: func(f *Flag) {
			f.Rules[0].Conditions = slices.Repeat([]Condition{{Attribute: "a", Operator: OpEquals, Value: "x"}}, 21)
		}, want: []string{"rules[0].conditions"}},
		{name: "20 conditions", mut: func(f *Flag) {
			f.Rules[0].Conditions = slices.Repeat([]Condition{{Attribute: "a", Operator: OpEquals, Value: "x"}}, 20)
		}},
		{name: "attribute empty", mut: func(f *Flag) { f.Rules[0].Conditions[1].Attribute = "" }, want: []string{"rules[0].conditions[1].attribute"}},
		{name: "attribute too long", mut: func(f *Flag) { f.Rules[0].Conditions[1].Attribute = strings.Repeat("a", 101) }, want: []string{"rules[0].conditions[1].attribute"}},
		{name: "operator unknown", mut: cond("eq", "x"), want: []string{"rules[0].conditions[1].operator"}},
		{name: "operator empty", mut: cond("", "x"), want: []string{"rules[0].conditions[1].operator"}},
		{name: "equals object", mut: cond(OpEquals, map[string]any{}), want: []string{"rules[0].conditions[1].value"}},
		{name: "equals null", mut: cond(OpEquals, nil), want: []string{"rules[0].conditions[1].value"}},
		{name: "not_equals number ok", mut: cond(OpNotEquals, 3.0)},
		{name: "equals bool ok", mut: cond(OpEquals, true)},
		{name: "in not array", mut: cond(OpIn, "x"), want: []string{"rules[0].conditions[1].value"}},
		{name: "in empty", mut: cond(OpIn, []any{}), want: []string{"rules[0].conditions[1].value"}},
		{name: "not_in with object", mut: cond(OpNotIn, []any{"a", map[string]any{}}), want: []string{"rules[0].conditions[1].value"}},
		{name: "in 1001 items", mut: cond(OpIn, manyItems), want: []string{"rules[0].conditions[1].value"}},
		{name: "in 1000 items", mut: cond(OpIn, maxItems)},
		{name: "in []string ok", mut: cond(OpIn, []string{"a", "b"})},
		{name: "contains number", mut: cond(OpContains, 3.0), want: []string{"rules[0].conditions[1].value"}},
		{name: "starts_with bool", mut: cond(OpStartsWith, true), want: []string{"rules[0].conditions[1].value"}},
		{name: "ends_with ok", mut: cond(OpEndsWith, "@example.com")},
		{name: "regex number", mut: cond(OpRegex, 1.0), want: []string{"rules[0].conditions[1].value"}},
		{name: "regex invalid", mut: cond(OpRegex, "(a"), want: []string{"rules[0].conditions[1].value"}},
		{name: "regex backreference (not RE2)", mut: cond(OpRegex, `(a)\1`), want: []string{"rules[0].conditions[1].value"}},
		{name: "regex too long", mut: cond(OpRegex, strings.Repeat("a", 257)), want: []string{"rules[0].conditions[1].value"}},
		{name: "regex 256 ok", mut: cond(OpRegex, strings.Repeat("a", 256))},
		{name: "gt string", mut: cond(OpGT, "3"), want: []string{"rules[0].conditions[1].value"}},
		{name: "lte NaN", mut: cond(OpLTE, math.NaN()), want: []string{"rules[0].conditions[1].value"}},
		{name: "gte int ok", mut: cond(OpGTE, 3)},
		{name: "semver invalid", mut: cond(OpSemVerGT, "1.0"), want: []string{"rules[0].conditions[1].value"}},
		{name: "semver number", mut: cond(OpSemVerEQ, 1.0), want: []string{"rules[0].conditions[1].value"}},
		{name: "semver ok", mut: cond(OpSemVerLT, "v1.2.3-rc.1+build.5")},
		{name: "multivariate rule unknown variant", multi: true, mut: func(f *Flag) { f.Rules[0].Variant = "zzz" }, want: []string{"rules[0].variant"}},
		{name: "multivariate rule no variant", multi: true, mut: func(f *Flag) { f.Rules[0].Variant = "" }, want: []string{"rules[0].variant"}},
		{name: "multivariate rule value", multi: true, mut: func(f *Flag) { f.Rules[0].Value = "x" }, want: []string{"rules[0].value"}},
		{name: "boolean rule value wrong type", mut: func(f *Flag) { f.Rules[0].Value = "false" }, want: []string{"rules[0].value"}},
		{name: "boolean rule value nil", mut: func(f *Flag) { f.Rules[0].Value = nil }, want: []string{"rules[0].value"}},
		{name: "boolean rule variant", mut: func(f *Flag) { f.Rules[0].Variant = "on" }, want: []string{"rules[0].variant"}},
		{name: "rule without conditions ok", mut: func(f *Flag) { f.Rules[0].Conditions = nil }},
		{name: "21 tags", mut: func(f *Flag) {
			f.Tags = nil
			for i := range 21 {
				f.Tags = append(f.Tags, "t"+uitoa(uint64(i)))
			}
		}, want: []string{"tags"}},
		{name: "tag pattern", mut: func(f *Flag) { f.Tags = []string{"a", "b", "c", "Bad Tag"} }, want: []string{"tags[3]"}},
		{name: "tag empty", mut: func(f *Flag) { f.Tags = []string{""} }, want: []string{"tags[0]"}},
		{name: "tag too long", mut: func(f *Flag) { f.Tags = []string{strings.Repeat("t", 51)} }, want: []string{"tags[0]"}},
		{name: "tag duplicate", mut: func(f *Flag) { f.Tags = []string{"a", "a"} }, want: []string{"tags[1]"}},
		{name: "salt too long", mut: func(f *Flag) { f.Salt = strings.Repeat("s", 101) }, want: []string{"salt"}},
		{name: "salt max", mut: func(f *Flag) { f.Salt = strings.Repeat("s", 100) }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := validBoolean()
			if tc.multi {
				f = validMulti()
			}
			tc.mut(f)
			require.Equal(t, tc.want, fieldNames(f), "%v", Validate(f))
		})
	}
}

func TestValidateReportsEveryViolation(t *testing.T) {
	t.Parallel()
	f := validMulti()
	f.Key = "bad"
	f.Visibility = "nope"
	f.RolloutPercentage = 200
	f.Value = true
	f.Variants[0].Weight = -5
	f.Rules[0].Conditions = append(f.Rules[0].Conditions, Condition{Attribute: "x", Operator: "zz"})
	f.Tags = []string{"ok", "NOT OK"}
	require.Equal(t, []string{
		"key", "visibility", "rollout_percentage", "tags[1]", "value", "variants[0].weight",
		"rules[0].conditions[1].operator",
	}, fieldNames(f))
	for _, e := range Validate(f) {
		require.NotEmpty(t, e.Message)
	}
}

func TestValidateNil(t *testing.T) {
	t.Parallel()
	require.Len(t, Validate(nil), 1)
}

func TestValidateUnknownTypeSkipsValueChecks(t *testing.T) {
	t.Parallel()
	f := validBoolean()
	f.Type = ""
	f.Value = map[string]any{}
	require.Equal(t, []string{"type"}, fieldNames(f))
}

func TestThousandths(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   float64
		want int64
		ok   bool
	}{
		{0, 0, true}, {100, 100000, true}, {33.333, 33333, true}, {0.001, 1, true}, {12.5, 12500, true},
		{0.0001, 0, false}, {33.3333, 0, false}, {math.NaN(), 0, false}, {math.Inf(1), 0, false}, {-1.5, -1500, true},
	}
	for _, tc := range tests {
		got, ok := Thousandths(tc.in)
		require.Equal(t, tc.ok, ok, "%v", tc.in)
		if ok {
			require.Equal(t, tc.want, got, "%v", tc.in)
		}
	}
}

func TestValidateOverride(t *testing.T) {
	t.Parallel()
	b, m := validBoolean(), validMulti()
	tests := []struct {
		name string
		f    *Flag
		o    Override
		want []string
	}{
		{"boolean ok", b, Override{FlagKey: b.Key, TargetingKey: "u1", Value: false}, nil},
		{"multivariate ok", m, Override{FlagKey: m.Key, TargetingKey: "u1", Variant: "b"}, nil},
		{"wrong flag key", b, Override{FlagKey: "ui.other", TargetingKey: "u1", Value: true}, []string{"flag_key"}},
		{"no targeting key", b, Override{FlagKey: b.Key, Value: true}, []string{"targeting_key"}},
		{"targeting key too long", b, Override{FlagKey: b.Key, TargetingKey: strings.Repeat("u", 257), Value: true}, []string{"targeting_key"}},
		{"boolean wrong value", b, Override{FlagKey: b.Key, TargetingKey: "u1", Value: "yes"}, []string{"value"}},
		{"boolean with variant", b, Override{FlagKey: b.Key, TargetingKey: "u1", Value: true, Variant: "b"}, []string{"variant"}},
		{"multivariate unknown variant", m, Override{FlagKey: m.Key, TargetingKey: "u1", Variant: "zz"}, []string{"variant"}},
		{"multivariate no variant", m, Override{FlagKey: m.Key, TargetingKey: "u1"}, []string{"variant"}},
		{"multivariate value", m, Override{FlagKey: m.Key, TargetingKey: "u1", Variant: "b", Value: 1.0}, []string{"value"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, e := range ValidateOverride(tc.f, &tc.o) {
				got = append(got, e.Field)
			}
			require.Equal(t, tc.want, got)
		})
	}
}

func TestKeyHelpers(t *testing.T) {
	t.Parallel()
	require.True(t, ValidKey("backend.rag_strategy"))
	require.True(t, ValidKey("integration.x"))
	require.False(t, ValidKey("backend."))
	require.False(t, ValidKey("backend.rag-strategy"))
	require.False(t, ValidKey(" ui.x"))
	f := &Flag{Key: "experiment.new_checkout"}
	require.Equal(t, "experiment", f.Category())
	require.Equal(t, "", (&Flag{Key: "nodot"}).Category())
	require.Equal(t, "experiment.new_checkout", f.EffectiveSalt())
	f.Salt = "s1"
	require.Equal(t, "s1", f.EffectiveSalt())
}

func TestVisibilityAndType(t *testing.T) {
	t.Parallel()
	require.Equal(t, 0, VisibilityPublic.Level())
	require.Equal(t, 1, VisibilityAuthenticated.Level())
	require.Equal(t, 2, VisibilityAdmin.Level())
	require.Equal(t, 3, VisibilityInternal.Level())
	require.Equal(t, 3, Visibility("bogus").Level())
	require.False(t, Visibility("bogus").Valid())
	require.True(t, VisibilityAdmin.Valid())
	for _, ty := range []Type{TypeBoolean, TypeString, TypeNumber, TypeJSON, TypeMultivariate} {
		require.True(t, ty.Valid())
	}
	require.False(t, Type("object").Valid())
}
