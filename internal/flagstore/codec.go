package flagstore

import (
	"encoding/json"
	"time"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/flageval"
)

// The JSON shapes of variants and rules in the database, in flag_events payloads and in
// export files. Field names follow the API. variantDoc and conditionDoc have exactly the
// fields of flageval.Variant and flageval.Condition, so a conversion maps them (and stops
// compiling when one side changes).
type variantDoc struct {
	ID          string  `json:"id" yaml:"id"`
	Name        string  `json:"name,omitempty" yaml:"name,omitempty"`
	Description string  `json:"description,omitempty" yaml:"description,omitempty"`
	Value       any     `json:"value" yaml:"value"`
	Weight      float64 `json:"weight" yaml:"weight"`
}

type conditionDoc struct {
	Attribute string `json:"attribute" yaml:"attribute"`
	Operator  string `json:"operator" yaml:"operator"`
	Value     any    `json:"value" yaml:"value"`
}

type ruleDoc struct {
	ID         string         `json:"id" yaml:"id"`
	Name       string         `json:"name,omitempty" yaml:"name,omitempty"`
	Priority   int            `json:"priority" yaml:"priority"`
	Conditions []conditionDoc `json:"conditions" yaml:"conditions"`
	Variant    string         `json:"variant,omitempty" yaml:"variant,omitempty"`
	Value      any            `json:"value,omitempty" yaml:"value,omitempty"`
}

// Doc is a flag as events, exports and imports carry it.
type Doc struct {
	Key               string         `json:"key" yaml:"key"`
	Description       string         `json:"description" yaml:"description,omitempty"`
	Type              string         `json:"type" yaml:"type"`
	Enabled           bool           `json:"enabled" yaml:"enabled"`
	Value             any            `json:"value" yaml:"value,omitempty"`
	DefaultValue      any            `json:"default_value" yaml:"default_value,omitempty"`
	Variants          []variantDoc   `json:"variants" yaml:"variants,omitempty"`
	Rules             []ruleDoc      `json:"rules" yaml:"rules,omitempty"`
	RolloutPercentage float64        `json:"rollout_percentage" yaml:"rollout_percentage"`
	Salt              string         `json:"salt" yaml:"salt,omitempty"`
	Visibility        string         `json:"visibility" yaml:"visibility"`
	Owner             string         `json:"owner" yaml:"owner,omitempty"`
	Tags              []string       `json:"tags" yaml:"tags,omitempty"`
	Archived          bool           `json:"archived" yaml:"archived,omitempty"`
	Version           int64          `json:"version" yaml:"-"`
	Overrides         []OverrideDoc  `json:"overrides,omitempty" yaml:"overrides,omitempty"`
	Extra             map[string]any `json:"-" yaml:"-"`
}

// OverrideDoc is an override in an export file.
type OverrideDoc struct {
	TargetingKey string     `json:"targeting_key" yaml:"targeting_key"`
	Value        any        `json:"value,omitempty" yaml:"value,omitempty"`
	Variant      string     `json:"variant,omitempty" yaml:"variant,omitempty"`
	Reason       string     `json:"reason,omitempty" yaml:"reason,omitempty"`
	ExpiresAt    *time.Time `json:"expires_at,omitempty" yaml:"expires_at,omitempty"`
}

// Record is a stored flag with its timestamps.
type Record struct {
	flageval.Flag
	CreatedAt, UpdatedAt time.Time
}

func decodeJSON(raw json.RawMessage) any {
	if len(raw) == 0 {
		return nil
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	return v
}

func encodeJSON(v any) json.RawMessage {
	if v == nil {
		return nil
	}
	b, _ := json.Marshal(v)
	return b
}

func fromRow(r db.FeatureFlag) Record {
	// A row holds variants and rules in their document shape: read it as a Doc.
	d := Doc{
		Key: r.Key, Description: r.Description, Owner: r.Owner, Type: r.Type, Enabled: r.Enabled,
		Value: decodeJSON(r.Value), DefaultValue: decodeJSON(r.DefaultValue),
		RolloutPercentage: r.RolloutPercentage, Salt: r.Salt, Visibility: r.Visibility,
		Tags: r.Tags, Archived: r.Archived,
	}
	_ = json.Unmarshal(r.Variants, &d.Variants)
	_ = json.Unmarshal(r.Rules, &d.Rules)
	f := FromDoc(d)
	f.Version = r.Version
	return Record{Flag: f, CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt}
}

func ruleFromDoc(rd ruleDoc) flageval.Rule {
	r := flageval.Rule{ID: rd.ID, Name: rd.Name, Priority: rd.Priority, Variant: rd.Variant, Value: rd.Value}
	for _, c := range rd.Conditions {
		r.Conditions = append(r.Conditions, flageval.Condition(c))
	}
	return r
}

// ToDoc renders a flag in the shared document shape.
func ToDoc(f flageval.Flag) Doc {
	d := Doc{
		Key: f.Key, Description: f.Description, Type: string(f.Type), Enabled: f.Enabled, Value: f.Value,
		DefaultValue: f.DefaultValue, RolloutPercentage: f.RolloutPercentage, Salt: f.Salt,
		Visibility: string(f.Visibility), Owner: f.Owner, Tags: f.Tags, Archived: f.Archived, Version: f.Version,
		Variants: []variantDoc{}, Rules: []ruleDoc{},
	}
	if d.Tags == nil {
		d.Tags = []string{}
	}
	for _, v := range f.Variants {
		d.Variants = append(d.Variants, variantDoc(v))
	}
	for _, r := range f.Rules {
		rd := ruleDoc{ID: r.ID, Name: r.Name, Priority: r.Priority, Variant: r.Variant, Value: r.Value, Conditions: []conditionDoc{}}
		for _, c := range r.Conditions {
			rd.Conditions = append(rd.Conditions, conditionDoc(c))
		}
		d.Rules = append(d.Rules, rd)
	}
	return d
}

// FromDoc is the inverse of ToDoc (version and overrides aside).
func FromDoc(d Doc) flageval.Flag {
	f := flageval.Flag{
		Key: d.Key, Description: d.Description, Type: flageval.Type(d.Type), Enabled: d.Enabled, Value: d.Value,
		DefaultValue: d.DefaultValue, RolloutPercentage: d.RolloutPercentage, Salt: d.Salt,
		Visibility: flageval.Visibility(d.Visibility), Owner: d.Owner, Tags: d.Tags, Archived: d.Archived,
	}
	if f.Tags == nil {
		f.Tags = []string{}
	}
	for _, v := range d.Variants {
		f.Variants = append(f.Variants, flageval.Variant(v))
	}
	for _, r := range d.Rules {
		f.Rules = append(f.Rules, ruleFromDoc(r))
	}
	return f
}

func overrideFromRow(o db.FlagOverride) flageval.Override {
	return flageval.Override{FlagKey: o.FlagKey, TargetingKey: o.TargetingKey, Value: decodeJSON(o.Value), Variant: o.Variant, ExpiresAt: o.ExpiresAt}
}

// Decode turns a feature_flags row into a Record.
func Decode(r db.FeatureFlag) (Record, error) { return fromRow(r), nil }

// BatchKey is the flag_events payload field that marks the events written by one multi-flag
// change (an import); see Batch.
const BatchKey = "batch"

// Batch groups the events of one transaction that changed several flags: every event of the
// batch carries the same ID, and consumers that speak in changes (the SSE stream) deliver
// the group as one flags_bulk_update with Reason.
type Batch struct {
	ID     string `json:"id"`
	Reason string `json:"reason"`
}
