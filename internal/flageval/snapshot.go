package flageval

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/voiceassist/gateway/internal/apierr"
)

// Snapshot is an immutable, precompiled view of all flags and overrides at one global
// revision. It is safe for concurrent use; the service layer builds a new one on every
// change and swaps it in atomically.
type Snapshot struct {
	flags    map[string]*compiledFlag
	keys     []string
	revision int64
	now      func() time.Time
	skipped  []InvalidFlagError // overrides left out because they no longer fit their flag
}

// InvalidFlagError is returned by NewSnapshot for a flag or override that does not
// validate.
type InvalidFlagError struct {
	Key          string // the flag key
	TargetingKey string // set when an override is at fault
	Errors       []apierr.FieldError
}

func (e *InvalidFlagError) Error() string {
	var b strings.Builder
	b.WriteString("flag ")
	b.WriteString(e.Key)
	if e.TargetingKey != "" {
		fmt.Fprintf(&b, ": override for %q", e.TargetingKey)
	}
	b.WriteString(": invalid")
	for i, fe := range e.Errors {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(fe.Field)
		b.WriteString(" ")
		b.WriteString(fe.Message)
	}
	return b.String()
}

// NewSnapshot validates and precompiles flags (regexes, rule order, bucket thresholds) and
// indexes overrides by flag and targeting key. now (nil = time.Now) decides override
// expiry at evaluation time. It fails on a flag that does not validate, a duplicate flag
// key, an override that does not fit its flag (ValidateOverride) or a duplicate override;
// overrides of flags absent from flags are ignored. Inputs are deep-copied.
func NewSnapshot(flags []Flag, overrides []Override, revision int64, now func() time.Time) (*Snapshot, error) {
	if now == nil {
		now = time.Now
	}
	s := &Snapshot{flags: make(map[string]*compiledFlag, len(flags)), revision: revision, now: now}
	for i := range flags {
		f := cloneFlag(&flags[i])
		if errs := Validate(&f); len(errs) > 0 {
			return nil, &InvalidFlagError{Key: f.Key, Errors: errs}
		}
		if _, dup := s.flags[f.Key]; dup {
			return nil, &InvalidFlagError{Key: f.Key, Errors: []apierr.FieldError{{Field: "key", Message: "duplicate flag key"}}}
		}
		cf, err := compileFlag(f)
		if err != nil { // unreachable after Validate
			return nil, fmt.Errorf("flag %s: %w", f.Key, err)
		}
		s.flags[f.Key] = cf
		s.keys = append(s.keys, f.Key)
	}
	slices.Sort(s.keys)
	for i := range overrides {
		o := &overrides[i]
		cf, ok := s.flags[o.FlagKey]
		if !ok {
			continue
		}
		// An override that no longer fits its flag (its variant was removed, the type
		// changed) is skipped, not fatal: one stale row must not stop every replica from
		// loading new flag versions. The first of duplicate overrides wins.
		if errs := ValidateOverride(&cf.flag, o); len(errs) > 0 {
			s.skipped = append(s.skipped, InvalidFlagError{Key: o.FlagKey, TargetingKey: o.TargetingKey, Errors: errs})
			continue
		}
		if cf.overrides == nil {
			cf.overrides = map[string]compiledOverride{}
		}
		if _, dup := cf.overrides[o.TargetingKey]; dup {
			continue
		}
		co := compiledOverride{value: cloneJSON(o.Value), variant: o.Variant}
		if cf.flag.Type == TypeMultivariate {
			co.value = cf.flag.Variants[cf.variantIdx[o.Variant]].Value
		}
		if o.ExpiresAt != nil {
			co.expires, co.expiresAt = true, *o.ExpiresAt
		}
		cf.overrides[o.TargetingKey] = co
	}
	return s, nil
}

// Skipped lists the overrides NewSnapshot left out because they no longer fit their flag.
func (s *Snapshot) Skipped() []InvalidFlagError { return s.skipped }

// Meta returns what callers filter on, without copying the flag: its visibility, whether it
// is archived, and its category.
func (s *Snapshot) Meta(key string) (vis Visibility, archived bool, ok bool) {
	cf, ok := s.flags[key]
	if !ok {
		return "", false, false
	}
	return cf.flag.Visibility, cf.flag.Archived, true
}

// Revision is the global revision (flag event id) the snapshot was built at.
func (s *Snapshot) Revision() int64 { return s.revision }

// Len is the number of flags, archived ones included.
func (s *Snapshot) Len() int { return len(s.keys) }

// Evaluate evaluates flag key for ctx (DESIGN §6 order). A missing or archived flag
// yields Reason ERROR with ErrorCode FLAG_NOT_FOUND. Visibility is not checked here: the
// caller filters by Flag(key).Visibility.
func (s *Snapshot) Evaluate(key string, ctx EvalContext) Result {
	cf, ok := s.flags[key]
	if !ok || cf.flag.Archived {
		return Result{Key: key, Reason: ReasonError, ErrorCode: CodeFlagNotFound, ErrorMessage: msgFlagNotFound}
	}
	return cf.evaluate(&ctx, s.now)
}

// Flag returns a deep copy of the flag stored under key (archived flags included).
func (s *Snapshot) Flag(key string) (*Flag, bool) {
	cf, ok := s.flags[key]
	if !ok {
		return nil, false
	}
	f := cloneFlag(&cf.flag)
	return &f, true
}

// Keys returns every flag key in the snapshot (archived flags included), sorted.
func (s *Snapshot) Keys() []string { return slices.Clone(s.keys) }

func cloneFlag(f *Flag) Flag {
	c := *f
	c.Value = cloneJSON(f.Value)
	c.DefaultValue = cloneJSON(f.DefaultValue)
	c.Tags = slices.Clone(f.Tags)
	if f.Variants != nil {
		c.Variants = make([]Variant, len(f.Variants))
		for i, v := range f.Variants {
			v.Value = cloneJSON(v.Value)
			c.Variants[i] = v
		}
	}
	if f.Rules != nil {
		c.Rules = make([]Rule, len(f.Rules))
		for i, r := range f.Rules {
			r.Value = cloneJSON(r.Value)
			if r.Conditions != nil {
				conds := make([]Condition, len(r.Conditions))
				for j, cond := range r.Conditions {
					cond.Value = cloneJSON(cond.Value)
					conds[j] = cond
				}
				r.Conditions = conds
			}
			c.Rules[i] = r
		}
	}
	return c
}

// cloneJSON deep-copies JSON objects and arrays; other values are immutable.
func cloneJSON(v any) any {
	switch x := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = cloneJSON(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = cloneJSON(e)
		}
		return a
	}
	return v
}
