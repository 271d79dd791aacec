-- User administration (admin panel): invitations, password resets, permanent deletion and
-- history. Tokens are looked up by their SHA-256; the tokens themselves are never stored.

-- name: CreateInvitedUser :one
-- An invited account: inactive and without a password until the invitation is accepted.
INSERT INTO users (email, full_name, password_hash, role, is_active)
VALUES ($1, $2, NULL, $3, false)
RETURNING *;

-- name: RevokeOpenInvitations :execrows
UPDATE invitations SET revoked_at = now()
WHERE user_id = $1 AND accepted_at IS NULL AND revoked_at IS NULL;

-- name: CreateInvitation :one
INSERT INTO invitations (user_id, token_hash, created_by, expires_at)
VALUES ($1, $2, $3, $4)
RETURNING *;

-- name: GetInvitationByHashForUpdate :one
SELECT * FROM invitations WHERE token_hash = $1 FOR UPDATE;

-- name: MarkInvitationAccepted :exec
UPDATE invitations SET accepted_at = now() WHERE id = $1;

-- name: SetPasswordAndActivate :one
-- Accepting an invitation: the password is set and the account becomes active.
UPDATE users SET password_hash = $2, is_active = true, must_change_password = false,
    auth_epoch = auth_epoch + 1, updated_at = now()
WHERE id = $1
RETURNING *;

-- name: SetTemporaryPassword :one
-- An admin's temporary password: every session ends, the next login must change it.
UPDATE users SET password_hash = $2, must_change_password = true,
    auth_epoch = auth_epoch + 1, updated_at = now()
WHERE id = $1
RETURNING *;

-- name: RevokeOpenResetTokens :execrows
UPDATE password_reset_tokens SET revoked_at = now()
WHERE user_id = $1 AND used_at IS NULL AND revoked_at IS NULL;

-- name: CreateResetToken :one
INSERT INTO password_reset_tokens (user_id, token_hash, created_by, expires_at)
VALUES ($1, $2, $3, $4)
RETURNING *;

-- name: GetResetTokenByHashForUpdate :one
SELECT * FROM password_reset_tokens WHERE token_hash = $1 FOR UPDATE;

-- name: MarkResetTokenUsed :exec
UPDATE password_reset_tokens SET used_at = now() WHERE id = $1;

-- Permanent deletion. Rows the user owns go (most by ON DELETE CASCADE from users); shared
-- records that merely name the user keep existing with the reference cleared. audit_log and
-- flag_events are append-only and keep theirs.

-- name: PurgeUserFlagOverrides :execrows
-- Overrides target a user by id (the default targeting key) or by email.
DELETE FROM flag_overrides WHERE targeting_key = sqlc.arg(user_id)::text OR lower(targeting_key) = sqlc.arg(email)::text;

-- name: ClearUserFlagOverrideAuthor :exec
UPDATE flag_overrides SET created_by = NULL WHERE created_by = $1;

-- name: ClearUserFlagReferences :exec
UPDATE feature_flags SET
    created_by = CASE WHEN created_by = sqlc.arg(user_id)::uuid THEN NULL ELSE created_by END,
    updated_by = CASE WHEN updated_by = sqlc.arg(user_id)::uuid THEN NULL ELSE updated_by END,
    owner = CASE WHEN lower(owner) = sqlc.arg(email)::text OR owner = sqlc.arg(user_id)::uuid::text THEN '' ELSE owner END
WHERE created_by = sqlc.arg(user_id)::uuid OR updated_by = sqlc.arg(user_id)::uuid
   OR lower(owner) = sqlc.arg(email)::text OR owner = sqlc.arg(user_id)::uuid::text;

-- name: ClearUserScheduleReferences :exec
UPDATE scheduled_changes SET
    created_by = CASE WHEN created_by = sqlc.arg(user_id)::uuid THEN NULL ELSE created_by END,
    created_by_email = CASE WHEN lower(created_by_email) = sqlc.arg(email)::text THEN '' ELSE created_by_email END,
    modified_by = CASE WHEN modified_by = sqlc.arg(user_id)::uuid THEN NULL ELSE modified_by END,
    modified_by_email = CASE WHEN lower(modified_by_email) = sqlc.arg(email)::text THEN '' ELSE modified_by_email END,
    cancelled_by = CASE WHEN cancelled_by = sqlc.arg(user_id)::uuid THEN NULL ELSE cancelled_by END
WHERE created_by = sqlc.arg(user_id)::uuid OR modified_by = sqlc.arg(user_id)::uuid OR cancelled_by = sqlc.arg(user_id)::uuid
   OR lower(created_by_email) = sqlc.arg(email)::text OR lower(modified_by_email) = sqlc.arg(email)::text;

-- name: DeleteUser :execrows
DELETE FROM users WHERE id = $1;

-- name: ListUserHistory :many
-- The audit rows about one user that make up its history, newest first.
SELECT id, occurred_at, actor_id, actor_email, action, details
FROM audit_log
WHERE resource_type = 'user' AND resource_id = sqlc.arg(user_id)::text
  AND action = ANY (sqlc.arg(actions)::text[])
  AND (sqlc.narg(before_id)::bigint IS NULL OR id < sqlc.narg(before_id)::bigint)
ORDER BY id DESC
LIMIT sqlc.arg(lim);

-- name: DeleteStaleAdminTokens :one
-- Invitations and reset tokens 30 days past expiry: until then a late redemption still hears
-- why the token is dead (410) rather than that it never existed (404).
WITH inv AS (
    DELETE FROM invitations WHERE expires_at < now() - interval '30 days' RETURNING 1
), rst AS (
    DELETE FROM password_reset_tokens WHERE expires_at < now() - interval '30 days' RETURNING 1
)
SELECT ((SELECT count(*) FROM inv) + (SELECT count(*) FROM rst))::bigint AS deleted;
