// Package search is the keyword side of knowledge-base retrieval: a Bleve v2
// index scored with BM25, plus rank fusion (see fusion.go) to combine it with
// vector search.
//
// The index always lives on disk. Bleve's in-memory index (bleve.NewMemOnly)
// silently falls back to TF-IDF even when the mapping asks for BM25, so this
// package has no in-memory mode; tests use t.TempDir(). Open checks that the
// mapping it finds on disk really selects BM25.
//
// Documents come in as Go values (Doc); the package stores nothing but the
// inverted index, so callers keep the text elsewhere (Postgres) and can rebuild
// the index from there when the directory is missing.
//
// Each document is indexed as one field "body" = Title + " " + Text, analysed
// with the English analyzer (Unicode word tokenizer, possessive filter,
// lowercase, English stop words, Porter stemmer); the title is also indexed on
// its own in "title" so that it can be boosted at query time
// (Options.TitleBoost). Doc.Fields are indexed verbatim (no analysis) as
// "key=value" terms in "meta" and are used only as exact-match filters, which
// do not change scores.
//
// Bleve's BM25 (v2.6.3) is not textbook BM25, which matters when comparing
// numbers or tuning: the term frequency enters as sqrt(tf); the idf is applied
// twice (once in the query weight, once in the field weight); a disjunction
// multiplies by the share of query terms matched (coord); and the "average
// field length" it normalises by is ceil(distinct terms in the field / number
// of documents), not the mean token count, so with realistic documents the
// length normalisation is much stronger than b suggests. On SciFact it still
// scores like reference BM25 (nDCG@10 0.679 on the training split with k1 =
// 1.2, b = 0.75; published BM25 on the test split is 0.665 to 0.679), and a
// k1/b sweep moved it by at most +0.011, so the defaults are kept
// (SetBM25Params changes them process-wide).
package search

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/mapping"
	"github.com/blevesearch/bleve/v2/search/query"
	index "github.com/blevesearch/bleve_index_api"
)

// Field names inside the Bleve documents.
const (
	fieldBody  = "body"
	fieldTitle = "title"
	fieldMeta  = "meta"
)

// DefaultTitleBoost is the query-time weight of title matches on top of the
// body match. On the SciFact training split (bench/kb -tune) any title boost
// hurt (nDCG@10 0.679 without, 0.673 at 0.25, 0.611 at 1), since the title is
// already part of the body, so it is off by default.
const DefaultTitleBoost = 0.0

// batchSize bounds the number of documents per Bleve batch in Put.
const batchSize = 1000

// Doc is one unit of retrieval (a document or a chunk of one).
type Doc struct {
	ID    string
	Title string
	Text  string
	// Fields are exact-match attributes for filtering (document id, tags, ...).
	// Keys must not contain '='.
	Fields map[string]string
}

// Hit is one search result; higher Score is better. Scores are only
// comparable within one result list.
type Hit struct {
	ID    string
	Score float64
}

// Options tune an Index. The zero value gives the defaults.
type Options struct {
	// TitleBoost adds a second clause matching the query against the title
	// alone with this boost; 0 searches the body (title + text) only.
	// Negative means DefaultTitleBoost.
	TitleBoost float64
	// Analyzer is one of Analyzers(), used for body and title; empty means
	// DefaultAnalyzer. It is fixed when the index is created: opening an
	// existing index keeps the analyzer it was built with.
	Analyzer string
}

// Index is a BM25 keyword index on disk. It is safe for concurrent use.
type Index struct {
	idx        bleve.Index
	titleBoost float64
	analyzer   string
}

// Open opens the index in dir, creating it (and dir) when it does not exist.
func Open(dir string) (*Index, error) {
	return OpenWith(dir, Options{TitleBoost: -1})
}

// OpenWith is Open with explicit options.
func OpenWith(dir string, opt Options) (*Index, error) {
	if dir == "" {
		return nil, errors.New("search: index directory is required (in-memory Bleve ignores BM25)")
	}
	boost := opt.TitleBoost
	if boost < 0 {
		boost = DefaultTitleBoost
	}
	var (
		idx bleve.Index
		err error
	)
	an := opt.Analyzer
	if an == "" {
		an = DefaultAnalyzer
	}
	if !slices.Contains(Analyzers(), an) {
		return nil, fmt.Errorf("search: unknown analyzer %q (have %v)", an, Analyzers())
	}
	if _, statErr := os.Stat(filepath.Join(dir, "index_meta.json")); statErr == nil {
		// A bounded wait for the file lock: another open handle on the same
		// directory (in this process or another) makes Open fail, not hang.
		idx, err = bleve.OpenUsing(dir, map[string]any{"bolt_timeout": "2s"})
	} else {
		var m *mapping.IndexMappingImpl
		if m, err = newMapping(an); err != nil {
			return nil, err
		}
		idx, err = bleve.New(dir, m)
	}
	if err != nil {
		return nil, fmt.Errorf("search: open %s: %w", dir, err)
	}
	if m := ScoringModel(idx); m != index.BM25Scoring {
		_ = idx.Close()
		return nil, fmt.Errorf("search: index %s uses scoring model %q, want %q", dir, m, index.BM25Scoring)
	}
	x := &Index{idx: idx, titleBoost: boost}
	if m, ok := idx.Mapping().(*mapping.IndexMappingImpl); ok {
		x.analyzer = m.DefaultAnalyzer
	}
	return x, nil
}

// Analyzer is the analyzer the index was built with.
func (x *Index) Analyzer() string { return x.analyzer }

// TitleBoost is the query-time title boost in use.
func (x *Index) TitleBoost() float64 { return x.titleBoost }

// ScoringModel reports the scoring model of a Bleve index's mapping ("" means
// Bleve's default, TF-IDF).
func ScoringModel(idx bleve.Index) string {
	if m, ok := idx.Mapping().(*mapping.IndexMappingImpl); ok {
		return m.ScoringModel
	}
	return ""
}

func newMapping(analyzer string) (*mapping.IndexMappingImpl, error) {
	m := bleve.NewIndexMapping()
	if def, ok := customAnalyzers[analyzer]; ok {
		if err := m.AddCustomAnalyzer(analyzer, def); err != nil {
			return nil, fmt.Errorf("search: analyzer %s: %w", analyzer, err)
		}
	}
	text := func() *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzer
		f.Store = false
		f.IncludeTermVectors = false
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}
	meta := bleve.NewKeywordFieldMapping()
	meta.Analyzer = keyword.Name
	meta.Store = false
	meta.IncludeTermVectors = false
	meta.IncludeInAll = false
	meta.DocValues = false

	doc := bleve.NewDocumentStaticMapping()
	doc.AddFieldMappingsAt(fieldBody, text())
	doc.AddFieldMappingsAt(fieldTitle, text())
	doc.AddFieldMappingsAt(fieldMeta, meta)

	m.DefaultMapping = doc
	m.DefaultAnalyzer = analyzer
	m.IndexDynamic = false
	m.StoreDynamic = false
	m.DocValuesDynamic = false
	m.ScoringModel = index.BM25Scoring
	return m, nil
}

func bleveDoc(d Doc) map[string]any {
	body := d.Text
	if d.Title != "" {
		body = d.Title + " " + d.Text
	}
	m := map[string]any{fieldBody: body, fieldTitle: d.Title}
	if len(d.Fields) > 0 {
		meta := make([]string, 0, len(d.Fields))
		for k, v := range d.Fields {
			meta = append(meta, metaTerm(k, v))
		}
		m[fieldMeta] = meta
	}
	return m
}

func metaTerm(k, v string) string { return k + "=" + v }

// Put adds or replaces documents. Invalid documents are reported before
// anything is written; larger inputs are written in batches of 1,000.
func (x *Index) Put(docs ...Doc) error {
	for _, d := range docs {
		if d.ID == "" {
			return errors.New("search: document without ID")
		}
		for k := range d.Fields {
			if k == "" || strings.Contains(k, "=") {
				return fmt.Errorf("search: document %s: invalid field name %q", d.ID, k)
			}
		}
	}
	for start := 0; start < len(docs); start += batchSize {
		end := min(start+batchSize, len(docs))
		b := x.idx.NewBatch()
		for _, d := range docs[start:end] {
			if err := b.Index(d.ID, bleveDoc(d)); err != nil {
				return fmt.Errorf("search: index %s: %w", d.ID, err)
			}
		}
		if err := x.idx.Batch(b); err != nil {
			return fmt.Errorf("search: batch: %w", err)
		}
	}
	return nil
}

// Delete removes documents by ID; unknown IDs are ignored.
func (x *Index) Delete(ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	b := x.idx.NewBatch()
	for _, id := range ids {
		b.Delete(id)
	}
	if err := x.idx.Batch(b); err != nil {
		return fmt.Errorf("search: delete: %w", err)
	}
	return nil
}

// Search returns up to k documents matching any analysed term of q, best
// first. Only documents whose Fields contain every key/value pair of filter
// are returned; the filter does not affect scores. k <= 0 means 10.
func (x *Index) Search(q string, k int, filter map[string]string) ([]Hit, error) {
	if k <= 0 {
		k = 10
	}
	if strings.TrimSpace(q) == "" {
		return nil, nil
	}
	req := bleve.NewSearchRequestOptions(x.query(q, filter), k, 0, false)
	req.SortBy([]string{"-_score", "_id"})
	res, err := x.idx.Search(req)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	hits := make([]Hit, len(res.Hits))
	for i, h := range res.Hits {
		hits[i] = Hit{ID: h.ID, Score: h.Score}
	}
	return hits, nil
}

func (x *Index) query(q string, filter map[string]string) query.Query {
	body := bleve.NewMatchQuery(q)
	body.SetField(fieldBody)
	var match query.Query = body
	if x.titleBoost > 0 {
		title := bleve.NewMatchQuery(q)
		title.SetField(fieldTitle)
		title.SetBoost(x.titleBoost)
		match = bleve.NewDisjunctionQuery(body, title)
	}
	if len(filter) == 0 {
		return match
	}
	terms := make([]query.Query, 0, len(filter))
	for k, v := range filter {
		t := bleve.NewTermQuery(metaTerm(k, v))
		t.SetField(fieldMeta)
		terms = append(terms, t)
	}
	bq := bleve.NewBooleanQuery()
	bq.AddMust(match)
	bq.AddFilter(bleve.NewConjunctionQuery(terms...))
	return bq
}

// Count returns the number of indexed documents.
func (x *Index) Count() (uint64, error) {
	n, err := x.idx.DocCount()
	if err != nil {
		return 0, fmt.Errorf("search: count: %w", err)
	}
	return n, nil
}

// SetMeta stores a small value inside the index (Bleve's internal store), so
// that state describing the index, such as the last change applied to it,
// lives and dies with it.
func (x *Index) SetMeta(key string, val []byte) error {
	if err := x.idx.SetInternal([]byte("meta:"+key), val); err != nil {
		return fmt.Errorf("search: set meta %s: %w", key, err)
	}
	return nil
}

// Meta returns a value stored with SetMeta, nil when absent.
func (x *Index) Meta(key string) ([]byte, error) {
	v, err := x.idx.GetInternal([]byte("meta:" + key))
	if err != nil {
		return nil, fmt.Errorf("search: meta %s: %w", key, err)
	}
	return v, nil
}

// Close releases the index; it must not be used afterwards.
func (x *Index) Close() error { return x.idx.Close() }
