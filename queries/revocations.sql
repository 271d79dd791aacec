-- name: RecordRevokedSession :exec
INSERT INTO revoked_sessions (family_id, expires_at) VALUES ($1, $2)
ON CONFLICT (family_id) DO UPDATE SET expires_at = GREATEST(revoked_sessions.expires_at, EXCLUDED.expires_at);

-- name: ListRevokedSessions :many
-- Sessions still to be refused, to rebuild Redis' fast path.
SELECT family_id, expires_at FROM revoked_sessions WHERE expires_at > now() ORDER BY family_id;

-- name: DeleteExpiredRevokedSessions :execrows
DELETE FROM revoked_sessions WHERE expires_at <= now();
