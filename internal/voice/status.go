package voice

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ProviderStatus is one provider of one chain as /api/voice/status reports it.
type ProviderStatus struct {
	Name     string
	Kind     string // stt or tts
	State    string // ok, failing, unavailable, unknown
	External bool
	Latency  *time.Duration // of the last call
	Detail   string
	Loaded   *int
}

// Status is the state of the voice subsystem.
type Status struct {
	Providers    []ProviderStatus
	Decoders     []string
	FFmpeg       bool
	CloudAllowed bool
}

// Status reports every configured provider from the health registry (its last call) and
// its static readiness (packages present).
func (s *Service) Status() Status {
	st := Status{Decoders: Decoders(), FFmpeg: FFmpegAvailable(), CloudAllowed: s.cloud}
	add := func(kind, name string) {
		p := s.providers[name]
		ps := ProviderStatus{Name: name, Kind: kind, State: "unknown", External: p.External}
		if p.Loaded != nil {
			n := p.Loaded()
			ps.Loaded = &n
		}
		if o, ok := s.health.Get(kind + ":" + name); ok {
			d := o.Latency
			ps.Latency = &d
			ps.State = "ok"
			if !o.OK {
				ps.State, ps.Detail = "failing", "last call failed: "+o.Err
			}
		}
		if p.Ready != nil {
			if err := p.Ready(); err != nil {
				ps.State, ps.Detail = "unavailable", publicReason(err)
			}
		}
		if p.External && !s.cloud {
			ps.State, ps.Detail = "unavailable", "VOICE_ALLOW_CLOUD=false keeps audio from external providers"
		}
		if (kind == "stt" && p.STT == nil) || (kind == "tts" && p.TTS == nil) {
			if _, configured := s.providers[name]; !configured {
				ps.State, ps.Detail = "unavailable", "not configured"
			} else if ps.State != "unavailable" {
				ps.State, ps.Detail = "unavailable", "could not start"
			}
		}
		st.Providers = append(st.Providers, ps)
	}
	for _, name := range s.sttNames {
		add("stt", name)
	}
	for _, name := range s.ttsNames {
		add("tts", name)
	}
	return st
}

// Probe is the readiness check of voice: down when no provider of a chain can serve.
func (s *Service) Probe(context.Context) error {
	st := s.Status()
	usable := map[string]bool{}
	for _, p := range st.Providers {
		if p.State == "ok" || p.State == "unknown" {
			usable[p.Kind] = true
		}
	}
	var errs []error
	for _, kind := range []string{"stt", "tts"} {
		if !usable[kind] {
			errs = append(errs, fmt.Errorf("no %s provider can serve", kind))
		}
	}
	return errors.Join(errs...)
}
