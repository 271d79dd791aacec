package flageval

import (
	"errors"
	"strings"
)

// SemVer is a parsed Semantic Versioning 2.0.0 version. Prerelease and Build hold the
// dot-separated identifiers after '-' and '+' ("" when absent).
type SemVer struct {
	Major, Minor, Patch uint64
	Prerelease          string
	Build               string
}

var errSemVer = errors.New("invalid semantic version")

// ParseSemVer parses a SemVer 2.0.0 version with an optional leading "v" or "V":
// MAJOR.MINOR.PATCH[-PRERELEASE][+BUILD], numeric identifiers without leading zeros.
func ParseSemVer(s string) (SemVer, error) {
	v, ok := parseSemVer(s)
	if !ok {
		return SemVer{}, errSemVer
	}
	return v, nil
}

// ValidSemVer reports whether ParseSemVer accepts s.
func ValidSemVer(s string) bool {
	_, ok := parseSemVer(s)
	return ok
}

// parseSemVer does not allocate.
func parseSemVer(s string) (SemVer, bool) {
	var v SemVer
	if len(s) > 0 && (s[0] == 'v' || s[0] == 'V') {
		s = s[1:]
	}
	s, build, hasBuild := strings.Cut(s, "+")
	if hasBuild {
		if !validIdentifiers(build, false) {
			return v, false
		}
		v.Build = build
	}
	core, pre, hasPre := strings.Cut(s, "-")
	if hasPre {
		if !validIdentifiers(pre, true) {
			return v, false
		}
		v.Prerelease = pre
	}
	var ok bool
	var part string
	part, core, _ = strings.Cut(core, ".")
	if v.Major, ok = parseNumeric(part); !ok {
		return v, false
	}
	part, core, _ = strings.Cut(core, ".")
	if v.Minor, ok = parseNumeric(part); !ok {
		return v, false
	}
	if v.Patch, ok = parseNumeric(core); !ok {
		return v, false
	}
	return v, true
}

// parseNumeric parses a numeric core identifier: digits, no leading zero, fits uint64.
func parseNumeric(s string) (uint64, bool) {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return 0, false
	}
	var n uint64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (^uint64(0)-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// validIdentifiers checks dot-separated non-empty [0-9A-Za-z-] identifiers; for
// pre-release identifiers, numeric ones must not have leading zeros.
func validIdentifiers(s string, pre bool) bool {
	for {
		id, rest, more := strings.Cut(s, ".")
		if id == "" {
			return false
		}
		for i := 0; i < len(id); i++ {
			c := id[i]
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '-') {
				return false
			}
		}
		if pre && len(id) > 1 && id[0] == '0' && isNumericID(id) {
			return false
		}
		if !more {
			return true
		}
		s = rest
	}
}

func isNumericID(id string) bool {
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return id != ""
}

// Compare returns -1, 0 or +1 as v has lower, equal or higher precedence than o.
// Build metadata is ignored.
func (v SemVer) Compare(o SemVer) int {
	if c := cmpUint(v.Major, o.Major); c != 0 {
		return c
	}
	if c := cmpUint(v.Minor, o.Minor); c != 0 {
		return c
	}
	if c := cmpUint(v.Patch, o.Patch); c != 0 {
		return c
	}
	return comparePrerelease(v.Prerelease, o.Prerelease)
}

// String is the canonical form (without a leading "v").
func (v SemVer) String() string {
	var b strings.Builder
	b.WriteString(uitoa(v.Major))
	b.WriteByte('.')
	b.WriteString(uitoa(v.Minor))
	b.WriteByte('.')
	b.WriteString(uitoa(v.Patch))
	if v.Prerelease != "" {
		b.WriteByte('-')
		b.WriteString(v.Prerelease)
	}
	if v.Build != "" {
		b.WriteByte('+')
		b.WriteString(v.Build)
	}
	return b.String()
}

func uitoa(n uint64) string {
	var buf [20]byte
	i := len(buf)
	for {
		i--
		buf[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(buf[i:])
		}
	}
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// comparePrerelease implements SemVer 2.0.0 §11: no pre-release > any pre-release;
// identifiers compared left to right, numeric ones numerically and below alphanumeric
// ones, alphanumeric ones in ASCII order; a longer list wins when all before are equal.
func comparePrerelease(a, b string) int {
	switch {
	case a == b:
		return 0
	case a == "":
		return 1
	case b == "":
		return -1
	}
	for {
		ida, resta, moreA := strings.Cut(a, ".")
		idb, restb, moreB := strings.Cut(b, ".")
		if c := compareIdentifier(ida, idb); c != 0 {
			return c
		}
		switch {
		case !moreA && !moreB:
			return 0
		case !moreA:
			return -1
		case !moreB:
			return 1
		}
		a, b = resta, restb
	}
}

func compareIdentifier(a, b string) int {
	na, nb := isNumericID(a), isNumericID(b)
	switch {
	case na && nb:
		// No leading zeros, so the longer number is the larger one.
		if len(a) != len(b) {
			if len(a) < len(b) {
				return -1
			}
			return 1
		}
		return strings.Compare(a, b)
	case na:
		return -1
	case nb:
		return 1
	}
	return strings.Compare(a, b)
}
