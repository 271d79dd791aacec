package audit

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/apierr"
)

// Limits of Export.
const (
	ExportDefaultLimit = 10_000
	ExportMaxLimit     = 100_000
	exportBatch        = 1000
)

// Export calls each for up to limit rows that f selects, newest first, reading them in
// batches of exportBatch (keyset on id), so memory stays flat whatever the limit. f.Limit and
// f.BeforeID are ignored. It stops at the first error of each.
func Export(ctx context.Context, pool *pgxpool.Pool, f Filter, limit int, each func(Row) error) (int, error) {
	switch {
	case limit == 0:
		limit = ExportDefaultLimit
	case limit < 1 || limit > ExportMaxLimit:
		return 0, apierr.Invalid("limit", fmt.Sprintf("must be between 1 and %d", ExportMaxLimit))
	}
	p := f.params()
	q := db.New(pool)
	n := 0
	for n < limit {
		p.RowLimit = int32(min(exportBatch, limit-n))
		got, err := q.ListAuditLog(ctx, p)
		if err != nil {
			return n, fmt.Errorf("audit: export: %w", err)
		}
		for _, g := range got {
			r, err := rowOf(g)
			if err != nil {
				return n, fmt.Errorf("audit: export: %w", err)
			}
			if err := each(r); err != nil {
				return n, err
			}
			n++
		}
		if len(got) < int(p.RowLimit) {
			break
		}
		last := got[len(got)-1].ID
		p.BeforeID = &last
	}
	return n, nil
}

// CSVCell defuses a cell that a spreadsheet would run as a formula (CSV injection, OWASP):
// a leading = + - @, tab or carriage return gets a ' in front.
func CSVCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
