-- +goose Up
-- One row per voice WebSocket session (GET /api/voice/pipeline-ws): its id is the session_id
-- clients resume with, and what analytics and feedback refer to.
CREATE TABLE voice_sessions (
    id              uuid PRIMARY KEY,
    user_id         uuid        NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    conversation_id uuid        REFERENCES conversations (id) ON DELETE SET NULL,
    replica         text        NOT NULL, -- where it runs now
    started_at      timestamptz NOT NULL DEFAULT now(),
    ended_at        timestamptz,
    end_reason      text,
    turns           integer     NOT NULL DEFAULT 0,
    resumes         integer     NOT NULL DEFAULT 0,
    connection_id   uuid        NOT NULL -- the socket holding the session now
);
CREATE INDEX voice_sessions_user ON voice_sessions (user_id, started_at DESC);

-- +goose Down
DROP TABLE voice_sessions;
