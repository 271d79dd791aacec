package password

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
)

// runesOf returns a non-repetitive, non-sequential string of exactly n runes.
func runesOf(n int, words ...string) string {
	var b strings.Builder
	for i := 0; utf8.RuneCountInString(b.String()) < n; i++ {
		b.WriteString(words[i%len(words)])
	}
	return string([]rune(b.String())[:n])
}

func TestCheck(t *testing.T) {
	t.Parallel()
	words := []string{"lantern ", "orbit ", "mango ", "quartz ", "violet ", "harbor "}
	emoji := []string{"🍎", "🚲", "🌊", "🎻", "🦉"} // 4 bytes each, distinct cycle of 5

	tests := []struct {
		name  string
		pw    string
		email string
		want  []string
	}{
		// Accepted.
		{"passphrase", "correct horse battery staple", "user@example.com", nil},
		{"unicode passphrase", "Grüne Äpfel schmecken süß", "user@example.com", nil},
		{"japanese", "私はパスワードが大好きです", "", nil},
		{"passphrase of common words", "love dragon monkey shadow", "", nil},
		{"exactly 12", "tulip-river9", "", nil},
		{"random", "v8#Lq2!xR7@m", "", nil},
		{"short local part not checked", "always-alert-alpaca", "al@example.com", nil},
		{"exactly 128 runes", runesOf(128, words...), "", nil},
		{"128 four-byte runes (512 bytes)", runesOf(128, emoji...), "", nil},
		{"no email given", "some quiet harbor lights", "", nil},

		// Length.
		{"too short", "short pass", "", []string{MsgTooShort}},
		{"11 runes, 13 bytes", "Grüne Äpfel", "", []string{MsgTooShort}},
		{"empty", "", "", []string{MsgTooShort}},
		{"129 runes", runesOf(129, words...), "", []string{MsgTooLong}},
		{"129 four-byte runes", runesOf(129, emoji...), "", []string{MsgTooLong}},

		// Common passwords.
		{"common 12+", "password1234", "", []string{MsgCommon}},
		{"common case-insensitive", "IloveYou1234", "", []string{MsgCommon}},
		{"common keyboard walk", "qwertyuiopasdf", "", []string{MsgCommon, MsgSequential}},
		{"common with suffix", "Password123456!", "", []string{MsgCommon}},
		{"common with prefix and suffix", "!!2024Summer2024!!", "", []string{MsgCommon}},
		{"common entry ending in digits", "Blink182!!!!!!", "", []string{MsgCommon}},
		{"common 1qaz walk", "1qaz2wsx3edc", "", []string{MsgCommon}},
		{"common platform name", "VoiceAssist2025!", "", []string{MsgCommon}},

		// Email.
		{"equals email", "John.Doe@Example.com", "john.doe@example.com", []string{MsgEmail}},
		{"contains email", "x-john.doe@example.com-x", "John.Doe@example.com", []string{MsgEmail}},
		{"contains local part", "My-JohnDoe-Secret", "johndoe@example.com", []string{MsgEmail}},
		{"contains local part without +tag", "janes garden party", "jane+clinic@example.com", []string{MsgEmail}},

		// Repetition and sequences.
		{"single repeated char", "ZZZZZZZZZZZZZZ", "", []string{MsgRepeated}},
		{"repeated unicode char", "ääääääääääääää", "", []string{MsgRepeated}},
		{"spaces only", "              ", "", []string{MsgRepeated}},
		{"repeated unit", "xyzxyzxyzxyz", "", []string{MsgRepeated}},
		{"repeated digits pair", "12121212121212", "", []string{MsgRepeated}},
		{"alphabet sequence", "abcdefghijklmn", "", []string{MsgSequential}},
		{"descending sequence", "NMLKJIHGFEDCBA", "", []string{MsgSequential}},
		{"digit sequence wrapping", "78901234567890", "", []string{MsgSequential}},
		{"keyboard sequence", "sdfghjklzxcvb", "", []string{MsgSequential}},

		// Several rules at once, in stable order.
		{"short+common+sequence", "abcdefgh", "", []string{MsgTooShort, MsgCommon, MsgSequential}},
		{"short+repeated", "aaaa", "", []string{MsgTooShort, MsgRepeated}},
		{"short+email", "johndoe1", "johndoe@example.com", []string{MsgTooShort, MsgEmail}},
		{"common+sequence", "123456789012", "", []string{MsgCommon, MsgSequential}},
		{"common+email+repeated", "aaaaaaaaaaaa", "aaaaaa@example.com", []string{MsgCommon, MsgEmail, MsgRepeated}},
		{"long+repeated", strings.Repeat("ab", 70), "", []string{MsgTooLong, MsgRepeated}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := Check("new_password", tc.pw, tc.email)
			var msgs []string
			for _, v := range got {
				require.Equal(t, "new_password", v.Field)
				msgs = append(msgs, v.Message)
			}
			require.Equal(t, tc.want, msgs, "password %q", tc.pw)
		})
	}
}

func TestCheckHugeInput(t *testing.T) {
	t.Parallel()
	got := Check("password", strings.Repeat("x", 1<<20), "")
	require.Equal(t, []Violation{{Field: "password", Message: MsgTooLong}}, got)
}

func TestCommonList(t *testing.T) {
	t.Parallel()
	require.GreaterOrEqual(t, len(common), 1000)
	for entry := range common {
		require.Equal(t, strings.ToLower(entry), entry)
		require.Equal(t, strings.TrimSpace(entry), entry)
	}
	for _, must := range []string{"password1234", "qwertyuiopasdf", "123456789012", "iloveyou1234", "password", "qwerty", "123456"} {
		require.Contains(t, common, must)
	}
	// A famous passphrase example must stay usable with spaces.
	require.NotContains(t, common, "correct horse battery staple")
}
