-- name: UpsertVoiceFeedback :one
INSERT INTO voice_feedback (session_id, user_id, thumbs, naturalness, accuracy, latency, comment, comment_redacted)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
ON CONFLICT (session_id) DO UPDATE
SET thumbs = EXCLUDED.thumbs, naturalness = EXCLUDED.naturalness, accuracy = EXCLUDED.accuracy,
    latency = EXCLUDED.latency, comment = EXCLUDED.comment, comment_redacted = EXCLUDED.comment_redacted,
    updated_at = now()
RETURNING *;

-- name: VoiceFeedbackDaily :many
-- One row per UTC day from sqlc.arg(first_day) to sqlc.arg(last_day), days without feedback
-- included; a feedback counts on the day it was last submitted.
SELECT d::date AS day,
       count(f.session_id)::bigint AS total,
       count(f.session_id) FILTER (WHERE f.thumbs = 'up')::bigint AS thumbs_up,
       count(f.session_id) FILTER (WHERE f.thumbs = 'down')::bigint AS thumbs_down,
       coalesce(sum(f.naturalness), 0)::bigint AS naturalness_sum, count(f.naturalness)::bigint AS naturalness_n,
       coalesce(sum(f.accuracy), 0)::bigint AS accuracy_sum, count(f.accuracy)::bigint AS accuracy_n,
       coalesce(sum(f.latency), 0)::bigint AS latency_sum, count(f.latency)::bigint AS latency_n
FROM generate_series(sqlc.arg(first_day)::date, sqlc.arg(last_day)::date, interval '1 day') AS d
LEFT JOIN voice_feedback f
       ON f.updated_at >= (d::date)::timestamp AT TIME ZONE 'UTC'
      AND f.updated_at < (d::date + 1)::timestamp AT TIME ZONE 'UTC'
GROUP BY d
ORDER BY d;
