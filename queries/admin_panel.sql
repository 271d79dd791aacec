-- name: PanelUsersByRole :many
-- Accounts by role and state from the trigger-maintained user_counts (00018): at most 8 rows.
SELECT role, is_active, n FROM user_counts;

-- name: PanelNewUsers :one
-- Accounts created in the last 7 days and 24 hours (index users_created_idx).
SELECT count(*)::bigint AS new_7d,
       count(*) FILTER (WHERE created_at >= sqlc.arg(since_24h)::timestamptz)::bigint AS new_24h
FROM users
WHERE created_at >= sqlc.arg(since_7d)::timestamptz;

-- name: PanelConversationsPerDay :many
-- Conversations started per UTC day since the given time (index conversations_created_idx).
SELECT (created_at AT TIME ZONE 'UTC')::date AS day, count(*)::bigint AS n
FROM conversations
WHERE created_at >= sqlc.arg(since)::timestamptz
GROUP BY 1 ORDER BY 1;

-- name: PanelRegistrationsPerDay :many
-- Accounts created per UTC day since the given time (index users_created_idx).
SELECT (created_at AT TIME ZONE 'UTC')::date AS day, count(*)::bigint AS n
FROM users
WHERE created_at >= sqlc.arg(since)::timestamptz
GROUP BY 1 ORDER BY 1;

-- name: PanelKBByStatus :many
-- Documents by indexing status: an Index Only Scan of kb_documents_status (no chunk sums,
-- unlike CountKbByStatus, which has to read the table).
SELECT status, count(*)::bigint AS n FROM kb_documents GROUP BY status;

-- name: PanelFlagCounts :many
-- Live (not archived) flags by category and type.
SELECT split_part(key, '.', 1)::text AS category, type, count(*)::bigint AS n
FROM feature_flags
WHERE NOT archived
GROUP BY 1, 2 ORDER BY 1, 2;

-- name: PanelPendingChanges :one
-- Pending scheduled changes (index scheduled_changes_due).
SELECT count(*)::bigint AS pending FROM scheduled_changes WHERE status = 'pending';

-- name: PanelNextDueChange :one
-- The next pending change (none: no rows).
SELECT id, flag_key, scheduled_at FROM scheduled_changes
WHERE status = 'pending' ORDER BY scheduled_at LIMIT 1;

-- name: PanelAuditHead :one
-- The newest audit id: part of the summary's cache key, so any audited change invalidates it.
SELECT coalesce(max(id), 0)::bigint AS head FROM audit_log;

-- name: AddDailyCounters :exec
-- Adds a batch of per-day deltas (one row per day and name in the arrays).
INSERT INTO daily_counters (day, name, value)
SELECT unnest(sqlc.arg(days)::date[]), unnest(sqlc.arg(names)::text[]), unnest(sqlc.arg(vals)::bigint[])
ON CONFLICT (day, name) DO UPDATE SET value = daily_counters.value + EXCLUDED.value;

-- name: DailyCounterSince :many
-- One counter's days from a day on (primary-key range).
SELECT day, value FROM daily_counters WHERE day >= sqlc.arg(since)::date AND name = sqlc.arg(name) ORDER BY day;

-- name: DailyCountersSince :many
SELECT day, name, value FROM daily_counters WHERE day >= sqlc.arg(since)::date ORDER BY day, name;

-- name: AuditLogAfter :many
-- Committed audit rows after an id, oldest first, for the admin socket.
SELECT id, occurred_at, actor_id, actor_email, actor_role, action, resource_type, resource_id,
       success, request_id, ip, user_agent, details
FROM audit_log
WHERE id > sqlc.arg(after_id)
ORDER BY id
LIMIT sqlc.arg(row_limit);
