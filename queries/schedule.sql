-- name: InsertScheduledChange :one
INSERT INTO scheduled_changes (flag_key, scheduled_at, timezone_id, changes, description, created_by, created_by_email)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING *;

-- name: GetScheduledChange :one
SELECT * FROM scheduled_changes WHERE id = $1 AND flag_key = $2;

-- name: GetScheduledChangeForUpdate :one
SELECT * FROM scheduled_changes WHERE id = $1 AND flag_key = $2 FOR UPDATE;

-- name: UpdateScheduledChange :one
UPDATE scheduled_changes SET scheduled_at = $2, timezone_id = $3, changes = $4, description = $5,
    modified_by = $6, modified_by_email = $7, updated_at = now()
WHERE id = $1
RETURNING *;

-- name: CancelScheduledChange :one
UPDATE scheduled_changes SET status = 'cancelled', cancelled_by = $2, cancelled_at = now(), updated_at = now()
WHERE id = $1
RETURNING *;

-- name: DeleteScheduledChange :execrows
DELETE FROM scheduled_changes WHERE id = $1;

-- name: ListScheduledChangesOfFlag :many
SELECT * FROM scheduled_changes
WHERE flag_key = $1 AND (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status))
ORDER BY scheduled_at, id;

-- name: ListScheduledChanges :many
SELECT * FROM scheduled_changes
WHERE (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(flag_key)::text IS NULL OR flag_key = sqlc.narg(flag_key))
  AND (sqlc.narg(from_at)::timestamptz IS NULL OR scheduled_at >= sqlc.narg(from_at))
  AND (sqlc.narg(to_at)::timestamptz IS NULL OR scheduled_at < sqlc.narg(to_at))
  AND (sqlc.narg(after_at)::timestamptz IS NULL
       OR (scheduled_at, id) > (sqlc.narg(after_at)::timestamptz, sqlc.narg(after_id)::uuid))
ORDER BY scheduled_at, id
LIMIT sqlc.arg(lim);

-- name: ClaimDueChange :one
-- The oldest due change nobody else is applying; SKIP LOCKED lets replicas work in parallel
-- without waiting on each other, and the status check makes a second claim impossible.
SELECT * FROM scheduled_changes
WHERE status = 'pending' AND scheduled_at <= $1
ORDER BY scheduled_at, id
LIMIT 1
FOR UPDATE SKIP LOCKED;

-- name: MarkScheduledApplied :exec
UPDATE scheduled_changes SET status = 'applied', applied_at = $2, applied_version = $3, lateness_ms = $4, updated_at = now()
WHERE id = $1;

-- name: MarkScheduledFailed :exec
UPDATE scheduled_changes SET status = 'failed', applied_at = $2, failure_reason = $3, lateness_ms = $4, updated_at = now()
WHERE id = $1;

-- name: NextDueAt :one
SELECT scheduled_at FROM scheduled_changes WHERE status = 'pending' ORDER BY scheduled_at LIMIT 1;

-- name: CountPendingScheduled :one
SELECT count(*) FROM scheduled_changes WHERE status = 'pending';
