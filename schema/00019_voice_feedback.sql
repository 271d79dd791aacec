-- +goose Up
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

-- +goose Down
DROP TABLE voice_feedback;
