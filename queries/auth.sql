-- name: InsertRefreshToken :exec
INSERT INTO refresh_tokens (jti, family_id, user_id, issued_at, expires_at)
VALUES ($1, $2, $3, $4, $5);

-- name: GetRefreshTokenForUpdate :one
SELECT * FROM refresh_tokens WHERE jti = $1 FOR UPDATE;

-- name: MarkRefreshTokenUsed :exec
UPDATE refresh_tokens SET used_at = now() WHERE jti = $1;

-- name: RevokeFamily :execrows
UPDATE refresh_tokens SET revoked_at = now()
WHERE family_id = $1 AND revoked_at IS NULL;

-- name: RevokeUserFamilies :many
-- Ends every session of a user; returns the families so their access tokens can be
-- revoked in Redis too.
WITH revoked AS (
    UPDATE refresh_tokens SET revoked_at = now()
    WHERE user_id = $1 AND revoked_at IS NULL AND expires_at > now()
    RETURNING family_id
)
SELECT DISTINCT family_id FROM revoked;

-- name: DeleteExpiredRefreshTokens :execrows
DELETE FROM refresh_tokens WHERE expires_at < now() - interval '1 day';

-- name: CreateAPIKey :one
INSERT INTO api_keys (user_id, name, prefix, secret_hash, role, expires_at)
VALUES ($1, $2, $3, $4, $5, $6)
RETURNING *;

-- name: GetAPIKeyByPrefix :one
SELECT k.*, u.role AS owner_role, u.is_active AS owner_active, u.email AS owner_email
FROM api_keys k JOIN users u ON u.id = k.user_id
WHERE k.prefix = $1;

-- name: TouchAPIKey :exec
UPDATE api_keys SET last_used_at = now(), last_used_ip = $2 WHERE id = $1;

-- name: ListAPIKeys :many
SELECT * FROM api_keys
WHERE user_id = sqlc.arg(user_id)
  AND (sqlc.narg(before_at)::timestamptz IS NULL
       OR (created_at, id) < (sqlc.narg(before_at)::timestamptz, sqlc.narg(before_id)::uuid))
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(lim);

-- name: CountAPIKeys :one
-- Keys that still count against MAX_API_KEYS_PER_USER: not revoked and not expired.
SELECT count(*) FROM api_keys
WHERE user_id = $1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now());

-- name: RevokeAPIKey :one
UPDATE api_keys SET revoked_at = now()
WHERE id = $1 AND user_id = $2 AND revoked_at IS NULL
RETURNING *;

-- name: GetAPIKey :one
SELECT * FROM api_keys WHERE id = $1 AND user_id = $2;
