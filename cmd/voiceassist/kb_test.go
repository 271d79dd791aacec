package main

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParseArgsInterspersed(t *testing.T) {
	t.Parallel()
	parse := func(args ...string) ([]string, []string, bool) {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		var tags stringList
		fs.Var(&tags, "tag", "")
		wait := fs.Bool("wait", false, "")
		pos, err := parseArgs(fs, args)
		require.NoError(t, err)
		return pos, tags, *wait
	}
	pos, tags, wait := parse("docs/", "--wait", "--tag", "a", "b.md", "--tag=c")
	require.Equal(t, []string{"docs/", "b.md"}, pos)
	require.Equal(t, []string{"a", "c"}, []string(tags))
	require.True(t, wait)

	pos, tags, wait = parse("--tag", "a", "--", "--wait", "x.md")
	require.Equal(t, []string{"--wait", "x.md"}, pos)
	require.Equal(t, []string{"a"}, []string(tags))
	require.False(t, wait)

	pos, _, _ = parse()
	require.Empty(t, pos)
}

func TestCollectFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(rel string) string {
		p := filepath.Join(dir, rel)
		require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
		require.NoError(t, os.WriteFile(p, []byte("text"), 0o644))
		return p
	}
	a := write("a.md")
	b := write("sub/b.PDF")
	c := write("sub/deeper/c.json")
	docx := write("notes.docx")
	write(".git/config.md") // hidden directories are not walked
	write("sub/.draft.md")  // nor hidden files listed
	// Named explicitly, an unsupported file is refused rather than skipped.
	explicit := filepath.Join(t.TempDir(), "x.rtf")
	require.NoError(t, os.WriteFile(explicit, []byte("text"), 0o644))
	missing := filepath.Join(dir, "missing.md")

	files, skipped, refused := collectFiles([]string{dir, explicit, missing})
	var paths []string
	for _, f := range files {
		paths = append(paths, f.path)
	}
	require.Equal(t, []string{a, b, c}, paths)
	require.Equal(t, [][2]string{{docx, "unsupported extension"}}, skipped)
	require.Len(t, refused, 2)
	require.Equal(t, explicit, refused[0][0])
	require.Contains(t, refused[0][1], "unsupported file type")
	require.Equal(t, missing, refused[1][0])
}
