package voice

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestTrendOf(t *testing.T) {
	f := func(v float64) *float64 { return &v }
	for _, c := range []struct {
		earlier, recent *float64
		want            string
	}{
		{nil, f(4), "insufficient_data"},
		{f(4), nil, "insufficient_data"},
		{f(3), f(3.25), "improving"},
		{f(3), f(3.24), "stable"},
		{f(4), f(3.75), "declining"},
		{f(4), f(3.9), "stable"},
	} {
		require.Equal(t, c.want, trendOf(c.earlier, c.recent).Direction, "%v -> %v", c.earlier, c.recent)
	}
}

func TestValidateFeedback(t *testing.T) {
	i := func(v int) *int { return &v }
	s := func(v string) *string { return &v }
	require.Error(t, validateFeedback(&Feedback{}))
	require.Error(t, validateFeedback(&Feedback{Comment: s("  ")}), "a blank comment is no feedback")
	require.Error(t, validateFeedback(&Feedback{Accuracy: i(0)}))
	require.Error(t, validateFeedback(&Feedback{Thumbs: s("sideways")}))
	require.Error(t, validateFeedback(&Feedback{Comment: s(strings.Repeat("é", MaxFeedbackComment+1))}))
	ok := Feedback{Comment: s("  " + strings.Repeat("é", MaxFeedbackComment) + " ")}
	require.NoError(t, validateFeedback(&ok), "the limit counts characters after trimming")
	require.Equal(t, MaxFeedbackComment, len([]rune(*ok.Comment)))
	require.NoError(t, validateFeedback(&Feedback{Thumbs: s("down"), Latency: i(5)}))
}
