package auth

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"

	"github.com/voiceassist/gateway/internal/apierr"
)

// NormalizeEmail is how emails are stored and compared: trimmed, lower-cased, the domain in
// its IDNA ASCII form (so a Unicode domain and its punycode are one account). An email
// CleanEmail refuses is only trimmed and lower-cased: it matches no account.
func NormalizeEmail(e string) string {
	if c, err := CleanEmail(e); err == nil {
		return c
	}
	return strings.ToLower(strings.TrimSpace(e))
}

// CleanEmail normalises an email for a new account and refuses look-alikes: control or
// invisible formatting characters (zero-width spaces and joiners, direction marks) anywhere,
// a domain that is not a valid IDNA name, and a domain label that mixes scripts (a Cyrillic
// "а" among Latin letters).
func CleanEmail(e string) (string, error) {
	e = strings.TrimSpace(e)
	if err := plainText("email", e); err != nil {
		return "", err
	}
	at := strings.LastIndexByte(e, '@')
	if at <= 0 || at == len(e)-1 {
		return "", apierr.Invalid("email", "must be an email address")
	}
	domain, err := idna.Lookup.ToASCII(e[at+1:])
	if err != nil {
		return "", apierr.Invalid("email", "has an invalid domain name")
	}
	uni, err := idna.Lookup.ToUnicode(domain)
	if err != nil {
		return "", apierr.Invalid("email", "has an invalid domain name")
	}
	for _, label := range strings.Split(uni, ".") {
		if mixedScript(label) {
			return "", apierr.Invalid("email", "has a domain name mixing scripts in one label")
		}
	}
	return strings.ToLower(e[:at]) + "@" + domain, nil
}

// CleanName trims a display name and refuses control and invisible formatting characters,
// which can make two names look alike or reorder what a reader sees.
func CleanName(field, name string) (string, error) {
	name = strings.TrimSpace(name)
	return name, plainText(field, name)
}

func plainText(field, s string) error {
	if !utf8.ValidString(s) {
		return apierr.Invalid(field, "must be valid UTF-8")
	}
	for _, r := range s {
		if unicode.In(r, unicode.Cc, unicode.Cf) {
			return apierr.Invalid(field, "must not contain control or invisible formatting characters")
		}
	}
	return nil
}

// scripts a domain label's letters may come from; Han, Hiragana, Katakana and Hangul are one
// group (Japanese and Korean names mix them), and that group may be combined with Latin.
var scripts = []struct {
	name  string
	table *unicode.RangeTable
}{
	{"latin", unicode.Latin}, {"greek", unicode.Greek}, {"cyrillic", unicode.Cyrillic},
	{"armenian", unicode.Armenian}, {"hebrew", unicode.Hebrew}, {"arabic", unicode.Arabic},
	{"georgian", unicode.Georgian}, {"thai", unicode.Thai}, {"devanagari", unicode.Devanagari},
	{"cjk", unicode.Han}, {"cjk", unicode.Hiragana}, {"cjk", unicode.Katakana}, {"cjk", unicode.Hangul},
}

func mixedScript(label string) bool {
	seen := map[string]bool{}
	for _, r := range label {
		if !unicode.IsLetter(r) {
			continue
		}
		name := "other"
		for _, s := range scripts {
			if unicode.Is(s.table, r) {
				name = s.name
				break
			}
		}
		seen[name] = true
	}
	if seen["latin"] && seen["cjk"] {
		delete(seen, "latin")
	}
	return len(seen) > 1
}
