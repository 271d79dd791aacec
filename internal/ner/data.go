package ner

import (
	"bufio"
	"embed"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

//go:embed data/*.tsv
var embedded embed.FS

// The data files; a directory given to Load may replace any of them.
const (
	fileDiseases   = "diseases.tsv"
	fileDrugs      = "drugs.tsv"
	fileBrands     = "drug_brand_generic.tsv"
	fileNegex      = "negex-triggers.tsv"
	fileContext    = "context-triggers.tsv"
	fileTerms      = "terms.tsv"
	fileAbbrev     = "clinical-abbreviations.tsv"
	fileLexicon    = "lexicon-train.tsv"
	LexiconFile    = fileLexicon
	vocabDOID      = "doid"
	vocabFDA       = "fda"
	lexiconSmooth  = 2.0 // pseudo-counts of the source prior in a lexicon entry's confidence
	maxPhraseWords = 12
)

// Source priors: the confidence of a vocabulary entry the training lexicon never saw.
var (
	priorDisease        = 0.6
	priorDiseaseAcronym = 0.3 // HTN, OCD: ambiguous in free text unless defined there
	priorGeneric        = 0.7
	priorBrand          = 0.55
	priorTerms          = 0.6
	priorAbbrev         = 0.6 // clinical-abbreviations.tsv: chosen as unambiguous
	priorLexicon        = 0.5 // a training string that no vocabulary knows
)

type overlay struct {
	dir       string
	noLexicon bool // WriteLexicon counts without the lexicon it replaces
}

func (o overlay) open(name string) (io.ReadCloser, error) {
	if o.dir != "" {
		f, err := os.Open(filepath.Join(o.dir, name))
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("ner: %w", err)
		}
	}
	f, err := embedded.Open("data/" + name)
	if err != nil {
		return nil, fmt.Errorf("ner: data file %s: %w", name, err)
	}
	return f, nil
}

func dataFS(dir string) overlay { return overlay{dir: dir} }

// readTSV calls fn with the fields of every line after the header; # lines are comments.
func readTSV(o overlay, name string, fn func(f []string) error) error {
	r, err := o.open(name)
	if err != nil {
		return err
	}
	defer r.Close()
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	line := 0
	for sc.Scan() {
		line++
		s := sc.Text()
		if line == 1 || s == "" || strings.HasPrefix(s, "#") {
			continue
		}
		if err := fn(strings.Split(s, "\t")); err != nil {
			return fmt.Errorf("ner: %s line %d: %w", name, line, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("ner: %s: %w", name, err)
	}
	return nil
}

func need(f []string, n int) error {
	if len(f) < n {
		return fmt.Errorf("want %d columns, got %d", n, len(f))
	}
	return nil
}

func isAcronym(forms []string) bool {
	for _, f := range forms {
		if strings.ToLower(f) != f {
			return true
		}
	}
	return false
}

func build(o overlay) (*matcher, *matcher, error) { return buildWith(o, false) }

// buildWith keeps each phrase's spelling in m.phrases when phrases is set (for WriteLexicon).
func buildWith(o overlay, phrases bool) (*matcher, *matcher, error) {
	dict := map[string]int32{}
	m := newMatcher(dict)
	if phrases {
		m.phrases = map[int32]string{}
		m.vocab = map[int32]bool{}
	}
	add := func(phrase string, t Type, prior float64, norm *Normalized) (*entry, bool) {
		forms := keyTokens(phrase)
		if len(forms) == 0 || len(forms) > maxPhraseWords {
			return nil, false
		}
		if isAcronym(forms) && t == Disease && prior == priorDisease {
			prior = priorDiseaseAcronym
		}
		node := m.insert(forms)
		if m.phrases != nil && m.phrases[node] == "" {
			m.phrases[node] = phrase
			m.vocab[node] = true
		}
		e := m.entryFor(node, t, prior)
		if e.norm == nil {
			e.norm = norm
		}
		return e, true
	}

	// Diseases: a name's own row wins over another class's synonym of the same spelling.
	type drow struct{ id, name, syn string }
	var rows []drow
	if err := readTSV(o, fileDiseases, func(f []string) error {
		if err := need(f, 3); err != nil {
			return err
		}
		rows = append(rows, drow{f[0], f[1], f[2]})
		return nil
	}); err != nil {
		return nil, nil, err
	}
	norms := map[string]*Normalized{}
	for _, r := range rows {
		if norms[r.id] == nil {
			norms[r.id] = &Normalized{Vocabulary: vocabDOID, ID: r.id, Name: r.name}
		}
		add(r.name, Disease, priorDisease, norms[r.id])
	}
	for _, r := range rows {
		add(r.syn, Disease, priorDisease, norms[r.id])
	}
	if err := readTSV(o, fileAbbrev, func(f []string) error {
		if err := need(f, 2); err != nil {
			return err
		}
		n := norms[f[1]]
		if n == nil {
			return fmt.Errorf("%s: no such class in %s", f[1], fileDiseases)
		}
		// the ontology's own acronym entry (prior priorDiseaseAcronym) is raised
		if e, ok := add(f[0], Disease, priorAbbrev, n); ok {
			e.prior, e.conf, e.norm = priorAbbrev, priorAbbrev, n
		}
		return nil
	}); err != nil {
		return nil, nil, err
	}

	// Drugs: brands point to their generic.
	generic := map[string]string{}
	if err := readTSV(o, fileBrands, func(f []string) error {
		if err := need(f, 2); err != nil {
			return err
		}
		if _, ok := generic[f[0]]; !ok {
			generic[strings.ToLower(f[0])] = strings.ToLower(f[1])
		}
		return nil
	}); err != nil {
		return nil, nil, err
	}
	drugNorm := map[string]*Normalized{}
	normOf := func(g string) *Normalized {
		if drugNorm[g] == nil {
			drugNorm[g] = &Normalized{Vocabulary: vocabFDA, ID: g, Name: g}
		}
		return drugNorm[g]
	}
	if err := readTSV(o, fileDrugs, func(f []string) error {
		if err := need(f, 2); err != nil {
			return err
		}
		name := strings.ToLower(f[0])
		if f[1] == "brand" {
			g := generic[name]
			if g == "" {
				g = name
			}
			add(name, Drug, priorBrand, normOf(g))
		} else {
			add(name, Drug, priorGeneric, normOf(name))
		}
		return nil
	}); err != nil {
		return nil, nil, err
	}

	// Our own lists: procedures, anatomy, lab tests (term, type, canonical name).
	if err := readTSV(o, fileTerms, func(f []string) error {
		if err := need(f, 2); err != nil {
			return err
		}
		t := Type(f[1])
		if typeIndex(t) == 0 {
			return fmt.Errorf("unknown type %q", f[1])
		}
		var norm *Normalized
		if len(f) > 2 && f[2] != "" {
			norm = &Normalized{Vocabulary: "voiceassist", ID: f[2], Name: f[2]}
		}
		add(f[0], t, priorTerms, norm)
		return nil
	}); err != nil {
		return nil, nil, err
	}

	// The training lexicon: counts turn into confidences, smoothed toward the source prior.
	if o.noLexicon {
		return m, nil, nil
	}
	if err := readTSV(o, fileLexicon, func(f []string) error {
		if err := need(f, 4); err != nil {
			return err
		}
		t := Type(f[1])
		if typeIndex(t) == 0 {
			return fmt.Errorf("unknown type %q", f[1])
		}
		ann, err1 := strconv.Atoi(f[2])
		occ, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil || ann > occ {
			return fmt.Errorf("bad counts %q %q", f[2], f[3])
		}
		if f[0] != "" && (f[0][0] == '<' || f[0][0] == '>') {
			if m.modifier == nil {
				m.modifier = map[modKey]float64{}
			}
			m.modifier[modKey{f[0], t}] = float64(ann) / float64(max(occ, 1))
			return nil
		}
		if suf, ok := strings.CutPrefix(f[0], "*"); ok {
			if m.suffix == nil {
				m.suffix = map[string][]entry{}
			}
			conf := (float64(ann) + lexiconSmooth*prioSuffix) / (float64(occ) + lexiconSmooth)
			m.suffix[suf] = append(m.suffix[suf], entry{typ: t, conf: conf, ann: ann, occ: occ})
			return nil
		}
		e, ok := add(f[0], t, priorLexicon, nil)
		if !ok {
			return nil
		}
		e.ann += ann
		e.occ += occ
		return nil
	}); err != nil {
		return nil, nil, err
	}
	for i := range m.entries {
		e := &m.entries[i]
		if e.occ > 0 {
			e.conf = (float64(e.ann) + lexiconSmooth*e.prior) / (float64(e.occ) + lexiconSmooth)
		}
	}
	trig := newMatcher(dict)
	for _, name := range []string{fileNegex, fileContext} {
		if err := readTSV(o, name, func(f []string) error {
			if err := need(f, 2); err != nil {
				return err
			}
			k, ok := trigKinds[f[1]]
			if !ok {
				return fmt.Errorf("unknown trigger tag %q", f[1])
			}
			forms := keyTokens(strings.ToLower(f[0]))
			if len(forms) == 0 {
				return nil
			}
			// "rules out" and "rule out" share a key after singular(); the trigger spelled
			// like its key wins, and ours (context-triggers.tsv) win over NegEx's.
			exact := strings.Join(forms, " ") == strings.ToLower(f[0])
			node := trig.insert(forms)
			if len(trig.terminal[node]) == 0 {
				trig.entries = append(trig.entries, entry{kind: k, exact: exact})
				trig.terminal[node] = []int32{int32(len(trig.entries) - 1)}
			} else if e := &trig.entries[trig.terminal[node][0]]; exact && (!e.exact || name == fileContext) {
				e.kind, e.exact = k, true
			}
			return nil
		}); err != nil {
			return nil, nil, err
		}
	}
	return m, trig, nil
}
