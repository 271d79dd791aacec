-- name: LockFlagWrites :exec
-- Serialises flag writers so flag_events ids commit in increasing order.
SELECT pg_advisory_xact_lock(7223310455112206001);

-- name: GetFlag :one
SELECT * FROM feature_flags WHERE key = $1;

-- name: GetFlagForUpdate :one
SELECT * FROM feature_flags WHERE key = $1 FOR UPDATE;

-- name: AllFlags :many
SELECT * FROM feature_flags ORDER BY key;

-- name: ListFlags :many
SELECT * FROM feature_flags
WHERE (sqlc.narg(category)::text IS NULL OR key LIKE sqlc.narg(category)::text || '.%')
  AND (sqlc.narg(visibility)::text IS NULL OR visibility = sqlc.narg(visibility))
  AND (sqlc.narg(enabled)::boolean IS NULL OR enabled = sqlc.narg(enabled))
  AND archived = sqlc.arg(archived)
  AND (sqlc.narg(q)::text IS NULL
       OR key ILIKE '%' || sqlc.narg(q) || '%'
       OR description ILIKE '%' || sqlc.narg(q) || '%'
       OR owner ILIKE '%' || sqlc.narg(q) || '%'
       OR sqlc.narg(q) = ANY (tags))
  AND (sqlc.narg(after_key)::text IS NULL OR key > sqlc.narg(after_key))
ORDER BY key
LIMIT sqlc.arg(lim);

-- name: InsertFlag :one
INSERT INTO feature_flags (key, description, type, enabled, value, default_value, variants, rules,
    rollout_percentage, salt, visibility, owner, tags, archived, version, created_by, updated_by)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, 1, $15, $15)
RETURNING *;

-- name: UpdateFlag :one
UPDATE feature_flags SET
    description = $2, type = $3, enabled = $4, value = $5, default_value = $6, variants = $7,
    rules = $8, rollout_percentage = $9, salt = $10, visibility = $11, owner = $12, tags = $13,
    archived = $14, version = version + 1, updated_by = $15, updated_at = now()
WHERE key = $1
RETURNING *;

-- name: DeleteFlag :execrows
DELETE FROM feature_flags WHERE key = $1;

-- name: AllOverrides :many
SELECT * FROM flag_overrides WHERE expires_at IS NULL OR expires_at > now();

-- name: ListOverrides :many
SELECT * FROM flag_overrides
WHERE flag_key = $1 AND (sqlc.narg(after_key)::text IS NULL OR targeting_key > sqlc.narg(after_key))
ORDER BY targeting_key
LIMIT sqlc.arg(lim);

-- name: OverridesOfFlag :many
SELECT * FROM flag_overrides WHERE flag_key = $1 ORDER BY targeting_key;

-- name: UpsertOverride :one
INSERT INTO flag_overrides (flag_key, targeting_key, value, variant, reason, expires_at, created_by)
VALUES ($1, $2, $3, $4, $5, $6, $7)
ON CONFLICT (flag_key, targeting_key) DO UPDATE SET
    value = EXCLUDED.value, variant = EXCLUDED.variant, reason = EXCLUDED.reason,
    expires_at = EXCLUDED.expires_at, updated_at = now()
RETURNING *;

-- name: DeleteOverride :one
DELETE FROM flag_overrides WHERE flag_key = $1 AND targeting_key = $2
RETURNING *;

-- name: InsertFlagEvent :one
INSERT INTO flag_events (flag_key, kind, version, visibility, payload)
VALUES ($1, $2, $3, $4, $5)
RETURNING id;

-- name: FlagRevision :one
SELECT coalesce(max(id), 0)::bigint FROM flag_events;

-- name: FlagEventsAfter :many
SELECT * FROM flag_events WHERE id > $1 ORDER BY id LIMIT sqlc.arg(lim);

-- name: FlagEventLogStats :one
SELECT coalesce(min(id), 0)::bigint AS oldest_id, coalesce(max(id), 0)::bigint AS newest_id, count(*) AS events
FROM flag_events;

-- name: PruneFlagEvents :execrows
-- Deletes a prefix of the log: everything beyond the newest retain_count events, and
-- everything older than max_age. Ids below the threshold only, so the kept log is contiguous.
DELETE FROM flag_events
WHERE id <= greatest(
    (SELECT coalesce(max(id), 0) FROM flag_events) - sqlc.arg(retain_count)::bigint,
    (SELECT coalesce(max(id), 0) FROM flag_events WHERE created_at < now() - sqlc.arg(max_age)::interval));
