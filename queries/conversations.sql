-- name: InsertConversation :one
INSERT INTO conversations (user_id, title, default_title, folder, branched_from)
VALUES ($1, $2, $3, $4, $5)
RETURNING *;

-- name: GetConversation :one
-- Ownership is part of the key: another user's conversation does not exist for the caller.
SELECT * FROM conversations WHERE id = $1 AND user_id = $2;

-- name: LockConversation :one
SELECT * FROM conversations WHERE id = $1 AND user_id = $2 FOR UPDATE;

-- name: ListConversations :many
SELECT * FROM conversations
WHERE user_id = sqlc.arg(user_id)
  AND (sqlc.narg(q)::text IS NULL OR title ILIKE '%' || sqlc.narg(q) || '%')
  AND (sqlc.narg(archived)::boolean IS NULL OR archived = sqlc.narg(archived))
  AND (sqlc.narg(folder)::text IS NULL OR folder = sqlc.narg(folder))
  AND (sqlc.narg(before_at)::timestamptz IS NULL
       OR (updated_at, id) < (sqlc.narg(before_at)::timestamptz, sqlc.narg(before_id)::uuid))
ORDER BY updated_at DESC, id DESC
LIMIT sqlc.arg(lim);

-- name: CountConversations :one
SELECT count(*) FROM conversations WHERE user_id = $1;

-- name: UpdateConversation :one
UPDATE conversations SET
    title = coalesce(sqlc.narg(title), title),
    default_title = CASE WHEN sqlc.narg(title)::text IS NULL THEN default_title ELSE false END,
    archived = coalesce(sqlc.narg(archived), archived),
    folder = CASE WHEN sqlc.arg(set_folder)::boolean THEN sqlc.narg(folder) ELSE folder END,
    updated_at = now()
WHERE id = sqlc.arg(id) AND user_id = sqlc.arg(user_id)
RETURNING *;

-- name: DeleteConversation :execrows
DELETE FROM conversations WHERE id = $1 AND user_id = $2;

-- name: TouchConversation :exec
-- After a message: count, activity time, and the first question as title.
UPDATE conversations SET
    message_count = (SELECT count(*) FROM messages WHERE conversation_id = sqlc.arg(id)),
    last_message_at = now(), updated_at = now(),
    title = CASE WHEN default_title AND sqlc.narg(title)::text IS NOT NULL THEN sqlc.narg(title) ELSE title END,
    default_title = default_title AND sqlc.narg(title)::text IS NULL
WHERE id = sqlc.arg(id);

-- name: ListMessages :many
SELECT * FROM messages
WHERE conversation_id = $1 AND seq > $2
ORDER BY seq
LIMIT $3;

-- name: LastMessages :many
-- The newest messages, newest first (history for the model).
SELECT * FROM messages WHERE conversation_id = $1 ORDER BY seq DESC LIMIT $2;

-- name: GetMessage :one
SELECT * FROM messages WHERE id = $1 AND conversation_id = $2;

-- name: DeleteMessage :execrows
DELETE FROM messages WHERE id = $1 AND conversation_id = $2;

-- name: MessagesUpTo :many
SELECT * FROM messages WHERE conversation_id = $1 AND seq <= $2 ORDER BY seq;

-- name: CopyMessage :exec
INSERT INTO messages (conversation_id, role, content, citations, model, retrieval, created_at, source, interrupted)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9);

-- name: AddMessage :one
-- A message and its conversation's counters (and first-question title) in one statement: one
-- round trip on the way to the first token.
WITH m AS (
    INSERT INTO messages (conversation_id, role, content, citations, model, retrieval, source, interrupted)
    VALUES (sqlc.arg(conversation_id), sqlc.arg(role), sqlc.arg(content), sqlc.arg(citations), sqlc.narg(model), sqlc.narg(retrieval),
            sqlc.arg(source), sqlc.arg(interrupted))
    RETURNING *
), c AS (
    UPDATE conversations SET
        message_count = message_count + 1,
        last_message_at = now(), updated_at = now(),
        title = CASE WHEN default_title AND sqlc.narg(title)::text IS NOT NULL THEN sqlc.narg(title) ELSE title END,
        default_title = default_title AND sqlc.narg(title)::text IS NULL
    WHERE id = sqlc.arg(conversation_id)
)
SELECT * FROM m;

-- name: InterruptMessage :one
-- An answer cut short (barge-in, lost client): it keeps only what the user heard.
UPDATE messages SET content = $3, citations = $4, interrupted = true
WHERE id = $1 AND conversation_id = $2
RETURNING *;
