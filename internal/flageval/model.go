// Package flag is the feature-flag domain: the flag model, its validation, targeting
// operators, SemVer, and evaluation over an immutable Snapshot (DESIGN §6).
//
// It is a pure domain package: no HTTP, no SQL. The service layer loads flags and
// overrides from the database, builds a Snapshot with NewSnapshot and swaps it in
// atomically; readers evaluate lock-free.
package flageval

import (
	"regexp"
	"strings"
	"time"
)

// Type is a flag's value type.
type Type string

// Flag types.
const (
	TypeBoolean      Type = "boolean"
	TypeString       Type = "string"
	TypeNumber       Type = "number"
	TypeJSON         Type = "json"
	TypeMultivariate Type = "multivariate"
)

// Valid reports whether t is one of the flag types.
func (t Type) Valid() bool {
	switch t {
	case TypeBoolean, TypeString, TypeNumber, TypeJSON, TypeMultivariate:
		return true
	}
	return false
}

// Visibility says who may read a flag (and its evaluations and events). The values are
// ordered: public < authenticated < admin < internal.
type Visibility string

// Visibilities, least to most restricted.
const (
	VisibilityPublic        Visibility = "public"
	VisibilityAuthenticated Visibility = "authenticated"
	VisibilityAdmin         Visibility = "admin"
	VisibilityInternal      Visibility = "internal"
)

// Level is the visibility's rank: public 0, authenticated 1, admin 2, internal 3. An
// unknown visibility ranks as internal (3), so it is never shown to anyone who could not
// see an internal flag.
func (v Visibility) Level() int {
	switch v {
	case VisibilityPublic:
		return 0
	case VisibilityAuthenticated:
		return 1
	case VisibilityAdmin:
		return 2
	default:
		return 3
	}
}

// Valid reports whether v is one of the four visibilities.
func (v Visibility) Valid() bool {
	switch v {
	case VisibilityPublic, VisibilityAuthenticated, VisibilityAdmin, VisibilityInternal:
		return true
	}
	return false
}

// Variant is one arm of a multivariate flag. Value is any JSON value as decoded by
// encoding/json (bool, float64, string, map[string]any, []any, nil). Weight is a
// percentage with at most three decimals; a flag's weights sum to exactly 100.
type Variant struct {
	ID          string
	Name        string
	Description string
	Value       any
	Weight      float64
}

// Condition compares the context attribute Attribute with Value using Operator (see the
// Op* constants).
type Condition struct {
	Attribute string
	Operator  string
	Value     any
}

// Rule is a targeting rule: when all its conditions match (AND; none = everyone) the
// rule serves Variant (a variant id, multivariate flags) or Value (other flag types).
// Rules are tried by ascending Priority, ties by position.
type Rule struct {
	ID         string
	Name       string
	Priority   int
	Conditions []Condition
	Variant    string
	Value      any
}

// Flag is a feature flag.
type Flag struct {
	Key         string
	Description string
	Owner       string
	Type        Type
	Enabled     bool
	// Value is what an enabled non-multivariate flag serves (boolean: usually true).
	// Multivariate flags serve variants and keep Value nil.
	Value any
	// DefaultValue is served when the flag is disabled, the unit is outside the rollout,
	// or nothing else applies.
	DefaultValue any
	Variants     []Variant // multivariate only
	Rules        []Rule
	// RolloutPercentage is 0..100 with at most three decimals; 100 means everyone.
	RolloutPercentage float64
	// Salt feeds bucketing; "" means the flag key.
	Salt       string
	Visibility Visibility
	Tags       []string
	Archived   bool
	Version    int64
}

// Category is the part of the key before the first '.', or "" when there is none.
func (f *Flag) Category() string {
	before, _, found := strings.Cut(f.Key, ".")
	if !found {
		return ""
	}
	return before
}

// EffectiveSalt is the salt bucketing uses: Salt, or the key when Salt is empty.
func (f *Flag) EffectiveSalt() string {
	if f.Salt == "" {
		return f.Key
	}
	return f.Salt
}

// Override pins one targeting key to a value (non-multivariate flags) or a variant id
// (multivariate flags) until ExpiresAt (nil = no expiry).
type Override struct {
	FlagKey      string
	TargetingKey string
	Value        any
	Variant      string
	ExpiresAt    *time.Time
}

// EvalContext is the evaluation context (OpenFeature): the targeting key is the
// bucketing unit (user id by default) and Attributes feed the targeting rules.
type EvalContext struct {
	TargetingKey string
	Attributes   map[string]any
	// NoOverrides skips per-user overrides: set when the caller chose a targeting key it
	// does not own (anonymous callers, or users asking for another unit), so an override
	// is never disclosed to someone other than its user (issue 21 #3).
	NoOverrides bool
}

// Reason is an OpenFeature / OFREP resolution reason.
type Reason string

// Reasons.
const (
	ReasonStatic         Reason = "STATIC"
	ReasonDefault        Reason = "DEFAULT"
	ReasonTargetingMatch Reason = "TARGETING_MATCH"
	ReasonSplit          Reason = "SPLIT"
	ReasonDisabled       Reason = "DISABLED"
	ReasonError          Reason = "ERROR"
)

// ErrorCode is an OpenFeature / OFREP error code; "" means no error.
type ErrorCode string

// Error codes.
const (
	CodeFlagNotFound        ErrorCode = "FLAG_NOT_FOUND"
	CodeTargetingKeyMissing ErrorCode = "TARGETING_KEY_MISSING"
	CodeTypeMismatch        ErrorCode = "TYPE_MISMATCH"
	CodeParseError          ErrorCode = "PARSE_ERROR"
	CodeGeneral             ErrorCode = "GENERAL"
)

// Result is one evaluation. Value is shared with the snapshot and must be treated as
// read-only (it may be a map or slice).
type Result struct {
	Key          string
	Value        any
	Variant      string
	Reason       Reason
	ErrorCode    ErrorCode
	ErrorMessage string
	Version      int64
	Type         Type
}

// KeyPattern is the flag key syntax: {category}.{snake_name}.
const KeyPattern = `^(ui|backend|admin|integration|experiment|ops)\.[a-z][a-z0-9_]{0,99}$`

var keyRE = regexp.MustCompile(KeyPattern)

// ValidKey reports whether key matches KeyPattern.
func ValidKey(key string) bool { return keyRE.MatchString(key) }
