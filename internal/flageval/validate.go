package flageval

import (
	"fmt"
	"math"
	"regexp"
	"unicode/utf8"

	"github.com/voiceassist/gateway/internal/apierr"
)

// Limits enforced by Validate.
const (
	MinVariants          = 2
	MaxVariants          = 50
	MaxRules             = 100
	MaxConditions        = 20
	MaxAttributeLength   = 100
	MaxDescriptionLength = 1000
	MaxOwnerLength       = 200
	MaxNameLength        = 200 // variant and rule names
	MaxRuleIDLength      = 100
	MaxTags              = 20
	MaxSaltLength        = 100
	MaxTargetingKeyLen   = 256
)

// VariantIDPattern and TagPattern are the syntax of variant ids and tags.
const (
	VariantIDPattern = `^[a-z0-9][a-z0-9_-]{0,63}$`
	TagPattern       = `^[a-z0-9][a-z0-9_-]{0,49}$`
)

var (
	variantIDRE = regexp.MustCompile(VariantIDPattern)
	tagRE       = regexp.MustCompile(TagPattern)
)

// Thousandths converts a percentage or weight with at most three decimals into an
// integer count of thousandths of a percent (= buckets): 12.5 -> 12500. ok is false for
// NaN, infinities, or more than three decimals.
func Thousandths(p float64) (n int64, ok bool) {
	if math.IsNaN(p) || math.IsInf(p, 0) {
		return 0, false
	}
	x := p * 1000
	r := math.Round(x)
	if math.Abs(r-x) > 1e-6 || math.Abs(r) > 1<<53 {
		return 0, false
	}
	return int64(r), true
}

// isJSON reports whether v is a JSON value as encoding/json decodes it (any Go number is
// accepted as a number, but it must be finite).
func isJSON(v any) bool {
	switch x := v.(type) {
	case nil, bool, string:
		return true
	case map[string]any:
		for _, e := range x {
			if !isJSON(e) {
				return false
			}
		}
		return true
	case []any:
		for _, e := range x {
			if !isJSON(e) {
				return false
			}
		}
		return true
	}
	_, ok := toFloat(v)
	return ok
}

// checkValue reports why v is not a value of type t ("" when it is). For multivariate
// flags any JSON value is accepted.
func checkValue(t Type, v any) string {
	switch t {
	case TypeBoolean:
		if _, ok := v.(bool); !ok {
			return "must be a boolean"
		}
	case TypeString:
		if _, ok := v.(string); !ok {
			return "must be a string"
		}
	case TypeNumber:
		if _, ok := toFloat(v); !ok {
			return "must be a finite number"
		}
	case TypeJSON:
		switch v.(type) {
		case map[string]any, []any:
			if !isJSON(v) {
				return "must be valid JSON"
			}
		default:
			return "must be a JSON object or array"
		}
	case TypeMultivariate:
		if !isJSON(v) {
			return "must be valid JSON"
		}
	}
	return ""
}

type errs []apierr.FieldError

func (e *errs) add(field, format string, args ...any) {
	msg := format
	if len(args) > 0 {
		msg = fmt.Sprintf(format, args...)
	}
	*e = append(*e, apierr.FieldError{Field: field, Message: msg})
}

func tooLong(s string, n int) bool { return utf8.RuneCountInString(s) > n }

// Validate returns every rule f breaks, each with a JSON-path-like field name
// ("key", "variants[1].id", "rules[0].conditions[1].operator", ...). nil means valid.
func Validate(f *Flag) []apierr.FieldError {
	if f == nil {
		return []apierr.FieldError{{Field: "", Message: "flag is required"}}
	}
	var e errs
	if !ValidKey(f.Key) {
		e.add("key", "must match %s", KeyPattern)
	}
	if tooLong(f.Description, MaxDescriptionLength) {
		e.add("description", "must be at most %d characters", MaxDescriptionLength)
	}
	if tooLong(f.Owner, MaxOwnerLength) {
		e.add("owner", "must be at most %d characters", MaxOwnerLength)
	}
	typeOK := f.Type.Valid()
	if !typeOK {
		e.add("type", "must be one of boolean, string, number, json, multivariate")
	}
	if !f.Visibility.Valid() {
		e.add("visibility", "must be one of public, authenticated, admin, internal")
	}
	if _, ok := Thousandths(f.RolloutPercentage); !ok || f.RolloutPercentage < 0 || f.RolloutPercentage > 100 {
		e.add("rollout_percentage", "must be between 0 and 100 with at most 3 decimals")
	}
	if tooLong(f.Salt, MaxSaltLength) {
		e.add("salt", "must be at most %d characters", MaxSaltLength)
	}
	validateTags(&e, f.Tags)
	if typeOK {
		validateValues(&e, f)
		validateVariants(&e, f)
	}
	validateRules(&e, f, typeOK)
	if len(e) == 0 {
		return nil
	}
	return e
}

func validateTags(e *errs, tags []string) {
	if len(tags) > MaxTags {
		e.add("tags", "must have at most %d tags", MaxTags)
	}
	seen := make(map[string]bool, len(tags))
	for i, t := range tags {
		field := fmt.Sprintf("tags[%d]", i)
		switch {
		case !tagRE.MatchString(t):
			e.add(field, "must match %s", TagPattern)
		case seen[t]:
			e.add(field, "duplicate tag %q", t)
		}
		seen[t] = true
	}
}

func validateValues(e *errs, f *Flag) {
	if f.Type == TypeMultivariate {
		if f.Value != nil {
			e.add("value", "must be null for multivariate flags (variants carry the values)")
		}
	} else if msg := checkValue(f.Type, f.Value); msg != "" {
		e.add("value", "%s", msg)
	}
	if msg := checkValue(f.Type, f.DefaultValue); msg != "" {
		e.add("default_value", "%s", msg)
	}
}

func validateVariants(e *errs, f *Flag) {
	if f.Type != TypeMultivariate {
		if len(f.Variants) > 0 {
			e.add("variants", "must be empty for %s flags", f.Type)
		}
		return
	}
	if len(f.Variants) < MinVariants || len(f.Variants) > MaxVariants {
		e.add("variants", "must have between %d and %d variants", MinVariants, MaxVariants)
	}
	seen := make(map[string]bool, len(f.Variants))
	var sum int64
	weightsOK := true
	for i, v := range f.Variants {
		p := fmt.Sprintf("variants[%d]", i)
		switch {
		case v.ID == "":
			e.add(p+".id", "is required")
		case !variantIDRE.MatchString(v.ID):
			e.add(p+".id", "must match %s", VariantIDPattern)
		case seen[v.ID]:
			e.add(p+".id", "duplicate variant id %q", v.ID)
		}
		seen[v.ID] = true
		if tooLong(v.Name, MaxNameLength) {
			e.add(p+".name", "must be at most %d characters", MaxNameLength)
		}
		if tooLong(v.Description, MaxDescriptionLength) {
			e.add(p+".description", "must be at most %d characters", MaxDescriptionLength)
		}
		if !isJSON(v.Value) {
			e.add(p+".value", "must be valid JSON")
		}
		if n, ok := Thousandths(v.Weight); !ok || n < 0 {
			e.add(p+".weight", "must be a number >= 0 with at most 3 decimals")
			weightsOK = false
		} else {
			sum += n
		}
	}
	if weightsOK && len(f.Variants) > 0 && sum != Buckets {
		e.add("variants", "weights must sum to exactly 100 (got %s)", formatThousandths(sum))
	}
}

func formatThousandths(n int64) string {
	s := fmt.Sprintf("%d.%03d", n/1000, n%1000)
	for s[len(s)-1] == '0' {
		s = s[:len(s)-1]
	}
	if s[len(s)-1] == '.' {
		s = s[:len(s)-1]
	}
	return s
}

func validateRules(e *errs, f *Flag, typeOK bool) {
	if len(f.Rules) > MaxRules {
		e.add("rules", "must have at most %d rules", MaxRules)
	}
	variantIDs := make(map[string]bool, len(f.Variants))
	for _, v := range f.Variants {
		variantIDs[v.ID] = true
	}
	seen := make(map[string]bool, len(f.Rules))
	for i, r := range f.Rules {
		p := fmt.Sprintf("rules[%d]", i)
		switch {
		case r.ID == "":
			e.add(p+".id", "is required")
		case tooLong(r.ID, MaxRuleIDLength):
			e.add(p+".id", "must be at most %d characters", MaxRuleIDLength)
		case seen[r.ID]:
			e.add(p+".id", "duplicate rule id %q", r.ID)
		}
		seen[r.ID] = true
		if tooLong(r.Name, MaxNameLength) {
			e.add(p+".name", "must be at most %d characters", MaxNameLength)
		}
		if len(r.Conditions) > MaxConditions {
			e.add(p+".conditions", "must have at most %d conditions", MaxConditions)
		}
		for j, c := range r.Conditions {
			cp := fmt.Sprintf("%s.conditions[%d]", p, j)
			switch {
			case c.Attribute == "":
				e.add(cp+".attribute", "is required")
			case tooLong(c.Attribute, MaxAttributeLength):
				e.add(cp+".attribute", "must be at most %d characters", MaxAttributeLength)
			}
			if !ValidOperator(c.Operator) {
				e.add(cp+".operator", "must be one of %v", Operators())
			} else if msg := checkConditionValue(c.Operator, c.Value); msg != "" {
				e.add(cp+".value", "%s", msg)
			}
		}
		if !typeOK {
			continue
		}
		if f.Type == TypeMultivariate {
			switch {
			case r.Variant == "":
				e.add(p+".variant", "is required for multivariate flags")
			case !variantIDs[r.Variant]:
				e.add(p+".variant", "unknown variant %q", r.Variant)
			}
			if r.Value != nil {
				e.add(p+".value", "must be null for multivariate flags (use variant)")
			}
		} else {
			if r.Variant != "" {
				e.add(p+".variant", "must be empty for %s flags (use value)", f.Type)
			}
			if msg := checkValue(f.Type, r.Value); msg != "" {
				e.add(p+".value", "%s", msg)
			}
		}
	}
}

// ValidateOverride checks an override against its flag: the flag key matches, the
// targeting key is present (at most 256 characters), and the override carries a variant
// id of the flag (multivariate) or a value of the flag's type (other types).
func ValidateOverride(f *Flag, o *Override) []apierr.FieldError {
	if f == nil || o == nil {
		return []apierr.FieldError{{Field: "", Message: "flag and override are required"}}
	}
	var e errs
	if o.FlagKey != f.Key {
		e.add("flag_key", "must be the flag's key %q", f.Key)
	}
	switch {
	case o.TargetingKey == "":
		e.add("targeting_key", "is required")
	case tooLong(o.TargetingKey, MaxTargetingKeyLen):
		e.add("targeting_key", "must be at most %d characters", MaxTargetingKeyLen)
	}
	if f.Type == TypeMultivariate {
		found := false
		for _, v := range f.Variants {
			found = found || v.ID == o.Variant
		}
		switch {
		case o.Variant == "":
			e.add("variant", "is required for multivariate flags")
		case !found:
			e.add("variant", "unknown variant %q", o.Variant)
		}
		if o.Value != nil {
			e.add("value", "must be null for multivariate flags (use variant)")
		}
	} else {
		if o.Variant != "" {
			e.add("variant", "must be empty for %s flags (use value)", f.Type)
		}
		if msg := checkValue(f.Type, o.Value); msg != "" {
			e.add("value", "%s", msg)
		}
	}
	if len(e) == 0 {
		return nil
	}
	return e
}
