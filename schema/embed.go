// Package schema embeds the goose migrations; sqlc reads the same files.
package schema

import "embed"

// FS holds every migration, applied in file-name order.
//
//go:embed *.sql
var FS embed.FS
