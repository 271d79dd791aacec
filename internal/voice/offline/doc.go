// Package offline holds the offline voice providers: pocketsphinx for speech-to-text and
// flite for text-to-speech, linked through cgo. They build only with the offlinevoice tag
// (and cgo) and need the Debian packages named in Packages; without them every constructor
// returns an error wrapping voice.ErrUnavailable.
//
// Decoders keep their model loaded (loading takes about a second) and are reset before every
// utterance, so a transcript never depends on earlier requests. Extra vocabulary (clinical
// terms, drug names) gets pronunciations from flite's CMU lexicon and letter-to-sound rules.
package offline

// Packages are the Debian packages the offline providers build and run with.
const Packages = "libpocketsphinx-dev libsphinxbase-dev pocketsphinx-en-us flite1-dev"
