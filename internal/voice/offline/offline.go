//go:build offlinevoice && cgo

package offline

// pocketsphinx and sphinxbase ship .pc files; flite does not.

/*
#cgo pkg-config: pocketsphinx sphinxbase
#cgo LDFLAGS: -lflite_cmu_us_kal16 -lflite_cmu_us_slt -lflite_cmu_us_awb -lflite_cmu_us_rms -lflite_usenglish -lflite_cmulex -lflite -lm
*/
import "C"

// DefaultModelDir is where pocketsphinx-en-us installs the model.
const DefaultModelDir = "/usr/share/pocketsphinx/model/en-us"

// Available is nil: the offline voice is compiled in (the model is checked by NewSTT).
func Available() error { return nil }
