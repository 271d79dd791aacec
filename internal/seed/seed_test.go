package seed

import (
	"context"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/voiceassist/gateway/internal/app"
	"github.com/voiceassist/gateway/internal/chunk"
	"github.com/voiceassist/gateway/internal/config"
	"github.com/voiceassist/gateway/internal/dbtest"
	"github.com/voiceassist/gateway/internal/extract"
	"github.com/voiceassist/gateway/internal/flageval"
	"github.com/voiceassist/gateway/internal/flagstore"
	"github.com/voiceassist/gateway/internal/kb"
	"github.com/voiceassist/gateway/internal/voice"
)

// Every sample document must read as a titled guideline with sections, chunk into
// section-bounded pieces, and say that it is not medical advice.
func TestSampleDocumentsExtract(t *testing.T) {
	t.Parallel()
	ups, err := SampleDocuments()
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(ups), 5)
	titles := map[string]bool{}
	for _, u := range ups {
		t.Run(u.Filename, func(t *testing.T) {
			f, err := extract.FormatOf(u.Filename, u.ContentType)
			require.NoError(t, err)
			require.Equal(t, extract.Markdown, f)
			doc, err := extract.Extract(t.Context(), u.Format, u.Data, extract.Limits{})
			require.NoError(t, err)
			require.NotEmpty(t, doc.Title)
			require.False(t, titles[doc.Title], "duplicate title %q", doc.Title)
			titles[doc.Title] = true

			// H2 sections: heading path [title, section].
			var sections []string
			for _, s := range doc.Sections {
				require.NotEmpty(t, s.Heading)
				require.Equal(t, doc.Title, s.Heading[0], "every section sits under the H1 title")
				if len(s.Heading) == 2 {
					sections = append(sections, s.Heading[1])
				}
			}
			require.GreaterOrEqual(t, len(sections), 3, "sections: %v", sections)
			require.LessOrEqual(t, len(sections), 5, "sections: %v", sections)
			require.Contains(t, strings.ToLower(string(u.Data)), "not medical advice")

			chunks := chunk.Split(doc, chunk.Options{})
			require.GreaterOrEqual(t, len(chunks), len(sections))
			require.Equal(t, []string{SampleTag}, u.Tags)
		})
	}
}

// Seeding twice stores the sample documents once: the second run finds every one by its
// content hash. Nothing indexes them here (no workers): the server does that.
func TestDocumentsIdempotent(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	cfg, err := config.Load(func(k string) string {
		if k == "DATA_DIR" {
			return t.TempDir()
		}
		return ""
	})
	require.NoError(t, err)
	k, err := app.OpenKB(ctx, cfg, pool, slog.New(slog.DiscardHandler), 0)
	require.NoError(t, err)
	t.Cleanup(func() { _ = k.Close(context.Background()) })

	ups, err := SampleDocuments()
	require.NoError(t, err)
	created, dup, err := Documents(ctx, k.Service)
	require.NoError(t, err)
	require.Equal(t, len(ups), created)
	require.Zero(t, dup)

	created, dup, err = Documents(ctx, k.Service)
	require.NoError(t, err)
	require.Zero(t, created)
	require.Equal(t, len(ups), dup)

	docs, _, err := k.List(ctx, kb.ListFilter{Tag: SampleTag, Limit: 100})
	require.NoError(t, err)
	require.Len(t, docs, len(ups))
	for _, d := range docs {
		require.Equal(t, "pending", d.Status, "queued for the server's workers")
	}
}

// Start-up creates the voice flags first; seeding then still imports the demo flags, leaves
// the voice flags as they are, and a second seed creates nothing.
func TestFlagsAfterVoiceFlags(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pool := dbtest.New(t)
	store, err := flagstore.New(ctx, pool, slog.New(slog.DiscardHandler), time.Second, nil)
	require.NoError(t, err)
	n, err := voice.EnsureFlags(ctx, store, Actor)
	require.NoError(t, err)
	require.Equal(t, len(voice.Capabilities), n)
	for _, c := range voice.Capabilities {
		rec, err := store.Get(ctx, c.FlagKey())
		require.NoError(t, err)
		require.False(t, rec.Flag.Enabled, c)
		require.EqualValues(t, 1, rec.Flag.Version)
	}
	_, err = store.Update(ctx, Actor, voice.CapMemory.FlagKey(), flagstore.Precondition{}, "flags.updated", func(f *flageval.Flag) error {
		f.Enabled = true
		return nil
	})
	require.NoError(t, err)

	created, err := Flags(ctx, store)
	require.NoError(t, err)
	require.Greater(t, created, 0, "the demo flags are imported next to the voice flags")
	rec, err := store.Get(ctx, voice.CapMemory.FlagKey())
	require.NoError(t, err)
	require.True(t, rec.Flag.Enabled, "an existing voice flag is never overwritten")
	again, err := Flags(ctx, store)
	require.NoError(t, err)
	require.Zero(t, again)
}
