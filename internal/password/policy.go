package password

import (
	_ "embed"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Length limits of the policy. Lengths are counted in Unicode code points
// (runes); MaxBytes additionally bounds the encoded size.
const (
	MinLength = 12
	MaxLength = 128
	MaxBytes  = 512
)

// User-facing messages, one per rule.
const (
	MsgTooShort   = "must be at least 12 characters"
	MsgTooLong    = "must be at most 128 characters"
	MsgCommon     = "is too common and easy to guess; choose a less predictable password"
	MsgEmail      = "must not contain your email address"
	MsgRepeated   = "must not be a single repeated character or a short repeating pattern"
	MsgSequential = "must not be a simple sequence such as \"abcdef\", \"123456\" or \"qwerty\""
)

// Violation is one broken rule, for a field-level error message.
type Violation struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

//go:embed common.txt
var commonTxt string

// common is the lower-cased blocklist, loaded from common.txt.
var common = func() map[string]struct{} {
	m := make(map[string]struct{}, 2048)
	for line := range strings.Lines(commonTxt) {
		line = strings.TrimRight(line, "\r\n")
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m[strings.ToLower(line)] = struct{}{}
	}
	return m
}()

// Check applies the policy to pw and returns every broken rule, in a stable
// order (length, blocklist, email, repetition/sequence). field is the request
// field name to report (e.g. "password" or "new_password"); email may be
// empty. A nil result means the password is acceptable.
//
// Following NIST SP 800-63B there are no composition rules: spaces and any
// Unicode characters are allowed, so passphrases such as
// "correct horse battery staple" are accepted.
func Check(field, pw, email string) []Violation {
	var out []Violation
	add := func(msg string) { out = append(out, Violation{Field: field, Message: msg}) }

	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinLength:
		add(MsgTooShort)
	case n > MaxLength || len(pw) > MaxBytes:
		add(MsgTooLong)
	}
	if n > 4*MaxLength {
		// Far too long to be worth analysing further.
		return out
	}

	lower := strings.ToLower(pw)
	if isCommon(lower) {
		add(MsgCommon)
	}
	if containsEmail(lower, email) {
		add(MsgEmail)
	}
	runes := []rune(lower)
	switch {
	case isRepeated(runes):
		add(MsgRepeated)
	case isSequence(runes):
		add(MsgSequential)
	}
	return out
}

// isCommon reports whether lower (a lower-cased password) is on the
// blocklist, either as is or once the leading and trailing non-letters
// (digits, symbols, spaces) are stripped, so that "Password123456!" and
// "!!2024summer" count as common.
func isCommon(lower string) bool {
	if _, ok := common[lower]; ok {
		return true
	}
	// Strip leading non-letters; then try every cut of the trailing
	// non-letter run ("blink182!!!" -> "blink", "blink1", ..., "blink182!!!").
	core := strings.TrimLeftFunc(lower, notLetter)
	base := strings.TrimRightFunc(core, notLetter)
	if base == "" {
		return false
	}
	for i := len(base); i <= len(core); {
		if _, ok := common[core[:i]]; ok {
			return true
		}
		if i == len(core) {
			break
		}
		_, size := utf8.DecodeRuneInString(core[i:])
		i += size
	}
	return false
}

func notLetter(r rune) bool { return !unicode.IsLetter(r) }

// containsEmail reports whether lower contains the email address or, when
// it has at least 4 characters, its local part (also without a "+tag").
func containsEmail(lower, email string) bool {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" {
		return false
	}
	if strings.Contains(lower, email) {
		return true
	}
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return false
	}
	local := email[:at]
	candidates := []string{local}
	if base, _, ok := strings.Cut(local, "+"); ok {
		candidates = append(candidates, base)
	}
	for _, c := range candidates {
		if utf8.RuneCountInString(c) >= 4 && strings.Contains(lower, c) {
			return true
		}
	}
	return false
}

// isRepeated reports whether runes is one unit of 1–4 characters repeated
// ("aaaaaaaaaaaa", "abcabcabcabc", "12121212…").
func isRepeated(runes []rune) bool {
	const maxUnit = 4
	for unit := 1; unit <= maxUnit && unit < len(runes); unit++ {
		ok := true
		for i := unit; i < len(runes); i++ {
			if runes[i] != runes[i-unit] {
				ok = false
				break
			}
		}
		if ok {
			return true
		}
	}
	return false
}

// sequences are the orderings a "simple sequence" walks through, in either
// direction. cyclic ones wrap around ("…7890123", "…xyzabc").
var sequences = []struct {
	chars  string
	cyclic bool
}{
	{"abcdefghijklmnopqrstuvwxyz", true},
	{"0123456789", true},
	{"qwertyuiopasdfghjklzxcvbnm", false}, // keyboard rows, typed one after another
	{"1234567890-=", false},               // number row
	{"!@#$%^&*()_+", false},               // shifted number row
}

// isSequence reports whether runes walks one of the sequences by steps of
// +1 or -1 all along ("abcdefghijkl", "123456789012", "lkjhgfdsa…").
func isSequence(runes []rune) bool {
	if len(runes) < 3 {
		return false
	}
	for _, seq := range sequences {
		pos := func(r rune) int { return strings.IndexRune(seq.chars, r) }
		n := len(seq.chars)
		for _, dir := range []int{1, -1} {
			ok := true
			for i := 1; i < len(runes); i++ {
				a, b := pos(runes[i-1]), pos(runes[i])
				if a < 0 || b < 0 {
					ok = false
					break
				}
				next := a + dir
				if seq.cyclic {
					next = (next + n) % n
				}
				if b != next {
					ok = false
					break
				}
			}
			if ok {
				return true
			}
		}
	}
	return false
}
