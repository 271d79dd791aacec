-- name: GetVoicePreferences :one
SELECT * FROM voice_preferences WHERE user_id = $1;

-- name: UpsertVoicePreferences :one
INSERT INTO voice_preferences (user_id, provider, voice, speed, auto_play, language, style, updated_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, now())
ON CONFLICT (user_id) DO UPDATE
SET provider = EXCLUDED.provider, voice = EXCLUDED.voice, speed = EXCLUDED.speed,
    auto_play = EXCLUDED.auto_play, language = EXCLUDED.language, style = EXCLUDED.style,
    updated_at = now()
RETURNING *;

-- name: DeleteVoicePreferences :exec
DELETE FROM voice_preferences WHERE user_id = $1;
