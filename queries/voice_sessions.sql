-- name: CreateVoiceSession :one
INSERT INTO voice_sessions (id, user_id, conversation_id, replica, connection_id)
VALUES ($1, $2, $3, $4, $5)
RETURNING *;

-- name: GetVoiceSession :one
SELECT * FROM voice_sessions WHERE id = $1;

-- name: EndVoiceSession :exec
-- Only the socket that holds the session ends it: after a resume the new socket does.
UPDATE voice_sessions SET ended_at = now(), end_reason = $2
WHERE id = $1 AND connection_id = $3 AND ended_at IS NULL;

-- name: ResumeVoiceSession :exec
UPDATE voice_sessions
SET ended_at = NULL, end_reason = NULL, resumes = resumes + 1, replica = $2, connection_id = $3
WHERE id = $1;

-- name: CountVoiceTurn :exec
UPDATE voice_sessions SET turns = turns + 1 WHERE id = $1;
