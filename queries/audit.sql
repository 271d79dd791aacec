-- name: AuditLockChain :one
-- Audit log appends happen only through audit.Record, in one READ COMMITTED transaction:
-- AuditLockChain, AuditNextLink, InsertAuditLog. This serialises appenders (across replicas)
-- until the transaction ends and reports the transaction's isolation level: the chain head
-- must be read with a snapshot taken after the lock.
SELECT current_setting('transaction_isolation')::text AS isolation
FROM (SELECT pg_advisory_xact_lock(sqlc.arg(lock_key)::bigint)) AS locked;

-- name: AuditNextLink :one
-- The id of the row about to be appended and the hash of the current last row (NULL when the
-- log is empty). Run only while holding the chain lock.
SELECT nextval(pg_get_serial_sequence('audit_log', 'id'))::bigint AS id,
       (SELECT a.hash FROM audit_log a ORDER BY a.id DESC LIMIT 1)::bytea AS prev_hash;

-- name: InsertAuditLog :exec
INSERT INTO audit_log (
    id, occurred_at, actor_id, actor_email, actor_role, action, resource_type, resource_id,
    success, request_id, ip, user_agent, details, prev_hash, hash
) VALUES (
    sqlc.arg(id), sqlc.arg(occurred_at), sqlc.narg(actor_id), sqlc.arg(actor_email),
    sqlc.arg(actor_role), sqlc.arg(action), sqlc.arg(resource_type), sqlc.arg(resource_id),
    sqlc.arg(success), sqlc.arg(request_id), sqlc.arg(ip), sqlc.arg(user_agent),
    sqlc.arg(details), sqlc.arg(prev_hash), sqlc.arg(hash)
);

-- name: ListAuditLog :many
-- Newest first; every filter is optional (NULL = no filter). occurred_at is filtered as
-- from <= occurred_at < to; before_id is the keyset cursor (rows with a smaller id).
SELECT id, occurred_at, actor_id, actor_email, actor_role, action, resource_type, resource_id,
       success, request_id, ip, user_agent, details
FROM audit_log
WHERE (sqlc.narg(actor_id)::uuid IS NULL OR actor_id = sqlc.narg(actor_id)::uuid)
  AND (sqlc.narg(action)::text IS NULL OR action = sqlc.narg(action)::text)
  AND (sqlc.narg(resource_type)::text IS NULL OR resource_type = sqlc.narg(resource_type)::text)
  AND (sqlc.narg(resource_id)::text IS NULL OR resource_id = sqlc.narg(resource_id)::text)
  AND (sqlc.narg(occurred_from)::timestamptz IS NULL OR occurred_at >= sqlc.narg(occurred_from)::timestamptz)
  AND (sqlc.narg(occurred_to)::timestamptz IS NULL OR occurred_at < sqlc.narg(occurred_to)::timestamptz)
  AND (sqlc.narg(before_id)::bigint IS NULL OR id < sqlc.narg(before_id)::bigint)
ORDER BY id DESC
LIMIT sqlc.arg(row_limit);

-- name: AuditChainBatch :many
-- One batch of the chain in id order, after the given id, for verification.
SELECT id, occurred_at, actor_id, actor_email, actor_role, action, resource_type, resource_id,
       success, request_id, ip, user_agent, details, prev_hash, hash
FROM audit_log
WHERE id > sqlc.arg(after_id)
ORDER BY id
LIMIT sqlc.arg(batch_size);
