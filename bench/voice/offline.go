//go:build offlinevoice

package main

import (
	"github.com/voiceassist/gateway/internal/voice"
	"github.com/voiceassist/gateway/internal/voice/offline"
)

// The offline engines: flite for synthesis, pocketsphinx (one worker) for recognition. The
// clinical condition adds the clinical term list, clinical+drugs also the generic drug names.
func init() {
	openEngines = func() (engines, error) {
		tts, err := offline.NewTTS()
		if err != nil {
			return engines{}, err
		}
		return engines{
			tts:    tts,
			voices: []string{"kal16", "slt"},
			newSTT: func(words []string) (voice.STT, error) {
				return offline.NewSTT(offline.STTOptions{Workers: 1, Words: words})
			},
			clinical: voice.ClinicalTerms(),
			medical:  dedupe(voice.ClinicalTerms(), offline.DrugNames()),
		}, nil
	}
}
