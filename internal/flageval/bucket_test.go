package flageval

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The vectors come from testdata/gen_vectors.py, an independent Python/hashlib implementation of
// bucketing v1, so this test checks Bucket against a second implementation (docs/bucketing.md).
type bucketVector struct {
	Note      string `json:"note"`
	Purpose   string `json:"purpose"`
	Salt      string `json:"salt"`
	FlagKey   string `json:"flag_key"`
	UnitID    string `json:"unit_id"`
	Bucket    uint32 `json:"bucket"`
	InRollout struct {
		Pct      json.Number `json:"pct"` // literal text, never a float
		Included bool        `json:"included"`
	} `json:"in_rollout"`
}

type bucketVectorFile struct {
	Buckets int            `json:"buckets"`
	Count   int            `json:"count"`
	Cases   []bucketVector `json:"cases"`
}

// testThousandths converts a percentage or weight with at most three decimals ("0", "0.001",
// "12.5", "99.999", "100") into whole thousandths of a percent, i.e. a number of buckets, with
// integer math only. Signs, exponents and a fourth decimal are rejected.
func testThousandths(s string) (uint32, error) {
	intPart, frac, hasDot := strings.Cut(s, ".")
	if intPart == "" || (hasDot && frac == "") || len(frac) > 3 || len(intPart) > 3 {
		return 0, fmt.Errorf("percentage %q: want digits with at most 3 decimals", s)
	}
	var n uint32
	for _, c := range intPart + frac + strings.Repeat("0", 3-len(frac)) {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("percentage %q: unexpected %q", s, c)
		}
		n = n*10 + uint32(c-'0')
	}
	if n > Buckets {
		return 0, errors.New("percentage above 100")
	}
	return n, nil
}

func TestBucketThousandthsHelper(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]uint32{
		"0": 0, "0.001": 1, "0.01": 10, "0.1": 100, "1": 1000, "12.5": 12500, "12.345": 12345,
		"50": 50000, "99.999": 99999, "100": 100000, "100.000": 100000, "007.5": 7500,
	} {
		got, err := testThousandths(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, in := range []string{"", ".5", "5.", "1.2345", "-1", "1e2", "100.001", "1000", "+5", "5 "} {
		_, err := testThousandths(in)
		require.Error(t, err, in)
	}
}

func TestBucketVectors(t *testing.T) {
	t.Parallel()
	raw, err := os.ReadFile(filepath.Join("testdata", "bucketing_vectors.json"))
	require.NoError(t, err)
	var file bucketVectorFile
	require.NoError(t, json.Unmarshal(raw, &file))
	require.Equal(t, Buckets, file.Buckets)
	require.Len(t, file.Cases, file.Count)
	require.GreaterOrEqual(t, len(file.Cases), 1000)

	purposes := map[string]int{}
	pcts := map[uint32]int{}
	for i, c := range file.Cases {
		name := fmt.Sprintf("case %d (%s, %s)", i, c.Note, c.Purpose)
		got := Bucket(c.Purpose, c.Salt, c.FlagKey, c.UnitID)
		require.Equal(t, c.Bucket, got, name)

		pct, err := testThousandths(c.InRollout.Pct.String())
		require.NoError(t, err, name)
		require.Equal(t, c.InRollout.Included, got < pct, "%s: pct %s", name, c.InRollout.Pct)

		purposes[c.Purpose]++
		pcts[pct]++
	}

	// The file covers what docs/bucketing.md promises.
	require.Positive(t, purposes[PurposeRollout])
	require.Positive(t, purposes[PurposeVariant])
	for _, edge := range []uint32{0, 1, 50000, 99999, 100000} {
		require.Positive(t, pcts[edge], "percentage edge %d thousandths", edge)
	}
	var empty, long, nonASCII, ctrl bool
	for _, c := range file.Cases {
		empty = empty || c.UnitID == "" || c.Salt == ""
		long = long || len(c.UnitID) >= 10*1024-3
		nonASCII = nonASCII || strings.ContainsFunc(c.UnitID, func(r rune) bool { return r > 0x7F })
		ctrl = ctrl || strings.ContainsAny(c.UnitID, "\x00\x1f")
	}
	require.True(t, empty && long && nonASCII && ctrl, "empty=%v long=%v unicode=%v ctrl=%v", empty, long, nonASCII, ctrl)
}

// The documented limitation: fields are joined with 0x1F and not escaped, so a 0x1F inside a field
// is indistinguishable from a different split of the same bytes.
func TestBucketSeparatorInsideFieldCollides(t *testing.T) {
	t.Parallel()
	for _, p := range []string{PurposeRollout, PurposeVariant} {
		require.Equal(t, Bucket(p, "s", "a\x1fb", "c"), Bucket(p, "s", "a", "b\x1fc"))
		require.Equal(t, Bucket(p, "s\x1fa", "b", "c"), Bucket(p, "s", "a\x1fb", "c"))
	}
	// NUL is an ordinary byte: no truncation.
	require.NotEqual(t, Bucket(PurposeRollout, "s", "k", "u\x00a"), Bucket(PurposeRollout, "s", "k", "u\x00b"))
}

func testUUIDs(seed uint64, n int) []string {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	out := make([]string, n)
	for i := range out {
		var b [16]byte
		hi, lo := r.Uint64(), r.Uint64()
		for j := range 8 {
			b[j] = byte(hi >> (56 - 8*j))
			b[8+j] = byte(lo >> (56 - 8*j))
		}
		b[6] = b[6]&0x0F | 0x40
		b[8] = b[8]&0x3F | 0x80
		out[i] = fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
	}
	return out
}

func TestBucketRange(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	var lo, hi uint32 = Buckets, 0
	for i := range 200_000 {
		b := make([]byte, r.IntN(40))
		for j := range b {
			b[j] = byte(r.UintN(256)) // arbitrary bytes, including invalid UTF-8
		}
		purpose := PurposeRollout
		if i%2 == 1 {
			purpose = PurposeVariant
		}
		got := Bucket(purpose, fmt.Sprint(i%7), "ops.range_check", string(b))
		require.Less(t, got, uint32(Buckets))
		lo, hi = min(lo, got), max(hi, got)
	}
	// 200k draws over 100k buckets: both ends of the space are reached.
	require.Less(t, lo, uint32(100))
	require.Greater(t, hi, uint32(Buckets-100))
}

func TestBucketDistribution(t *testing.T) {
	t.Parallel()
	const n = 100_000
	var deciles [10]int
	var centiles [100]int
	for _, id := range testUUIDs(42, n) {
		b := Bucket(PurposeRollout, "experiment.new_checkout", "experiment.new_checkout", id)
		deciles[b/10_000]++
		centiles[b/1_000]++
	}
	// Each decile holds 10% ± 0.5 pp.
	for i, c := range deciles {
		require.InDelta(t, n/10, c, n*0.005, "decile %d", i)
	}
	// Chi-square over 100 equal bins, 99 degrees of freedom: the 0.999 quantile is ~148.2.
	var chi2 float64
	const expected = n / 100.0
	for _, c := range centiles {
		d := float64(c) - expected
		chi2 += d * d / expected
	}
	t.Logf("deciles %v, chi-square(99 df) %.1f", deciles, chi2)
	require.Less(t, chi2, 148.2, "chi-square over 100 bins")
}

func TestPurposesIndependent(t *testing.T) {
	t.Parallel()
	const n = 50_000
	const key = "experiment.new_checkout"
	var rollout, variant, both int
	var quad [2][2]int
	for _, id := range testUUIDs(7, n) {
		r := Bucket(PurposeRollout, key, key, id) < Buckets/2
		v := Bucket(PurposeVariant, key, key, id) < Buckets/2
		if r {
			rollout++
		}
		if v {
			variant++
		}
		if r && v {
			both++
		}
		quad[b2i(r)][b2i(v)]++
	}
	require.InDelta(t, n/2, rollout, n*0.01)
	require.InDelta(t, n/2, variant, n*0.01)
	t.Logf("rollout half %d, variant half %d, both %d (%.2f%%) of %d", rollout, variant, both, 100*float64(both)/n, n)
	// Independent halves: the joint share is 25% ± 1 pp, and so is every quadrant.
	require.InDelta(t, n/4, both, n*0.01)
	for i := range quad {
		for j := range quad[i] {
			require.InDelta(t, n/4, quad[i][j], n*0.01, "quadrant rollout=%d variant=%d", i, j)
		}
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// testVariantFor lays variants out in their stored order: variant i owns the next weight_i*1000
// buckets. Integer math only.
func testVariantFor(t *testing.T, bucket uint32, names []string, weights []string) string {
	t.Helper()
	require.Len(t, weights, len(names))
	var end uint32
	for i, w := range weights {
		n, err := testThousandths(w)
		require.NoError(t, err)
		end += n
		if bucket < end {
			return names[i]
		}
	}
	require.Equal(t, uint32(Buckets), end, "weights must sum to 100")
	t.Fatalf("bucket %d beyond the layout", bucket)
	return ""
}

func TestWeightChangeMovesOnlyBoundary(t *testing.T) {
	t.Parallel()
	const key = "experiment.checkout_copy"
	units := testUUIDs(99, 20_000)

	for _, tc := range []struct {
		name             string
		names            []string
		before, after    []string
		moveLo, moveHi   uint32
		moveFrom, moveTo string
	}{
		{"A50/B50 to A40/B60", []string{"A", "B"}, []string{"50", "50"}, []string{"40", "60"}, 40_000, 50_000, "A", "B"},
		{"A20/B40/C40 to A20/B20/C60", []string{"A", "B", "C"}, []string{"20", "40", "40"}, []string{"20", "20", "60"}, 40_000, 60_000, "B", "C"},
		// Decimal weights work the same way: 0.001 pp = one bucket.
		{"A33.333/B33.333/C33.334 to A33.333/B33.332/C33.335", []string{"A", "B", "C"},
			[]string{"33.333", "33.333", "33.334"}, []string{"33.333", "33.332", "33.335"}, 66_665, 66_666, "B", "C"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			moved := 0
			for _, id := range units {
				b := Bucket(PurposeVariant, key, key, id)
				before := testVariantFor(t, b, tc.names, tc.before)
				after := testVariantFor(t, b, tc.names, tc.after)
				if b >= tc.moveLo && b < tc.moveHi {
					require.Equal(t, tc.moveFrom, before, "unit %s bucket %d", id, b)
					require.Equal(t, tc.moveTo, after, "unit %s bucket %d", id, b)
					moved++
				} else {
					require.Equal(t, before, after, "unit %s bucket %d must not move", id, b)
				}
			}
			t.Logf("%d of %d units moved", moved, len(units))
			// The moved share matches the boundary's width (± 1 pp).
			width := float64(tc.moveHi-tc.moveLo) / Buckets
			require.InDelta(t, width*float64(len(units)), float64(moved), 0.01*float64(len(units)))
			if tc.moveHi-tc.moveLo >= 1000 {
				require.Positive(t, moved)
			}
		})
	}
}
