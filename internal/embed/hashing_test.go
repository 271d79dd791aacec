package embed

import (
	"context"
	"math"
	"testing"

	"github.com/stretchr/testify/require"
)

func norm(v []float32) float64 {
	var s float64
	for _, x := range v {
		s += float64(x) * float64(x)
	}
	return math.Sqrt(s)
}

func dot(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func TestHashingDeterministicAndNormalised(t *testing.T) {
	t.Parallel()
	h := NewHashing(0)
	require.Equal(t, DefaultDim, h.Dim())
	require.Equal(t, "hashing-v1-512", h.Model())
	var _ Embedder = h

	texts := []string{
		"Vitamin D supplementation increases bone mineral density.",
		"Statins lower LDL cholesterol.",
		"Ünïcödé wörds and numbers like IL-6 and p53 work too.",
	}
	a, err := h.Embed(context.Background(), texts)
	require.NoError(t, err)
	b, err := NewHashing(DefaultDim).Embed(context.Background(), texts)
	require.NoError(t, err)
	require.Equal(t, a, b, "same input, same vectors, across instances")
	require.Len(t, a, len(texts))
	for _, v := range a {
		require.Len(t, v, DefaultDim)
		require.InDelta(t, 1, norm(v), 1e-5)
	}
	require.Equal(t, a[1], h.EmbedOne(texts[1]))

	// Pinned values: a change here changes every stored vector, so it must
	// come with a new Model() name.
	v := NewHashing(8).EmbedOne("bone density")
	require.InDeltaSlice(t, []float32{0, 0.038855102, -0.6799643, -0.70910555, 0, 0.019427551, 0.17484796, -0.048568882}, v, 1e-6)
	require.Equal(t, v, NewHashing(8).EmbedOne("Bone densities!"), "case, plural and punctuation fold away")

	// Other dimensions.
	require.Len(t, NewHashing(384).EmbedOne("x y z"), 384)
}

func TestHashingEmptyAndStopWords(t *testing.T) {
	t.Parallel()
	h := NewHashing(64)
	for _, s := range []string{"", "   ", "the of and", "!!! ..."} {
		v := h.EmbedOne(s)
		require.Len(t, v, 64)
		require.Zero(t, norm(v), "%q", s)
	}
}

func TestHashingCapturesLexicalOverlap(t *testing.T) {
	t.Parallel()
	h := NewHashing(DefaultDim)
	q := h.EmbedOne("bone mineral density in older adults")
	near := h.EmbedOne("Vitamin D increases bone mineral density of older adults.")
	far := h.EmbedOne("Statins lower LDL cholesterol and cardiovascular events.")
	morph := h.EmbedOne("densitometry of bones")
	require.Greater(t, dot(q, near), dot(q, far))
	require.Greater(t, dot(q, near), 0.3)
	require.Greater(t, dot(q, morph), dot(q, far))
	// Word order matters a little (bigrams), so swapped phrases are close but not equal.
	ab, ba := h.EmbedOne("heart failure risk"), h.EmbedOne("risk failure heart")
	require.Greater(t, dot(ab, ba), 0.7)
	require.Less(t, dot(ab, ba), 0.999)
}

func TestHashingCancelled(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := NewHashing(16).Embed(ctx, []string{"a"})
	require.ErrorIs(t, err, context.Canceled)
}

func TestTokenize(t *testing.T) {
	t.Parallel()
	require.Equal(t, []string{"vitamin", "d", "increas", "bone", "densiti", "il", "6", "p53"},
		Tokenize("Vitamin D increases the bone-density of IL-6 & p53"))
	require.Empty(t, Tokenize("the a an"))
}

func TestNormalize(t *testing.T) {
	t.Parallel()
	v := []float32{3, 4}
	require.True(t, Normalize(v))
	require.InDeltaSlice(t, []float32{0.6, 0.8}, v, 1e-7)
	z := []float32{0, 0}
	require.False(t, Normalize(z))
	require.Equal(t, []float32{0, 0}, z)
}

func BenchmarkHashing(b *testing.B) {
	h := NewHashing(DefaultDim)
	text := "Alterations of the architecture of cerebral white matter in the developing human brain can affect cortical development and result in functional disabilities. A line scan diffusion-weighted magnetic resonance imaging sequence with diffusion tensor analysis was applied."
	b.ReportAllocs()
	for b.Loop() {
		h.EmbedOne(text)
	}
}
