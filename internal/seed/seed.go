// Package seed loads the demo data `make run` starts with: a few feature flags and a small
// sample knowledge base. Flags are imported only into an empty flag table, so seeding never
// undoes what an operator changed there; the sample documents are ingested every time and
// deduplicated by content hash, so a second seed stores nothing new (a sample document that
// was deleted comes back, since its content is no longer in the knowledge base).
package seed

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"

	"gopkg.in/yaml.v3"

	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/extract"
	"github.com/voiceassist/gateway/internal/flagstore"
	"github.com/voiceassist/gateway/internal/kb"
	"github.com/voiceassist/gateway/internal/voice"
)

//go:embed flags.yaml
var flagsYAML []byte

// sampleDocs are short clinical-guideline style Markdown documents written for this project
// (each says it is sample content, not medical advice).
//
//go:embed kb/*.md
var sampleDocs embed.FS

// SampleTag is the tag every sample document carries.
const SampleTag = "sample"

// Actor is who seeding is recorded as in the audit log.
var Actor = audit.Actor{Email: "seed"}

// Flags imports the demo flags when there are no flags but the backend.voice_* flags (which
// every start-up creates), then creates the voice flags that are missing; it reports how
// many it made.
func Flags(ctx context.Context, store *flagstore.Store) (int, error) {
	for _, k := range store.Snapshot().Keys() {
		if !voice.IsCapabilityFlag(k) {
			return VoiceFlags(ctx, store)
		}
	}
	var file struct {
		Flags []flagstore.Doc `yaml:"flags"`
	}
	if err := yaml.Unmarshal(flagsYAML, &file); err != nil {
		return 0, fmt.Errorf("seed: demo flags: %w", err)
	}
	for i := range file.Flags {
		if file.Flags[i].RolloutPercentage == 0 {
			file.Flags[i].RolloutPercentage = 100
		}
	}
	res, err := store.Import(ctx, Actor, file.Flags, false)
	if err != nil {
		return 0, fmt.Errorf("seed: demo flags: %w", err)
	}
	n, err := VoiceFlags(ctx, store)
	return len(res.Created) + n, err
}

// VoiceFlags creates the missing backend.voice_* flags disabled, never changing one that exists.
func VoiceFlags(ctx context.Context, store *flagstore.Store) (int, error) {
	n, err := voice.EnsureFlags(ctx, store, Actor)
	if err != nil {
		return n, fmt.Errorf("seed: voice flags: %w", err)
	}
	return n, nil
}

// SampleDocuments returns the sample knowledge-base documents as uploads, in file name order.
func SampleDocuments() ([]kb.Upload, error) {
	names, err := fs.Glob(sampleDocs, "kb/*.md")
	if err != nil {
		return nil, err
	}
	ups := make([]kb.Upload, 0, len(names))
	for _, n := range names {
		data, err := sampleDocs.ReadFile(n)
		if err != nil {
			return nil, err
		}
		ups = append(ups, kb.Upload{
			Filename: path.Base(n), ContentType: "text/markdown", Format: extract.Markdown, Data: data,
			Tags: []string{SampleTag}, Metadata: map[string]any{"source": "voiceassist seed"},
		})
	}
	return ups, nil
}

// Documents ingests the sample documents (all or none) and queues them for indexing; the
// process that runs the knowledge base's workers (the server) indexes them. It reports how
// many were stored and how many were already in the knowledge base.
func Documents(ctx context.Context, svc *kb.Service) (created, duplicates int, err error) {
	ups, err := SampleDocuments()
	if err != nil {
		return 0, 0, fmt.Errorf("seed: sample documents: %w", err)
	}
	items, err := svc.Ingest(ctx, Actor, ups)
	if err != nil {
		return 0, 0, fmt.Errorf("seed: sample documents: %w", err)
	}
	for _, it := range items {
		if it.Duplicate {
			duplicates++
		} else {
			created++
		}
	}
	return created, duplicates, nil
}
