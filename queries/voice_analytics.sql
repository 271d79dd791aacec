-- name: InsertVoiceTurnAnalytics :exec
INSERT INTO voice_turn_analytics (session_id, turn_id, input, outcome, stt_ms, retrieval_ms, first_token_ms,
                                  first_audio_ms, total_ms, barge_ins, repairs, user_words, answer_words, variants, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15);

-- name: ListVoiceTurnAnalytics :many
-- A page of a session's turns in the order they started, after the keyset
-- (sqlc.narg(after_at), sqlc.narg(after_turn)) (null: from the start).
SELECT * FROM voice_turn_analytics
WHERE session_id = $1
  AND (sqlc.narg(after_at)::timestamptz IS NULL
       OR (created_at, turn_id) > (sqlc.narg(after_at)::timestamptz, sqlc.narg(after_turn)::uuid))
ORDER BY created_at, turn_id
LIMIT $2;

-- name: VoiceSessionAnalyticsSummary :one
-- Every turn of a session: counts and the p50/p95 of each timing (null without values).
SELECT count(*)::bigint AS turns,
       count(*) FILTER (WHERE outcome = 'answered')::bigint AS answered,
       count(*) FILTER (WHERE outcome = 'interrupted')::bigint AS interrupted,
       count(*) FILTER (WHERE outcome = 'failed')::bigint AS failed,
       coalesce(sum(barge_ins), 0)::bigint AS barge_ins,
       coalesce(sum(repairs), 0)::bigint AS repairs,
       percentile_cont(ARRAY[0.5, 0.95]::double precision[]) WITHIN GROUP (ORDER BY stt_ms)::double precision[] AS stt,
       percentile_cont(ARRAY[0.5, 0.95]::double precision[]) WITHIN GROUP (ORDER BY retrieval_ms)::double precision[] AS retrieval,
       percentile_cont(ARRAY[0.5, 0.95]::double precision[]) WITHIN GROUP (ORDER BY first_token_ms)::double precision[] AS first_token,
       percentile_cont(ARRAY[0.5, 0.95]::double precision[]) WITHIN GROUP (ORDER BY first_audio_ms)::double precision[] AS first_audio,
       percentile_cont(ARRAY[0.5, 0.95]::double precision[]) WITHIN GROUP (ORDER BY total_ms)::double precision[] AS total
FROM voice_turn_analytics
WHERE session_id = $1;

-- name: VoiceAnalyticsDaily :many
-- One row per UTC day from sqlc.arg(first_day) to sqlc.arg(last_day), days without turns
-- included: sessions and turns, p50/p95/p99 of each timing (null without values), barge-ins
-- and repairs.
SELECT d::date AS day,
       count(DISTINCT a.session_id)::bigint AS sessions,
       count(a.id)::bigint AS turns,
       coalesce(sum(a.barge_ins), 0)::bigint AS barge_ins,
       coalesce(sum(a.repairs), 0)::bigint AS repairs,
       percentile_cont(ARRAY[0.5, 0.95, 0.99]::double precision[]) WITHIN GROUP (ORDER BY a.stt_ms)::double precision[] AS stt,
       percentile_cont(ARRAY[0.5, 0.95, 0.99]::double precision[]) WITHIN GROUP (ORDER BY a.retrieval_ms)::double precision[] AS retrieval,
       percentile_cont(ARRAY[0.5, 0.95, 0.99]::double precision[]) WITHIN GROUP (ORDER BY a.first_token_ms)::double precision[] AS first_token,
       percentile_cont(ARRAY[0.5, 0.95, 0.99]::double precision[]) WITHIN GROUP (ORDER BY a.first_audio_ms)::double precision[] AS first_audio,
       percentile_cont(ARRAY[0.5, 0.95, 0.99]::double precision[]) WITHIN GROUP (ORDER BY a.total_ms)::double precision[] AS total
FROM generate_series(sqlc.arg(first_day)::date, sqlc.arg(last_day)::date, interval '1 day') AS d
LEFT JOIN voice_turn_analytics a
       ON a.created_at >= (d::date)::timestamp AT TIME ZONE 'UTC'
      AND a.created_at < (d::date + 1)::timestamp AT TIME ZONE 'UTC'
GROUP BY d
ORDER BY d;
