package audit

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/database"
)

// verifyBatch is how many rows Verify reads per query.
const verifyBatch = 1000

// Verification is the outcome of Verify.
type Verification struct {
	Valid bool
	// Checked counts the rows examined: all of them when Valid, else up to and including
	// the first broken one.
	Checked       int64
	FirstBrokenID *int64
	Reason        string // why FirstBrokenID is broken; "" when Valid
	// HeadID and HeadHash (hex) name the last intact row (0 and "" when there is none). Record
	// them outside the database now and then: a later Verify must still reach that row with
	// that hash, which detects removal or a consistent rewrite of the newest rows.
	HeadID   int64
	HeadHash string
}

// Verify walks the whole chain in id order, in batches within one snapshot, and reports the
// first row whose prev_hash is not the hash of the row before it or whose hash does not match
// its content. A deleted row shows up at the row after it.
func Verify(ctx context.Context, pool *pgxpool.Pool) (Verification, error) {
	var v Verification
	err := database.InTx(ctx, pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		v = Verification{}
		q := db.New(tx)
		prev := make([]byte, sha256.Size)
		var after int64
		for {
			batch, err := q.AuditChainBatch(ctx, db.AuditChainBatchParams{AfterID: after, BatchSize: verifyBatch})
			if err != nil {
				return fmt.Errorf("audit: verify after id %d: %w", after, err)
			}
			for _, r := range batch {
				v.Checked++
				if reason := checkRow(prev, r); reason != "" {
					id := r.ID
					v.FirstBrokenID = &id
					v.Reason = reason
					return nil
				}
				prev = r.Hash
				after = r.ID
				v.HeadID = r.ID
				v.HeadHash = hex.EncodeToString(r.Hash)
			}
			if len(batch) < verifyBatch {
				v.Valid = true
				return nil
			}
		}
	})
	if err != nil {
		return Verification{}, fmt.Errorf("audit: verify: %w", err)
	}
	return v, nil
}

// checkRow returns why r does not continue a chain whose last hash is prev, or "".
func checkRow(prev []byte, r db.AuditLog) string {
	if !bytes.Equal(r.PrevHash, prev) {
		return "prev_hash does not match the hash of the preceding row (a row was removed, inserted or re-linked)"
	}
	details, err := canonicalJSON(r.Details, false)
	if err != nil {
		return "details cannot be canonicalised: " + err.Error()
	}
	row := chainRow{
		ID:           r.ID,
		OccurredAt:   r.OccurredAt,
		ActorID:      r.ActorID,
		ActorEmail:   r.ActorEmail,
		ActorRole:    r.ActorRole,
		Action:       r.Action,
		ResourceType: r.ResourceType,
		ResourceID:   r.ResourceID,
		Success:      r.Success,
		RequestID:    r.RequestID,
		IP:           r.Ip,
		UserAgent:    r.UserAgent,
		Details:      details,
	}
	if !bytes.Equal(chainHash(prev, row.canonical()), r.Hash) {
		return "hash does not match the row's content (the row was modified)"
	}
	return ""
}
