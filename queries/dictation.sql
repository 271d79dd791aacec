-- name: InsertDictationSession :one
INSERT INTO dictation_sessions (user_id, note_type, abbreviation_policy, current_section, sections, conversation_id, patient_id)
VALUES ($1, $2, $3, $4, $5, $6, $7)
RETURNING *;

-- name: GetDictationSession :one
-- Ownership is part of the key: another user's session does not exist for the caller.
SELECT * FROM dictation_sessions WHERE id = $1 AND user_id = $2;

-- name: ListDictationSessions :many
SELECT * FROM dictation_sessions
WHERE user_id = sqlc.arg(user_id)
  AND (sqlc.narg(status)::text IS NULL OR status = sqlc.narg(status))
  AND (sqlc.narg(before_at)::timestamptz IS NULL
       OR (updated_at, id) < (sqlc.narg(before_at)::timestamptz, sqlc.narg(before_id)::uuid))
ORDER BY updated_at DESC, id DESC
LIMIT sqlc.arg(lim);

-- name: UpdateDictationSession :one
-- Optimistic concurrency: the row changes only at the version the caller read.
UPDATE dictation_sessions SET
    status = sqlc.arg(status),
    current_section = sqlc.arg(current_section),
    sections = sqlc.arg(sections),
    history = sqlc.arg(history),
    finalized_at = CASE WHEN sqlc.arg(status) = 'finalized' THEN now() ELSE NULL END,
    version = version + 1,
    updated_at = now()
WHERE id = sqlc.arg(id) AND user_id = sqlc.arg(user_id) AND version = sqlc.arg(version)
RETURNING *;

-- name: DeleteDictationSession :execrows
DELETE FROM dictation_sessions WHERE id = $1 AND user_id = $2;

-- name: ListUserVocabulary :many
SELECT term FROM user_vocabulary WHERE user_id = $1 ORDER BY lower(term);

-- name: LockUserVocabulary :exec
-- Serialises a user's additions so the per-user limit holds under concurrent calls.
SELECT pg_advisory_xact_lock(hashtextextended('user_vocabulary:' || sqlc.arg(user_id)::uuid::text, 0));

-- name: CountUserVocabulary :one
SELECT count(*) FROM user_vocabulary WHERE user_id = $1;

-- name: InsertUserVocabulary :execrows
INSERT INTO user_vocabulary (user_id, term)
SELECT sqlc.arg(user_id), t FROM unnest(sqlc.arg(terms)::text[]) AS t
ON CONFLICT DO NOTHING;

-- name: DeleteUserVocabulary :execrows
DELETE FROM user_vocabulary WHERE user_id = $1 AND lower(term) = lower(sqlc.arg(term));
