-- +goose Up
-- Voice session analytics (issue 20): one row per answered, interrupted or failed turn of a
-- voice session, written while backend.voice_analytics is on for the session's user. Timings
-- are milliseconds from the turn's start (first token, first audio, total) or of one stage
-- (stt, retrieval); null when the turn never reached that point.
CREATE TABLE voice_turn_analytics (
    id             bigserial PRIMARY KEY,
    session_id     uuid             NOT NULL REFERENCES voice_sessions (id) ON DELETE CASCADE,
    turn_id        uuid             NOT NULL,
    input          text             NOT NULL CHECK (input IN ('voice', 'text')),
    outcome        text             NOT NULL CHECK (outcome IN ('answered', 'interrupted', 'failed')),
    stt_ms         double precision,
    retrieval_ms   double precision,
    first_token_ms double precision,
    first_audio_ms double precision,
    total_ms       double precision NOT NULL,
    barge_ins      smallint         NOT NULL DEFAULT 0,
    repairs        smallint         NOT NULL DEFAULT 0,
    user_words     integer          NOT NULL DEFAULT 0,
    answer_words   integer          NOT NULL DEFAULT 0,
    variants       jsonb            NOT NULL DEFAULT '{}',
    created_at     timestamptz      NOT NULL DEFAULT now() -- when the turn started
);
-- The session's turns in the order they started (GET /api/voice/sessions/{id}/analytics,
-- keyset on created_at, turn_id): rows are written in the background and may commit out of
-- order, so id is not the turn order.
CREATE INDEX voice_turn_analytics_session ON voice_turn_analytics (session_id, created_at, turn_id);
-- The admin aggregate per day (GET /api/admin/voice/analytics).
CREATE INDEX voice_turn_analytics_created ON voice_turn_analytics (created_at);

-- +goose Down
DROP TABLE voice_turn_analytics;
