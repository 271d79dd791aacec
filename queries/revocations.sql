-- name: RecordRevokedSession :exec
INSERT INTO revoked_sessions (family_id, expires_at) VALUES ($1, $2)
ON CONFLICT (family_id) DO UPDATE SET expires_at = GREATEST(revoked_sessions.expires_at, EXCLUDED.expires_at);

-- name: ListRevokedSessions :many
-- Sessions still to be refused, to rebuild Redis' fast path.
SELECT family_id, expires_at FROM revoked_sessions WHERE expires_at > now() ORDER BY family_id;

-- name: DeleteExpiredRevokedSessions :execrows
DELETE FROM revoked_sessions WHERE expires_at <= now();

-- name: ListRecentAuthEpochs :many
-- Users whose auth epoch changed since `since` (now minus an access token's lifetime): tokens
-- of their earlier epochs may still be unexpired, so Redis must know the current one.
SELECT id, auth_epoch, auth_epoch_at::timestamptz AS changed_at FROM users WHERE auth_epoch_at > sqlc.arg(since)::timestamptz ORDER BY id;
