-- +goose Up
-- Where a message came from, and whether an answer was cut short (barge-in, cancelled stream).
ALTER TABLE messages
    ADD COLUMN source      text    NOT NULL DEFAULT 'chat' CHECK (source IN ('chat', 'voice', 'dictation')),
    ADD COLUMN interrupted boolean NOT NULL DEFAULT false;

-- One row per user who changed a voice preference; no row means the defaults.
CREATE TABLE voice_preferences (
    user_id    uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    provider   text    NOT NULL DEFAULT 'auto' CHECK (provider IN ('auto', 'offline', 'openai')),
    voice      text,
    speed      real    NOT NULL DEFAULT 1 CHECK (speed BETWEEN 0.5 AND 2.0),
    auto_play  boolean NOT NULL DEFAULT true,
    language   text    NOT NULL DEFAULT 'en',
    style      text    NOT NULL DEFAULT 'neutral' CHECK (style IN ('neutral', 'calm', 'clear', 'brisk', 'warm')),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE voice_preferences;
ALTER TABLE messages DROP COLUMN interrupted, DROP COLUMN source;
