-- name: UpdateDraftAnswer :exec
-- The text so far of an answer being streamed (stored interrupted until it is finished).
UPDATE messages SET content = $3
WHERE id = $1 AND conversation_id = $2 AND interrupted;

-- name: FinishDraftAnswer :one
-- A streamed answer that completed: its full text, citations and retrieval, no longer interrupted.
UPDATE messages SET content = $3, citations = $4, model = $5, retrieval = $6, interrupted = false
WHERE id = $1 AND conversation_id = $2
RETURNING *;
