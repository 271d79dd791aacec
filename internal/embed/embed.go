// Package embed turns texts into dense vectors for the knowledge base.
//
// Two implementations sit behind Embedder:
//
//   - Hashing, the offline default: deterministic, no model, no download, no
//     network. It is a feature-hashing ("hashing trick") bag of words, not a
//     neural model: each text is tokenised (lowercase, Unicode letters and
//     digits, English stop words dropped, Porter stemming), and the features
//     word unigrams, word bigrams and character n-grams (3 to 5 characters of
//     each word, for morphology and spelling variants) are hashed into a fixed
//     number of dimensions with a random sign, weighted by sublinear term
//     frequency, and the vector is L2-normalised. The cosine of two such
//     vectors therefore measures lexical overlap (shared words, phrases and
//     word pieces), blurred by hash collisions. It knows no synonyms, no
//     paraphrase and no meaning: "heart attack" and "myocardial infarction"
//     are unrelated to it. It has no corpus statistics (no IDF), so it is
//     weaker than BM25 on its own; it exists so that the vector path, the
//     vector store and hybrid fusion work end to end without a provider.
//   - OpenAI, any OpenAI-compatible /v1/embeddings endpoint (OpenAI, Ollama,
//     vLLM, llama.cpp server) via github.com/openai/openai-go, with batching and
//     retries.
//
// All vectors returned by this package are L2-normalised float32 slices, so a
// dot product is their cosine similarity.
package embed

import (
	"context"
	"math"
)

// Embedder maps texts to vectors of a fixed dimension.
type Embedder interface {
	// Embed returns one vector per text, in order.
	Embed(ctx context.Context, texts []string) ([][]float32, error)
	// Dim is the vector dimension (0 if not known until the first call).
	Dim() int
	// Model names the model (and for Hashing, its parameters), so that stored
	// vectors can be tied to what produced them.
	Model() string
}

// Normalize scales v to unit L2 norm in place and reports whether it could
// (a zero vector stays zero).
func Normalize(v []float32) bool {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	if s == 0 {
		return false
	}
	inv := float32(1 / math.Sqrt(s))
	for i := range v {
		v[i] *= inv
	}
	return true
}
