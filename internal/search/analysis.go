package search

import (
	"sync"

	_ "github.com/blevesearch/bleve/v2/analysis/analyzer/custom" // registers the "custom" analyzer type
	"github.com/blevesearch/bleve/v2/analysis/lang/en"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	"github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	bsearch "github.com/blevesearch/bleve/v2/search"
)

// DefaultAnalyzer is the analyzer of new indexes: Bleve's "en" (Unicode word
// tokenizer, English possessives, lowercase, English stop words, Porter
// stemmer). It was the best of Analyzers() on the SciFact training split.
const DefaultAnalyzer = en.AnalyzerName

// Custom analyzers registered in the mapping of an index that uses them.
var customAnalyzers = map[string]map[string]any{
	// Like "en" with the Snowball (Porter2) English stemmer.
	"en_snowball": {
		"type":          "custom",
		"tokenizer":     unicode.Name,
		"token_filters": []any{en.PossessiveName, lowercase.Name, en.StopName, en.SnowballStemmerName},
	},
	// Like "en" but only removes plurals (light stemming).
	"en_plural": {
		"type":          "custom",
		"tokenizer":     unicode.Name,
		"token_filters": []any{en.PossessiveName, lowercase.Name, en.StopName, en.PluralStemmerName},
	},
	// Like "en" without any stemming.
	"en_nostem": {
		"type":          "custom",
		"tokenizer":     unicode.Name,
		"token_filters": []any{en.PossessiveName, lowercase.Name, en.StopName},
	},
}

// Analyzers lists the analyzers an index can be built with.
func Analyzers() []string {
	return []string{en.AnalyzerName, "en_snowball", "en_plural", "en_nostem", "standard"}
}

var bm25Mu sync.Mutex

// BM25Params returns Bleve's BM25 k1 and b.
func BM25Params() (k1, b float64) {
	bm25Mu.Lock()
	defer bm25Mu.Unlock()
	return bsearch.BM25_k1, bsearch.BM25_b
}

// SetBM25Params sets Bleve's BM25 k1 (term-frequency saturation) and b
// (length normalisation). Bleve keeps them in package variables, so they apply
// to every index in the process, and they are read during searches without
// synchronisation: call this only at start-up or in benchmarks, never while
// searches run. Bleve's defaults are k1 = 1.2, b = 0.75.
func SetBM25Params(k1, b float64) {
	bm25Mu.Lock()
	defer bm25Mu.Unlock()
	bsearch.BM25_k1, bsearch.BM25_b = k1, b
}
