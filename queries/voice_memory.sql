-- name: UpsertVoiceMemorySession :exec
-- The session's lists grow by the turn's new items, each list capped at sqlc.arg(cap) (newest kept).
INSERT INTO voice_memory_sessions AS m (session_id, user_id, topics, entities, open_questions)
VALUES (sqlc.arg(session_id), sqlc.arg(user_id), sqlc.arg(topics)::text[], sqlc.arg(entities)::text[], sqlc.arg(open_questions)::text[])
ON CONFLICT (session_id) DO UPDATE
SET topics = (SELECT coalesce(array_agg(x ORDER BY o DESC), '{}') FROM (SELECT x, max(o) AS o FROM unnest(m.topics || EXCLUDED.topics) WITH ORDINALITY AS u(x, o) GROUP BY x ORDER BY o DESC LIMIT sqlc.arg(cap)) t),
    entities = (SELECT coalesce(array_agg(x ORDER BY o DESC), '{}') FROM (SELECT x, max(o) AS o FROM unnest(m.entities || EXCLUDED.entities) WITH ORDINALITY AS u(x, o) GROUP BY x ORDER BY o DESC LIMIT sqlc.arg(cap)) t),
    open_questions = (SELECT coalesce(array_agg(x ORDER BY o DESC), '{}') FROM (SELECT x, max(o) AS o FROM unnest(m.open_questions || EXCLUDED.open_questions) WITH ORDINALITY AS u(x, o) GROUP BY x ORDER BY o DESC LIMIT sqlc.arg(cap)) t),
    updated_at = now();

-- name: UpsertVoiceMemoryProfile :exec
-- A stated preference replaces the stored one; NULL keeps it. The vocabulary keeps at most
-- sqlc.arg(vocab_cap) distinct words.
INSERT INTO voice_memory_profiles AS p (user_id, units, language, detail_level, turns, words, spoken_words, speech_seconds, vocabulary)
VALUES (sqlc.arg(user_id), sqlc.narg(units), sqlc.narg(language), sqlc.narg(detail_level), 1, sqlc.arg(words), sqlc.arg(spoken_words),
        sqlc.arg(speech_seconds), (SELECT coalesce(array_agg(DISTINCT w), '{}') FROM (SELECT w FROM unnest(sqlc.arg(vocabulary)::text[]) AS w LIMIT sqlc.arg(vocab_cap)) v))
ON CONFLICT (user_id) DO UPDATE
SET units = coalesce(EXCLUDED.units, p.units), language = coalesce(EXCLUDED.language, p.language),
    detail_level = coalesce(EXCLUDED.detail_level, p.detail_level),
    turns = p.turns + 1, words = p.words + EXCLUDED.words, spoken_words = p.spoken_words + EXCLUDED.spoken_words,
    speech_seconds = p.speech_seconds + EXCLUDED.speech_seconds,
    vocabulary = (SELECT coalesce(array_agg(w ORDER BY w), '{}') FROM (SELECT DISTINCT w FROM unnest(p.vocabulary || EXCLUDED.vocabulary) AS w LIMIT sqlc.arg(vocab_cap)) v),
    updated_at = now();

-- name: GetVoiceMemoryProfile :one
SELECT * FROM voice_memory_profiles WHERE user_id = $1;

-- name: ListVoiceMemorySessions :many
SELECT * FROM voice_memory_sessions WHERE user_id = $1 ORDER BY updated_at DESC, session_id LIMIT $2;

-- name: DeleteVoiceMemorySessions :execrows
DELETE FROM voice_memory_sessions WHERE user_id = $1;

-- name: DeleteVoiceMemoryProfile :execrows
DELETE FROM voice_memory_profiles WHERE user_id = $1;

-- name: ListVoiceSessionIDsOfUser :many
SELECT id FROM voice_sessions WHERE user_id = $1;

-- name: LockVoiceSpeechProfile :one
-- The user's profile row, created when missing and locked until the transaction ends (one
-- statement: two sessions of a user learning at once take turns).
INSERT INTO voice_memory_profiles AS p (user_id) VALUES ($1)
ON CONFLICT (user_id) DO UPDATE SET user_id = p.user_id
RETURNING prosody_turns, speech_wpm, pause_p50_ms, pause_p90_ms, end_silence_ms;

-- name: UpdateVoiceSpeechProfile :exec
UPDATE voice_memory_profiles
SET prosody_turns = sqlc.arg(prosody_turns), speech_wpm = sqlc.narg(speech_wpm), pause_p50_ms = sqlc.narg(pause_p50_ms),
    pause_p90_ms = sqlc.narg(pause_p90_ms), end_silence_ms = sqlc.narg(end_silence_ms), updated_at = now()
WHERE user_id = sqlc.arg(user_id);
