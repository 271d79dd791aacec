package audit

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/apierr"
	"github.com/voiceassist/gateway/internal/database"
	"github.com/voiceassist/gateway/internal/page"
)

// Page sizes for List.
const (
	DefaultLimit = 50
	MaxLimit     = 200
)

// Row is a stored audit entry as List returns it.
type Row struct {
	ID           int64
	OccurredAt   time.Time
	Actor        Actor
	Action       string
	ResourceType string
	ResourceID   string
	Success      bool
	RequestID    string
	IP           string
	UserAgent    string
	// Details as stored; numbers are json.Number, so large integers keep their precision.
	Details map[string]any
}

// Filter selects rows for List. Every field is optional (zero = no filter).
type Filter struct {
	ActorID      *uuid.UUID
	Action       string
	ResourceType string
	ResourceID   string
	From, To     *time.Time // From <= occurred_at < To
	BeforeID     int64      // cursor: rows with a smaller id; 0 = from the newest
	Limit        int        // 1..MaxLimit; 0 = DefaultLimit
}

// List returns rows newest first; next is the cursor for the following page (0 when none).
// An out-of-range limit or cursor is an *apierr.Error (422).
func List(ctx context.Context, pool *pgxpool.Pool, f Filter) (rows []Row, next int64, err error) {
	limit := f.Limit
	switch {
	case limit == 0:
		limit = DefaultLimit
	case limit < 1 || limit > MaxLimit:
		return nil, 0, apierr.Invalid("limit", fmt.Sprintf("must be between 1 and %d", MaxLimit))
	}
	if f.BeforeID < 0 {
		return nil, 0, apierr.Invalid("before_id", "must not be negative")
	}
	p := f.params()
	p.RowLimit = page.Limit(limit)
	if f.BeforeID > 0 {
		p.BeforeID = &f.BeforeID
	}
	got, err := db.New(pool).ListAuditLog(ctx, p)
	if err != nil {
		return nil, 0, fmt.Errorf("audit: list: %w", err)
	}
	got, more := page.Trim(got, limit)
	if more {
		next = got[limit-1].ID
	}
	rows = make([]Row, 0, len(got))
	for _, g := range got {
		r, err := rowOf(g)
		if err != nil {
			return nil, 0, fmt.Errorf("audit: list: %w", err)
		}
		rows = append(rows, r)
	}
	return rows, next, nil
}

// ParseCursor reads a cursor of List (the id of the previous page's last row) for
// Filter.BeforeID; anything else is page.BadCursor.
func ParseCursor(s string) (int64, error) {
	id, err := page.DecodeSeq(s)
	if err != nil || id == 0 {
		return 0, page.BadCursor()
	}
	return id, nil
}

// Cursor is the client's cursor for List's next (0, the end, is "").
func Cursor(next int64) string {
	if next <= 0 {
		return ""
	}
	return page.EncodeSeq(next)
}

func decodeDetails(raw []byte) (map[string]any, error) {
	d := map[string]any{}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("details: %w", err)
	}
	return d, nil
}

// params are the filter's conditions as the query takes them (no limit or cursor).
func (f Filter) params() db.ListAuditLogParams {
	return db.ListAuditLogParams{
		ActorID:      f.ActorID,
		Action:       database.NonEmpty(f.Action),
		ResourceType: database.NonEmpty(f.ResourceType),
		ResourceID:   database.NonEmpty(f.ResourceID),
		OccurredFrom: f.From,
		OccurredTo:   f.To,
	}
}

// rowOf turns a stored row into a Row.
func rowOf(g db.ListAuditLogRow) (Row, error) {
	details, err := decodeDetails(g.Details)
	if err != nil {
		return Row{}, fmt.Errorf("row %d: %w", g.ID, err)
	}
	return Row{
		ID: g.ID, OccurredAt: g.OccurredAt.UTC(), Actor: Actor{ID: g.ActorID, Email: g.ActorEmail, Role: g.ActorRole},
		Action: g.Action, ResourceType: g.ResourceType, ResourceID: g.ResourceID, Success: g.Success,
		RequestID: g.RequestID, IP: g.Ip, UserAgent: g.UserAgent, Details: details,
	}, nil
}
