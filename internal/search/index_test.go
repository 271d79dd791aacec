package search

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blevesearch/bleve/v2"
	index "github.com/blevesearch/bleve_index_api"
	"github.com/stretchr/testify/require"
)

func openTemp(t *testing.T) (*Index, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "idx")
	x, err := Open(dir)
	require.NoError(t, err)
	t.Cleanup(func() { _ = x.Close() })
	return x, dir
}

func ids(hs []Hit) []string {
	out := make([]string, len(hs))
	for i, h := range hs {
		out[i] = h.ID
	}
	return out
}

var testDocs = []Doc{
	{ID: "d1", Title: "Vitamin D and bone density", Text: "Vitamin D supplementation increases bone mineral density in older adults.", Fields: map[string]string{"doc": "a", "tag": "nutrition"}},
	{ID: "d2", Title: "Statins", Text: "Statins lower LDL cholesterol and reduce cardiovascular events.", Fields: map[string]string{"doc": "b", "tag": "cardio"}},
	{ID: "d3", Title: "Exercise", Text: "Regular exercise improves cardiovascular fitness and bone strength.", Fields: map[string]string{"doc": "c", "tag": "cardio"}},
}

func TestPutSearchDelete(t *testing.T) {
	t.Parallel()
	x, _ := openTemp(t)
	require.NoError(t, x.Put(testDocs...))
	n, err := x.Count()
	require.NoError(t, err)
	require.EqualValues(t, 3, n)

	// English analysis: "densities" stems to the same term as "density",
	// "the" is a stop word.
	hs, err := x.Search("the densities of bones", 10, nil)
	require.NoError(t, err)
	require.NotEmpty(t, hs)
	require.Equal(t, "d1", hs[0].ID)
	for i := 1; i < len(hs); i++ {
		require.GreaterOrEqual(t, hs[i-1].Score, hs[i].Score)
	}

	hs, err = x.Search("cardiovascular", 10, nil)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"d2", "d3"}, ids(hs))

	hs, err = x.Search("cardiovascular", 1, nil)
	require.NoError(t, err)
	require.Len(t, hs, 1)

	// Replace d2: the old text is gone.
	require.NoError(t, x.Put(Doc{ID: "d2", Title: "Statins", Text: "Statins lower LDL cholesterol."}))
	hs, err = x.Search("cardiovascular", 10, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"d3"}, ids(hs))

	require.NoError(t, x.Delete("d3", "missing"))
	hs, err = x.Search("cardiovascular", 10, nil)
	require.NoError(t, err)
	require.Empty(t, hs)
	n, err = x.Count()
	require.NoError(t, err)
	require.EqualValues(t, 2, n)

	hs, err = x.Search("  ", 10, nil)
	require.NoError(t, err)
	require.Empty(t, hs)
	hs, err = x.Search("the of and", 10, nil) // only stop words
	require.NoError(t, err)
	require.Empty(t, hs)
}

func TestFilter(t *testing.T) {
	t.Parallel()
	x, _ := openTemp(t)
	require.NoError(t, x.Put(testDocs...))

	all, err := x.Search("cardiovascular bone", 10, nil)
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"d1", "d2", "d3"}, ids(all))

	hs, err := x.Search("cardiovascular bone", 10, map[string]string{"tag": "cardio"})
	require.NoError(t, err)
	require.ElementsMatch(t, []string{"d2", "d3"}, ids(hs))
	// The filter does not change scores.
	want := map[string]float64{}
	for _, h := range all {
		want[h.ID] = h.Score
	}
	for _, h := range hs {
		require.InDelta(t, want[h.ID], h.Score, 1e-9, h.ID)
	}

	hs, err = x.Search("cardiovascular bone", 10, map[string]string{"tag": "cardio", "doc": "c"})
	require.NoError(t, err)
	require.Equal(t, []string{"d3"}, ids(hs))

	hs, err = x.Search("cardiovascular bone", 10, map[string]string{"tag": "none"})
	require.NoError(t, err)
	require.Empty(t, hs)

	// Filter values are exact, not analysed.
	hs, err = x.Search("cardiovascular", 10, map[string]string{"tag": "Cardio"})
	require.NoError(t, err)
	require.Empty(t, hs)

	require.Error(t, x.Put(Doc{ID: "bad", Text: "x", Fields: map[string]string{"a=b": "c"}}))
	require.Error(t, x.Put(Doc{Text: "no id"}))
}

func TestReopenPersists(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), "nested", "idx")
	x, err := Open(dir)
	require.NoError(t, err)
	require.NoError(t, x.Put(testDocs...))
	before, err := x.Search("statins cholesterol", 10, map[string]string{"doc": "b"})
	require.NoError(t, err)

	// A second handle on an open index fails instead of blocking.
	_, err = Open(dir)
	require.Error(t, err)

	require.NoError(t, x.Close())

	y, err := Open(dir)
	require.NoError(t, err)
	defer y.Close()
	n, err := y.Count()
	require.NoError(t, err)
	require.EqualValues(t, 3, n)
	after, err := y.Search("statins cholesterol", 10, map[string]string{"doc": "b"})
	require.NoError(t, err)
	require.Equal(t, before, after)
	require.Equal(t, DefaultAnalyzer, y.Analyzer())
	require.Equal(t, index.BM25Scoring, ScoringModel(y.idx))
}

func TestOpenRejects(t *testing.T) {
	t.Parallel()
	_, err := Open("")
	require.Error(t, err)
	_, err = OpenWith(filepath.Join(t.TempDir(), "x"), Options{Analyzer: "klingon"})
	require.Error(t, err)

	// An index built with TF-IDF is refused.
	dir := filepath.Join(t.TempDir(), "tfidf")
	m, err := newMapping(DefaultAnalyzer)
	require.NoError(t, err)
	m.ScoringModel = ""
	b, err := bleve.New(dir, m)
	require.NoError(t, err)
	require.NoError(t, b.Close())
	_, err = Open(dir)
	require.ErrorContains(t, err, "scoring model")
}

func TestCustomAnalyzersBuild(t *testing.T) {
	t.Parallel()
	for _, an := range Analyzers() {
		x, err := OpenWith(filepath.Join(t.TempDir(), an), Options{Analyzer: an})
		require.NoError(t, err, an)
		require.NoError(t, x.Put(testDocs...), an)
		hs, err := x.Search("statins", 10, nil)
		require.NoError(t, err, an)
		require.Equal(t, []string{"d2"}, ids(hs), an)
		require.NoError(t, x.Close())
	}
}

// bm25Docs is a crafted case on which BM25 and TF-IDF disagree for the
// single-term query "apple". TF-IDF (Bleve: sqrt(tf)/sqrt(len)) prefers
// "short", whose only word is the term (1 against sqrt(30/35) = 0.93). Bleve's
// BM25 saturates term frequency and normalises length by its "average field
// length", which it computes as ceil(distinct terms in the field / documents)
// = ceil(106/3) = 36 here; that favours "many": sqrt(30) = 5.48 gives
// 5.48/(5.48+1.2*(0.25+0.75*35/36)) = 0.82 against
// 1/(1+1.2*(0.25+0.75*1/36)) = 0.75 for "short".
func bm25Docs() []Doc {
	filler := make([]string, 100)
	for i := range filler {
		filler[i] = fmt.Sprintf("filler%d", i)
	}
	return []Doc{
		{ID: "short", Text: "apple"},
		{ID: "many", Text: strings.Repeat("apple ", 30) + "pear plum fig kiwi lime"},
		{ID: "filler", Text: strings.Join(filler, " ")},
	}
}

func TestBM25IsUsed(t *testing.T) {
	t.Parallel()
	x, _ := openTemp(t)
	require.Equal(t, index.BM25Scoring, ScoringModel(x.idx))
	require.NoError(t, x.Put(bm25Docs()...))
	hs, err := x.Search("apple", 10, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"many", "short"}, ids(hs))

	// Bleve's own explanation names the model.
	req := bleve.NewSearchRequest(x.query("apple", nil))
	req.Explain = true
	res, err := x.idx.Search(req)
	require.NoError(t, err)
	require.NotEmpty(t, res.Hits)
	require.Contains(t, res.Hits[0].Expl.String(), "bm25")

	// The same documents in an on-disk TF-IDF index rank the other way.
	m, err := newMapping(DefaultAnalyzer)
	require.NoError(t, err)
	m.ScoringModel = index.TFIDFScoring
	require.Equal(t, []string{"short", "many"}, rankWith(t, func() (bleve.Index, error) {
		return bleve.New(filepath.Join(t.TempDir(), "tfidf"), m)
	}))

	// And bleve.NewMemOnly silently ignores BM25 in the mapping (the reason
	// this package has no in-memory mode): it ranks like TF-IDF.
	m2, err := newMapping(DefaultAnalyzer)
	require.NoError(t, err)
	require.Equal(t, index.BM25Scoring, m2.ScoringModel)
	require.Equal(t, []string{"short", "many"}, rankWith(t, func() (bleve.Index, error) {
		return bleve.NewMemOnly(m2)
	}))
}

func rankWith(t *testing.T, open func() (bleve.Index, error)) []string {
	t.Helper()
	b, err := open()
	require.NoError(t, err)
	defer b.Close()
	raw := &Index{idx: b}
	for _, d := range bm25Docs() {
		require.NoError(t, b.Index(d.ID, bleveDoc(d)))
	}
	hs, err := raw.Search("apple", 10, nil)
	require.NoError(t, err)
	return ids(hs)
}

func TestTitleBoost(t *testing.T) {
	t.Parallel()
	docs := []Doc{
		{ID: "in-title", Title: "Insulin", Text: "A hormone made by the pancreas that lowers blood sugar levels."},
		{ID: "in-text", Title: "Pancreas", Text: "The pancreas releases insulin insulin when blood sugar rises after meals."},
	}
	plain, err := OpenWith(filepath.Join(t.TempDir(), "p"), Options{})
	require.NoError(t, err)
	defer plain.Close()
	boosted, err := OpenWith(filepath.Join(t.TempDir(), "b"), Options{TitleBoost: 3})
	require.NoError(t, err)
	defer boosted.Close()
	require.NoError(t, plain.Put(docs...))
	require.NoError(t, boosted.Put(docs...))

	hs, err := plain.Search("insulin", 10, nil)
	require.NoError(t, err)
	require.Equal(t, "in-text", hs[0].ID)
	hs, err = boosted.Search("insulin", 10, nil)
	require.NoError(t, err)
	require.Equal(t, "in-title", hs[0].ID)
}

func TestPutManyBatches(t *testing.T) {
	t.Parallel()
	x, _ := openTemp(t)
	docs := make([]Doc, 2*batchSize+5)
	for i := range docs {
		docs[i] = Doc{ID: fmt.Sprintf("d%04d", i), Text: fmt.Sprintf("common word%d", i)}
	}
	// An invalid document anywhere fails the whole call before any write.
	bad := append(append([]Doc(nil), docs...), Doc{Text: "no id"})
	require.Error(t, x.Put(bad...))
	n, err := x.Count()
	require.NoError(t, err)
	require.Zero(t, n)

	require.NoError(t, x.Put(docs...))
	n, err = x.Count()
	require.NoError(t, err)
	require.EqualValues(t, len(docs), n)
	hs, err := x.Search("word2004", 10, nil)
	require.NoError(t, err)
	require.Equal(t, []string{"d2004"}, ids(hs))
}
