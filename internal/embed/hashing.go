package embed

import (
	"context"
	"fmt"
	"math"
	"unicode"
	"unicode/utf8"

	porterstemmer "github.com/blevesearch/go-porterstemmer"
)

// DefaultDim is the dimension of the offline embedder unless told otherwise.
// Hash collisions are what limits this embedder: on the SciFact training
// split (bench/kb) vector-only nDCG@10 was 0.43 at 384 dimensions, 0.49 at 512,
// 0.53 at 1024 and 0.58 at 4096.
const DefaultDim = 512

// Feature weights of the hashing embedder, chosen on the SciFact training
// split at 512 dimensions: unigrams carry the signal; bigrams and character
// n-grams add phrase and morphology overlap but also collisions, so they get a
// small weight (0.25/0.25 scored 0.486, 0/0 0.486, 0.5/0.5 0.472).
const (
	weightUnigram = 1.0
	weightBigram  = 0.25
	// weightChars is the total weight of one word occurrence's character
	// n-grams, shared among them.
	weightChars = 0.25
	minGram     = 3
	maxGram     = 5
)

// Hashing is the offline, deterministic feature-hashing embedder described in
// the package comment. It is safe for concurrent use.
type Hashing struct {
	dim int
}

// NewHashing returns a hashing embedder of dimension dim (DefaultDim if dim <= 0).
func NewHashing(dim int) *Hashing {
	if dim <= 0 {
		dim = DefaultDim
	}
	return &Hashing{dim: dim}
}

// Dim implements Embedder.
func (h *Hashing) Dim() int { return h.dim }

// Model implements Embedder; it changes whenever the features change.
func (h *Hashing) Model() string { return fmt.Sprintf("hashing-v1-%d", h.dim) }

// Embed implements Embedder. A text without any word (empty, only stop words
// or punctuation) gets the zero vector.
func (h *Hashing) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, t := range texts {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		out[i] = h.EmbedOne(t)
	}
	return out, nil
}

// EmbedOne embeds a single text.
func (h *Hashing) EmbedOne(text string) []float32 {
	words := Tokenize(text)
	fs := features{pos: make(map[uint64]int, 8*len(words))}
	for i, w := range words {
		fs.add(hashString(1, w), weightUnigram)
		if i > 0 {
			fs.add(hashPair(words[i-1], w), weightBigram)
		}
		addCharGrams(&fs, w)
	}
	// Accumulate in float64, in first-seen order, so that the result does not
	// depend on map iteration order.
	acc := make([]float64, h.dim)
	for _, f := range fs.list {
		// Sublinear TF, on the accumulated weight so that a unit unigram gives 1.
		w := f.tf
		if w > 1 {
			w = 1 + math.Log(w)
		}
		if f.hash&1 == 1 {
			w = -w
		}
		acc[(f.hash>>1)%uint64(h.dim)] += w
	}
	v := make([]float32, h.dim)
	for i, x := range acc {
		v[i] = float32(x)
	}
	Normalize(v)
	return v
}

type feature struct {
	hash uint64
	tf   float64
}

// features is an insertion-ordered bag of hashed features.
type features struct {
	pos  map[uint64]int
	list []feature
}

func (fs *features) add(h uint64, w float64) {
	if i, ok := fs.pos[h]; ok {
		fs.list[i].tf += w
		return
	}
	fs.pos[h] = len(fs.list)
	fs.list = append(fs.list, feature{hash: h, tf: w})
}

func addCharGrams(fs *features, w string) {
	// Pad with word boundaries so that prefixes and suffixes are features.
	var buf [64]rune
	rs := buf[:0]
	rs = append(rs, '<')
	for _, r := range w {
		rs = append(rs, r)
	}
	rs = append(rs, '>')
	n := 0
	for g := minGram; g <= maxGram; g++ {
		if len(rs) >= g {
			n += len(rs) - g + 1
		}
	}
	if n == 0 {
		return
	}
	each := weightChars / float64(n)
	for g := minGram; g <= maxGram; g++ {
		for s := 0; s+g <= len(rs); s++ {
			fs.add(hashRunes(uint64(g+1), rs[s:s+g]), each)
		}
	}
}

// FNV-1a, 64 bit, with a seed byte separating feature kinds.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashString(seed uint64, s string) uint64 {
	h := uint64(fnvOffset)
	h ^= seed
	h *= fnvPrime
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= fnvPrime
	}
	return mix(h)
}

func hashPair(a, b string) uint64 {
	h := uint64(fnvOffset)
	h ^= 2
	h *= fnvPrime
	for i := 0; i < len(a); i++ {
		h ^= uint64(a[i])
		h *= fnvPrime
	}
	h ^= ' '
	h *= fnvPrime
	for i := 0; i < len(b); i++ {
		h ^= uint64(b[i])
		h *= fnvPrime
	}
	return mix(h)
}

func hashRunes(seed uint64, rs []rune) uint64 {
	h := uint64(fnvOffset)
	h ^= seed
	h *= fnvPrime
	var b [utf8.UTFMax]byte
	for _, r := range rs {
		n := utf8.EncodeRune(b[:], r)
		for _, c := range b[:n] {
			h ^= uint64(c)
			h *= fnvPrime
		}
	}
	return mix(h)
}

// mix is the splitmix64 finaliser, so that the low bits used for the sign and
// the bucket are well distributed.
func mix(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h
}

// Tokenize splits text into lowercase words of Unicode letters and digits,
// drops English stop words and Porter-stems the rest. It is what the hashing
// embedder sees.
func Tokenize(text string) []string {
	var words []string
	start := -1
	flush := func(end int) {
		if start < 0 {
			return
		}
		w := text[start:end]
		start = -1
		lw := toLower(w)
		if stopWords[lw] {
			return
		}
		if len(lw) > 2 && !hasDigit(lw) {
			lw = porterstemmer.StemString(lw)
		}
		words = append(words, lw)
	}
	for i, r := range text {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if start < 0 {
				start = i
			}
			continue
		}
		flush(i)
	}
	flush(len(text))
	return words
}

func toLower(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= utf8.RuneSelf || ('A' <= c && c <= 'Z') {
			return lowerSlow(s)
		}
	}
	return s
}

func lowerSlow(s string) string {
	rs := []rune(s)
	for i, r := range rs {
		rs[i] = unicode.ToLower(r)
	}
	return string(rs)
}

func hasDigit(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= '0' && s[i] <= '9' {
			return true
		}
	}
	return false
}

var stopWords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range []string{
		"a", "about", "above", "after", "again", "against", "all", "am", "an", "and", "any", "are", "as", "at",
		"be", "because", "been", "before", "being", "below", "between", "both", "but", "by",
		"can", "could", "did", "do", "does", "doing", "down", "during", "each", "few", "for", "from", "further",
		"had", "has", "have", "having", "he", "her", "here", "hers", "herself", "him", "himself", "his", "how",
		"i", "if", "in", "into", "is", "it", "its", "itself", "just", "me", "more", "most", "my", "myself",
		"no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our", "ours", "ourselves",
		"out", "over", "own", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their",
		"theirs", "them", "themselves", "then", "there", "these", "they", "this", "those", "through", "to", "too",
		"under", "until", "up", "very", "was", "we", "were", "what", "when", "where", "which", "while", "who",
		"whom", "why", "will", "with", "would", "you", "your", "yours", "yourself", "yourselves",
	} {
		m[w] = true
	}
	return m
}()
