// Package audit is the tamper-evident, append-only audit log: who did what to which resource,
// with what outcome, from which request. Entries are written in the transaction of the change
// they describe (Record), or on their own for events with no other write (RecordNow).
//
// # Append-only and hash-chained
//
// The audit_log table rejects UPDATE, DELETE and TRUNCATE with triggers (schema/00003_audit.sql).
// An operator with owner or superuser rights can still disable them; the hash chain makes such
// tampering detectable. Every row stores
//
//	hash = SHA-256(prev_hash || canonical(row))
//
// where prev_hash is the hash of the row with the next-lower id (32 zero bytes for the first row).
// Record takes pg_advisory_xact_lock(LockKey), reads the last row's hash, draws the new id from
// the sequence (all under the lock, so id order is chain order, across replicas), and inserts the
// row with its hash in one statement; the lock is released when the transaction ends. Ids may
// have gaps (rolled-back transactions consume sequence values); the chain links rows, not ids.
// Verify walks the chain in id order and reports the first row whose prev_hash is not the hash
// of the row before it, or whose hash does not match its content.
//
// # Canonical form (version 1)
//
// canonical(row) is the concatenation of 13 fields, in this order, each written as its length in
// bytes (unsigned 32-bit big-endian) followed by its bytes:
//
//  1. id: the decimal id, ASCII ("42").
//  2. occurred_at: UTC, microsecond precision, in Go's RFC 3339 "nano" layout: fractional
//     seconds without trailing zeros and without the dot when zero, "Z" for the zone
//     ("2025-01-02T03:04:05.1234Z", "2025-01-02T03:04:05Z").
//  3. actor_id: the lower-case hyphenated UUID, or empty when NULL.
//  4. actor_email, 5. actor_role, 6. action, 7. resource_type, 8. resource_id: the UTF-8 text.
//  9. success: "true" or "false".
//  10. request_id, 11. ip, 12. user_agent: the UTF-8 text.
//  13. details: canonical JSON of the stored jsonb object (below).
//
// prev_hash is not a field: it is prepended to canonical(row) before hashing. The hash column
// itself is the output.
//
// Canonical JSON is computed from the JSON text of details (PostgreSQL's jsonb output on
// verification; jsonb reorders keys and drops whitespace, so the stored text is not hashed
// as is): parse it, then write it without any insignificant whitespace:
//
//   - objects: members sorted by key, keys compared as UTF-8 byte strings; "{}" when empty;
//   - arrays: elements in order; true, false and null as literals;
//   - strings: UTF-8, escaping only `"` as \", `\` as \\, \b \f \n \r \t, other characters below
//     U+0020 as \u00XX (lower-case hex), U+2028 and U+2029 as \u2028 and \u2029 (this is Go's
//     encoding/json with HTML escaping off); "<", ">", "&" and DEL are written literally;
//   - numbers: an integer literal (-?[0-9]+) is written as its exact decimal value (no leading
//     zeros, "0" for -0). Any other literal is rounded to the nearest IEEE-754 double; an
//     integral double is written as its exact decimal integer, any other double in the
//     shortest form that round-trips, in exponent form ("1e-7") below 1e-6 in magnitude and
//     plain ("0.25") otherwise (ECMAScript Number::toString, as Go's encoding/json writes it).
//     These rules make the form stable across jsonb's numeric re-formatting; integers keep full
//     precision, fractions are doubles.
//
// On write, Record builds details from Entry.Details with encoding/json (so struct values use
// their JSON tags and invalid UTF-8 becomes U+FFFD), replaces U+0000 in strings and keys with
// U+FFFD (jsonb cannot store it), and stores the canonical JSON; text fields get the same
// treatment and request_id, ip and user_agent are cut to 1024 bytes. The hash covers exactly
// what is stored.
//
// Details must never contain passwords, tokens, keys or PHI: audit rows are kept forever and
// shown to administrators.
package audit

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/voiceassist/gateway/gen/db"
	"github.com/voiceassist/gateway/internal/logging"
)

// LockKey is the pg_advisory_xact_lock key that serialises appenders ("va-audit" in ASCII).
const LockKey int64 = 0x76612d6175646974

// maxRequestField caps request_id, ip and user_agent, which come from the client.
const maxRequestField = 1024

// Actor is who performed an action. ID is nil for anonymous or unknown actors (a failed login
// for an unknown email); Email and Role record who it was at the time.
type Actor struct {
	ID    *uuid.UUID
	Email string
	Role  string
}

// Entry is one event to record.
type Entry struct {
	Actor        Actor
	Action       string // "domain.verb_outcome", e.g. auth.login_failed, users.role_changed
	ResourceType string // "user", "api_key", "feature_flag", ...
	ResourceID   string
	Success      bool
	// Details holds before/after values and other context; it is encoded with encoding/json.
	// Callers must never put passwords, tokens or PHI here.
	Details map[string]any
}

// Request identifies the HTTP request behind an entry; the HTTP layer puts it into the context.
type Request struct {
	ID        string
	IP        string
	UserAgent string
}

type requestKey struct{}

// WithRequest returns ctx carrying r, for the entries recorded with it.
func WithRequest(ctx context.Context, r Request) context.Context {
	return context.WithValue(ctx, requestKey{}, r)
}

// RequestFrom returns the request carried by ctx; its ID falls back to logging.RequestID(ctx).
func RequestFrom(ctx context.Context) Request {
	r, _ := ctx.Value(requestKey{}).(Request)
	if r.ID == "" {
		r.ID = logging.RequestID(ctx)
	}
	return r
}

var actionPattern = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`)

// ErrIsolation is returned by Record in a transaction that is not READ COMMITTED: with an
// older snapshot it could not see the newest row and would fork the chain.
var ErrIsolation = errors.New("audit: Record needs a READ COMMITTED transaction")

// Record appends e in tx (the same transaction as the change it describes). It serialises
// appenders with a transaction-scoped advisory lock so the chain stays linear across replicas;
// the lock is held until tx ends, so keep such transactions short. tx must be READ COMMITTED
// (PostgreSQL's default). The request fields come from ctx (WithRequest).
func Record(ctx context.Context, tx pgx.Tx, e Entry) error {
	if !actionPattern.MatchString(e.Action) {
		return fmt.Errorf("audit: invalid action %q (want domain.verb_outcome)", e.Action)
	}
	details, err := detailsJSON(e.Details)
	if err != nil {
		return fmt.Errorf("audit: record %s: details: %w", e.Action, err)
	}
	req := RequestFrom(ctx)
	r := chainRow{
		ActorID:      e.Actor.ID,
		ActorEmail:   cleanText(e.Actor.Email, 0),
		ActorRole:    cleanText(e.Actor.Role, 0),
		Action:       e.Action,
		ResourceType: cleanText(e.ResourceType, 0),
		ResourceID:   cleanText(e.ResourceID, 0),
		Success:      e.Success,
		RequestID:    cleanText(req.ID, maxRequestField),
		IP:           cleanText(req.IP, maxRequestField),
		UserAgent:    cleanText(req.UserAgent, maxRequestField),
		Details:      details,
	}

	q := db.New(tx)
	iso, err := q.AuditLockChain(ctx, LockKey)
	if err != nil {
		return fmt.Errorf("audit: record %s: lock: %w", e.Action, err)
	}
	if iso != "read committed" {
		return fmt.Errorf("%w (got %s)", ErrIsolation, iso)
	}
	link, err := q.AuditNextLink(ctx)
	if err != nil {
		return fmt.Errorf("audit: record %s: chain head: %w", e.Action, err)
	}
	prev := link.PrevHash
	if prev == nil {
		prev = make([]byte, sha256.Size)
	}
	r.ID = link.ID
	// Taken under the lock, so occurred_at follows id order on any one clock.
	r.OccurredAt = time.Now().UTC().Truncate(time.Microsecond)
	hash := chainHash(prev, r.canonical())
	err = q.InsertAuditLog(ctx, db.InsertAuditLogParams{
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
		Ip:           r.IP,
		UserAgent:    r.UserAgent,
		Details:      json.RawMessage(details),
		PrevHash:     prev,
		Hash:         hash,
	})
	if err != nil {
		return fmt.Errorf("audit: record %s: insert: %w", e.Action, err)
	}
	return nil
}

// RecordNow is Record in its own transaction (for events with no other write, e.g. a failed login).
func RecordNow(ctx context.Context, pool *pgxpool.Pool, e Entry) error {
	return pgx.BeginTxFunc(ctx, pool, pgx.TxOptions{IsoLevel: pgx.ReadCommitted}, func(tx pgx.Tx) error {
		return Record(ctx, tx, e)
	})
}

// cleanText makes s storable as PostgreSQL text: valid UTF-8 without U+0000 (both replaced by
// U+FFFD), and at most max bytes when max > 0 (cut at a character boundary).
func cleanText(s string, max int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if strings.IndexByte(s, 0) >= 0 {
		s = strings.ReplaceAll(s, "\x00", "\uFFFD")
	}
	if max > 0 && len(s) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut]
	}
	return s
}
