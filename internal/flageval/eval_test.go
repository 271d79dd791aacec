package flageval

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

var evalT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func evalClock(t time.Time) func() time.Time { return func() time.Time { return t } }

func testBoolFlag(key string) Flag {
	return Flag{Key: key, Type: TypeBoolean, Enabled: true, Value: true, DefaultValue: false,
		RolloutPercentage: 100, Visibility: VisibilityPublic, Version: 7}
}

func testMultiFlag(key string, weights ...float64) Flag {
	f := Flag{Key: key, Type: TypeMultivariate, Enabled: true, DefaultValue: "off",
		RolloutPercentage: 100, Visibility: VisibilityPublic, Version: 3}
	for i, w := range weights {
		id := string(rune('a' + i))
		f.Variants = append(f.Variants, Variant{ID: id, Value: "value-" + id, Weight: w})
	}
	return f
}

func mustSnapshot(t *testing.T, flags []Flag, overrides []Override) *Snapshot {
	t.Helper()
	s, err := NewSnapshot(flags, overrides, 42, evalClock(evalT0))
	require.NoError(t, err)
	return s
}

func evalKeys(n int, seed uint64) []string {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	keys := make([]string, n)
	for i := range keys {
		keys[i] = fmt.Sprintf("user-%016x", r.Uint64())
	}
	return keys
}

func evalPtr[T any](v T) *T { return &v }

func TestEvaluateNotFound(t *testing.T) {
	t.Parallel()
	archived := testBoolFlag("ui.old")
	archived.Archived = true
	s := mustSnapshot(t, []Flag{testBoolFlag("ui.new"), archived}, nil)
	for _, key := range []string{"ui.missing", "ui.old"} {
		r := s.Evaluate(key, EvalContext{TargetingKey: "u1"})
		require.Equal(t, Result{Key: key, Reason: ReasonError, ErrorCode: CodeFlagNotFound, ErrorMessage: msgFlagNotFound}, r)
	}
	_, ok := s.Flag("ui.old")
	require.True(t, ok, "archived flags stay readable")
}

func TestEvaluateOrder(t *testing.T) {
	t.Parallel()
	base := func() Flag {
		f := testBoolFlag("backend.feature")
		f.RolloutPercentage = 0 // nobody is in the rollout: only overrides and rules serve Value
		f.Rules = []Rule{{ID: "staff", Priority: 1, Value: true,
			Conditions: []Condition{{Attribute: "role", Operator: OpEquals, Value: "staff"}}}}
		return f
	}
	staff := EvalContext{TargetingKey: "u-staff", Attributes: map[string]any{"role": "staff"}}
	user := EvalContext{TargetingKey: "u-user", Attributes: map[string]any{"role": "user"}}
	override := Override{FlagKey: "backend.feature", TargetingKey: "u-user", Value: true}

	t.Run("disabled wins over override and rule", func(t *testing.T) {
		t.Parallel()
		f := base()
		f.Enabled = false
		s := mustSnapshot(t, []Flag{f}, []Override{override})
		for _, ctx := range []EvalContext{staff, user, {}} {
			r := s.Evaluate(f.Key, ctx)
			require.Equal(t, Result{Key: f.Key, Value: false, Reason: ReasonDisabled, Version: 7, Type: TypeBoolean}, r)
		}
	})
	t.Run("override wins over rule and rollout", func(t *testing.T) {
		t.Parallel()
		f := base()
		f.Rules[0].Value = false
		f.Rules[0].Conditions = nil // matches everyone
		s := mustSnapshot(t, []Flag{f}, []Override{override})
		r := s.Evaluate(f.Key, user)
		require.Equal(t, Result{Key: f.Key, Value: true, Reason: ReasonTargetingMatch, Version: 7, Type: TypeBoolean}, r)
		require.Equal(t, false, s.Evaluate(f.Key, staff).Value)
	})
	t.Run("rule wins over rollout", func(t *testing.T) {
		t.Parallel()
		s := mustSnapshot(t, []Flag{base()}, nil)
		r := s.Evaluate("backend.feature", staff)
		require.Equal(t, ReasonTargetingMatch, r.Reason)
		require.Equal(t, true, r.Value)
		r = s.Evaluate("backend.feature", user)
		require.Equal(t, ReasonDefault, r.Reason)
		require.Equal(t, false, r.Value)
	})
	t.Run("rule matches without targeting key", func(t *testing.T) {
		t.Parallel()
		s := mustSnapshot(t, []Flag{base()}, nil)
		r := s.Evaluate("backend.feature", EvalContext{Attributes: map[string]any{"role": "staff"}})
		require.Equal(t, ReasonTargetingMatch, r.Reason)
		require.Empty(t, r.ErrorCode)
	})
}

func TestEvaluateOverrides(t *testing.T) {
	t.Parallel()
	f := testBoolFlag("ui.banner")
	m := testMultiFlag("experiment.color", 50, 50)
	m.Rules = []Rule{{ID: "all", Variant: "a"}}
	overrides := []Override{
		{FlagKey: f.Key, TargetingKey: "forever", Value: false},
		{FlagKey: f.Key, TargetingKey: "future", Value: false, ExpiresAt: evalPtr(evalT0.Add(time.Second))},
		{FlagKey: f.Key, TargetingKey: "past", Value: false, ExpiresAt: evalPtr(evalT0.Add(-time.Second))},
		{FlagKey: f.Key, TargetingKey: "now", Value: false, ExpiresAt: evalPtr(evalT0)},
		{FlagKey: m.Key, TargetingKey: "forever", Variant: "b"},
		{FlagKey: "ui.unknown_flag", TargetingKey: "forever", Value: "ignored"},
	}
	s := mustSnapshot(t, []Flag{f, m}, overrides)
	tests := []struct {
		tk     string
		want   any
		reason Reason
	}{
		{"forever", false, ReasonTargetingMatch},
		{"future", false, ReasonTargetingMatch},
		{"past", true, ReasonStatic},
		{"now", true, ReasonStatic}, // expiry is exclusive
		{"someone", true, ReasonStatic},
		{"", true, ReasonStatic},
	}
	for _, tc := range tests {
		r := s.Evaluate(f.Key, EvalContext{TargetingKey: tc.tk})
		require.Equal(t, tc.want, r.Value, tc.tk)
		require.Equal(t, tc.reason, r.Reason, tc.tk)
		require.Empty(t, r.Variant)
	}
	r := s.Evaluate(m.Key, EvalContext{TargetingKey: "forever"})
	require.Equal(t, Result{Key: m.Key, Value: "value-b", Variant: "b", Reason: ReasonTargetingMatch, Version: 3, Type: TypeMultivariate}, r)
	r = s.Evaluate(m.Key, EvalContext{TargetingKey: "other"})
	require.Equal(t, Result{Key: m.Key, Value: "value-a", Variant: "a", Reason: ReasonTargetingMatch, Version: 3, Type: TypeMultivariate}, r)
}

func TestOverrideExpiryUsesClock(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	now := evalT0
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	f := testBoolFlag("ui.banner")
	s, err := NewSnapshot([]Flag{f}, []Override{{FlagKey: f.Key, TargetingKey: "u", Value: false, ExpiresAt: evalPtr(evalT0.Add(time.Hour))}}, 1, clock)
	require.NoError(t, err)
	require.Equal(t, ReasonTargetingMatch, s.Evaluate(f.Key, EvalContext{TargetingKey: "u"}).Reason)
	mu.Lock()
	now = evalT0.Add(time.Hour)
	mu.Unlock()
	require.Equal(t, ReasonStatic, s.Evaluate(f.Key, EvalContext{TargetingKey: "u"}).Reason)
}

func TestEvaluateRulePriority(t *testing.T) {
	t.Parallel()
	f := Flag{Key: "backend.tier", Type: TypeString, Enabled: true, Value: "static", DefaultValue: "default",
		RolloutPercentage: 100, Visibility: VisibilityInternal}
	f.Rules = []Rule{
		{ID: "late", Priority: 10, Value: "late"},
		{ID: "tie-first", Priority: 5, Value: "tie-first", Conditions: []Condition{{Attribute: "plan", Operator: OpEquals, Value: "pro"}}},
		{ID: "tie-second", Priority: 5, Value: "tie-second", Conditions: []Condition{{Attribute: "plan", Operator: OpIn, Value: []any{"pro", "team"}}}},
		{ID: "early", Priority: -1, Value: "early", Conditions: []Condition{
			{Attribute: "plan", Operator: OpEquals, Value: "pro"},
			{Attribute: "beta", Operator: OpEquals, Value: true},
		}},
	}
	s := mustSnapshot(t, []Flag{f}, nil)
	tests := []struct {
		attrs map[string]any
		want  string
	}{
		{map[string]any{"plan": "pro", "beta": true}, "early"},
		{map[string]any{"plan": "pro", "beta": false}, "tie-first"}, // AND: "early" needs both
		{map[string]any{"plan": "team"}, "tie-second"},
		{map[string]any{"plan": "free"}, "late"}, // no conditions: everyone
		{nil, "late"},
	}
	for _, tc := range tests {
		r := s.Evaluate(f.Key, EvalContext{Attributes: tc.attrs})
		require.Equal(t, tc.want, r.Value, "%v", tc.attrs)
		require.Equal(t, ReasonTargetingMatch, r.Reason)
	}
	// The stored flag keeps the rules in their original order.
	got, _ := s.Flag(f.Key)
	require.Equal(t, "late", got.Rules[0].ID)
}

func TestEvaluateRollout(t *testing.T) {
	t.Parallel()
	keys := evalKeys(5000, 1)
	t.Run("100 percent is static and needs no targeting key", func(t *testing.T) {
		t.Parallel()
		s := mustSnapshot(t, []Flag{testBoolFlag("ui.all")}, nil)
		for _, tk := range append(keys[:100:100], "") {
			require.Equal(t, Result{Key: "ui.all", Value: true, Reason: ReasonStatic, Version: 7, Type: TypeBoolean},
				s.Evaluate("ui.all", EvalContext{TargetingKey: tk}))
		}
	})
	t.Run("0 percent is default for everyone", func(t *testing.T) {
		t.Parallel()
		f := testBoolFlag("ui.none")
		f.RolloutPercentage = 0
		s := mustSnapshot(t, []Flag{f}, nil)
		for _, tk := range keys {
			r := s.Evaluate(f.Key, EvalContext{TargetingKey: tk})
			require.Equal(t, Result{Key: f.Key, Value: false, Reason: ReasonDefault, Version: 7, Type: TypeBoolean}, r)
		}
	})
	t.Run("missing targeting key", func(t *testing.T) {
		t.Parallel()
		f := testBoolFlag("ui.partial")
		f.RolloutPercentage = 50
		s := mustSnapshot(t, []Flag{f}, nil)
		r := s.Evaluate(f.Key, EvalContext{Attributes: map[string]any{"targetingKey": "not-used"}})
		require.Equal(t, Result{Key: f.Key, Value: false, Reason: ReasonError, ErrorCode: CodeTargetingKeyMissing,
			ErrorMessage: msgTargetingKeyMissing, Version: 7, Type: TypeBoolean}, r)
	})
	t.Run("partial follows the rollout bucket", func(t *testing.T) {
		t.Parallel()
		for _, salt := range []string{"", "custom-salt"} {
			f := testBoolFlag("ui.partial")
			f.RolloutPercentage = 12.345
			f.Salt = salt
			s := mustSnapshot(t, []Flag{f}, nil)
			in := 0
			for _, tk := range keys {
				r := s.Evaluate(f.Key, EvalContext{TargetingKey: tk})
				if Bucket(PurposeRollout, f.EffectiveSalt(), f.Key, tk) < 12345 {
					in++
					require.Equal(t, Result{Key: f.Key, Value: true, Reason: ReasonSplit, Version: 7, Type: TypeBoolean}, r)
				} else {
					require.Equal(t, Result{Key: f.Key, Value: false, Reason: ReasonDefault, Version: 7, Type: TypeBoolean}, r)
				}
			}
			share := float64(in) / float64(len(keys))
			require.InDelta(t, 0.12345, share, 0.02)
		}
	})
	t.Run("multivariate outside the rollout gets the default", func(t *testing.T) {
		t.Parallel()
		f := testMultiFlag("experiment.partial", 50, 50)
		f.RolloutPercentage = 30
		s := mustSnapshot(t, []Flag{f}, nil)
		for _, tk := range keys[:2000] {
			r := s.Evaluate(f.Key, EvalContext{TargetingKey: tk})
			if Bucket(PurposeRollout, f.Key, f.Key, tk) < 30000 {
				require.Equal(t, ReasonSplit, r.Reason)
				require.Contains(t, []string{"a", "b"}, r.Variant)
			} else {
				require.Equal(t, Result{Key: f.Key, Value: "off", Reason: ReasonDefault, Version: 3, Type: TypeMultivariate}, r)
			}
		}
	})
}

func TestEvaluateMultivariate(t *testing.T) {
	t.Parallel()
	t.Run("missing targeting key", func(t *testing.T) {
		t.Parallel()
		s := mustSnapshot(t, []Flag{testMultiFlag("experiment.x", 50, 50)}, nil)
		r := s.Evaluate("experiment.x", EvalContext{})
		require.Equal(t, Result{Key: "experiment.x", Value: "off", Reason: ReasonError, ErrorCode: CodeTargetingKeyMissing,
			ErrorMessage: msgTargetingKeyMissing, Version: 3, Type: TypeMultivariate}, r)
	})
	t.Run("ranges follow stored order", func(t *testing.T) {
		t.Parallel()
		f := testMultiFlag("experiment.x", 20, 0, 40, 40)
		f.Salt = "s2"
		s := mustSnapshot(t, []Flag{f}, nil)
		for _, tk := range evalKeys(3000, 2) {
			b := Bucket(PurposeVariant, "s2", f.Key, tk)
			want := "a"
			switch {
			case b >= 60000:
				want = "d"
			case b >= 20000:
				want = "c"
			}
			r := s.Evaluate(f.Key, EvalContext{TargetingKey: tk})
			require.Equal(t, Result{Key: f.Key, Value: "value-" + want, Variant: want, Reason: ReasonSplit, Version: 3, Type: TypeMultivariate}, r)
		}
	})
	t.Run("20/40/40 distribution and a 0-weight variant", func(t *testing.T) {
		t.Parallel()
		f := testMultiFlag("experiment.dist", 20, 40, 0, 40)
		s := mustSnapshot(t, []Flag{f}, nil)
		counts := map[string]int{}
		keys := evalKeys(20000, 3)
		for _, tk := range keys {
			r := s.Evaluate(f.Key, EvalContext{TargetingKey: tk})
			require.Equal(t, ReasonSplit, r.Reason)
			counts[r.Variant]++
		}
		require.Zero(t, counts["c"], "a 0-weight variant is never chosen")
		n := float64(len(keys))
		require.InDelta(t, 20.0, 100*float64(counts["a"])/n, 1.5)
		require.InDelta(t, 40.0, 100*float64(counts["b"])/n, 1.5)
		require.InDelta(t, 40.0, 100*float64(counts["d"])/n, 1.5)
	})
	t.Run("rollout and variant buckets are independent", func(t *testing.T) {
		t.Parallel()
		f := testMultiFlag("experiment.indep", 50, 50)
		f.RolloutPercentage = 50
		s := mustSnapshot(t, []Flag{f}, nil)
		counts := map[string]int{}
		for _, tk := range evalKeys(20000, 4) {
			counts[s.Evaluate(f.Key, EvalContext{TargetingKey: tk}).Variant]++
		}
		// If the buckets were the same, only variant "a" would ever be in a 50% rollout.
		require.InDelta(t, 5000, counts["a"], 400)
		require.InDelta(t, 5000, counts["b"], 400)
		require.InDelta(t, 10000, counts[""], 400)
	})
}

// Changing A50/B50 to A40/B60 moves exactly the units whose variant bucket is in
// [40000, 50000), all from A to B.
func TestWeightChangeMovesOnlyTheBoundary(t *testing.T) {
	t.Parallel()
	before := testMultiFlag("experiment.move", 50, 50)
	after := testMultiFlag("experiment.move", 40, 60)
	after.Version = 4
	s1 := mustSnapshot(t, []Flag{before}, nil)
	s2 := mustSnapshot(t, []Flag{after}, nil)
	moved, inBand := 0, 0
	for _, tk := range evalKeys(10000, 5) {
		ctx := EvalContext{TargetingKey: tk}
		v1, v2 := s1.Evaluate(before.Key, ctx).Variant, s2.Evaluate(after.Key, ctx).Variant
		b := Bucket(PurposeVariant, before.Key, before.Key, tk)
		band := b >= 40000 && b < 50000
		if band {
			inBand++
		}
		if v1 != v2 {
			moved++
			require.True(t, band, "unit %s (bucket %d) moved outside the band", tk, b)
			require.Equal(t, "a", v1)
			require.Equal(t, "b", v2)
		} else {
			require.False(t, band, "unit %s (bucket %d) in the band did not move", tk, b)
		}
	}
	require.Equal(t, inBand, moved)
	require.InDelta(t, 1000, moved, 150)
}

func TestFastBucketMatchesBucket(t *testing.T) {
	t.Parallel()
	ids := append(evalKeys(500, 6), "", "é", "日本語ユーザー", "\x00\x1f", strings.Repeat("x", 300),
		strings.Repeat("long-id-", 200), strings.Repeat("😀", 130))
	for _, salt := range []string{"", "salt", strings.Repeat("s", 100)} {
		for _, key := range []string{"ui.a", "experiment." + strings.Repeat("k", 100)} {
			f := Flag{Key: key, Salt: salt}
			rp := bucketPrefix(PurposeRollout, f.EffectiveSalt(), key)
			vp := bucketPrefix(PurposeVariant, f.EffectiveSalt(), key)
			for _, id := range ids {
				require.Equal(t, Bucket(PurposeRollout, f.EffectiveSalt(), key, id), fastBucket(rp, id))
				require.Equal(t, Bucket(PurposeVariant, f.EffectiveSalt(), key, id), fastBucket(vp, id))
			}
		}
	}
}

func TestValueType(t *testing.T) {
	t.Parallel()
	tests := []struct {
		v    any
		want string
	}{
		{nil, "null"}, {true, "boolean"}, {"s", "string"}, {1.5, "number"}, {3, "number"},
		{map[string]any{}, "object"}, {[]any{}, "array"}, {[]string{"a"}, "array"}, {math.NaN(), "number"},
	}
	for _, tc := range tests {
		require.Equal(t, tc.want, Result{Value: tc.v}.ValueType(), "%#v", tc.v)
	}
}

func TestNewSnapshotErrors(t *testing.T) {
	t.Parallel()
	bad := testBoolFlag("ui.bad")
	bad.Value = "yes"
	_, err := NewSnapshot([]Flag{testBoolFlag("ui.ok"), bad}, nil, 1, nil)
	var ife *InvalidFlagError
	require.True(t, errors.As(err, &ife))
	require.Equal(t, "ui.bad", ife.Key)
	require.Equal(t, "value", ife.Errors[0].Field)
	require.Contains(t, err.Error(), "ui.bad")

	_, err = NewSnapshot([]Flag{testBoolFlag("ui.ok"), testBoolFlag("ui.ok")}, nil, 1, nil)
	require.ErrorAs(t, err, &ife)
	require.Equal(t, "key", ife.Errors[0].Field)

	// Overrides that no longer fit are skipped (and reported), never fatal.
	m := testMultiFlag("experiment.m", 50, 50)
	snap, err := NewSnapshot([]Flag{m}, []Override{{FlagKey: m.Key, TargetingKey: "u", Variant: "gone"}}, 1, nil)
	require.NoError(t, err)
	require.Len(t, snap.Skipped(), 1)
	require.Equal(t, "u", snap.Skipped()[0].TargetingKey)
	require.Equal(t, "variant", snap.Skipped()[0].Errors[0].Field)
	require.NotEqual(t, ReasonTargetingMatch, snap.Evaluate(m.Key, EvalContext{TargetingKey: "u"}).Reason)

	// The first of duplicate overrides wins.
	snap, err = NewSnapshot([]Flag{m}, []Override{
		{FlagKey: m.Key, TargetingKey: "u", Variant: "a"}, {FlagKey: m.Key, TargetingKey: "u", Variant: "b"},
	}, 1, nil)
	require.NoError(t, err)
	require.Equal(t, "a", snap.Evaluate(m.Key, EvalContext{TargetingKey: "u"}).Variant)
	vis, archived, ok := snap.Meta(m.Key)
	require.True(t, ok)
	require.False(t, archived)
	require.Equal(t, m.Visibility, vis)
}

func TestSnapshotAccessors(t *testing.T) {
	t.Parallel()
	in := []Flag{testBoolFlag("ui.zeta"), testMultiFlag("experiment.alpha", 50, 50), testBoolFlag("backend.mid")}
	in[0].Tags = []string{"t1"}
	in[2].Value = true
	s, err := NewSnapshot(in, nil, 99, nil)
	require.NoError(t, err)
	require.Equal(t, int64(99), s.Revision())
	require.Equal(t, 3, s.Len())
	require.Equal(t, []string{"backend.mid", "experiment.alpha", "ui.zeta"}, s.Keys())

	// The snapshot is isolated from its inputs and from what it hands out.
	in[0].Enabled = false
	in[0].Tags[0] = "changed"
	in[1].Variants[0].Value = "changed"
	keys := s.Keys()
	keys[0] = "changed"
	f, ok := s.Flag("ui.zeta")
	require.True(t, ok)
	require.True(t, f.Enabled)
	require.Equal(t, []string{"t1"}, f.Tags)
	f.Tags[0] = "mutated"
	f.Enabled = false
	g, _ := s.Flag("ui.zeta")
	require.Equal(t, []string{"t1"}, g.Tags)
	require.Equal(t, ReasonStatic, s.Evaluate("ui.zeta", EvalContext{}).Reason)
	m, _ := s.Flag("experiment.alpha")
	require.Equal(t, "value-a", m.Variants[0].Value)
	require.Equal(t, "backend.mid", s.Keys()[0])
	_, ok = s.Flag("ui.nope")
	require.False(t, ok)

	empty, err := NewSnapshot(nil, nil, 0, nil)
	require.NoError(t, err)
	require.Empty(t, empty.Keys())
	require.Equal(t, CodeFlagNotFound, empty.Evaluate("ui.x", EvalContext{}).ErrorCode)
}

func TestSnapshotConcurrentEvaluate(t *testing.T) {
	t.Parallel()
	f := testMultiFlag("experiment.conc", 20, 40, 40)
	f.Rules = []Rule{{ID: "re", Variant: "b", Conditions: []Condition{{Attribute: "email", Operator: OpRegex, Value: `@corp\.com$`}}}}
	s := mustSnapshot(t, []Flag{f, testBoolFlag("ui.b")}, []Override{{FlagKey: f.Key, TargetingKey: "vip", Variant: "c", ExpiresAt: evalPtr(evalT0.Add(time.Hour))}})
	keys := evalKeys(200, 7)
	want := make([]Result, len(keys))
	for i, tk := range keys {
		want[i] = s.Evaluate(f.Key, EvalContext{TargetingKey: tk})
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for i, tk := range keys {
				if got := s.Evaluate(f.Key, EvalContext{TargetingKey: tk}); got != want[i] {
					t.Errorf("%s: got %+v want %+v", tk, got, want[i])
				}
				s.Evaluate(f.Key, EvalContext{TargetingKey: "x", Attributes: map[string]any{"email": "a@corp.com"}})
				s.Evaluate(f.Key, EvalContext{TargetingKey: "vip"})
				s.Evaluate("ui.b", EvalContext{})
			}
		})
	}
	wg.Wait()
}

// Not parallel: testing.AllocsPerRun refuses to run in a parallel test.
func TestEvaluateAllocations(t *testing.T) {
	b := testBoolFlag("ui.fast")
	m := testMultiFlag("experiment.fast", 20, 40, 40)
	m.RolloutPercentage = 90
	s := mustSnapshot(t, []Flag{b, m}, nil)
	ctx := EvalContext{TargetingKey: "user-123", Attributes: map[string]any{"plan": "pro"}}
	require.Zero(t, testing.AllocsPerRun(200, func() { s.Evaluate(b.Key, ctx) }))
	require.Zero(t, testing.AllocsPerRun(200, func() { s.Evaluate(m.Key, ctx) }))
}

func TestNoOverridesSkipsOverride(t *testing.T) {
	f := Flag{Key: "ui.x", Type: TypeBoolean, Enabled: true, Value: false, DefaultValue: false, Visibility: VisibilityPublic}
	snap, err := NewSnapshot([]Flag{f}, []Override{{FlagKey: "ui.x", TargetingKey: "u1", Value: true}}, 1, nil)
	if err != nil {
		t.Fatal(err)
	}
	if r := snap.Evaluate("ui.x", EvalContext{TargetingKey: "u1"}); r.Value != true {
		t.Fatalf("override not applied: %+v", r)
	}
	if r := snap.Evaluate("ui.x", EvalContext{TargetingKey: "u1", NoOverrides: true}); r.Value != false || r.Reason == ReasonTargetingMatch {
		t.Fatalf("override applied despite NoOverrides: %+v", r)
	}
}
