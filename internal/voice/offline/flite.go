//go:build offlinevoice && cgo

package offline

/*
#include <stdlib.h>
#include <string.h>
#include <flite/flite.h>

cst_voice *register_cmu_us_kal16(const char *voxdir);
cst_voice *register_cmu_us_slt(const char *voxdir);
cst_voice *register_cmu_us_awb(const char *voxdir);
cst_voice *register_cmu_us_rms(const char *voxdir);
cst_lexicon *cmu_lex_init(void);

static cst_lexicon *gw_lex;

static void gw_flite_init(void) {
	flite_init();
	gw_lex = cmu_lex_init();
}

static cst_voice *gw_voice(int i) {
	switch (i) {
	case 0: return register_cmu_us_kal16(NULL);
	case 1: return register_cmu_us_slt(NULL);
	case 2: return register_cmu_us_awb(NULL);
	case 3: return register_cmu_us_rms(NULL);
	}
	return NULL;
}

// gw_synth renders text with stretch set on the utterance (not the shared voice), copies
// the samples into a malloc'ed buffer the caller frees, and returns the sample count or -1.
static int gw_synth(cst_voice *v, const char *text, float stretch, short **out, int *rate) {
	// The clustergen voices excite unvoiced sounds with rand(); a fixed seed makes the same
	// text give the same audio (callers hold the flite lock).
	srand(1);
	cst_utterance *u = new_utterance();
	utt_set_input_text(u, text);
	utt_init(u, v);
	feat_set_float(u->features, "duration_stretch", stretch);
	if (utt_synth(u) == NULL) {
		delete_utterance(u);
		return -1;
	}
	cst_wave *w = utt_wave(u);
	int n = w ? w->num_samples : 0;
	*rate = w ? w->sample_rate : 0;
	*out = NULL;
	if (n > 0) {
		*out = malloc(sizeof(short) * n);
		memcpy(*out, w->samples, sizeof(short) * n);
	}
	delete_utterance(u);
	return n;
}

// gw_pronounce writes the lexicon (or letter-to-sound) phones of word, space separated,
// into buf; it returns the length written or -1.
static int gw_pronounce(const char *word, char *buf, int size) {
	cst_val *p = lex_lookup(gw_lex, word, NULL, NULL);
	const cst_val *v;
	int n = 0;
	buf[0] = 0;
	for (v = p; v; v = val_cdr(v)) {
		const char *ph = val_string(val_car(v));
		int l = strlen(ph);
		if (n + l + 2 >= size) {
			delete_val(p);
			return -1;
		}
		if (n > 0) buf[n++] = ' ';
		memcpy(buf + n, ph, l);
		n += l;
		buf[n] = 0;
	}
	delete_val(p);
	return n;
}
*/
import "C"

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"unicode"
	"unsafe"

	"github.com/voiceassist/gateway/internal/voice"
)

// flite keeps non-atomic reference counts on values its voices and lexicon share, so one
// synthesis or lookup runs at a time; a channel rather than a mutex lets waiters honour ctx.
var (
	fliteOnce sync.Once
	fliteLock = make(chan struct{}, 1)
)

func lockFlite(ctx context.Context) error {
	fliteOnce.Do(func() { C.gw_flite_init() })
	select {
	case fliteLock <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func unlockFlite() { <-fliteLock }

// fliteVoices are the 16 kHz voices, default first; index is the argument of gw_voice.
var fliteVoices = []voice.Voice{
	{ID: "kal16", Name: "Kal (CMU, diphone)", Gender: "male"},
	{ID: "slt", Name: "SLT (CMU Arctic)", Gender: "female"},
	{ID: "awb", Name: "AWB (CMU Arctic)", Gender: "male"},
	{ID: "rms", Name: "RMS (CMU Arctic)", Gender: "male"},
}

const maxChars = 5000

// TTS is flite: safe for concurrent use, one synthesis at a time (see fliteLock).
type TTS struct {
	voices map[string]*C.cst_voice
}

// NewTTS registers the flite voices (they are compiled into the libraries, so this is cheap).
func NewTTS() (*TTS, error) {
	if err := lockFlite(context.Background()); err != nil {
		return nil, err
	}
	defer unlockFlite()
	t := &TTS{voices: map[string]*C.cst_voice{}}
	for i, v := range fliteVoices {
		cv := C.gw_voice(C.int(i))
		if cv == nil {
			return nil, fmt.Errorf("%w: flite voice %s failed to register", voice.ErrUnavailable, v.ID)
		}
		t.voices[v.ID] = cv
	}
	return t, nil
}

// Name identifies the provider.
func (*TTS) Name() string { return "offline" }

// Voices lists the voices; kal16 is the default.
func (*TTS) Voices() []voice.Voice {
	out := make([]voice.Voice, len(fliteVoices))
	for i, v := range fliteVoices {
		v.Provider, v.Language, v.Default = "offline", "en-US", i == 0
		out[i] = v
	}
	return out
}

// MaxChars is the longest text accepted in one call.
func (*TTS) MaxChars() int { return maxChars }

// sentenceEnd splits text after sentence punctuation, so long texts are rendered sentence by
// sentence: ctx is checked between them and other callers get the lock in between.
var sentenceEnd = regexp.MustCompile(`[.!?;:]\s+`)

// Synthesize renders text as 16 kHz mono PCM.
func (t *TTS) Synthesize(ctx context.Context, text string, opt voice.SynthesizeOptions) (voice.PCM, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return voice.PCM{}, fmt.Errorf("%w: empty text", voice.ErrInvalidInput)
	}
	if n := len([]rune(text)); n > maxChars {
		return voice.PCM{}, fmt.Errorf("%w: text has %d characters, at most %d", voice.ErrInvalidInput, n, maxChars)
	}
	id := opt.Voice
	if id == "" {
		id = fliteVoices[0].ID
	}
	cv, ok := t.voices[id]
	if !ok {
		return voice.PCM{}, fmt.Errorf("%w: unknown flite voice %q", voice.ErrInvalidInput, opt.Voice)
	}
	speed := opt.Speed
	if speed == 0 {
		speed = 1
	}
	if speed < 0.5 || speed > 2 {
		return voice.PCM{}, fmt.Errorf("%w: speed %g outside 0.5..2", voice.ErrInvalidInput, opt.Speed)
	}
	text = latin1(text)

	out := voice.PCM{Rate: voice.SampleRate}
	var from int
	bounds := append(sentenceEnd.FindAllStringIndex(text, -1), []int{len(text), len(text)})
	for _, b := range bounds {
		part := strings.TrimSpace(text[from:b[1]])
		from = b[1]
		if part == "" {
			continue
		}
		pcm, err := synth(ctx, cv, part, float32(1/speed))
		if err != nil {
			return voice.PCM{}, err
		}
		if pcm.Rate != voice.SampleRate {
			pcm = voice.Resample(pcm, voice.SampleRate)
		}
		out.Samples = append(out.Samples, pcm.Samples...)
	}
	return out, nil
}

func synth(ctx context.Context, cv *C.cst_voice, text string, stretch float32) (voice.PCM, error) {
	if err := lockFlite(ctx); err != nil {
		return voice.PCM{}, fmt.Errorf("flite: %w", err)
	}
	defer unlockFlite()
	ctext := C.CString(text)
	defer C.free(unsafe.Pointer(ctext))
	var buf *C.short
	var rate C.int
	n := C.gw_synth(cv, ctext, C.float(stretch), &buf, &rate)
	if n < 0 {
		return voice.PCM{}, fmt.Errorf("flite: synthesis failed")
	}
	defer C.free(unsafe.Pointer(buf))
	samples := make([]int16, int(n))
	if n > 0 {
		copy(samples, unsafe.Slice((*int16)(unsafe.Pointer(buf)), int(n)))
	}
	return voice.PCM{Samples: samples, Rate: int(rate)}, nil
}

// latin1 re-encodes text as the 8-bit text flite reads: Latin-1 runes become single bytes,
// control characters and runes beyond Latin-1 become spaces.
func latin1(text string) string {
	b := make([]byte, 0, len(text))
	for _, r := range text {
		if r > unicode.MaxLatin1 || unicode.IsControl(r) {
			r = ' '
		}
		b = append(b, byte(r))
	}
	return string(b)
}

var lexWord = regexp.MustCompile(`^[a-z]+('[a-z]+)?$`)

// Pronounce returns the pronunciation of word in the Sphinx en-us phone set (upper case,
// no stress), from flite's CMU lexicon or, for unknown words, its letter-to-sound rules.
func Pronounce(word string) (string, bool) {
	word = strings.ToLower(strings.TrimSpace(word))
	if !lexWord.MatchString(word) {
		return "", false
	}
	if err := lockFlite(context.Background()); err != nil {
		return "", false
	}
	defer unlockFlite()
	cword := C.CString(word)
	defer C.free(unsafe.Pointer(cword))
	var buf [1024]C.char
	if C.gw_pronounce(cword, &buf[0], C.int(len(buf))) <= 0 {
		return "", false
	}
	var phones []string
	for _, p := range strings.Fields(C.GoString(&buf[0])) {
		p = strings.ToUpper(strings.TrimRight(p, "0123456789"))
		switch p {
		case "PAU":
			continue
		case "AX": // flite's schwa; the Sphinx set writes it AH
			p = "AH"
		case "AXR":
			p = "ER"
		}
		if !sphinxPhones[p] {
			return "", false
		}
		phones = append(phones, p)
	}
	return strings.Join(phones, " "), len(phones) > 0
}

// sphinxPhones is the en-us model's phone set (its mdef, without SIL).
var sphinxPhones = map[string]bool{}

func init() {
	for _, p := range strings.Fields("AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW V W Y Z ZH") {
		sphinxPhones[p] = true
	}
}
