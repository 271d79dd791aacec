-- name: GetMeta :one
SELECT value, updated_at FROM app_meta WHERE key = $1;

-- name: PutMetaIfAbsent :one
-- Inserts the value unless the key exists; returns the stored value either way.
WITH ins AS (
    INSERT INTO app_meta (key, value) VALUES ($1, $2)
    ON CONFLICT (key) DO NOTHING
    RETURNING value
)
SELECT value FROM ins
UNION ALL
SELECT value FROM app_meta WHERE key = $1
LIMIT 1;
