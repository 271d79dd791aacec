package audit

import "testing"

func TestCSVCell(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":             "",
		"plain":        "plain",
		"=cmd()":       "'=cmd()",
		"+1":           "'+1",
		"-2":           "'-2",
		"@SUM(A1)":     "'@SUM(A1)",
		"\t=x":         "'\t=x",
		"\r=x":         "'\r=x",
		"a=b":          "a=b",
		"'=quoted":     "'=quoted",
		"ümlaut=first": "ümlaut=first",
	} {
		if got := CSVCell(in); got != want {
			t.Errorf("CSVCell(%q) = %q, want %q", in, got, want)
		}
	}
}
