-- name: CreateUser :one
INSERT INTO users (email, full_name, password_hash, role)
VALUES ($1, $2, $3, $4)
RETURNING *;

-- name: GetUser :one
SELECT * FROM users WHERE id = $1;

-- name: GetUserByEmail :one
SELECT * FROM users WHERE email = $1;

-- name: GetUserAuthState :one
-- The per-request check behind every access token: is the user there, active, and is the
-- token's epoch current?
SELECT email, role, is_active, auth_epoch FROM users WHERE id = $1;

-- name: TouchLogin :exec
UPDATE users SET last_login_at = now() WHERE id = $1;

-- name: UpdateProfile :one
UPDATE users SET
    full_name = coalesce(sqlc.narg(full_name), full_name),
    updated_at = now()
WHERE id = $1
RETURNING *;

-- name: UpdatePassword :one
UPDATE users SET password_hash = $2, must_change_password = false, auth_epoch = auth_epoch + 1, updated_at = now()
WHERE id = $1
RETURNING *;

-- name: RehashPassword :exec
-- A transparent upgrade of the hash parameters at login; tokens stay valid.
UPDATE users SET password_hash = $2 WHERE id = $1;

-- name: UpdateUserAdmin :one
-- Role and activity changes end every session of the user (epoch + 1).
UPDATE users SET
    role = coalesce(sqlc.narg(role), role),
    is_active = coalesce(sqlc.narg(is_active), is_active),
    full_name = coalesce(sqlc.narg(full_name), full_name),
    auth_epoch = auth_epoch + CASE
        WHEN (sqlc.narg(role)::text IS NOT NULL AND sqlc.narg(role)::text <> role)
          OR (sqlc.narg(is_active)::boolean IS NOT NULL AND sqlc.narg(is_active)::boolean <> is_active)
        THEN 1 ELSE 0 END,
    updated_at = now()
WHERE id = $1
RETURNING *;

-- name: GetUserForUpdate :one
SELECT * FROM users WHERE id = $1 FOR UPDATE;

-- name: CountSuperadmins :one
SELECT count(*) FROM users WHERE role = 'superadmin' AND is_active;

-- name: ListUsers :many
-- Newest first; the cursor is the (created_at, id) of the last row of the previous page.
SELECT * FROM users
WHERE (sqlc.narg(role)::text IS NULL OR role = sqlc.narg(role))
  AND (sqlc.narg(is_active)::boolean IS NULL OR is_active = sqlc.narg(is_active))
  AND (sqlc.narg(search)::text IS NULL
       OR email ILIKE '%' || sqlc.narg(search) || '%'
       OR full_name ILIKE '%' || sqlc.narg(search) || '%')
  AND (sqlc.narg(before_created)::timestamptz IS NULL
       OR (created_at, id) < (sqlc.narg(before_created)::timestamptz, sqlc.narg(before_id)::uuid))
ORDER BY created_at DESC, id DESC
LIMIT sqlc.arg(lim);

-- name: LockSuperadmins :many
SELECT id FROM users WHERE role = 'superadmin' AND is_active FOR UPDATE;
