package voice

import (
	"context"
	"errors"
	"net/http"

	"github.com/google/uuid"

	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/flageval"
	"github.com/voiceassist/gateway/internal/flagstore"
)

// Capability is one switchable voice-intelligence feature (issue 20). Each is a boolean
// flag backend.voice_<name> evaluated per user through our own flag service, so rollouts
// and A/B tests of voice behaviour use the product's flags.
type Capability string

// The capabilities, in the order docs/voice.md lists them.
const (
	CapMemory      Capability = "memory"
	CapRepair      Capability = "repair"
	CapProsody     Capability = "prosody"
	CapEmotion     Capability = "emotion"
	CapBackchannel Capability = "backchannel"
	CapAnalytics   Capability = "analytics"
	CapFeedback    Capability = "feedback"
)

// Capabilities lists every capability.
var Capabilities = []Capability{CapMemory, CapRepair, CapProsody, CapEmotion, CapBackchannel, CapAnalytics, CapFeedback}

var capabilityText = map[Capability]string{
	CapMemory:      "Voice conversation memory (short, medium and long term) written from voice turns.",
	CapRepair:      "Conversational repair strategies in voice sessions.",
	CapProsody:     "Prosody analysis of voice turns (speaking rate, pauses).",
	CapEmotion:     "Emotion detection in voice sessions.",
	CapBackchannel: "Short spoken acknowledgements during long user turns.",
	CapAnalytics:   "Per-turn voice session analytics.",
	CapFeedback:    "Feedback on voice sessions (POST /api/voice/sessions/{id}/feedback).",
}

// FlagKey is the flag that switches c.
func (c Capability) FlagKey() string { return "backend.voice_" + string(c) }

// IsCapabilityFlag reports whether key is one of the flags EnsureFlags creates.
func IsCapabilityFlag(key string) bool {
	for _, c := range Capabilities {
		if c.FlagKey() == key {
			return true
		}
	}
	return false
}

// EnsureFlags creates every missing backend.voice_* flag, disabled and internal (evaluated by
// the server only); an existing flag is never touched. Safe on several replicas at once: a
// flag another replica just created is a conflict, not an error. It reports how many it made.
func EnsureFlags(ctx context.Context, store *flagstore.Store, actor audit.Actor) (int, error) {
	snap := store.Snapshot()
	n := 0
	for _, c := range Capabilities {
		key := c.FlagKey()
		if _, _, ok := snap.Meta(key); ok {
			continue
		}
		_, err := store.Create(ctx, actor, flageval.Flag{
			Key: key, Description: capabilityText[c], Owner: "voice-team", Type: flageval.TypeBoolean,
			Enabled: false, Value: true, DefaultValue: false, RolloutPercentage: 100,
			Visibility: flageval.VisibilityInternal, Tags: []string{"voice"},
		})
		var ae *apierr.Error
		if errors.As(err, &ae) && ae.Status == http.StatusConflict {
			continue
		}
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

// Switches evaluates the capability flags for a user. A missing, archived or non-boolean
// flag means off.
type Switches struct {
	Flags *flagstore.Store
	// Metrics counts the evaluations with the others (nil: not counted).
	Metrics *flagstore.Metrics
}

// Enabled reports whether c is on for the user; attributes are those flag rules can match
// (user_id, email, role), as the evaluation endpoints set them.
func (s *Switches) Enabled(c Capability, user uuid.UUID, email, role string) bool {
	if s == nil || s.Flags == nil {
		return false
	}
	ev := s.Flags.Evaluator(flageval.VisibilityInternal, s.Metrics)
	defer ev.Done()
	r := ev.Evaluate(c.FlagKey(), evalContext(user, email, role))
	on, _ := r.Value.(bool)
	return r.ErrorCode == "" && on
}

// CapSet is every capability evaluated once for one user (one voice turn): what is on, and
// the variant each flag served, which analytics records with the turn.
type CapSet struct {
	on       uint16
	variants map[string]string
}

// On reports whether c is on in the set. The zero CapSet has everything off.
func (cs CapSet) On(c Capability) bool {
	for i, x := range Capabilities {
		if x == c {
			return cs.on&(1<<i) != 0
		}
	}
	return false
}

// Variants maps each flag key to the variant it served ("off" for a missing or failing flag).
func (cs CapSet) Variants() map[string]string { return cs.variants }

// Evaluate evaluates every capability flag for a user with one evaluator.
func (s *Switches) Evaluate(user uuid.UUID, email, role string) CapSet {
	cs := CapSet{variants: make(map[string]string, len(Capabilities))}
	if s == nil || s.Flags == nil {
		for _, c := range Capabilities {
			cs.variants[c.FlagKey()] = "off"
		}
		return cs
	}
	ev := s.Flags.Evaluator(flageval.VisibilityInternal, s.Metrics)
	defer ev.Done()
	ctx := evalContext(user, email, role)
	for i, c := range Capabilities {
		r := ev.Evaluate(c.FlagKey(), ctx)
		on, _ := r.Value.(bool)
		variant := r.Variant
		if r.ErrorCode != "" {
			on, variant = false, "off"
		}
		if variant == "" {
			variant = "off"
			if on {
				variant = "on"
			}
		}
		if on {
			cs.on |= 1 << i
		}
		cs.variants[c.FlagKey()] = variant
	}
	return cs
}

// evalContext holds the attributes flag rules can match, as the evaluation endpoints set them.
func evalContext(user uuid.UUID, email, role string) flageval.EvalContext {
	return flageval.EvalContext{TargetingKey: user.String(), Attributes: map[string]any{
		"user_id": user.String(), "email": email, "role": role,
	}}
}

// ErrCapabilityOff is the answer to a request for a capability that is off for the caller:
// 404 (the operation does not exist for them; 403 is kept for a role the caller lacks).
func ErrCapabilityOff(c Capability) *apierr.Error {
	return apierr.New(http.StatusNotFound, "FEATURE_DISABLED",
		"Voice "+string(c)+" is not enabled for this account (feature flag "+c.FlagKey()+").")
}
