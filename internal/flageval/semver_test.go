package flageval

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseSemVer(t *testing.T) {
	t.Parallel()
	valid := []struct {
		in   string
		want SemVer
	}{
		{"0.0.0", SemVer{}},
		{"1.2.3", SemVer{Major: 1, Minor: 2, Patch: 3}},
		{"v1.2.3", SemVer{Major: 1, Minor: 2, Patch: 3}},
		{"V10.20.30", SemVer{Major: 10, Minor: 20, Patch: 30}},
		{"1.0.0-alpha", SemVer{Major: 1, Prerelease: "alpha"}},
		{"1.0.0-alpha.1", SemVer{Major: 1, Prerelease: "alpha.1"}},
		{"1.0.0-0.3.7", SemVer{Major: 1, Prerelease: "0.3.7"}},
		{"1.0.0-x.7.z.92", SemVer{Major: 1, Prerelease: "x.7.z.92"}},
		{"1.0.0-x-y-z.--", SemVer{Major: 1, Prerelease: "x-y-z.--"}},
		{"1.0.0-alpha+001", SemVer{Major: 1, Prerelease: "alpha", Build: "001"}},
		{"1.0.0+20130313144700", SemVer{Major: 1, Build: "20130313144700"}},
		{"1.0.0-beta+exp.sha.5114f85", SemVer{Major: 1, Prerelease: "beta", Build: "exp.sha.5114f85"}},
		{"1.0.0+21AF26D3----117B344092BD", SemVer{Major: 1, Build: "21AF26D3----117B344092BD"}},
		{"18446744073709551615.0.0", SemVer{Major: 18446744073709551615}},
	}
	for _, tc := range valid {
		got, err := ParseSemVer(tc.in)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.want, got, tc.in)
		require.True(t, ValidSemVer(tc.in))
	}
	invalid := []string{
		"", "v", "1", "1.2", "1.2.3.4", "01.2.3", "1.02.3", "1.2.03", "1.2.3-", "1.2.3+", "1.2.3-01",
		"1.2.3-alpha..1", "1.2.3-alpha_1", "1.2.3+build..1", "1.2.3+bu ild", "a.b.c", "-1.2.3", "1.-2.3",
		" 1.2.3", "1.2.3 ", "vv1.2.3", "18446744073709551616.0.0", "1.2.3-é", "1.2",
	}
	for _, in := range invalid {
		_, err := ParseSemVer(in)
		require.Error(t, err, "%q", in)
		require.False(t, ValidSemVer(in), "%q", in)
	}
}

func TestSemVerPrecedence(t *testing.T) {
	t.Parallel()
	// Strictly increasing, per SemVer 2.0.0 §11.
	ordered := []string{
		"0.9.9", "1.0.0-0", "1.0.0-1", "1.0.0-2", "1.0.0-10", "1.0.0-alpha", "1.0.0-alpha.1",
		"1.0.0-alpha.beta", "1.0.0-beta", "1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0",
		"1.0.1", "1.1.0", "1.10.0", "2.0.0-rc.1", "2.0.0", "10.0.0",
	}
	parsed := make([]SemVer, len(ordered))
	for i, s := range ordered {
		v, err := ParseSemVer(s)
		require.NoError(t, err)
		parsed[i] = v
	}
	for i := range parsed {
		for j := range parsed {
			want := 0
			if i < j {
				want = -1
			} else if i > j {
				want = 1
			}
			require.Equal(t, want, parsed[i].Compare(parsed[j]), "%s vs %s", ordered[i], ordered[j])
		}
	}
}

func TestSemVerEqualities(t *testing.T) {
	t.Parallel()
	eq := [][2]string{
		{"1.0.0", "v1.0.0"},
		{"1.0.0+build.1", "1.0.0+build.2"},
		{"1.0.0-rc.1+a", "v1.0.0-rc.1"},
	}
	for _, p := range eq {
		a, _ := ParseSemVer(p[0])
		b, _ := ParseSemVer(p[1])
		require.Equal(t, 0, a.Compare(b), "%s vs %s", p[0], p[1])
	}
	// Pre-release numeric identifiers beyond uint64 still compare numerically.
	a, err := ParseSemVer("1.0.0-99999999999999999999999")
	require.NoError(t, err)
	b, err := ParseSemVer("1.0.0-100000000000000000000000")
	require.NoError(t, err)
	require.Equal(t, -1, a.Compare(b))
}

func TestSemVerString(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"0.0.0", "1.2.3", "1.0.0-alpha.1+build.7", "18446744073709551615.1.0+x"} {
		v, err := ParseSemVer(s)
		require.NoError(t, err)
		require.Equal(t, s, v.String())
	}
	v, _ := ParseSemVer("v2.0.0")
	require.Equal(t, "2.0.0", v.String())
}
