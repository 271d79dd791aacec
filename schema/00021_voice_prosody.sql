-- +goose Up
-- Prosody (issue 20): the long-term speech profile learned from word timings while
-- backend.voice_prosody is on for the user. Moving averages (docs/voice.md, "Prosody") and the
-- end-of-speech silence derived from them, which seeds the VAD of the user's next session.
ALTER TABLE voice_memory_profiles
    ADD COLUMN prosody_turns  integer NOT NULL DEFAULT 0,
    ADD COLUMN speech_wpm     double precision,
    ADD COLUMN pause_p50_ms   double precision,
    ADD COLUMN pause_p90_ms   double precision,
    ADD COLUMN end_silence_ms integer CHECK (end_silence_ms BETWEEN 200 AND 800);

-- +goose Down
ALTER TABLE voice_memory_profiles
    DROP COLUMN end_silence_ms,
    DROP COLUMN pause_p90_ms,
    DROP COLUMN pause_p50_ms,
    DROP COLUMN speech_wpm,
    DROP COLUMN prosody_turns;
