-- +goose Up
-- Voice intelligence (issue 20): session feedback and voice memory.
-- Feedback on a voice session (POST /api/voice/sessions/{id}/feedback): one row per session,
-- a second submission replaces it. The comment is stored after PHI screening (PHI_POLICY).
CREATE TABLE voice_feedback (
    session_id       uuid PRIMARY KEY REFERENCES voice_sessions (id) ON DELETE CASCADE,
    user_id          uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    thumbs           text        CHECK (thumbs IN ('up', 'down')),
    naturalness      smallint    CHECK (naturalness BETWEEN 1 AND 5),
    accuracy         smallint    CHECK (accuracy BETWEEN 1 AND 5),
    latency          smallint    CHECK (latency BETWEEN 1 AND 5),
    comment          text        CHECK (char_length(comment) <= 2000),
    comment_redacted boolean     NOT NULL DEFAULT false,
    created_at       timestamptz NOT NULL DEFAULT now(),
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX voice_feedback_updated ON voice_feedback (updated_at);

-- Voice memory (GET|DELETE /api/voice/memory), written from voice turns while the flag
-- backend.voice_memory is on for the user. Short term: per session.
CREATE TABLE voice_memory_sessions (
    session_id     uuid PRIMARY KEY REFERENCES voice_sessions (id) ON DELETE CASCADE,
    user_id        uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    topics         text[]      NOT NULL DEFAULT '{}',
    entities       text[]      NOT NULL DEFAULT '{}',
    open_questions text[]      NOT NULL DEFAULT '{}',
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX voice_memory_sessions_user ON voice_memory_sessions (user_id, updated_at DESC);
-- Medium term (stated preferences) and long term (speech profile): one row per user.
CREATE TABLE voice_memory_profiles (
    user_id        uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    units          text,
    language       text,
    detail_level   text,
    turns          integer          NOT NULL DEFAULT 0,
    words          bigint           NOT NULL DEFAULT 0,
    spoken_words   bigint           NOT NULL DEFAULT 0,
    speech_seconds double precision NOT NULL DEFAULT 0,
    vocabulary     text[]           NOT NULL DEFAULT '{}',
    updated_at     timestamptz      NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE voice_memory_profiles;
DROP TABLE voice_memory_sessions;
DROP TABLE voice_feedback;
