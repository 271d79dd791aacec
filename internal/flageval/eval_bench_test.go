package flageval

import (
	"fmt"
	"testing"
)

func benchSnapshot(b *testing.B, f Flag) *Snapshot {
	b.Helper()
	s, err := NewSnapshot([]Flag{f}, nil, 1, nil)
	if err != nil {
		b.Fatal(err)
	}
	return s
}

var benchSink Result

// BenchmarkEvaluateBoolean: an enabled boolean flag without rules (STATIC).
func BenchmarkEvaluateBoolean(b *testing.B) {
	f := Flag{Key: "ui.dark_mode", Type: TypeBoolean, Enabled: true, Value: true, DefaultValue: false,
		RolloutPercentage: 100, Visibility: VisibilityPublic}
	s := benchSnapshot(b, f)
	ctx := EvalContext{TargetingKey: "user-123", Attributes: map[string]any{"plan": "pro"}}
	b.ReportAllocs()
	for b.Loop() {
		benchSink = s.Evaluate(f.Key, ctx)
	}
	if benchSink.Reason != ReasonStatic {
		b.Fatal(benchSink)
	}
}

// BenchmarkEvaluateMultivariate3: three variants 20/40/40 (SPLIT, one SHA-256).
func BenchmarkEvaluateMultivariate3(b *testing.B) {
	f := Flag{Key: "experiment.checkout", Type: TypeMultivariate, Enabled: true, DefaultValue: "control",
		RolloutPercentage: 100, Visibility: VisibilityPublic, Variants: []Variant{
			{ID: "control", Value: "control", Weight: 20},
			{ID: "blue", Value: "blue", Weight: 40},
			{ID: "green", Value: "green", Weight: 40},
		}}
	s := benchSnapshot(b, f)
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprintf("user-%08d", i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		benchSink = s.Evaluate(f.Key, EvalContext{TargetingKey: keys[i&1023]})
		i++
	}
	if benchSink.Reason != ReasonSplit {
		b.Fatal(benchSink)
	}
}

// BenchmarkEvaluate10Rules: 10 rules of 2 conditions each, none matching (every rule is
// checked), then a 50% rollout of a 3-variant split.
func BenchmarkEvaluate10Rules(b *testing.B) {
	f := Flag{Key: "experiment.ruled", Type: TypeMultivariate, Enabled: true, DefaultValue: "control",
		RolloutPercentage: 50, Visibility: VisibilityPublic, Variants: []Variant{
			{ID: "control", Value: "control", Weight: 20},
			{ID: "blue", Value: "blue", Weight: 40},
			{ID: "green", Value: "green", Weight: 40},
		}}
	// The first condition of each rule matches, the second does not, so both are evaluated.
	second := []Condition{
		{Attribute: "country", Operator: OpIn, Value: []any{"FR", "DE", "IT", "ES"}},
		{Attribute: "email", Operator: OpRegex, Value: `@corp\.example\.com$`},
		{Attribute: "app_version", Operator: OpSemVerLT, Value: "1.0.0-beta.2"},
		{Attribute: "age", Operator: OpGT, Value: 65.0},
		{Attribute: "email", Operator: OpEndsWith, Value: "@example.org"},
		{Attribute: "plan", Operator: OpEquals, Value: "enterprise"},
		{Attribute: "beta", Operator: OpEquals, Value: true},
		{Attribute: "app_version", Operator: OpSemVerGTE, Value: "3.0.0"},
		{Attribute: "targetingKey", Operator: OpStartsWith, Value: "staff-"},
		{Attribute: "segment", Operator: OpNotIn, Value: []any{"a", "b", "c"}},
	}
	for i, c := range second {
		f.Rules = append(f.Rules, Rule{ID: fmt.Sprintf("rule-%d", i), Priority: i, Variant: "green", Conditions: []Condition{
			{Attribute: "plan", Operator: OpNotEquals, Value: "free"},
			c,
		}})
	}
	s := benchSnapshot(b, f)
	attrs := map[string]any{
		"plan": "pro", "country": "US", "email": "ana@example.com", "app_version": "2.3.1",
		"age": 34.0, "beta": false, "segment": "a",
	}
	keys := make([]string, 1024)
	for i := range keys {
		keys[i] = fmt.Sprintf("user-%08d", i)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		benchSink = s.Evaluate(f.Key, EvalContext{TargetingKey: keys[i&1023], Attributes: attrs})
		i++
	}
	if benchSink.Reason == ReasonTargetingMatch || benchSink.ErrorCode != "" {
		b.Fatal(benchSink)
	}
}
