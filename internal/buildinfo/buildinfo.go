// Package buildinfo holds the version stamped into the binary at link time.
package buildinfo

import "runtime"

// Set with -ldflags "-X github.com/voiceassist/gateway/internal/buildinfo.Version=...".
var (
	Version   = "dev"
	Commit    = "unknown"
	BuildTime = "unknown"
)

// GoVersion is the toolchain that built the binary.
func GoVersion() string { return runtime.Version() }
