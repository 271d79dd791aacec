//go:build offlinevoice && cgo

package offline

/*
#include <stdlib.h>
#include <string.h>
#include <pocketsphinx.h>
#include <sphinxbase/err.h>
#include <sphinxbase/feat.h>
#include <sphinxbase/cmn.h>
#include <sphinxbase/logmath.h>
#include <sphinxbase/ngram_model.h>

// gw_dec is one decoder and the live-CMN state it had when fresh, restored before every
// utterance: pocketsphinx otherwise carries its cepstral-mean and noise estimates from one
// utterance into the next, so a transcript would depend on earlier requests.
typedef struct {
	ps_decoder_t *ps;
	mfcc_t *mean0, *sum0;
	int32 nframe0;
} gw_dec;

// gw_dec_new loads a decoder. With extra (a unigram ARPA model of the added words) its
// language model is the base model interpolated with extra, the added words weighing
// boost times what a base unigram of average probability would.
// args are further "-flag", "value" pairs (argc of them).
static gw_dec *gw_dec_new(const char *hmm, const char *lm, const char *dict, const char *extra, float boost, int argc, char **args) {
	err_set_logfp(NULL);
	char **argv = calloc(argc + 4, sizeof(char *));
	argv[0] = "-hmm"; argv[1] = (char *)hmm; argv[2] = "-dict"; argv[3] = (char *)dict;
	memcpy(argv + 4, args, argc * sizeof(char *));
	cmd_ln_t *cfg = cmd_ln_parse_r(NULL, ps_args(), argc + 4, argv, TRUE);
	free(argv);
	if (cfg == NULL) return NULL;
	ps_decoder_t *ps = ps_init(cfg);
	cmd_ln_free_r(cfg);
	if (ps == NULL) return NULL;
	logmath_t *lmath = ps_get_logmath(ps);
	ngram_model_t *model = ngram_model_read(ps_get_config(ps), lm, NGRAM_AUTO, lmath);
	if (model != NULL && extra != NULL) {
		ngram_model_t *ex = ngram_model_read(ps_get_config(ps), extra, NGRAM_ARPA, lmath);
		if (ex == NULL) {
			ngram_model_free(model);
			model = NULL;
		} else {
			ngram_model_t *lms[2] = {model, ex};
			char *names[2] = {"base", "added"};
			float32 w[2];
			w[1] = boost * (float32)ngram_model_get_counts(ex)[0] / (float32)ngram_model_get_counts(model)[0];
			w[0] = 1 - w[1];
			model = ngram_model_set_init(ps_get_config(ps), lms, names, w, 2);
		}
	}
	if (model == NULL || ps_set_lm(ps, "ngram", model) < 0 || ps_set_search(ps, "ngram") < 0) {
		if (model != NULL) ngram_model_free(model);
		ps_free(ps);
		return NULL;
	}
	ngram_model_free(model); // the search holds its own reference
	gw_dec *d = calloc(1, sizeof(gw_dec));
	d->ps = ps;
	cmn_t *c = ps_get_feat(ps)->cmn_struct;
	if (c != NULL) {
		d->mean0 = malloc(c->veclen * sizeof(mfcc_t));
		d->sum0 = malloc(c->veclen * sizeof(mfcc_t));
		memcpy(d->mean0, c->cmn_mean, c->veclen * sizeof(mfcc_t));
		memcpy(d->sum0, c->sum, c->veclen * sizeof(mfcc_t));
		d->nframe0 = c->nframe;
	}
	return d;
}

static int gw_start(gw_dec *d, int reset) {
	cmn_t *c = ps_get_feat(d->ps)->cmn_struct;
	if (reset && c != NULL && d->mean0 != NULL) {
		memcpy(c->cmn_mean, d->mean0, c->veclen * sizeof(mfcc_t));
		memcpy(c->sum, d->sum0, c->veclen * sizeof(mfcc_t));
		c->nframe = d->nframe0;
	}
	// A new stream also resets the noise estimate and the frame count.
	if (reset && ps_start_stream(d->ps) < 0) return -1;
	return ps_start_utt(d->ps);
}

// gw_use selects a search: the language model ("ngram") or a grammar loaded by gw_grammar.
static int gw_use(gw_dec *d, const char *name) {
	return ps_set_search(d->ps, name);
}

// gw_grammar loads a JSGF grammar as the search name (once per decoder and grammar).
static int gw_grammar(gw_dec *d, const char *name, const char *jsgf) {
	return ps_set_jsgf_string(d->ps, name, jsgf);
}

static int gw_frate(ps_decoder_t *ps) {
	return cmd_ln_int32_r(ps_get_config(ps), "-frate");
}

static double gw_prob(ps_decoder_t *ps, int32 logp) {
	return logmath_exp(ps_get_logmath(ps), logp);
}

static int32 gw_seg_prob(ps_seg_t *s) {
	int32 a, l, b;
	return ps_seg_prob(s, &a, &l, &b);
}
*/
import "C"

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/voiceassist/gateway/internal/voice"
)

// STTOptions configure the pocketsphinx recogniser.
type STTOptions struct {
	Workers  int           // decoders in the pool (VOICE_STT_WORKERS, default 2); each created on first use, never at start-up
	Words    []string      // extra vocabulary added to every decoder with ps_add_word (nil = none)
	Acquire  time.Duration // longest wait for a free decoder before voice.ErrOverloaded (0 = wait for ctx)
	ModelDir string        // pocketsphinx en-us model directory; empty = DefaultModelDir
}

// STT is pocketsphinx with a pool of decoders; safe for concurrent use.
type STT struct {
	opt    STTOptions
	pool   chan *decoder // Workers slots; nil = not created yet
	loaded atomic.Int32

	vocabOnce sync.Once
	voc       *vocab
	vocErr    error
}

type decoder struct {
	d        *C.gw_dec
	frames   int             // frames per second (-frate)
	grammars map[string]bool // command grammars loaded as searches, by name
}

// NewSTT checks the model is installed and makes the pool; it loads nothing.
func NewSTT(opt STTOptions) (*STT, error) {
	if opt.Workers <= 0 {
		opt.Workers = 2
	}
	if opt.ModelDir == "" {
		opt.ModelDir = DefaultModelDir
	}
	for _, f := range []string{"en-us/mdef", "en-us.lm.bin", "cmudict-en-us.dict"} {
		if _, err := os.Stat(filepath.Join(opt.ModelDir, f)); err != nil {
			return nil, fmt.Errorf("%w: pocketsphinx model (install pocketsphinx-en-us): %v", voice.ErrUnavailable, err)
		}
	}
	s := &STT{opt: opt, pool: make(chan *decoder, opt.Workers)}
	for range opt.Workers {
		s.pool <- nil
	}
	return s, nil
}

// Name identifies the provider.
func (*STT) Name() string { return "offline" }

// Loaded is the number of decoders created so far.
func (s *STT) Loaded() int { return int(s.loaded.Load()) }

// chunk is how much audio goes to ps_process_raw between ctx checks: 0.25 s.
const chunk = voice.SampleRate / 4

// Transcribe decodes audio as one utterance. opt.Prompt and opt.Words are ignored:
// pocketsphinx cannot forget words, so per-request vocabulary would leak into later
// requests; the vocabulary is STTOptions.Words. With opt.Grammar the utterance is decoded
// against a grammar of those phrases (those whose words the dictionary knows): the result is
// one of them, for a client listening only for commands.
func (s *STT) Transcribe(ctx context.Context, audio voice.PCM, opt voice.TranscribeOptions) (voice.Transcript, error) {
	if lang := strings.ToLower(opt.Language); lang != "" && lang != "en" && !strings.HasPrefix(lang, "en-") {
		return voice.Transcript{}, fmt.Errorf("%w: pocketsphinx speaks English only, not %q", voice.ErrInvalidInput, opt.Language)
	}
	if audio.Rate <= 0 || len(audio.Samples) == 0 {
		return voice.Transcript{}, fmt.Errorf("%w: no samples", voice.ErrUndecodable)
	}
	if audio.Rate != voice.SampleRate {
		audio = voice.Resample(audio, voice.SampleRate)
	}
	dec, err := s.acquire(ctx)
	if err != nil {
		return voice.Transcript{}, err
	}
	defer func() { s.pool <- dec }()

	search := "ngram"
	if len(opt.Grammar) > 0 {
		v, _ := s.vocab()
		if search, err = dec.grammar(v, opt.Grammar); err != nil {
			return voice.Transcript{}, err
		}
	}
	seg, err := dec.decode(ctx, search, audio.Samples)
	if err != nil {
		return voice.Transcript{}, err
	}
	t := voice.Transcript{Text: seg.Text, Language: "en", Duration: audio.Duration(), Provider: s.Name()}
	if opt.Timestamps && seg.Text != "" {
		seg.End = audio.Duration()
		t.Segments = []voice.Segment{seg}
	}
	return t, nil
}

// acquire takes a decoder from the pool, creating it on first use.
func (s *STT) acquire(ctx context.Context) (*decoder, error) {
	var timeout <-chan time.Time
	if s.opt.Acquire > 0 {
		tm := time.NewTimer(s.opt.Acquire)
		defer tm.Stop()
		timeout = tm.C
	}
	var dec *decoder
	select {
	case dec = <-s.pool:
	case <-ctx.Done():
		return nil, fmt.Errorf("pocketsphinx: waiting for a decoder: %w", ctx.Err())
	case <-timeout:
		return nil, fmt.Errorf("%w: all %d pocketsphinx decoders busy for %s", voice.ErrOverloaded, s.opt.Workers, s.opt.Acquire)
	}
	if dec != nil {
		return dec, nil
	}
	v, err := s.vocab()
	if err == nil {
		dec, err = newDecoder(s.opt.ModelDir, v)
	}
	if err != nil {
		s.pool <- nil
		return nil, err
	}
	s.loaded.Add(1)
	return dec, nil
}

// decoderArgs are the pocketsphinx settings beyond the model files, tuned on the tune split
// of bench/voice (sweep in docs/benchmarks.md). A lighter language-model weight than the
// default 6.5 lets the acoustics of clean synthetic speech win more often (9 doubles the
// errors), and a second-pass (fwdflat) weight of 7 instead of 8.5 stops the base model
// outvoting the added clinical words (11 loses them all). Both only on the tune split.
var decoderArgs = []string{"-lw", "5", "-fwdflatlw", "7"}

// addedBoost scales the language-model probability of added words relative to an average
// base unigram (1 = what ps_add_word would give them).
var addedBoost float32 = 1

// vocab is the base dictionary with the added words and a unigram model of them: built
// once per STT, written to a temporary directory only while a decoder loads.
type vocab struct {
	dict, arpa []byte // arpa is nil when nothing is added
	added      []string

	wordsOnce sync.Once
	words     map[string]bool // the dictionary's words, for grammars
}

// knows reports whether the dictionary spells w.
func (v *vocab) knows(w string) bool {
	v.wordsOnce.Do(func() {
		v.words = map[string]bool{}
		for _, line := range strings.Split(string(v.dict), "\n") {
			if f := strings.Fields(line); len(f) > 1 && !strings.Contains(f[0], "(") {
				v.words[f[0]] = true
			}
		}
	})
	return v.words[w]
}

func (s *STT) vocab() (*vocab, error) {
	s.vocabOnce.Do(func() { s.voc, s.vocErr = buildVocab(filepath.Join(s.opt.ModelDir, "cmudict-en-us.dict"), s.opt.Words) })
	return s.voc, s.vocErr
}

// buildVocab adds the words the dictionary lacks, with flite's pronunciations. pocketsphinx's
// own ps_add_word cannot be used: libsphinxbase 5prealpha overruns its unigram array when
// more than a few words are added to a trie language model, and decoding then crashes.
func buildVocab(dictPath string, words []string) (*vocab, error) {
	dict, err := os.ReadFile(dictPath)
	if err != nil {
		return nil, fmt.Errorf("%w: pocketsphinx dictionary: %v", voice.ErrUnavailable, err)
	}
	known := map[string]bool{}
	for _, line := range strings.Split(string(dict), "\n") {
		if w, _, ok := strings.Cut(line, " "); ok {
			if i := strings.IndexByte(w, '('); i > 0 {
				w = w[:i]
			}
			known[w] = true
		}
	}
	v := &vocab{dict: dict}
	var entries strings.Builder
	for _, w := range words {
		w = strings.ToLower(strings.TrimSpace(w))
		if w == "" || known[w] {
			continue
		}
		known[w] = true
		if ph, ok := Pronounce(w); ok {
			fmt.Fprintf(&entries, "%s %s\n", w, ph)
			v.added = append(v.added, w)
		}
	}
	if len(v.added) == 0 {
		return v, nil
	}
	if len(dict) > 0 && dict[len(dict)-1] != '\n' {
		v.dict = append(v.dict, '\n')
	}
	v.dict = append(v.dict, entries.String()...)
	var arpa strings.Builder
	fmt.Fprintf(&arpa, "\\data\\\nngram 1=%d\n\n\\1-grams:\n-99 <s>\n", len(v.added)+2)
	p := math.Log10(1 / float64(len(v.added)+1))
	fmt.Fprintf(&arpa, "%.4f </s>\n", p)
	for _, w := range v.added {
		fmt.Fprintf(&arpa, "%.4f %s\n", p, w)
	}
	arpa.WriteString("\n\\end\\\n")
	v.arpa = []byte(arpa.String())
	return v, nil
}

func newDecoder(dir string, v *vocab) (*decoder, error) {
	tmp, err := os.MkdirTemp("", "pocketsphinx-")
	if err != nil {
		return nil, fmt.Errorf("pocketsphinx: %w", err)
	}
	defer os.RemoveAll(tmp)
	dictPath := filepath.Join(dir, "cmudict-en-us.dict")
	var extra *C.char
	if v.arpa != nil {
		dictPath = filepath.Join(tmp, "dict")
		arpaPath := filepath.Join(tmp, "added.arpa")
		if err := os.WriteFile(dictPath, v.dict, 0o600); err != nil {
			return nil, fmt.Errorf("pocketsphinx: %w", err)
		}
		if err := os.WriteFile(arpaPath, v.arpa, 0o600); err != nil {
			return nil, fmt.Errorf("pocketsphinx: %w", err)
		}
		extra = C.CString(arpaPath)
		defer C.free(unsafe.Pointer(extra))
	}
	hmm := C.CString(filepath.Join(dir, "en-us"))
	lm := C.CString(filepath.Join(dir, "en-us.lm.bin"))
	dict := C.CString(dictPath)
	defer C.free(unsafe.Pointer(hmm))
	defer C.free(unsafe.Pointer(lm))
	defer C.free(unsafe.Pointer(dict))
	cargs := make([]*C.char, len(decoderArgs)+1)
	for i, a := range decoderArgs {
		cargs[i] = C.CString(a)
		defer C.free(unsafe.Pointer(cargs[i]))
	}
	d := C.gw_dec_new(hmm, lm, dict, extra, C.float(addedBoost), C.int(len(decoderArgs)), &cargs[0])
	if d == nil {
		return nil, fmt.Errorf("%w: pocketsphinx failed to load the model in %s", voice.ErrUnavailable, dir)
	}
	return &decoder{d: d, frames: int(C.gw_frate(d.ps)), grammars: map[string]bool{}}, nil
}

// grammar loads (once per decoder) a JSGF grammar of the phrases the dictionary can spell and
// returns its search name.
func (dec *decoder) grammar(v *vocab, phrases []string) (string, error) {
	var alts []string
	for _, p := range phrases {
		words := strings.Fields(strings.ToLower(p))
		ok := len(words) > 0
		for _, w := range words {
			ok = ok && v.knows(w)
		}
		if ok {
			alts = append(alts, strings.Join(words, " "))
		}
	}
	if len(alts) == 0 {
		return "", fmt.Errorf("%w: no phrase of the grammar is in the dictionary", voice.ErrInvalidInput)
	}
	sort.Strings(alts)
	sum := sha256.Sum256([]byte(strings.Join(alts, "|")))
	name := "g" + hex.EncodeToString(sum[:8])
	if dec.grammars[name] {
		return name, nil
	}
	jsgf := "#JSGF V1.0;\ngrammar commands;\npublic <command> = ( " + strings.Join(alts, " | ") + " );\n"
	cname, cjsgf := C.CString(name), C.CString(jsgf)
	defer C.free(unsafe.Pointer(cname))
	defer C.free(unsafe.Pointer(cjsgf))
	if C.gw_grammar(dec.d, cname, cjsgf) < 0 {
		return "", fmt.Errorf("pocketsphinx: loading the command grammar failed")
	}
	dec.grammars[name] = true
	return name, nil
}

// resetCMN restores the fresh cepstral-mean and noise state before every utterance (a new
// stream); tests turn it off
// to show the carry-over it prevents.
var resetCMN = true

func boolInt(b bool) C.int {
	if b {
		return 1
	}
	return 0
}

// decode runs one utterance, checking ctx between chunks, and returns it as a segment.
func (dec *decoder) decode(ctx context.Context, search string, samples []int16) (voice.Segment, error) {
	ps := dec.d.ps
	cs := C.CString(search)
	defer C.free(unsafe.Pointer(cs))
	if C.gw_use(dec.d, cs) < 0 {
		return voice.Segment{}, errors.New("pocketsphinx: selecting the search failed")
	}
	if search != "ngram" {
		defer func() {
			ngram := C.CString("ngram")
			C.gw_use(dec.d, ngram)
			C.free(unsafe.Pointer(ngram))
		}()
	}
	if C.gw_start(dec.d, boolInt(resetCMN)) < 0 {
		return voice.Segment{}, errors.New("pocketsphinx: start utterance failed")
	}
	for off := 0; off < len(samples); off += chunk {
		if err := ctx.Err(); err != nil {
			C.ps_end_utt(ps)
			return voice.Segment{}, fmt.Errorf("pocketsphinx: %w", err)
		}
		n := min(chunk, len(samples)-off)
		if C.ps_process_raw(ps, (*C.int16)(unsafe.Pointer(&samples[off])), C.size_t(n), 0, 0) < 0 {
			C.ps_end_utt(ps)
			return voice.Segment{}, errors.New("pocketsphinx: processing audio failed")
		}
	}
	if C.ps_end_utt(ps) < 0 {
		return voice.Segment{}, errors.New("pocketsphinx: end utterance failed")
	}
	C.ps_get_prob(ps) // computes the lattice posteriors ps_seg_prob reports
	var seg voice.Segment
	var text []string
	var conf float64
	frame := time.Second / time.Duration(dec.frames)
	for it := C.ps_seg_iter(ps); it != nil; it = C.ps_seg_next(it) {
		w := C.GoString(C.ps_seg_word(it))
		if strings.HasPrefix(w, "<") || strings.HasPrefix(w, "[") || strings.HasPrefix(w, "+") {
			continue // <s>, </s>, <sil>, [NOISE], +SPN+ ...
		}
		if i := strings.IndexByte(w, '('); i > 0 {
			w = w[:i] // alternate pronunciation, e.g. "the(2)"
		}
		var sf, ef C.int
		C.ps_seg_frames(it, &sf, &ef)
		p := float64(C.gw_prob(ps, C.gw_seg_prob(it)))
		text = append(text, w)
		conf += p
		seg.Words = append(seg.Words, voice.Word{
			Word: w, Start: time.Duration(sf) * frame, End: time.Duration(ef+1) * frame, Confidence: min(max(p, 0), 1),
		})
	}
	seg.Text = strings.Join(text, " ")
	seg.Confidence = -1
	if len(seg.Words) > 0 {
		seg.Confidence = min(max(conf/float64(len(seg.Words)), 0), 1)
	}
	return seg, nil
}
