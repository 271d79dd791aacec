// Package seed loads the demo data `make run` starts with: a few feature flags (and, as the
// knowledge base arrives, sample documents). It only fills empty tables, so it never undoes
// what an operator changed.
package seed

import (
	"context"
	_ "embed"
	"fmt"

	"gopkg.in/yaml.v3"

	"github.com/voiceassist/gateway/internal/audit"
	"github.com/voiceassist/gateway/internal/flagstore"
)

//go:embed flags.yaml
var flagsYAML []byte

// Flags imports the demo flags when there are no flags at all; it reports how many it made.
func Flags(ctx context.Context, store *flagstore.Store) (int, error) {
	if len(store.Snapshot().Keys()) > 0 {
		return 0, nil
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
	res, err := store.Import(ctx, audit.Actor{Email: "seed"}, file.Flags, false)
	if err != nil {
		return 0, fmt.Errorf("seed: demo flags: %w", err)
	}
	return len(res.Created), nil
}
