// Command voice benchmarks the offline voice providers end to end: every sentence of a set
// of testdata/sentences.tsv (by default the held-out half of testdata/split.tsv) is
// synthesised with two offline voices (flite kal16 and slt), then transcribed by the
// offline recogniser (pocketsphinx) with no prompt and no grammar, once with the stock
// dictionary and once with the medical words added. It prints the corpus word error rate
// per kind (general/clinical) per voice per condition, the recogniser's real-time factor
// (wall time / audio duration; warm decoder, one worker, one request at a time) and the
// peak RSS after loading each engine.
//
// The engines need cgo and the Debian packages of internal/voice/offline, so they are
// behind the offlinevoice build tag (offline.go); without it the program only says so.
//
//	go run -tags offlinevoice ./bench/voice                  # held-out set
//	go run -tags offlinevoice ./bench/voice -set tune -v     # tuning set, with every error
//
// The split was fixed before any dictionary work (go run ./bench/voice/split); tune on
// "tune" and report "heldout".
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/voiceassist/gateway/internal/voice"
)

// engines are the providers under test; offline.go opens the real ones.
type engines struct {
	tts      voice.TTS
	voices   []string
	newSTT   func(words []string) (voice.STT, error) // one worker, the given extra words
	clinical []string                                // the words of the "clinical" condition (the term list)
	medical  []string                                // the words of the "clinical+drugs" condition
}

// openEngines is set by offline.go when built with -tags offlinevoice.
var openEngines func() (engines, error)

// sentence is one benchmark sentence.
type sentence struct{ id, kind, text string }

func main() {
	var (
		dir     = flag.String("data", "bench/voice/testdata", "directory of sentences.tsv and split.tsv")
		set     = flag.String("set", "heldout", "sentences to run: heldout, tune or all")
		voices  = flag.String("voices", "", "comma-separated TTS voices (default: kal16,slt)")
		verbose = flag.Bool("v", false, "print every sentence with errors (reference and hypothesis)")
		dicts   = flag.String("dicts", "", "comma-separated dictionary conditions (default: stock,clinical,clinical+drugs)")
	)
	flag.Parse()
	if openEngines == nil {
		log.Fatal("built without the offline engines: go run -tags offlinevoice ./bench/voice")
	}
	sentences, err := load(*dir, *set)
	if err != nil {
		log.Fatal(err)
	}
	e, err := openEngines()
	if err != nil {
		log.Fatal(err)
	}
	if *voices != "" {
		e.voices = strings.Split(*voices, ",")
	}
	var only []string
	if *dicts != "" {
		only = strings.Split(*dicts, ",")
	}
	if err := run(context.Background(), e, sentences, only, os.Stdout, *verbose); err != nil {
		log.Fatal(err)
	}
}

// load reads the sentences of one set ("all" = every sentence).
func load(dir, set string) ([]sentence, error) {
	sets := map[string]string{}
	if set != "all" {
		lines, err := readTSV(filepath.Join(dir, "split.tsv"), 2)
		if err != nil {
			return nil, err
		}
		for _, f := range lines {
			sets[f[0]] = f[1]
		}
	}
	lines, err := readTSV(filepath.Join(dir, "sentences.tsv"), 3)
	if err != nil {
		return nil, err
	}
	var out []sentence
	for _, f := range lines {
		if set == "all" || sets[f[0]] == set {
			out = append(out, sentence{id: f[0], kind: f[1], text: f[2]})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no sentences in set %q", set)
	}
	return out, nil
}

func readTSV(path string, fields int) ([][]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var out [][]string
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		f := strings.Split(sc.Text(), "\t")
		if len(f) != fields {
			return nil, fmt.Errorf("%s line %d: %d fields, want %d", path, n, len(f), fields)
		}
		out = append(out, f)
	}
	return out, sc.Err()
}

// score sums word errors and reference words (corpus WER) and decoding time.
type score struct {
	edits, words int
	decode       time.Duration
	audio        time.Duration
}

func (s *score) add(o score) {
	s.edits += o.edits
	s.words += o.words
	s.decode += o.decode
	s.audio += o.audio
}

func (s score) wer() string {
	if s.words == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(s.edits)/float64(s.words))
}

func (s score) rtf() string {
	if s.audio == 0 {
		return "-"
	}
	return strconv.FormatFloat(s.decode.Seconds()/s.audio.Seconds(), 'f', 3, 64)
}

// run synthesises every sentence with every voice, then per dictionary condition (only
// those named in dicts; nil = all) loads a recogniser, warms it up and transcribes
// everything one request at a time.
func run(ctx context.Context, e engines, sentences []sentence, dicts []string, w io.Writer, verbose bool) error {
	fmt.Fprintf(w, "sentences: %d (%d general, %d clinical); voices: %s; clinical terms: %d words; with drug names: %d\n",
		len(sentences), count(sentences, "general"), count(sentences, "clinical"), strings.Join(e.voices, ", "), len(e.clinical), len(e.medical))
	fmt.Fprintf(w, "peak RSS at start: %s\n", peakRSS())

	audio := map[string][]voice.PCM{} // voice -> audio per sentence
	var synth time.Duration
	var spoken time.Duration
	for _, v := range e.voices {
		for _, s := range sentences {
			start := time.Now()
			p, err := e.tts.Synthesize(ctx, s.text, voice.SynthesizeOptions{Voice: v})
			if err != nil {
				return fmt.Errorf("synthesize %s with %s: %w", s.id, v, err)
			}
			synth += time.Since(start)
			spoken += p.Duration()
			audio[v] = append(audio[v], p)
		}
	}
	fmt.Fprintf(w, "TTS: %s of speech in %s (RTF %.3f); peak RSS after synthesis: %s\n\n",
		spoken.Round(time.Millisecond), synth.Round(time.Millisecond), synth.Seconds()/spoken.Seconds(), peakRSS())

	conditions := []struct {
		name  string
		words []string
	}{{"stock", nil}, {"clinical", e.clinical}, {"clinical+drugs", e.medical}}
	type row struct {
		voice, condition string
		byKind           map[string]score
	}
	var rows []row
	for _, c := range conditions {
		if dicts != nil && !slices.Contains(dicts, c.name) {
			continue
		}
		load := time.Now()
		stt, err := e.newSTT(c.words)
		if err != nil {
			return fmt.Errorf("recogniser (%s): %w", c.name, err)
		}
		fmt.Fprintf(w, "STT %s: loaded in %s; peak RSS after loading: %s\n", c.name, time.Since(load).Round(time.Millisecond), peakRSS())
		// Warm up: the first decode pays for lazy initialisation; it is not timed.
		if _, err := stt.Transcribe(ctx, audio[e.voices[0]][0], voice.TranscribeOptions{}); err != nil {
			return fmt.Errorf("warm-up transcription: %w", err)
		}
		for _, v := range e.voices {
			r := row{voice: v, condition: c.name, byKind: map[string]score{}}
			for i, s := range sentences {
				p := audio[v][i]
				start := time.Now()
				t, err := stt.Transcribe(ctx, p, voice.TranscribeOptions{})
				elapsed := time.Since(start)
				if err != nil {
					return fmt.Errorf("transcribe %s (%s, %s): %w", s.id, v, c.name, err)
				}
				edits, words := voice.WERCounts(s.text, t.Text)
				k := r.byKind[s.kind]
				k.add(score{edits: edits, words: words, decode: elapsed, audio: p.Duration()})
				r.byKind[s.kind] = k
				if verbose && edits > 0 {
					fmt.Fprintf(w, "  %s %s %s %d/%d\n    ref: %s\n    hyp: %s\n", s.id, v, c.name, edits, words,
						strings.Join(voice.NormalizeWords(s.text), " "), strings.Join(voice.NormalizeWords(t.Text), " "))
				}
			}
			rows = append(rows, r)
		}
		if c, ok := stt.(io.Closer); ok {
			if err := c.Close(); err != nil {
				return fmt.Errorf("close recogniser: %w", err)
			}
		}
	}

	fmt.Fprintf(w, "\n| voice | dictionary | general WER | clinical WER | all WER | STT RTF |\n|---|---|---|---|---|---|\n")
	for _, r := range rows {
		var all score
		for _, k := range r.byKind {
			all.add(k)
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %s |\n", r.voice, r.condition,
			r.byKind["general"].wer(), r.byKind["clinical"].wer(), all.wer(), all.rtf())
	}
	fmt.Fprintf(w, "\npeak RSS at the end: %s\n", peakRSS())
	return nil
}

func count(sentences []sentence, kind string) int {
	n := 0
	for _, s := range sentences {
		if s.kind == kind {
			n++
		}
	}
	return n
}

// peakRSS is the process's high-water resident set (VmHWM), cgo allocations included.
func peakRSS() string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "n/a"
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(v)
			if len(f) == 0 {
				break
			}
			if kb, err := strconv.Atoi(f[0]); err == nil {
				return fmt.Sprintf("%.0f MB", float64(kb)/1024)
			}
		}
	}
	return "n/a"
}

// dedupe keeps the first of each word (lower case), in order.
func dedupe(lists ...[]string) []string {
	var out []string
	seen := map[string]bool{}
	for _, l := range lists {
		for _, w := range l {
			w = strings.ToLower(strings.TrimSpace(w))
			if w != "" && !seen[w] {
				seen[w] = true
				out = append(out, w)
			}
		}
	}
	return out
}
