package cache

import "strings"

// match reports whether s matches the glob pattern p with the rules of Redis
// KEYS/SCAN MATCH, byte by byte: * any run of bytes, ? one byte, [abc] [^abc]
// [a-z] sets, \x a literal x. L1 and L2 use this one matcher, so Invalidate removes
// the same entries from both layers.
//
// Only * backtracks, and only to the latest *, so the cost is O(len(p)·len(s)).
func match(p, s string) bool {
	px, sx := 0, 0
	star, starS := -1, 0 // position of the latest * in p, and where in s it resumes
	for sx < len(s) {
		if px < len(p) {
			if p[px] == '*' {
				star, starS = px, sx
				px++
				continue
			}
			if n, ok := matchOne(p[px:], s[sx]); ok {
				px += n
				sx++
				continue
			}
		}
		if star < 0 {
			return false
		}
		starS++ // let the latest * take one more byte
		px, sx = star+1, starS
	}
	for px < len(p) && p[px] == '*' {
		px++
	}
	return px == len(p)
}

// matchOne matches the token at the start of p (not '*') against c, returning the
// token's length.
func matchOne(p string, c byte) (int, bool) {
	switch p[0] {
	case '?':
		return 1, true
	case '[':
		return matchSet(p, c)
	case '\\':
		if len(p) >= 2 {
			return 2, p[1] == c
		}
	}
	return 1, p[0] == c
}

// matchSet matches a [...] token. Like Redis: a ']' right after '[' or '^' closes
// an empty set, a reversed range a-z is swapped, and an unclosed set runs to the
// end of the pattern.
func matchSet(p string, c byte) (int, bool) {
	i := 1
	neg := i < len(p) && p[i] == '^'
	if neg {
		i++
	}
	hit := false
	for ; i < len(p); i++ {
		switch {
		case p[i] == '\\' && i+1 < len(p):
			i++
			hit = hit || p[i] == c
		case p[i] == ']':
			return i + 1, hit != neg
		case i+2 < len(p) && p[i+1] == '-':
			lo, hi := min(p[i], p[i+2]), max(p[i], p[i+2])
			hit = hit || lo <= c && c <= hi
			i += 2
		default:
			hit = hit || p[i] == c
		}
	}
	return len(p), hit != neg
}

// escapeGlob quotes s for use as a literal in a Redis MATCH pattern.
func escapeGlob(s string) string {
	var b strings.Builder
	for i := range len(s) {
		if strings.IndexByte(`*?[]\`, s[i]) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// literalPrefix returns the part of pattern before its first special character.
func literalPrefix(pattern string) string {
	if i := strings.IndexAny(pattern, `*?[\`); i >= 0 {
		return pattern[:i]
	}
	return pattern
}
